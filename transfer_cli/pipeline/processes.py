"""`nlp.pipe(texts, n_process=K)`: K processes annotate, this one and K-1 workers.

Workers are started with the *spawn* method: fresh interpreters, never forks of a
process whose torch or BLAS threads may be running. Each worker imports the `--code`
files this process imported (so configs naming user span getters, annotation setters
or factories resolve there too), then loads the pipeline once from a copy saved to a
temporary directory (`to_disk` and `load` round-trip exactly), with torch limited to
its share of the CPUs, and says it is ready.

This process reads the input lazily in batches of `batch_size` texts (or Docs). A batch
goes on the task queue, where whichever worker is free takes it, while the ready
workers have fewer than IN_FLIGHT_PER_WORKER batches each; otherwise this process
annotates it itself, so it works instead of waiting (while the workers start, above
all: a worker's start-up costs seconds of CPU for importing torch and thinc). Docs come
back from the workers as DocBatches (every token column, tensor, cats, spans and
user_data, so `doc._.trf_data` and other picklable custom attributes too), and every
doc is yielded in input order. At most IN_FLIGHT_PER_WORKER batches per process are
taken and not yet yielded, so memory stays bounded whatever the input size.

Failures: an exception in a worker (loading the pipeline or annotating a batch) is
raised here as one error naming the texts of the batch, with the worker's traceback
chained for --verbose; a worker that dies (killed, out of memory) is noticed within
POLL_S. On an error, Ctrl-C or a consumer that stops early, every worker is stopped and
joined: none is left behind; and a worker whose parent was killed outright exits by
itself once it has no batch to work on. Messages are pickled before they are queued, so
a value that cannot be pickled fails where it is made, not silently in a queue thread.
The pickles travel only between this process and the workers it spawned (multiprocessing
queues pickle whatever they carry anyway); nothing read from a file is unpickled."""
import itertools
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import tempfile
import threading
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

from thinc.api import get_current_ops

from ..errors import ConfigError, DataError, NotYetAvailable, PathError, PipelineError, UserError
from ..tokens import Doc
from ..tokens.doc_state import DocBatch, DocState, pack_docs, unpack_docs
from ..user_code import import_code, imported_code_files

IN_FLIGHT_PER_WORKER = 3  # one being annotated, two waiting: no worker idles while this process is busy
POLL_S = 0.5  # how often a parent waiting for results checks that its workers are alive
STOP_S = 10.0  # how long stopped workers get to exit before they are killed
PICKLE_PROTOCOL = pickle.HIGHEST_PROTOCOL
# A UserError raised in a worker is raised here as the same type (found by name).
USER_ERRORS = {cls.__name__: cls for cls in (UserError, DataError, ConfigError, PathError, PipelineError,
                                            NotYetAvailable)}

Text = Union[str, Doc]


