"""Reusing trained components: `source = "path/to/pipeline"` (or the name of an
installed pipeline package) in a [components.NAME] block, or
`nlp.add_pipe(name, source=other_nlp)`, takes the component, with its labels and
weights, from a trained pipeline; `replace_listeners` gives a component that listened
to a shared tok2vec or transformer its own copy of that upstream (weights included;
for a transformer also its tokenizer, span getter, and the listener's pooling and
grad_factor), so it no longer needs the upstream.

The sourced component's saved config block is the source's block with its variables
replaced, so the new pipeline's config.cfg describes it fully: loading the trained
output never reads the source directory again."""
import copy
import hashlib
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from thinc.api import Model

from ..config.filling import ConfigCheck
from ..config.interpolation import interpolate_config
from ..config.resolving import resolve_component_block
from ..errors import ConfigError, PathError, PipelineError
from ..installed import pipeline_location
from ..ml.listeners import LISTENER_WRAPPER, Listener, find_listeners
from ..ml.transformer_listener import TransformerListener, transformer_tok2vec
from .transformer_files import transformer_nodes

# what replaces a transformer listener's config block: a transformer of the component's own
TOK2VEC_TRANSFORMER = "spacy-transformers.Tok2VecTransformer.v3"


@dataclass
class SourcedFrom:
    """Where a sourced component came from, for the checks made once the new
    pipeline is complete (listeners linked, vectors loaded)."""
    path: str                               # the source pipeline directory
    component: str                          # its name there
    vectors: Optional[str]                  # fingerprint of the source's vectors table (None: no vectors)
    vectors_info: Dict[str, Any] = field(default_factory=dict)
    upstreams: List[str] = field(default_factory=list)  # what its listeners were linked to in the source
    directory: Optional[str] = None         # the source's directory (path, or where an installed package is)


def vectors_fingerprint(table: Any) -> Optional[str]:
    """SHA-256 of a vectors table's shape, keys, key→row map and rows; None when empty."""
    if table is None or table.is_empty:
        return None
    digest = hashlib.sha256(repr((table.mode, table.shape)).encode("utf8"))
    keys, rows = table.key_rows()
    for array in (keys, rows, table.data):
        digest.update(array.tobytes())
    return digest.hexdigest()


def uses_static_vectors(model: Model) -> bool:
    """Whether a model reads the vocab's vectors table (a StaticVectors layer)."""
    return any("vectors_shape" in node.attrs for node in model.walk())


@contextmanager
def config_lines(checked: ConfigCheck) -> Iterator[None]:
    """ConfigErrors about a config key, given the config file and line of that key."""
    try:
        yield
    except ConfigError as e:
        if e.path is not None or checked.source is None or checked.source.path is None:
            raise
        raise ConfigError(e.bare_message, path=checked.source.path, line=checked.source.line_of(e.key),
                          key=e.key) from None


class SourcePipelines:
    """The source pipelines of one build, each loaded once (with `load`, the safe loader).
    A component is taken out of its source; taking it twice (under two names) loads
    the source again, so each name gets its own object."""

    def __init__(self, load: Callable[[Path], Any]) -> None:
        self._load = load
        self._loaded: Dict[str, Any] = {}
        self._taken: Dict[str, set] = {}
        self._directories: Dict[str, Path] = {}

    def pipeline(self, path: str, name: str, key: str) -> Any:
        """The source pipeline `path`: a pipeline directory, or the name of an installed
        pipeline package (as load() takes them)."""
        try:
            directory = pipeline_location(path)
        except PathError as e:  # a bare name: neither a directory nor an installed package
            raise ConfigError(f"cannot source component '{name}': {e.bare_message}", key=key) from None
        if not directory.exists():
            raise ConfigError(f"cannot source component '{name}': no pipeline directory at {path} (nor an "
                              f"installed pipeline package of that name)", key=key)
        if not (directory / "config.cfg").is_file():
            raise ConfigError(f"cannot source component '{name}': {path} is not a saved pipeline (it has no "
                              f"config.cfg)", key=key)
        if path not in self._loaded:
            self._loaded[path] = self._load(directory)
            self._taken[path] = set()
            self._directories[path] = directory
        return self._loaded[path]

    def directory(self, path: str) -> Path:
        """Where the source `path` was loaded from."""
        return self._directories[path]

    def take(self, path: str, source_name: str) -> None:
        """Mark a component as moved out of its source."""
        self._taken[path].add(source_name)

    def release(self, path: str) -> None:
        """Forget a source, so that its next use loads it again."""
        self._loaded.pop(path, None)
        self._taken.pop(path, None)

    def taken(self, path: str, source_name: str) -> bool:
        return source_name in self._taken.get(path, set())


