"""Data-parallel training over torch.distributed: K processes ("ranks"), started by torchrun
(on one machine or several) or by `train --n-workers K` (torchrun's launcher, run locally),
train one pipeline together.

Every rank builds the same pipeline (rank 0's weights are copied to the others once, at the
start) and reads the same stream of global batches; each rank trains on its own shard of
every global batch. The engine's losses are sums over examples and tokens (tagger, senter, NER,
textcat and tok2vec gradients are never divided by the batch size; tests/test_distributed.py
checks it), so the gradient of a global batch is the SUM of its shards' gradients. One
all-reduce per step, over one flat buffer holding every trained thinc parameter's gradient
and every torch parameter's gradient inside the components' PyTorch shims (plus the step's
losses and a fingerprint of the batch), gives each rank exactly what a single process
would have computed for the whole batch. Embedding tables (hash embeddings, a
transformer's word embeddings) send only the rows some rank has a gradient for: a step
touches few of their rows, and they are most of the parameters, so a small all-reduce of
which rows each rank touched comes first; identical optimizer steps keep the ranks
identical. Rank 0 evaluates, logs and saves; the others learn its score, so all ranks stop
at the same step.

torch is imported inside the functions: a single-process run never loads it."""
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy

from ..errors import DistributedError

TIMEOUT_VARIABLE = "TRANSFER_CLI_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 1800.0  # rank 0 evaluates and saves while the others wait: generous
# embedding tables with at least this many rows send only the rows a step touched
SPARSE_MIN_ROWS = 1024
LAUNCH_HINT = ("start the processes with torchrun (torchrun --nproc_per_node 2 -m transfer_cli train ...) or "
               "with `transfer-cli train --n-workers 2 ...`")


