"""Data-parallel training over torch.distributed: K processes ("ranks"), started by torchrun
(on one machine or several) or by `train --n-workers K` (torchrun's launcher, run locally),
train one pipeline together.

Every rank builds the same pipeline (rank 0's weights are copied to the others once, at the
start) and reads the same stream of global batches; each rank trains on its own shard of
every global batch. The engine's losses are sums over examples and tokens (tagger, senter, NER,
textcat and tok2vec gradients are never divided by the batch size; tests/test_distributed.py
checks it), so the gradient of a global batch is the SUM of its shards' gradients. One sum
per step, over one flat buffer holding every trained thinc parameter's gradient and every
torch parameter's gradient inside the components' PyTorch shims (plus the step's losses and
a fingerprint of the batch), gives each rank exactly what a single process would have
computed for the whole batch: an all-reduce, or, when every rank runs on one machine's CPU,
a sum through shared memory (no copies through sockets). Big embedding tables (a
transformer's word embeddings) send only the rows some rank has a gradient for: a step
touches few of their rows, and they are most of the parameters, so a small all-reduce of
which rows each rank touched comes first; identical optimizer steps keep the ranks
identical. Rank 0 evaluates, logs and saves; the others learn its score, so all ranks stop
at the same step.

torch is imported inside the functions: a single-process run never loads it."""
import math
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy

from ..errors import DistributedError