def source_component(nlp: Any, name: str, block: Dict[str, Any], sources: SourcePipelines) -> None:
    """Add the component `block` (a [components.NAME] block with `source`) to `nlp`,
    taken from the source pipeline with its weights and labels; record where it came from."""
    key = f"components.{name}"
    path = str(block["source"])
    source_name = block.get("component", name)
    if sources.taken(path, source_name):
        sources.release(path)  # sourced under another name already: a fresh copy of the source
    source_nlp = sources.pipeline(path, name, f"{key}.source")
    if not source_nlp.has_pipe(source_name):
        raise ConfigError(f"the pipeline {path} has no component '{source_name}' (its components: "
                          f"{', '.join(source_nlp.component_names) or 'none'})",
                          key=f"{key}.component" if "component" in block else f"{key}.source")
    component = source_nlp.get_pipe(source_name)
    upstreams = _linked_upstreams(source_nlp, component)
    replace = block.get("replace_listeners")
    if replace:
        if not upstreams:
            raise ConfigError(f"'{source_name}' of {path} listens to no tok2vec or transformer (it has its own): "
                              f"remove replace_listeners", key=f"{key}.replace_listeners")
        try:
            for upstream in upstreams:
                source_nlp.replace_listeners(upstream, source_name, replace)
        except PipelineError as e:
            raise ConfigError(f"replace_listeners for '{source_name}' of {path}: {e.bare_message}",
                              key=f"{key}.replace_listeners") from None
    sources.take(path, source_name)
    _move_component(nlp, name, source_nlp, source_name,
                    SourcedFrom(path, source_name, None, upstreams=[] if replace else upstreams,
                                directory=str(sources.directory(path))))


def _move_component(nlp: Any, name: str, source_nlp: Any, source_name: str, origin: SourcedFrom,
                    **position: Any) -> Any:
    """Move component `source_name` out of `source_nlp` (a copy nobody else uses) into `nlp`
    as `name`; see _add_sourced."""
    return _add_sourced(nlp, name, source_nlp.get_pipe(source_name), source_nlp, source_name, origin, **position)


def _add_sourced(nlp: Any, name: str, component: Any, source_nlp: Any, source_name: str, origin: SourcedFrom,
                 **position: Any) -> Any:
    """Add `component` (component `source_name` of `source_nlp`, or a copy of it) to `nlp`
    as `name`, with the source's config block for it and the strings the source knows;
    its listeners are linked again in `nlp`, or not at all."""
    config_block = interpolate_config(source_nlp.config)["components"][source_name]
    vectors = source_nlp.vocab.vectors
    origin.vectors = vectors_fingerprint(vectors)
    origin.vectors_info = vectors.info() if vectors is not None and not vectors.is_empty else {}
    nlp.vocab.strings.update(source_nlp.vocab.strings.to_list())
    component.vocab = nlp.vocab
    if isinstance(getattr(component, "model", None), Model):
        for listener in find_listeners(component.model):
            listener.upstream_name = None
            listener.clear()
    nlp.add_component(name, component, factory_name=source_nlp.factory_name(source_name),
                      config_block=dict(config_block), **position)
    nlp.sourced[name] = origin
    return component