@dataclass(frozen=True)
class LaunchEnvironment:
    """Where this process stands in a run torchrun (or a scheduler) started: the variables
    torch.distributed's env:// rendezvous reads."""

    rank: int
    world_size: int
    local_rank: int
    master: str
    restart: int = 0       # torchrun's TORCHELASTIC_RESTART_COUNT: 0, then 1, 2... after failures
    max_restarts: int = 0  # torchrun --max-restarts
    agent_store: bool = False  # TORCHELASTIC_USE_AGENT_STORE: the ranks meet in the torchrun agent's store

    @classmethod
    def detect(cls, environ: Mapping[str, str] = os.environ) -> Optional["LaunchEnvironment"]:
        """None for a single process (WORLD_SIZE unset or 1); DistributedError when the
        variables ask for several processes but cannot work."""
        if not environ.get("WORLD_SIZE", "").strip():
            return None
        world_size = _env_int(environ, "WORLD_SIZE", minimum=1)
        if world_size == 1:
            return None
        for key in ("RANK", "MASTER_ADDR", "MASTER_PORT"):
            if not environ.get(key, "").strip():
                raise DistributedError(f"WORLD_SIZE={world_size} asks for a data-parallel run, but {key} is not "
                                       f"set: {LAUNCH_HINT}, or set RANK, MASTER_ADDR and MASTER_PORT yourself")
        rank = _env_int(environ, "RANK", minimum=0)
        if rank >= world_size:
            raise DistributedError(f"RANK={rank} is not below WORLD_SIZE={world_size}: ranks count 0 to "
                                   f"{world_size - 1}")
        local_rank = _env_int(environ, "LOCAL_RANK", minimum=0) if environ.get("LOCAL_RANK", "").strip() else 0
        _env_int(environ, "MASTER_PORT", minimum=1)
        restart, max_restarts = (_env_int(environ, key, minimum=0) if environ.get(key, "").strip() else 0
                                 for key in ("TORCHELASTIC_RESTART_COUNT", "TORCHELASTIC_MAX_RESTARTS"))
        return cls(rank, world_size, local_rank, f"{environ['MASTER_ADDR']}:{environ['MASTER_PORT']}",
                   restart, max_restarts, environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True")

    def device(self, gpu_id: int) -> int:
        """The GPU this rank trains on: --gpu-id N puts local rank r on GPU N + r (-1: CPU)."""
        return -1 if gpu_id < 0 else gpu_id + self.local_rank


def resumes(launch: Optional[LaunchEnvironment], resume: bool, has_checkpoint: bool) -> bool:
    """Whether this process continues from --output's checkpoint: with --resume, and after an
    elastic restart (torchrun --max-restarts) when the failed attempt saved one. A fresh run
    that may restart must not find an earlier run's checkpoint there, or a restart would
    continue that run: DistributedError."""
    if launch is None or launch.max_restarts == 0:
        return resume
    if launch.restart > 0:
        return resume or has_checkpoint
    if has_checkpoint and not resume:
        raise DistributedError("--output holds an earlier run's checkpoint, which a restart (torchrun --max-restarts) "
                               "would continue: add --resume to continue that run, or train into another --output")
    return resume


def backend_for(gpu_id: int) -> str:
    """NCCL between GPUs, gloo between CPU processes."""
    return "nccl" if gpu_id >= 0 else "gloo"


def timeout_seconds(environ: Mapping[str, str] = os.environ) -> float:
    """How long a rank waits for the others in one collective before giving up."""
    value = environ.get(TIMEOUT_VARIABLE, "").strip()
    if not value:
        return DEFAULT_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or math.isinf(seconds):
        raise DistributedError(f"{TIMEOUT_VARIABLE}={value!r}: expected a number of seconds above 0")
    return seconds


def shard_indices(lengths: Sequence[int], world_size: int) -> List[List[int]]:
    """Split a batch into world_size shards of about equal words: longest example first onto
    the lightest shard (ties: fewer examples, then the lower rank); each shard keeps the batch's
    order. Pure arithmetic, so every rank computes the same split."""
    loads = [0] * world_size
    shards: List[List[int]] = [[] for _ in range(world_size)]
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        rank = min(range(world_size), key=lambda r: (loads[r], len(shards[r]), r))
        shards[rank].append(i)
        loads[rank] += lengths[i]
    return [sorted(shard) for shard in shards]


class DataParallel:
    """This rank's side of a data-parallel run: its shard of each batch, the one all-reduce of
    gradients per step, rank 0's score for everyone, and a barrier."""

    def __init__(self, launch: LaunchEnvironment, *, gpu_id: int = -1, timeout_s: Optional[float] = None) -> None:
        self.rank = launch.rank
        self.world_size = launch.world_size
        self.master = launch.master
        self.restart = launch.restart
        self.agent_store = launch.agent_store
        self.gpu_id = gpu_id
        self.backend = backend_for(gpu_id)
        self.timeout_s = timeout_seconds() if timeout_s is None else timeout_s
        self._device: Any = None
        self._parameters: Optional[TrainedParameters] = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # -- process group -----------------------------------------------------------------------
    def start(self) -> None:
        import torch
        import torch.distributed as dist

        if self.gpu_id >= 0:
            torch.cuda.set_device(self.gpu_id)
            self._device = torch.device("cuda", self.gpu_id)
        else:
            self._device = torch.device("cpu")
        timeout = timedelta(seconds=self.timeout_s)
        try:
            store = None
            if self.agent_store:
                # torchrun's agent keeps one store for all its attempts: an elastic restart must not
                # read the addresses the failed attempt's ranks left there
                host, port = self.master.rsplit(":", 1)
                store = dist.PrefixStore(f"transfer_cli/attempt_{self.restart}",
                                         dist.TCPStore(host, int(port), self.world_size, False, timeout=timeout))
            dist.init_process_group(self.backend, store=store, rank=self.rank, world_size=self.world_size,
                                    timeout=timeout)
        except (RuntimeError, ValueError) as e:
            raise DistributedError(f"rank {self.rank}: cannot join the other {self.world_size - 1} process(es) "
                                   f"through {self.master} ({_first_line(e)})") from e

    def close(self) -> None:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()

    # -- training ------------------------------------------------------------------------------
    def prepare(self, nlp, exclude: Sequence[str] = (), start_step: int = 0) -> None:
        """Collect the trained parameters (the components nlp.finish_update steps) and give every
        rank rank 0's values, after checking that all ranks built the same layout and start
        from the same step (a resumed run: the same checkpoint)."""
        import torch

        excluded = set(exclude)
        components = [(name, c) for name, c in nlp.pipeline if name not in excluded and c.is_trainable]
        parameters = TrainedParameters(components)
        layout = torch.tensor([parameters.n_tensors, parameters.n_values, start_step], dtype=torch.float64,
                              device=self._device)
        both = torch.cat([layout, -layout])
        self._collective("the start-up check", lambda: _all_reduce(both, "max"))
        highest, lowest = [int(v) for v in both[:3]], [-int(v) for v in both[3:]]
        if highest[:2] != lowest[:2]:
            raise DistributedError(f"rank {self.rank}: the ranks built different pipelines (between "
                                   f"{lowest[0]} and {highest[0]} trainable tensors, {lowest[1]} and "
                                   f"{highest[1]} values): give every rank the same config, code and data")
        if highest[2] != lowest[2]:
            raise DistributedError(f"rank {self.rank}: the ranks start from different steps (between {lowest[2]} "
                                   f"and {highest[2]}): every rank resumes from --output's checkpoint, which rank 0 "
                                   f"writes, so on several machines --output must be one shared folder")
        values = parameters.pack_values(self._device)
        self._collective("the start-up copy of rank 0's weights", lambda: _broadcast(values))
        parameters.unpack_values(values)
        self._parameters = parameters

    def shard(self, batch: List) -> List:
        """This rank's examples of a global batch."""
        indices = shard_indices([len(eg.predicted) for eg in batch], self.world_size)[self.rank]
        return [batch[i] for i in indices]

    def reduce_gradients(self, step_losses: Dict[str, float], batch: List) -> None:
        """Sum every rank's gradients (and this step's losses) with one all-reduce, so each rank
        holds the gradient of the whole global batch `batch` before the optimizer step."""
        parameters = self._parameters
        if parameters is None:
            raise RuntimeError("DataParallel.prepare(nlp) must run before the first step")
        words = sum(len(eg.predicted) for eg in batch)
        extra = ([step_losses.get(name, 0.0) for name in parameters.loss_names]
                 + [float(getattr(c, "has_gradients")) for c in parameters.flagged]
                 + [float(scaler.found_inf) for scaler in parameters.scalers] + [float(words), float(len(batch))])
        gradients = parameters.gradients(self._device)
        masks = parameters.row_masks(gradients, self._device)
        if masks is not None:  # which rows of the embedding tables some rank has a gradient for
            self._collective("the gradient all-reduce", lambda: _all_reduce(masks, "sum"))
        rows = parameters.rows_to_send(masks)
        buffer, sizes = parameters.pack_gradients(gradients, rows, extra, self._device)
        self._collective("the gradient all-reduce", lambda: _all_reduce(buffer, "sum"))
        extra = parameters.unpack_gradients(buffer, rows, sizes)
        fingerprint = extra[-2:]
        if fingerprint != [self.world_size * words, self.world_size * len(batch)]:
            raise DistributedError(f"rank {self.rank}: the ranks read different training batches ({len(batch)} "
                                   f"examples, {words} words here): every rank must read the same corpus in the "
                                   f"same order (a reader or augmenter drawing random numbers of its own breaks this)")
        losses, extra = extra[:len(parameters.loss_names)], extra[len(parameters.loss_names):]
        flags, extra = extra[:len(parameters.flagged)], extra[len(parameters.flagged):]
        for name, value in zip(parameters.loss_names, losses):
            step_losses[name] = value
        for component, value in zip(parameters.flagged, flags):
            component.has_gradients = value > 0  # another rank backpropagated: step with the sum
        for scaler, value in zip(parameters.scalers, extra):
            # float16 gradient scaling: one rank's overflow makes every rank skip the step
            # (thinc's PyTorchGradScaler keeps the flag in _found_inf; it has no setter)
            scaler._found_inf = value > 0

    def share_score(self, score: Optional[float]) -> float:
        """Rank 0's evaluation score, on every rank (the others wait here while it evaluates)."""
        import torch

        value = torch.tensor([math.nan if score is None else score], dtype=torch.float64, device=self._device)
        self._collective("the evaluation", lambda: _broadcast(value))
        return float(value[0])

    def barrier(self) -> None:
        """Wait for every rank (e.g. for rank 0's final save)."""
        import torch

        token = torch.zeros(1, device=self._device)
        self._collective("the final barrier", lambda: _all_reduce(token, "sum"))

    def _collective(self, what: str, call: Callable[[], None]) -> None:
        try:
            call()
        except RuntimeError as e:  # torch.distributed's errors (timeouts, closed connections) are RuntimeErrors
            raise DistributedError(f"rank {self.rank} of {self.world_size}: lost the other processes during {what} "
                                   f"({_first_line(e)}): another rank failed or was stopped (its own message says "
                                   f"why) or did not answer within {self.timeout_s:g} s ({TIMEOUT_VARIABLE})") from e


class TrainedParameters:
    """Every parameter the optimizer steps in the trained components, in one order on every
    rank: thinc parameters node by node over model.walk() (a node shared by several
    components counts once), then the trainable torch parameters inside their PyTorch shims."""

    def __init__(self, components: Sequence[Tuple[str, Any]]) -> None:
        import torch

        self.loss_names = [name for name, _ in components]
        # components that step only after a backward pass (the transformer) say so in has_gradients
        self.flagged = [c for _, c in components if hasattr(c, "has_gradients")]
        self.thinc: List[Tuple[Any, str]] = []
        self.torch: List[Any] = []
        self.scalers: List[Any] = []  # the enabled gradient scalers of the shims (float16 on GPU)
        nodes, shims, tensors, embedding_weights = set(), set(), set(), set()
        for _, component in components:
            for node in component.model.walk():
                if node.id in nodes:
                    continue
                nodes.add(node.id)
                self.thinc.extend((node, name) for name in node.param_names if node.has_param(name))
                for shim in node.shims:
                    module = getattr(shim, "_model", None)
                    if id(shim) in shims or not isinstance(module, torch.nn.Module):
                        continue
                    shims.add(id(shim))
                    scaler = getattr(shim, "_grad_scaler", None)
                    if scaler is not None and getattr(scaler, "_enabled", False):
                        self.scalers.append(scaler)
                    for sub in module.modules():
                        if isinstance(sub, torch.nn.Embedding):
                            embedding_weights.add(id(sub.weight))
                    for param in module.parameters():
                        if param.requires_grad and id(param) not in tensors:
                            tensors.add(id(param))
                            self.torch.append(param)
        self.shapes = ([tuple(node.get_param(name).shape) for node, name in self.thinc]
                       + [tuple(param.shape) for param in self.torch])
        self.sizes = [int(numpy.prod(shape)) for shape in self.shapes]
        # embedding tables: thinc's "E" tables (hash embeddings) and torch's nn.Embedding weights
        tables = [name == "E" for _, name in self.thinc] + [id(param) in embedding_weights for param in self.torch]
        self.row_sparse = [table and len(shape) == 2 and shape[0] >= SPARSE_MIN_ROWS
                           for table, shape in zip(tables, self.shapes)]

    @property
    def n_tensors(self) -> int:
        return len(self.sizes)

    @property
    def n_values(self) -> int:
        return sum(self.sizes)

    # weights: broadcast once at the start
    def pack_values(self, device: Any) -> Any:
        import torch

        parts = [_as_tensor(node.get_param(name)) for node, name in self.thinc]
        parts += [param.detach() for param in self.torch]
        return torch.cat([_flat(part, device) for part in parts]) if parts else torch.zeros(0, device=device)

    def unpack_values(self, buffer: Any) -> None:
        chunks = list(_split(buffer, self.sizes))
        for (node, name), chunk in zip(self.thinc, chunks):
            node.set_param(name, _write_into(node.get_param(name), chunk, node.ops))
        for param, chunk in zip(self.torch, chunks[len(self.thinc):]):
            param.data.copy_(chunk.view_as(param))

    # gradients: one buffer per step, [gradients..., has-gradient flags..., extra...], where an
    # embedding table's gradient is only the rows rows_to_send names
    def gradients(self, device: Any) -> List[Any]:
        """This rank's gradient of each parameter as a float32 tensor on `device` (None: no gradient)."""
        import torch

        grads: List[Any] = []
        for node, name in self.thinc:
            grads.append(_as_tensor(node.get_grad(name)).to(device=device, dtype=torch.float32)
                         if node.has_grad(name) else None)
        for param in self.torch:
            grads.append(None if param.grad is None else param.grad.to(device=device, dtype=torch.float32))
        return grads

    def row_masks(self, gradients: List[Any], device: Any) -> Any:
        """For every row of every embedding table, 1.0 where this rank's gradient row is not all
        zeros (None when the pipeline has no embedding table)."""
        import torch

        masks = []
        for grad, shape, sparse in zip(gradients, self.shapes, self.row_sparse):
            if sparse:
                masks.append(torch.zeros(shape[0], device=device) if grad is None
                             else _nonzero_rows(grad.reshape(shape[0], -1)))
        return torch.cat(masks) if masks else None

    def rows_to_send(self, summed_masks: Any) -> List[Any]:
        """Per parameter: the rows of an embedding table that some rank has a gradient for, given
        the masks summed over the ranks (the same on every rank), or None: send it whole."""
        rows: List[Any] = []
        offset = 0
        for shape, sparse in zip(self.shapes, self.row_sparse):
            if sparse:
                rows.append(summed_masks[offset:offset + shape[0]].nonzero().reshape(-1))
                offset += shape[0]
            else:
                rows.append(None)
        return rows

    def pack_gradients(self, gradients: List[Any], rows: List[Any], extra: List[float], device: Any
                       ) -> Tuple[Any, List[int]]:
        """The buffer to all-reduce and the number of values each parameter has in it."""
        import torch

        parts, flags, sizes = [], [], []
        for grad, row, shape, size in zip(gradients, rows, self.shapes, self.sizes):
            if row is not None:
                size = int(row.numel()) * (size // shape[0])
            if grad is None:
                parts.append(torch.zeros(size, device=device))
            elif row is None:
                parts.append(grad.reshape(-1))
            else:
                parts.append(grad.reshape(shape[0], -1).index_select(0, row).reshape(-1))
            flags.append(0.0 if grad is None else 1.0)
            sizes.append(size)
        parts.append(torch.tensor(flags + extra, dtype=torch.float32, device=device))
        return torch.cat(parts), sizes

    def unpack_gradients(self, buffer: Any, rows: List[Any], sizes: List[int]) -> List[float]:
        """Write the summed gradients back (a parameter no rank had a gradient for stays without
        one, as in a single process); returns the summed extra values."""
        n_values = sum(sizes)
        tail = buffer[n_values:].tolist()
        flags = tail[:self.n_tensors]
        chunks = list(_split(buffer[:n_values], sizes))
        n_thinc = len(self.thinc)
        for (node, name), chunk, flag, row in zip(self.thinc, chunks, flags, rows):
            if flag > 0:
                grad = node.get_grad(name) if node.has_grad(name) else None
                if grad is None:
                    grad = node.ops.alloc(node.get_param(name).shape, dtype=node.get_param(name).dtype)
                node.set_grad(name, _write_into(grad, chunk, node.ops, row))
        for param, chunk, flag, row in zip(self.torch, chunks[n_thinc:], flags[n_thinc:], rows[n_thinc:]):
            if flag > 0:
                if param.grad is None:
                    param.grad = param.new_zeros(param.shape)
                if row is None:
                    param.grad.copy_(chunk.view_as(param))
                else:
                    param.grad.view(param.shape[0], -1).index_copy_(
                        0, row, chunk.view(-1, param.grad[0].numel()).to(param.dtype))
        return tail[self.n_tensors:]


@contextmanager
def data_parallel(launch: Optional[LaunchEnvironment], gpu_id: int = -1) -> Iterator[Optional[DataParallel]]:
    """The process group for the run `launch` describes, destroyed at the end (None: one process)."""
    if launch is None:
        yield None
        return
    parallel = DataParallel(launch, gpu_id=gpu_id)
    parallel.start()
    try:
        yield parallel
    finally:
        parallel.close()


def launch_local(n_workers: int, train_args: Sequence[str]) -> int:
    """Run `python -m transfer_cli train TRAIN_ARGS` in n_workers processes on this machine
    through torchrun's own launcher (torch.distributed.run: a c10d rendezvous on a free local
    port). Each worker gets OMP_NUM_THREADS = cores / n_workers unless it is set. Returns 0,
    or 130/143 when the workers were interrupted / terminated; DistributedError when a worker
    failed (its own message is printed above by the worker)."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // n_workers)))
    args = parse_args(["--standalone", "--nnodes", "1", "--nproc_per_node", str(n_workers),
                       "--module", "transfer_cli", "train", *train_args])
    try:
        run(args)
    except ChildFailedError as e:
        codes = {rank: failure.exitcode for rank, failure in sorted(e.failures.items())}
        if set(codes.values()) <= {130, 143}:
            return max(codes.values())
        failed = ", ".join(f"rank {rank} exited {code}" for rank, code in codes.items())
        raise DistributedError(f"--n-workers {n_workers}: training failed ({failed}); the failing rank's own "
                               f"message is above") from None
    except SignalException as e:
        return 128 + int(e.sigval)
    return 0


# -- helpers -------------------------------------------------------------------------------------
def _env_int(environ: Mapping[str, str], key: str, *, minimum: int) -> int:
    value = environ[key].strip()
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise DistributedError(f"{key}={value!r}: expected a whole number of at least {minimum} ({LAUNCH_HINT})")
    return number


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _all_reduce(tensor: Any, op: str) -> None:
    import torch.distributed as dist

    dist.all_reduce(tensor, op=dist.ReduceOp.MAX if op == "max" else dist.ReduceOp.SUM)


def _broadcast(tensor: Any) -> None:
    import torch.distributed as dist

    dist.broadcast(tensor, src=0)


def _as_tensor(array: Any) -> Any:
    """A torch view of a thinc array (numpy, or cupy through DLPack); a copy if it is read-only."""
    import torch

    if isinstance(array, numpy.ndarray):
        return torch.from_numpy(array if array.flags.writeable else array.copy())
    return torch.utils.dlpack.from_dlpack(array)


def _flat(tensor: Any, device: Any) -> Any:
    import torch

    return tensor.reshape(-1).to(device=device, dtype=torch.float32)


def _split(buffer: Any, sizes: Sequence[int]) -> Iterator[Any]:
    offset = 0
    for size in sizes:
        yield buffer[offset:offset + size]
        offset += size


def _nonzero_rows(matrix: Any) -> Any:
    """1.0 for each row of a 2-d float32 tensor with a value other than 0, else 0.0."""
    import torch

    if matrix.device.type == "cpu":  # numpy's reduction is several times faster than torch's here
        return torch.from_numpy((matrix.numpy() != 0).any(axis=1).astype(numpy.float32))
    return matrix.ne(0).any(dim=1).to(torch.float32)


def _write_into(array: Any, chunk: Any, ops: Any, rows: Any = None) -> Any:
    """`array` holding `chunk`'s values (with `rows`: in those rows of a 2-d array, the others
    kept): written in place where possible (thinc keeps the same array), else a new array of
    the same shape and type."""
    if isinstance(array, numpy.ndarray) and not array.flags.writeable:
        if rows is None:
            return ops.asarray(chunk.detach().cpu().numpy().reshape(array.shape).astype(array.dtype))
        array = array.copy()
    target = _as_tensor(array)
    if rows is None:
        target.copy_(chunk.view(target.shape))
    else:
        target.index_copy_(0, rows, chunk.view(-1, target.shape[1]).to(target.dtype))
    return array
