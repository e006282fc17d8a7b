"""Training a pipeline from a config into an output directory: model-best (saved at
each new best evaluation), model-last (at the end, or on Ctrl-C), checkpoint (every
checkpoint_frequency steps, at the end and on Ctrl-C: what `--resume` continues from)
and training_log.jsonl (one line per evaluation)."""
import dataclasses
import json
import sys
from pathlib import Path
from typing import IO, Any, Callable, Dict, Optional

from confection import Config

from ..config.filling import check_config
from ..errors import PathError
from ..fileio import check_writable, dir_problem, recover, write_text_atomic
from .checkpoint import CHECKPOINT_DIR, Checkpoint, config_fingerprint, read_checkpoint, restore_checkpoint, \
    save_checkpoint
from .distributed import DataParallel
from .initialize import TrainingSetup, init_pipeline
from .loop import StepInfo, TrainingSettings, TrainingState, train_loop, write_log_line

LOG_NAME = "training_log.jsonl"


def settings_from(training: Dict[str, Any]) -> TrainingSettings:
    """The loop's settings from the resolved [training] section. Every key is
    there: check_config filled them from default_config.cfg, the one place
    their defaults are written."""
    return TrainingSettings(**{f.name: training[f.name] for f in dataclasses.fields(TrainingSettings)})


def train_from_config(config: Config, output_path: Optional[Path], *, use_gpu: int = -1,
                      stdout: Optional[IO] = None, stderr: Optional[IO] = None, quiet: bool = False,
                      on_setup=None, resume: bool = False,
                      on_resume: Optional[Callable[[Checkpoint], None]] = None,
                      parallel: Optional[DataParallel] = None) -> Dict[str, Any]:
    """Initialize and train. Returns a summary (best score, steps, paths). `resume`:
    continue from output_path's checkpoint (checked before the pipeline is built).
    With `parallel`, this process is one rank of a data-parallel run (training/distributed.py):
    every rank resumes from output_path's checkpoint; rank 0 alone writes there."""
    if output_path is not None and (parallel is None or parallel.is_main):
        check_output_dir(Path(output_path))  # before the work, not after hours of training
    checkpoint = None
    if resume:
        if output_path is None:
            raise PathError("resuming needs the output folder whose checkpoint to continue (--output)")
        fingerprint = config_fingerprint(check_config(config).valid().filled)
        checkpoint = read_checkpoint(Path(output_path) / CHECKPOINT_DIR, fingerprint)
        if on_resume is not None:
            on_resume(checkpoint)
    setup = init_pipeline(config, use_gpu=use_gpu)
    if on_setup is not None:
        on_setup(setup)
    return run_training(setup, output_path, stdout=stdout, stderr=stderr, quiet=quiet, resume_from=checkpoint,
                        parallel=parallel)