def add_from_pipeline(nlp: Any, source_nlp: Any, source_name: str, name: str, **position: Any) -> Any:
    """nlp.add_pipe(source_name, name=name, source=source_nlp): a copy of the trained
    component `source_name` of the loaded pipeline `source_nlp` (which stays as it is),
    built from its config block in `nlp` and given its settings and weights (see
    _copy_component). Its listeners must find their upstream in `nlp`."""
    if not (hasattr(source_nlp, "get_pipe") and hasattr(source_nlp, "component_names")):
        raise PipelineError(f"add_pipe(source=...) takes a loaded pipeline (e.g. transfer_cli.load(path)), not "
                            f"{type(source_nlp).__name__} {source_nlp!r:.60}; in a config, write "
                            f"source = \"path\" in the component's block")
    if not source_nlp.has_pipe(source_name):
        raise PipelineError(f"add_pipe(source=...): the source pipeline has no component '{source_name}' (its "
                            f"components: {', '.join(source_nlp.component_names) or 'none'})")
    if nlp.has_pipe(name):
        raise PipelineError(f"A component named '{name}' already exists: pass a different name")
    original = source_nlp.get_pipe(source_name)
    _check_vectors_of_source(nlp, source_nlp, source_name, name, original)
    upstreams = _linked_upstreams(source_nlp, original)
    described = f"the pipeline given as source ({source_nlp.lang}, components {source_nlp.component_names})"
    copied = _copy_component(nlp, source_nlp, source_name, name)
    component = _add_sourced(nlp, name, copied, source_nlp, source_name,
                             SourcedFrom(described, source_name, None, upstreams=upstreams), **position)
    unlinked = [listener for listener in find_listeners(component.model) if listener.upstream_name is None] \
        if isinstance(getattr(component, "model", None), Model) else []
    if unlinked:
        nlp.remove_pipe(name)
        upstream = upstreams[0] if upstreams else unlinked[0].upstream
        raise PipelineError(
            f"add_pipe(source=...): '{source_name}' listens to '{upstream}' in the source pipeline, which this "
            f"pipeline does not have: add it first (nlp.add_pipe(\"{upstream}\", source=source_nlp)) so they share "
            f"it, or give '{source_name}' its own copy of it before adding it: source_nlp.replace_listeners("
            f"\"{upstream}\", \"{source_name}\", [\"model.tok2vec\"])")
    return component


def _copy_component(nlp: Any, source_nlp: Any, source_name: str, name: str) -> Any:
    """A copy of component `source_name` of `source_nlp`, built by its factory from the
    source's config block (with `nlp`, so on its vocab) and given the original's state:
    in memory (to_bytes → from_bytes), or, for a component whose to_bytes does not hold
    all that its to_disk saves (a transformer's config and tokenizer files, a component
    class of one's own), through that one component's folder in a temporary directory.
    The rest of the source pipeline is neither saved nor read."""
    if source_name not in source_nlp._component_configs:
        raise PipelineError(f"add_pipe(source=...): cannot copy '{source_name}' out of the source pipeline: it was "
                            f"added without a config block (use nlp.add_pipe(factory_name) so it can be rebuilt)")
    original = source_nlp.get_pipe(source_name)
    block = copy.deepcopy(dict(interpolate_config(source_nlp.config)["components"][source_name]))
    spec = resolve_component_block(name, block)
    copied = spec.func(nlp, name, **spec.settings)
    if not hasattr(original, "to_disk"):
        return copied  # no state beyond what its config builds
    if _state_fits_in_bytes(original) and hasattr(copied, "from_bytes"):
        copied.from_bytes(original.to_bytes())
        return copied
    with tempfile.TemporaryDirectory(prefix="transfer-cli-source-") as tmp:
        folder = Path(tmp) / "component"
        original.to_disk(folder)
        copied.from_disk(folder)
    return copied


def _state_fits_in_bytes(component: Any) -> bool:
    """Whether to_bytes holds what to_disk saves: to_bytes is defined by the class that
    defines to_disk (or one below it), and no transformer is inside (its files are saved by to_disk only)."""
    to_bytes, to_disk = _defined_by(type(component), "to_bytes"), _defined_by(type(component), "to_disk")
    if to_bytes is None or to_disk is None or not issubclass(to_bytes, to_disk):
        return False
    model = getattr(component, "model", None)
    return not (isinstance(model, Model) and transformer_nodes(model))


def _defined_by(kind: type, method: str) -> Optional[type]:
    return next((k for k in kind.__mro__ if method in vars(k)), None)