def n_processes(n_process: Any) -> int:
    """The number of processes `n_process` asks for (-1: one per CPU)."""
    if isinstance(n_process, bool) or not isinstance(n_process, int) or n_process == 0 or n_process < -1:
        raise PipelineError(f"nlp.pipe: n_process must be a positive number of processes or -1 (one per CPU), "
                            f"not {n_process!r}")
    return (os.cpu_count() or 1) if n_process == -1 else n_process


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker needs to start: pickled into it by the spawn method."""
    pipeline_dir: str
    load: Callable[[Path], Any]  # build.load, pickled by reference
    code_files: Tuple[str, ...]
    disable: Tuple[str, ...]
    batch_size: int
    torch_threads: int
    max_length: Optional[int]  # nlp.max_length, which the saved pipeline does not hold


def pipe_in_processes(nlp: Any, texts: Iterable[Text], *, n_process: int, batch_size: int,
                      disable: Sequence[str], load: Callable[[Path], Any]) -> Iterator[Doc]:
    """Annotate `texts` with `nlp` in `n_process` spawned workers; docs in input order.
    The output docs are new Doc objects on nlp.vocab, also for Doc inputs."""
    if get_current_ops().device_type != "cpu":
        raise PipelineError("nlp.pipe(n_process > 1) runs the pipeline on the CPU, in worker processes; "
                            "on a GPU use n_process=1 (one process keeps the GPU busy)")
    return _annotate(nlp, texts, n_process, batch_size, tuple(disable), load)


def _annotate(nlp: Any, texts: Iterable[Text], n_process: int, batch_size: int, disable: Tuple[str, ...],
              load: Callable[[Path], Any]) -> Iterator[Doc]:
    batches = _batches(texts, batch_size)
    first = list(itertools.islice(batches, n_process))
    if len(first) <= 1:  # nothing to share
        for batch in first:
            yield from _annotate_here(nlp, batch, batch_size, disable)
        return
    n_workers = len(first) - 1  # this process annotates too
    with tempfile.TemporaryDirectory(prefix="transfer-cli-pipe-") as tmp:
        saved = Path(tmp) / "pipeline"
        try:
            nlp.to_disk(saved)
        except PipelineError as e:
            raise PipelineError(f"nlp.pipe(n_process={n_process}) gives its worker processes the pipeline as "
                                f"to_disk saves it, and it cannot be saved: {e}") from None
        setup = WorkerSetup(pipeline_dir=str(saved), load=load,
                            code_files=tuple(str(p.absolute()) for p in imported_code_files()), disable=disable,
                            batch_size=batch_size, torch_threads=max(1, (os.cpu_count() or 1) // (n_workers + 1)),
                            max_length=getattr(nlp, "max_length", None))
        with Workers(setup, n_workers) as workers:
            yield from workers.annotate(itertools.chain(first, batches), nlp)


def _annotate_here(nlp: Any, batch: List[Text], batch_size: int, disable: Sequence[str]) -> List[Doc]:
    """A batch annotated in this process; Doc inputs are copied, so that every output doc
    is a new Doc, as those from the workers are."""
    inputs = [text.copy() if isinstance(text, Doc) else text for text in batch]
    return list(nlp.pipe(inputs, batch_size=batch_size, disable=list(disable)))


def _batches(texts: Iterable[Text], size: int) -> Iterator[List[Text]]:
    iterator = iter(texts)
    n_read = 0
    while True:
        batch = list(itertools.islice(iterator, size))
        if not batch:
            return
        for i, text in enumerate(batch, start=n_read):
            if not isinstance(text, (str, Doc)):
                raise PipelineError(f"nlp.pipe expects texts (str) or Docs; input {i} is a {type(text).__name__}")
        n_read += len(batch)
        yield batch


class Workers:
    """The worker processes of one nlp.pipe call, their task queue and result queue, and
    the order of the batches: the next batch goes to a worker that has loaded the pipeline
    and has fewer than IN_FLIGHT_PER_WORKER batches, or else is annotated here, so this
    process works instead of waiting (while the workers start, above all)."""

    def __init__(self, setup: WorkerSetup, n_workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.setup = setup
        self.tasks = context.Queue()
        self.results = context.Queue()
        self.processes = [context.Process(target=work, args=(setup, self.tasks, self.results), daemon=True,
                                          name=f"transfer-cli-pipe-{i}") for i in range(n_workers)]
        self.ready: Set[str] = set()  # workers that have loaded the pipeline
        self.at_workers = 0  # batches sent whose docs have not come back
        self.done: Dict[int, Union[DocBatch, List[Doc]]] = {}  # annotated batches not yielded yet
        self.batch_starts: Dict[int, Tuple[int, int]] = {}  # batch index -> (first text, number of texts)
        self.warned: Set[str] = set()

    def __enter__(self) -> "Workers":
        with _sigint_ignored():  # spawned children inherit it: Ctrl-C is this process's to handle
            for process in self.processes:
                process.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop(clean=exc_type is None)

    def annotate(self, batches: Iterator[List[Text]], nlp: Any) -> Iterator[Doc]:
        n_taken = n_yielded = n_texts = 0  # batches taken from the input, batches yielded, texts taken
        limit = IN_FLIGHT_PER_WORKER * (len(self.processes) + 1)  # batches taken and not yet yielded
        exhausted = False
        while True:
            self._collect(block=False)
            if n_yielded in self.done:
                yield from self._docs(n_yielded, nlp.vocab)
                n_yielded += 1
            elif exhausted and n_yielded == n_taken:
                return
            elif not exhausted and n_taken - n_yielded < limit:
                batch = next(batches, None)
                if batch is None:
                    exhausted = True
                    continue
                if self.sends_next_batch():
                    self._send(n_taken, batch, n_texts)
                else:
                    self.done[n_taken] = _annotate_here(nlp, batch, self.setup.batch_size, self.setup.disable)
                n_taken, n_texts = n_taken + 1, n_texts + len(batch)
            else:  # the next batch to yield is at a worker
                self._collect(block=True)

    def sends_next_batch(self) -> bool:
        """Whether the next batch goes to the workers (True) or is annotated here."""
        return self.at_workers < IN_FLIGHT_PER_WORKER * len(self.ready)

    def _collect(self, block: bool) -> None:
        """Take in what the workers sent (waiting for one message if `block`)."""
        while True:
            try:
                data = self.results.get(timeout=POLL_S) if block else self.results.get_nowait()
            except queue.Empty:
                if not block:
                    return
                self._check_alive()
                continue
            message = pickle.loads(data)
            if message[0] == "error":
                raise self._error(*message[1:])
            if message[0] == "ready":
                self.ready.add(message[1])
            else:
                _, index, docs = message
                self.done[index] = docs
                self.at_workers -= 1
            block = False

    def _docs(self, index: int, vocab: Any) -> Iterator[Doc]:
        docs = self.done.pop(index)
        self.batch_starts.pop(index, None)
        if isinstance(docs, list):
            return iter(docs)
        self._warn_dropped(docs.states)
        return unpack_docs(vocab, docs)

    def _send(self, index: int, batch: List[Text], first_text: int) -> None:
        texts = [text if isinstance(text, str) else None for text in batch]  # None: the next of `docs`
        docs = pack_docs([text for text in batch if isinstance(text, Doc)])
        self._warn_dropped(docs.states)
        self.batch_starts[index] = (first_text, len(batch))
        self.tasks.put(pickle.dumps((index, texts, docs), protocol=PICKLE_PROTOCOL))
        self.at_workers += 1

    def _check_alive(self) -> None:
        for process in self.processes:
            if process.exitcode is not None:  # workers exit only when told to, after all results came
                how = (f"killed by signal {-process.exitcode}" if process.exitcode < 0
                       else f"exit code {process.exitcode}")
                raise PipelineError(f"nlp.pipe worker process {process.name} stopped unexpectedly ({how}; "
                                    f"out of memory?)")

    def _error(self, index: Optional[int], type_name: str, text: str, remote_traceback: str,
               user_error: Optional[str]) -> UserError:
        if index is None:
            where = "loading the pipeline"
        else:
            first, count = self.batch_starts[index]
            where = f"input texts {first}-{first + count - 1}" if count > 1 else f"input text {first}"
        if user_error is not None:
            error = USER_ERRORS.get(user_error, UserError)(f"{text} (in an nlp.pipe worker process, {where})")
        else:
            error = PipelineError(f"nlp.pipe worker process failed on {where}: {type_name}: {text}")
        error.__cause__ = RemoteTraceback(remote_traceback)
        return error

    def _warn_dropped(self, states: Iterable[DocState]) -> None:
        names = sorted({name for state in states for name in state.dropped} - self.warned)
        if names:
            self.warned.update(names)
            warnings.warn(f"nlp.pipe(n_process > 1): doc user data {', '.join(names)} cannot be pickled, so it "
                          f"does not pass between processes and is left out", UserWarning, stacklevel=3)

    def stop(self, clean: bool) -> None:
        """Tell the workers to finish (after a clean end) or stop them (otherwise, and those
        still loading the pipeline: they have nothing to finish); wait for all."""
        if clean:
            ready = [process for process in self.processes if process.name in self.ready]
            for _ in ready:
                self.tasks.put(None)
            for process in ready:
                process.join(STOP_S)
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(STOP_S)
            if process.is_alive():
                process.kill()
                process.join()
        # tasks no worker took would keep this process's queue thread waiting at exit
        self.tasks.cancel_join_thread()
        self.tasks.close()
        self.results.close()


class RemoteTraceback(Exception):
    """A worker's traceback, chained to the error raised here (shown with --verbose)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)

    def __str__(self) -> str:
        return "\n" + self.args[0]


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# -- in the worker -----------------------------------------------------------------------------
def work(setup: WorkerSetup, tasks: Any, results: Any) -> None:
    """A worker's life: load the pipeline, then annotate batches until told to stop (None).
    After an error it reports and waits to be stopped: the parent stops every worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        torch = sys.modules.get("torch")  # imported with thinc; only its thread count is set here
        if torch is not None:
            torch.set_num_threads(setup.torch_threads)
        for path in setup.code_files:
            import_code(path)
        nlp = setup.load(Path(setup.pipeline_dir))
        if setup.max_length is not None:
            nlp.max_length = setup.max_length
    except BaseException as e:
        results.put(_error_message(None, e))
        _wait_for_stop(tasks, results)
        return
    results.put(pickle.dumps(("ready", multiprocessing.current_process().name), protocol=PICKLE_PROTOCOL))
    while True:
        data = _next_task(tasks, results)
        if data is None:
            return
        index, texts, docs = pickle.loads(data)
        try:
            results.put(_annotate_batch(nlp, index, texts, docs, setup))
        except BaseException as e:
            results.put(_error_message(index, e))
            _wait_for_stop(tasks, results)
            return


def _annotate_batch(nlp: Any, index: int, texts: List[Optional[str]], docs: DocBatch, setup: WorkerSetup) -> bytes:
    given = unpack_docs(nlp.vocab, docs)
    inputs = [text if text is not None else next(given) for text in texts]
    annotated = list(nlp.pipe(inputs, batch_size=setup.batch_size, disable=setup.disable))
    return pickle.dumps(("ok", index, pack_docs(annotated)), protocol=PICKLE_PROTOCOL)


def _error_message(index: Optional[int], e: BaseException) -> bytes:
    user_error = type(e).__name__ if isinstance(e, UserError) else None
    remote = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    return pickle.dumps(("error", index, type(e).__name__, str(e), remote, user_error), protocol=PICKLE_PROTOCOL)


def _next_task(tasks: Any, results: Any) -> Optional[bytes]:
    """The next task; None when told to stop, or when the parent is gone (killed before it
    could stop its workers: a worker must not outlive it)."""
    parent = multiprocessing.parent_process()
    while True:
        try:
            return tasks.get(timeout=POLL_S)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                # results nobody will read: exiting must not wait to write them
                results.cancel_join_thread()
                return None


def _wait_for_stop(tasks: Any, results: Any) -> None:
    while _next_task(tasks, results) is not None:
        pass