TIMEOUT_VARIABLE = "TRANSFER_CLI_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 1800.0  # rank 0 evaluates and saves while the others wait: generous
# embedding tables with at least this many rows (a transformer's vocabulary) send only the rows a
# step touched; smaller ones (hash embeddings: a step touches a large share of their rows) travel
# whole with the other gradients, which costs less than finding and copying the rows
SPARSE_MIN_ROWS = 16384
# "0": sum gradients through gloo even when every rank runs on this machine
SHARED_MEMORY_VARIABLE = "TRANSFER_CLI_DIST_SHARED_MEMORY"
SHARED_MEMORY_DIR = "/dev/shm"
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
        self._exchange: Any = None

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
        n_tail = (parameters.n_tensors + len(parameters.loss_names) + len(parameters.flagged)
                  + len(parameters.scalers) + 2)  # reduce_gradients' flags and extra values
        self._exchange = self._shared_memory_exchange(parameters.n_inline) or GlooExchange(
            parameters.n_inline, n_tail, self._device)

    def _shared_memory_exchange(self, n_values: int) -> Optional["SharedMemoryExchange"]:
        """Ranks that all run on this machine's CPU sum their gradients through a shared-memory
        file (rank 0 creates it in /dev/shm; every rank must find it there, with rank 0's token in
        it, and map it), instead of sending them through gloo's sockets; None otherwise."""
        import torch

        if self._device.type != "cpu" or os.environ.get(SHARED_MEMORY_VARIABLE, "").strip() == "0":
            return None
        size = SharedMemoryExchange.file_size(self.world_size, n_values)
        token_bytes = SharedMemoryExchange.TOKEN_BYTES
        message = torch.zeros(256, dtype=torch.uint8)  # rank 0's token, then the file's path (0 past its end)
        path, token = SharedMemoryExchange.create(size) if self.is_main else ("", b"")
        encoded = token + path.encode("utf8")
        if path and len(encoded) < len(message):
            message[:len(encoded)] = torch.tensor(list(encoded), dtype=torch.uint8)
        self._collective("the start-up", lambda: _broadcast(message))
        received = bytes(message.tolist())
        token, received_path = received[:token_bytes], received[token_bytes:].rstrip(b"\0").decode("utf8", "replace")
        exchange = SharedMemoryExchange.open(received_path, token, size, self.rank, self.world_size, n_values)
        found = torch.tensor([0.0 if exchange is None else 1.0])
        self._collective("the start-up", lambda: _all_reduce(found, "sum"))
        if path:
            os.unlink(path)  # every rank has it mapped (or gave up): nothing is left behind
        return exchange if int(found[0]) == self.world_size else None

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
        exchange = self._exchange
        flags = parameters.stage_gradients(exchange.target())
        tables = parameters.table_gradients(self._device)
        rows, packed, sizes = [], None, []
        if tables:  # which rows of the big embedding tables some rank has a gradient for
            masks = parameters.row_masks(tables, self._device)
            self._collective("the gradient all-reduce", lambda: _all_reduce(masks, "sum"))
            rows = parameters.rows_to_send(masks)
            packed, sizes = parameters.pack_rows(tables, rows, self._device)
        summed: List[Any] = []
        self._collective("the gradient all-reduce", lambda: summed.extend(exchange.sum(flags + extra)))
        if packed is not None:
            self._collective("the gradient all-reduce", lambda: _all_reduce(packed, "sum"))
        gradients, tail = summed
        flags, extra = tail[:parameters.n_tensors], tail[parameters.n_tensors:]
        parameters.receive_gradients(gradients, flags)
        if packed is not None:
            parameters.unpack_rows(packed, rows, sizes, flags)
        fingerprint = extra[-2:]
        if fingerprint != [self.world_size * words, self.world_size * len(batch)]:
            raise DistributedError(f"rank {self.rank}: the ranks read different training batches ({len(batch)} "
                                   f"examples, {words} words here): every rank must read the same corpus in the "
                                   f"same order (a reader or augmenter drawing random numbers of its own breaks this)")
        losses, extra = extra[:len(parameters.loss_names)], extra[len(parameters.loss_names):]
        flagged, extra = extra[:len(parameters.flagged)], extra[len(parameters.flagged):]
        for name, value in zip(parameters.loss_names, losses):
            step_losses[name] = value
        for component, value in zip(parameters.flagged, flagged):
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
        self.tables = [i for i, sparse in enumerate(self.row_sparse) if sparse]
        # where each other parameter's gradient sits in the step's buffer (None: a big table)
        self._regions: List[Optional[Tuple[int, int]]] = []
        offset = 0
        for size, sparse in zip(self.sizes, self.row_sparse):
            self._regions.append(None if sparse else (offset, offset + size))
            offset += 0 if sparse else size
        self._n_inline = offset
        self._grad_getters = ([_thinc_grad(node, name) for node, name in self.thinc]
                              + [_torch_grad(param) for param in self.torch])
        self._views: Dict[Tuple[int, int], List[Any]] = {}

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

    # gradients: every gradient but the big tables' sits in one flat buffer of n_inline values
    # that the ranks sum (GlooExchange, SharedMemoryExchange); thinc's float32 gradients on the CPU are views of it,
    # so a step copies nothing there. The big tables travel apart: only the rows some rank touched.
    @property
    def n_inline(self) -> int:
        return self._n_inline

    def stage_gradients(self, target: Any) -> List[float]:
        """Put this rank's gradients into `target` (zeros where it has none); the has-gradient
        flag of every parameter."""
        import torch

        views = self._views_of(target)
        flags = []
        for grad_of, region, view in zip(self._grad_getters, self._regions, views):
            grad = grad_of()
            flags.append(0.0 if grad is None else 1.0)
            if region is None:  # a big table: sent apart
                continue
            chunk = target[region[0]:region[1]]
            if grad is None:
                chunk.zero_()
            elif view is None or grad is not view:  # first step, or not a view of this buffer
                chunk.copy_((grad if isinstance(grad, torch.Tensor) else _as_tensor(grad)).reshape(-1))
        return flags

    def receive_gradients(self, summed: Any, flags: List[float]) -> None:
        """Give every parameter some rank had a gradient for its summed gradient from `summed`
        (a parameter no rank had one for stays without, as in a single process)."""
        n_thinc = len(self.thinc)
        views = self._views_of(summed)
        for i, (region, flag, view) in enumerate(zip(self._regions, flags, views)):
            if region is None or flag <= 0:
                continue
            chunk = summed[region[0]:region[1]]
            if i < n_thinc:
                node, name = self.thinc[i]
                if view is not None:
                    if not node.has_grad(name) or node.get_grad(name) is not view:
                        node.set_grad(name, view)
                else:
                    grad = node.get_grad(name) if node.has_grad(name) else None
                    if grad is None:
                        grad = node.ops.alloc(node.get_param(name).shape, dtype=node.get_param(name).dtype)
                    node.set_grad(name, _write_into(grad, chunk, node.ops))
            else:
                param = self.torch[i - n_thinc]
                if param.grad is None:
                    param.grad = param.new_zeros(param.shape)
                param.grad.copy_(chunk.view_as(param))

    def _views_of(self, buffer: Any) -> List[Any]:
        """Numpy views of `buffer` shaped like each thinc float32 parameter on the CPU (None for
        the others), made once per buffer."""
        key = (buffer.data_ptr(), buffer.numel())
        views = self._views.get(key)
        if views is None:
            views = []
            for i, region in enumerate(self._regions):
                view = None
                if region is not None and i < len(self.thinc) and buffer.device.type == "cpu":
                    node, name = self.thinc[i]
                    param = node.get_param(name)
                    if isinstance(param, numpy.ndarray) and param.dtype == numpy.float32:
                        view = buffer[region[0]:region[1]].numpy().reshape(param.shape)
                views.append(view)
            self._views[key] = views
        return views

    def table_gradients(self, device: Any) -> List[Tuple[int, Any]]:
        """(index, this rank's gradient as a float32 tensor, or None) of each big embedding table."""
        import torch

        found = []
        for i, (grad_of, region) in enumerate(zip(self._grad_getters, self._regions)):
            if region is None:
                grad = grad_of()
                found.append((i, None if grad is None else
                              (grad if isinstance(grad, torch.Tensor) else _as_tensor(grad)).to(
                                  device=device, dtype=torch.float32)))
        return found

    def row_masks(self, tables: List[Tuple[int, Any]], device: Any) -> Any:
        """For every row of every big embedding table, 1.0 where this rank's gradient row is not
        all zeros."""
        import torch

        masks = []
        for i, grad in tables:
            rows = self.shapes[i][0]
            masks.append(torch.zeros(rows, device=device) if grad is None else _nonzero_rows(grad.reshape(rows, -1)))
        return torch.cat(masks)

    def rows_to_send(self, summed_masks: Any) -> List[Any]:
        """Per big table: the rows some rank has a gradient for, given the masks summed over the
        ranks (the same on every rank)."""
        rows: List[Any] = []
        offset = 0
        for i in self.tables:
            n = self.shapes[i][0]
            rows.append(summed_masks[offset:offset + n].nonzero().reshape(-1))
            offset += n
        return rows

    def pack_rows(self, tables: List[Tuple[int, Any]], rows: List[Any], device: Any) -> Tuple[Any, List[int]]:
        """The big tables' rows to all-reduce, one buffer; the number of values of each table in it."""
        import torch

        parts, sizes = [], []
        for (i, grad), row in zip(tables, rows):
            size = int(row.numel()) * (self.sizes[i] // self.shapes[i][0])
            parts.append(torch.zeros(size, device=device) if grad is None
                         else grad.reshape(self.shapes[i][0], -1).index_select(0, row).reshape(-1))
            sizes.append(size)
        return torch.cat(parts), sizes

    def unpack_rows(self, buffer: Any, rows: List[Any], sizes: List[int], flags: List[float]) -> None:
        """Write the big tables' summed rows back (the other rows keep this rank's zeros)."""
        n_thinc = len(self.thinc)
        for i, row, chunk in zip(self.tables, rows, _split(buffer, sizes)):
            if flags[i] <= 0:
                continue
            if i < n_thinc:
                node, name = self.thinc[i]
                grad = node.get_grad(name) if node.has_grad(name) else None
                if grad is None:
                    grad = node.ops.alloc(node.get_param(name).shape, dtype=node.get_param(name).dtype)
                node.set_grad(name, _write_into(grad, chunk, node.ops, row))
            else:
                param = self.torch[i - n_thinc]
                if param.grad is None:
                    param.grad = param.new_zeros(param.shape)
                param.grad.view(param.shape[0], -1).index_copy_(
                    0, row, chunk.view(-1, param.grad[0].numel()).to(param.dtype))


class GlooExchange:
    """Sums the ranks' gradient buffers (and a tail of flags and losses) with one all-reduce."""

    def __init__(self, n_values: int, n_tail: int, device: Any) -> None:
        import torch

        self.n_values = n_values
        self.buffer = torch.zeros(n_values + n_tail, dtype=torch.float32, device=device)

    def target(self) -> Any:
        """Where this rank puts its gradients for the next sum."""
        return self.buffer[:self.n_values]

    def sum(self, tail: List[float]) -> Tuple[Any, List[float]]:
        import torch

        self.buffer[self.n_values:].copy_(torch.tensor(tail, dtype=torch.float32))
        _all_reduce(self.buffer, "sum")
        return self.buffer[:self.n_values], self.buffer[self.n_values:].tolist()


class SharedMemoryExchange:
    """Sums the gradient buffers of ranks on one machine through a shared-memory file: two sets
    of one slot per rank, used in turn. A rank writes its gradients into its slot of the current
    set; a small gloo all-reduce of the tail (flags, losses) is the barrier after which every
    slot is complete; each rank then adds the slots up in rank order (the same sum, bit for bit,
    on every rank) into its own slot of the other set, which holds its summed gradients and,
    once the optimizer has zeroed them, the next step's. A slot of the current set is written
    again only two steps later, after the next barrier, when every rank has read it."""

    TOKEN_BYTES = 16

    def __init__(self, mapped: Any, slots: Any, rank: int) -> None:
        self._mapped = mapped  # the mmap: kept open as long as the slots are used
        self.slots = slots     # float32 (2, world_size, n_values)
        self.rank = rank
        self.current = 0

    @classmethod
    def file_size(cls, world_size: int, n_values: int) -> int:
        return cls.TOKEN_BYTES + 2 * world_size * n_values * 4

    @classmethod
    def create(cls, size: int) -> Tuple[str, bytes]:
        """A new file of `size` bytes (reserved: a full /dev/shm fails here, not with SIGBUS
        later) starting with a random token: (path, token), or ("", b"") when it cannot be made."""
        fd, path = -1, ""
        try:
            fd, path = tempfile.mkstemp(prefix="transfer-cli-gradients-", dir=SHARED_MEMORY_DIR)
            os.posix_fallocate(fd, 0, size)
            token = os.urandom(cls.TOKEN_BYTES).replace(b"\0", b"\1")
            os.pwrite(fd, token, 0)
            return path, token
        except (OSError, AttributeError):  # no /dev/shm, not enough room, no posix_fallocate
            if path:
                os.unlink(path)
            return "", b""
        finally:
            if fd >= 0:
                os.close(fd)

    @classmethod
    def open(cls, path: str, token: bytes, size: int, rank: int, world_size: int, n_values: int
             ) -> Optional["SharedMemoryExchange"]:
        """Map rank 0's file; None when this rank cannot (another machine, no room...)."""
        import mmap

        if not path:
            return None
        try:
            with open(path, "r+b") as f:
                if os.fstat(f.fileno()).st_size != size or os.pread(f.fileno(), cls.TOKEN_BYTES, 0) != token:
                    return None  # another file of that name: this rank runs on another machine
                mapped = mmap.mmap(f.fileno(), size)
        except OSError:
            return None
        slots = numpy.frombuffer(mapped, dtype=numpy.float32, offset=cls.TOKEN_BYTES).reshape(2, world_size, n_values)
        return cls(mapped, slots, rank)

    def target(self) -> Any:
        import torch

        return torch.from_numpy(self.slots[self.current, self.rank])

    def sum(self, tail: List[float]) -> Tuple[Any, List[float]]:
        import torch

        small = torch.tensor(tail, dtype=torch.float32)
        _all_reduce(small, "sum")  # every rank has written its slot
        slots, out = self.slots[self.current], self.slots[1 - self.current, self.rank]
        if len(slots) == 1:
            numpy.copyto(out, slots[0])
        else:
            numpy.add(slots[0], slots[1], out=out)
        for rank in range(2, len(slots)):
            out += slots[rank]
        self.current = 1 - self.current
        return torch.from_numpy(out), small.tolist()


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


def _thinc_grad(node: Any, name: str) -> Callable[[], Any]:
    return lambda: node.get_grad(name) if node.has_grad(name) else None


def _torch_grad(param: Any) -> Callable[[], Any]:
    return lambda: param.grad


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