def _check_vectors_of_source(nlp: Any, source_nlp: Any, source_name: str, name: str, component: Any) -> None:
    """A component that reads static vectors needs the table it was trained with."""
    model = getattr(component, "model", None)
    if not isinstance(model, Model) or not uses_static_vectors(model):
        return
    theirs, ours = vectors_fingerprint(source_nlp.vocab.vectors), vectors_fingerprint(nlp.vocab.vectors)
    if theirs == ours:
        return
    theirs_text = _describe_vectors(source_nlp.vocab.vectors.info()) if theirs else "no vectors"
    ours_text = _describe_vectors(nlp.vocab.vectors.info()) if ours else "no vectors"
    raise PipelineError(f"add_pipe(source=...): '{source_name}' uses static vectors and the source pipeline has "
                        f"{theirs_text}, but this pipeline has {ours_text}: add '{name}' to a pipeline with the same "
                        f"vectors (e.g. one loaded from the source's directory, or initialized with [initialize] "
                        f"vectors = that directory)")


def _linked_upstreams(nlp: Any, component: Any) -> List[str]:
    model = getattr(component, "model", None)
    if not isinstance(model, Model):
        return []
    names = []
    for listener in find_listeners(model):
        if listener.upstream_name is not None and listener.upstream_name not in names:
            names.append(listener.upstream_name)
    return names


def check_sourced_listeners(nlp: Any) -> None:
    """A sourced component whose listeners found no upstream in the new pipeline cannot run."""
    for name, origin in nlp.sourced.items():
        model = getattr(nlp.get_pipe(name), "model", None)
        if not isinstance(model, Model):
            continue
        unlinked = [listener for listener in find_listeners(model) if listener.upstream_name is None]
        if unlinked:
            upstream = origin.upstreams[0] if origin.upstreams else unlinked[0].upstream
            raise ConfigError(f"'{name}' (sourced from {origin.path}) listens to '{upstream}' there, which this "
                              f"pipeline does not have: add replace_listeners = [\"model.tok2vec\"] to "
                              f"[components.{name}] so it gets its own copy of '{upstream}', or source "
                              f"'{upstream}' from {origin.path} too", key=f"components.{name}")


def check_sourced_vectors(nlp: Any, vectors_setting: Any = None) -> None:
    """A sourced component that reads static vectors needs the very table it was trained
    with: compare the source pipeline's table with the one this pipeline has now."""
    here = vectors_fingerprint(nlp.vocab.vectors)
    for name, origin in nlp.sourced.items():
        model = getattr(nlp.get_pipe(name), "model", None)
        if not isinstance(model, Model) or not uses_static_vectors(model) or origin.vectors == here:
            continue
        theirs = _describe_vectors(origin.vectors_info) if origin.vectors else "no vectors"
        ours = _describe_vectors(nlp.vocab.vectors.info()) if here else "no vectors"
        where = f" ([initialize] vectors = {vectors_setting})" if vectors_setting else ""
        raise ConfigError(f"'{name}' is sourced from {origin.path}, which has {theirs}, but this pipeline has "
                          f"{ours}{where}, and '{name}' uses static vectors: set [initialize] vectors to the same "
                          f"table (e.g. vectors = \"{origin.directory or origin.path}\")",
                          key=f"components.{name}.source")


def _describe_vectors(info: Dict[str, Any]) -> str:
    return f"the vectors '{info.get('name')}' ({info.get('vectors')} x {info.get('width')}, {info.get('keys')} keys)"