def run_training(setup: TrainingSetup, output_path: Optional[Path], *, stdout: Optional[IO] = None,
                 stderr: Optional[IO] = None, quiet: bool = False,
                 resume_from: Optional[Checkpoint] = None,
                 parallel: Optional[DataParallel] = None) -> Dict[str, Any]:
    # the streams of the moment, not of import time (a test runner may have swapped them since)
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    nlp, training = setup.nlp, setup.training
    settings = settings_from(training)
    silent_rank = parallel is not None and not parallel.is_main  # rank 0 alone logs and saves
    if silent_rank:
        output_path = None
    if output_path is not None:
        output_path = Path(output_path)
        check_output_dir(output_path)
    log_started = False
    if silent_rank:
        log_step, finalize = (lambda info: None), (lambda: None)
    else:
        log_step, finalize = training["logger"](nlp, stdout, stderr, score_weights=settings.score_weights,
                                                eval_frequency=settings.eval_frequency,
                                                max_steps=settings.max_steps, quiet=quiet)
    before_to_disk = training["before_to_disk"]
    last_info: Dict[str, Optional[StepInfo]] = {"step": None, "best": None}
    fingerprint = config_fingerprint(setup.config.filled)
    start: Optional[TrainingState] = None
    if resume_from is not None:
        start = restore_checkpoint(resume_from, nlp, setup.optimizer)
        last_info["best"] = start.best
        if output_path is not None:  # the log goes on: drop what the stopped run logged after its checkpoint
            trim_log(output_path / LOG_NAME, start.step - 1 if start.pending_eval else start.step)
            log_started = True

    def save(name: str, info: Optional[StepInfo]) -> None:
        if output_path is None:
            return
        if info is not None and info.scores is not None:
            nlp.meta["performance"] = {k: v for k, v in info.scores.items() if not isinstance(v, dict)}
        target = before_to_disk(nlp) if before_to_disk is not None else nlp
        target.to_disk(output_path / name)

    def on_step(info: StepInfo) -> None:
        nonlocal log_started
        last_info["step"] = info
        log_step(info)
        if info.scores is not None and output_path is not None:
            if not log_started:  # the first evaluation replaces the previous run's log
                _make_output_dir(output_path)
                (output_path / LOG_NAME).unlink(missing_ok=True)
                log_started = True
            write_log_line(output_path / LOG_NAME, info)

    def on_best(info: StepInfo) -> None:
        last_info["best"] = info
        save("model-best", info)

    def on_checkpoint(state: TrainingState) -> None:
        _make_output_dir(output_path)
        save_checkpoint(output_path / CHECKPOINT_DIR, nlp, setup.optimizer, state, fingerprint)

    interrupted = False
    try:
        best = train_loop(nlp, setup.optimizer, setup.train_corpus, setup.dev_corpus, training["batcher"],
                          settings, seed=training["seed"], on_step=on_step, on_best=on_best,
                          on_checkpoint=on_checkpoint if output_path is not None else None, resume=start,
                          parallel=parallel)
    except KeyboardInterrupt:
        interrupted = True
        best = last_info["best"]
    finally:
        finalize()
    save("model-last", last_info["best"])
    if parallel is not None and not interrupted:
        parallel.barrier()  # the other ranks end once rank 0 has saved
    step_info = last_info["step"]
    steps = step_info.step if step_info else start.step if start else 0
    return {"best_score": best.score if best else None, "best_step": best.step if best else None,
            "best_scores": best.scores if best else None, "steps": steps,
            "interrupted": interrupted, "output": str(output_path) if output_path else None}


def check_output_dir(path: Path) -> None:
    """Refuse (PathError) an output folder training may not write into: a file, a
    model-best/model-last that transfer-cli did not write (or that holds files it did
    not write), or a training log that is not one. Other files in it are never touched.
    Also restores what a killed save left (see fileio.recover)."""
    if path.exists() and not path.is_dir():
        raise PathError("--output must be a folder, but a file of that name exists", path=str(path))
    check_writable(path / "model-best")  # before training, not at its first save
    for name in ("model-best", "model-last", CHECKPOINT_DIR):
        recover(path / name)
        problem = dir_problem(path / name)
        if problem:
            raise PathError(problem, path=str(path / name))
    log = path / LOG_NAME
    if log.is_symlink() or log.is_dir() or (log.exists() and not _is_training_log(log)):
        raise PathError("this is not a training log transfer-cli wrote, so it was not replaced: move it or choose "
                        "another --output", path=str(log))


def trim_log(path: Path, last_step: int) -> None:
    """Keep the training log's records up to `last_step` (and none cut short by a kill),
    so a resumed run appends its own without repeating a step."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text(encoding="utf8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("step"), int) and record["step"] <= last_step:
            kept.append(line + "\n")
    write_text_atomic(path, "".join(kept))


def _is_training_log(path: Path) -> bool:
    """Empty, or a first line that is one of write_log_line's records."""
    try:
        with path.open(encoding="utf8") as f:
            first = f.readline()
    except (OSError, UnicodeDecodeError):
        return False
    if not first.strip():
        return path.stat().st_size == len(first.encode("utf8"))
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and {"step", "score", "scores"} <= record.keys()


def _make_output_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PathError(f"cannot create the output folder: {e.strerror}", path=str(path)) from None