def replace_listener_layers(nlp: Any, upstream_name: str, pipe_name: str, paths: Sequence[str]) -> None:
    """nlp.replace_listeners: each listener layer of `pipe_name` that `upstream_name` feeds
    is replaced by a copy of the upstream's model (its trained weights too), and the
    config block at each of `paths` (e.g. "model.tok2vec") by the block that builds it:
    for a tok2vec, the upstream's model block; for a transformer, a
    spacy-transformers.Tok2VecTransformer.v3 block with the transformer's settings and
    the listener's pooling and grad_factor."""
    if isinstance(paths, str) or not all(isinstance(p, str) for p in paths):
        raise PipelineError(f"replace_listeners: give the listeners' config paths as a list of strings, "
                            f"e.g. [\"model.tok2vec\"], not {paths!r}")
    upstream = nlp.get_pipe(upstream_name)
    pipe = nlp.get_pipe(pipe_name)
    if not isinstance(getattr(upstream, "listeners", None), list):
        raise PipelineError(f"replace_listeners: '{upstream_name}' is not a tok2vec or transformer (no component "
                            f"listens to it)")
    model = getattr(pipe, "model", None)
    listeners = [node for node in find_listeners(model)] if isinstance(model, Model) else []
    listeners = [listener for listener in listeners if listener in upstream.listeners]
    if not listeners:
        raise PipelineError(f"replace_listeners: '{pipe_name}' does not listen to '{upstream_name}'")
    if len(paths) != len(listeners):
        raise PipelineError(f"replace_listeners: '{pipe_name}' has {len(listeners)} listener(s) of "
                            f"'{upstream_name}' but {len(paths)} path(s) were given ({list(paths)})")
    if pipe_name not in nlp._component_configs or upstream_name not in nlp._component_configs:
        raise PipelineError(f"replace_listeners: '{pipe_name}' or '{upstream_name}' was added without a config "
                            f"block (use nlp.add_pipe), so its config cannot be updated")
    values = interpolate_config(nlp.config)["components"]
    upstream_block = copy.deepcopy(dict(values[upstream_name]["model"]))
    block = copy.deepcopy(nlp._component_configs[pipe_name])
    for path, listener in zip(paths, listeners):
        parent, last = _config_parent(block, path, pipe_name)
        if not _is_listener_block(parent[last]):
            raise PipelineError(f"replace_listeners: [components.{pipe_name}] {path} is not a listener block "
                                f"(got {str(parent[last])[:80]})")
        if isinstance(listener, TransformerListener):
            parent[last] = _tok2vec_transformer_block(upstream_block, dict(parent[last]), listener)
        else:
            parent[last] = copy.deepcopy(upstream_block)
    for listener in listeners:
        node = _listener_node(model, listener)
        model.replace_node(node, _own_upstream_copy(upstream.model, listener))
    nlp._component_configs[pipe_name] = block
    nlp.link_listeners()


def _own_upstream_copy(upstream_model: Model, listener: Listener) -> Model:
    """What takes a listener's place: a copy of the upstream's network; for a transformer,
    the copy with the listener's pooling layer and grad_factor (its current value)."""
    if isinstance(listener, TransformerListener):
        return transformer_tok2vec(upstream_model.copy(), listener.layers[0].copy(), listener.grad_factor)
    return upstream_model.copy()


def _tok2vec_transformer_block(transformer_block: Dict[str, Any], listener_block: Dict[str, Any],
                               listener: TransformerListener) -> Dict[str, Any]:
    """The config of a transformer of the component's own (Tok2VecTransformer.v3): the
    TransformerModel block's settings (name, get_spans, tokenizer_config, ...) with the
    listener's pooling and grad_factor. A grad_factor schedule keeps its value of now."""
    block = {key: copy.deepcopy(value) for key, value in transformer_block.items() if key != "@architectures"}
    grad_factor = listener_block.get("grad_factor", 1.0)
    if isinstance(grad_factor, bool) or not isinstance(grad_factor, (int, float)):
        grad_factor = listener.grad_factor
    block.update({"@architectures": TOK2VEC_TRANSFORMER,
                  "pooling": copy.deepcopy(listener_block.get("pooling", {"@layers": "reduce_mean.v1"})),
                  "grad_factor": grad_factor})
    return {"@architectures": TOK2VEC_TRANSFORMER, **{k: v for k, v in block.items() if k != "@architectures"}}


def _config_parent(block: Dict[str, Any], path: str, pipe_name: str):
    parts = path.split(".")
    node: Any = block
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            break
        node = node[part]
    else:
        if isinstance(node, dict) and parts[-1] in node:
            return node, parts[-1]
    raise PipelineError(f"replace_listeners: [components.{pipe_name}] has no '{path}' (e.g. \"model.tok2vec\")")


def _is_listener_block(node: Any) -> bool:
    return isinstance(node, dict) and "Listener" in str(node.get("@architectures", ""))


def _listener_node(model: Model, listener: Listener) -> Model:
    """The node the listener's config block builds: the listener, or the layer wrapping it
    (transfer_cli.Tok2VecListener.v1's gradient weighting)."""
    for node in model.walk():
        if node.attrs.get(LISTENER_WRAPPER) and node.layers == [listener]:
            return node
    return listener
