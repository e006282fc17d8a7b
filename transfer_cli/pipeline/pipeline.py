"""Pipeline (the `nlp` object): a tokenizer and named components run in order."""
import copy
import itertools
import time
from pathlib import Path
from typing import Any, Callable, ClassVar, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from confection import Config
from thinc.api import Adam, Optimizer

from ..config.names import check_component_name
from ..config.resolving import resolve_component_block
from ..errors import PipelineError
from ..ml.blas_threads import limited_blas_threads
from ..scoring import score_examples
from ..tokens import Doc, Vocab
from .processes import n_processes, pipe_in_processes
from .serialize import read_pipeline_weights, write_pipeline
from .sourcing import SourcedFrom, add_from_pipeline, replace_listener_layers

DEFAULT_MAX_LENGTH = 1_000_000  # spaCy's default


class Pipeline:
    # How the worker processes of pipe(n_process > 1) load the copy of the pipeline saved for
    # them: build.load, handed over by build.py, which builds on this module.
    load_saved: ClassVar[Optional[Callable[[Path], "Pipeline"]]] = None

    def __init__(self, vocab: Vocab, *, lang: str = "en", tokenizer: Optional[Callable[[str], Doc]] = None,
                 meta: Optional[Dict[str, Any]] = None, config: Optional[Any] = None, batch_size: int = 1000) -> None:
        self.vocab = vocab
        self.lang = lang
        self.tokenizer = tokenizer
        self.meta: Dict[str, Any] = dict(meta or {})
        self.batch_size = batch_size
        self.max_length = DEFAULT_MAX_LENGTH  # characters per text: a guard against running out of memory
        self._components: List[Tuple[str, Any]] = []
        self._disabled: set = set()
        self._factory_names: Dict[str, str] = {}
        self._component_configs: Dict[str, Dict[str, Any]] = {}
        self.base_config: Any = config  # the config the pipeline was built from, if any
        # components taken from trained pipelines (`source = ...`): initialize() keeps their weights
        self.sourced: Dict[str, SourcedFrom] = {}

    @property
    def config(self) -> Any:
        """The pipeline's config: the one it was built from, with [nlp] pipeline/disabled and
        [components] reflecting the components it has now."""
        config = Config(self.base_config or {}, is_interpolated=False).copy()
        config.setdefault("nlp", {})
        config["nlp"]["lang"] = self.lang
        config["nlp"]["pipeline"] = self.component_names
        config["nlp"]["disabled"] = self.disabled
        config["components"] = {name: self._component_configs[name] for name in self.component_names
                                if name in self._component_configs}
        return config

    # -- components ---------------------------------------------------------------------------
    @property
    def component_names(self) -> List[str]:
        return [name for name, _ in self._components]

    @property
    def pipe_names(self) -> List[str]:
        return [name for name, _ in self._components if name not in self._disabled]

    @property
    def components(self) -> List[Tuple[str, Any]]:
        return list(self._components)

    @property
    def pipeline(self) -> List[Tuple[str, Any]]:
        return [(n, c) for n, c in self._components if n not in self._disabled]

    @property
    def disabled(self) -> List[str]:
        return [n for n in self.component_names if n in self._disabled]

    def has_pipe(self, name: str) -> bool:
        return name in self.component_names

    def get_pipe(self, name: str) -> Any:
        for pipe_name, component in self._components:
            if pipe_name == name:
                return component
        raise PipelineError(f"No component '{name}' in the pipeline. Components: {self.component_names}")

    def factory_name(self, name: str) -> str:
        return self._factory_names.get(name, name)

    def add_pipe(self, factory_name: str, name: Optional[str] = None, *, before: Optional[str] = None,
                 after: Optional[str] = None, first: bool = False, last: bool = False,
                 config: Optional[Dict[str, Any]] = None, source: Optional["Pipeline"] = None) -> Any:
        """Create a component from a registered factory (its defaults, `config` on top) and insert it.
        With `source` (a loaded pipeline), `factory_name` names a trained component of it instead:
        a copy of it, labels and weights included, is inserted (as `name`, default the same name)."""
        name = name or factory_name
        check_component_name(name, error=PipelineError)
        if source is not None:
            if config:
                raise PipelineError("add_pipe: a component taken from a source pipeline keeps its settings; give "
                                    "config or source, not both")
            self._insert_position_check(before, after, first, last)
            return add_from_pipeline(self, source, factory_name, name, before=before, after=after, first=first,
                                     last=last)
        if self.has_pipe(name):
            raise PipelineError(f"A component named '{name}' already exists: pass a different name")
        component, block = build_component(self, factory_name, name, config)
        return self.add_component(name, component, factory_name=factory_name, config_block=block,
                                  before=before, after=after, first=first, last=last)

    def add_component(self, name: str, component: Any, *, factory_name: Optional[str] = None,
                      config_block: Optional[Dict[str, Any]] = None, **position) -> Any:
        """Insert an already-built component; `config_block` is its [components.NAME] config."""
        check_component_name(name, error=PipelineError)
        if self.has_pipe(name):
            raise PipelineError(f"A component named '{name}' already exists: pass a different name")
        self._insert(name, component, **position)
        self._factory_names[name] = factory_name or name
        if config_block is not None:
            self._component_configs[name] = config_block
        try:
            self.link_listeners()
        except PipelineError:  # e.g. a listener of the wrong width: leave the pipeline as it was
            self._components = [(n, c) for n, c in self._components if n != name]
            self._factory_names.pop(name, None)
            self._component_configs.pop(name, None)
            self.link_listeners()
            raise
        return component

    def _insert_position_check(self, before: Optional[str], after: Optional[str], first: bool, last: bool) -> None:
        if sum(bool(x) for x in (before, after, first, last)) > 1:
            raise PipelineError("Give at most one of before, after, first, last")
        names = self.component_names
        for option, other in (("before", before), ("after", after)):
            if other and other not in names:
                raise PipelineError(f"Cannot insert {option} '{other}': no such component ({names})")

    def _insert(self, name: str, component: Any, *, before: Optional[str] = None, after: Optional[str] = None,
                first: bool = False, last: bool = False) -> None:
        self._insert_position_check(before, after, first, last)
        names = self.component_names
        if first:
            index = 0
        elif before:
            index = names.index(before)
        elif after:
            index = names.index(after) + 1
        else:
            index = len(names)
        component.name = name
        self._components.insert(index, (name, component))

    def remove_pipe(self, name: str) -> Tuple[str, Any]:
        component = self.get_pipe(name)
        self._check_no_listeners_depend_on(name, "remove")
        self._components = [(n, c) for n, c in self._components if n != name]
        self._disabled.discard(name)
        self._factory_names.pop(name, None)
        self._component_configs.pop(name, None)
        self.sourced.pop(name, None)
        self.link_listeners()
        return name, component

    def replace_pipe(self, name: str, factory_name: str, *, config: Optional[Dict[str, Any]] = None) -> Any:
        self.get_pipe(name)
        self._check_no_listeners_depend_on(name, "replace")
        component, block = build_component(self, factory_name, name, config)
        component.name = name
        self._components = [(n, component if n == name else c) for n, c in self._components]
        self._factory_names[name] = factory_name
        self._component_configs[name] = block
        self.sourced.pop(name, None)
        self.link_listeners()
        return component

    def _check_no_listeners_depend_on(self, name: str, action: str) -> None:
        upstream = self.get_pipe(name)
        listeners = getattr(upstream, "listeners", [])
        users = sorted({n for n, c in self._components if n != name and getattr(c, "model", None) is not None
                        and any(node in listeners for node in c.model.walk())})
        if users:
            raise PipelineError(
                f"Cannot {action} '{name}': components {users} listen to it through listener layers. "
                f"Give them their own embedding (e.g. init-config --independent) or {action} them too")

    def rename_pipe(self, old: str, new: str) -> None:
        check_component_name(new, error=PipelineError)
        self.get_pipe(old)
        if self.has_pipe(new):
            raise PipelineError(f"A component named '{new}' already exists")
        self._components = [(new if n == old else n, c) for n, c in self._components]
        self.get_pipe(new).name = new
        if old in self._factory_names:
            self._factory_names[new] = self._factory_names.pop(old)
        if old in self._component_configs:
            self._component_configs[new] = self._component_configs.pop(old)
        if old in self.sourced:
            self.sourced[new] = self.sourced.pop(old)
        self.link_listeners()

    def disable_pipe(self, name: str) -> None:
        self.get_pipe(name)
        self._disabled.add(name)

    def enable_pipe(self, name: str) -> None:
        self.get_pipe(name)
        self._disabled.discard(name)

    def select_pipes(self, *, disable: Union[str, Sequence[str], None] = None,
                     enable: Union[str, Sequence[str], None] = None) -> "DisabledPipes":
        """Disable components until `.restore()` or the end of a `with` block:
        `with nlp.select_pipes(disable=["ner"]): ...`; `enable=[...]` disables every other one."""
        if isinstance(disable, str):
            disable = [disable]
        if isinstance(enable, str):
            enable = [enable]
        if disable is None and enable is None:
            raise PipelineError("select_pipes: give disable=[...] or enable=[...]")
        for option, names in (("disable", disable), ("enable", enable)):
            unknown = [n for n in names or [] if not self.has_pipe(n)]
            if unknown:
                raise PipelineError(f"select_pipes({option}=...): no component named "
                                    f"{', '.join(map(repr, unknown))}; components: {', '.join(self.component_names)}")
        if enable is not None:
            to_disable = [n for n in self.pipe_names if n not in enable]
            both = [n for n in disable or [] if n in enable]
            if both:
                raise PipelineError(f"select_pipes: {', '.join(map(repr, both))} cannot be both enabled and "
                                    f"disabled (`enable` disables every component it does not name)")
            to_disable += [n for n in disable or [] if n not in to_disable]
        else:
            to_disable = list(disable or [])
        return DisabledPipes(self, to_disable)

    def replace_listeners(self, tok2vec_name: str, pipe_name: str, listeners: Sequence[str]) -> None:
        """Give `pipe_name` its own copy of the tok2vec or transformer `tok2vec_name` (with its
        current weights; a transformer with its tokenizer and span getter, pooled as the
        listener pooled) in place of each listener layer it has for it; `listeners` are the
        paths of those layers in its config block, e.g. ["model.tok2vec"]. Afterwards
        `pipe_name` no longer needs `tok2vec_name`: that one may retrain or be removed.
        (spaCy's signature.)"""
        replace_listener_layers(self, tok2vec_name, pipe_name, listeners)

    def link_listeners(self) -> None:
        """Connect every upstream (tok2vec, transformer) to the listeners that name it."""
        upstreams = [c for _, c in self._components if hasattr(c, "find_listeners")]
        for upstream in upstreams:
            upstream.unlink_listeners()
        for i, (name, component) in enumerate(self._components):
            for upstream in upstreams:
                if upstream is not component:
                    upstream.find_listeners(component)

    # -- processing ---------------------------------------------------------------------------------
    def make_doc(self, text: str) -> Doc:
        if self.tokenizer is None:
            raise PipelineError("This pipeline has no tokenizer")
        if len(text) > self.max_length:
            raise PipelineError(
                f"A text of {len(text):,} characters is longer than nlp.max_length ({self.max_length:,}): split "
                f"it into smaller texts, or raise the limit with nlp.max_length = {len(text)} (memory grows "
                f"with the text's length)")
        return self.tokenizer(text)

    def __call__(self, text: Union[str, Doc]) -> Doc:
        doc = self.make_doc(text) if isinstance(text, str) else text
        with limited_blas_threads():
            for _, component in self.pipeline:
                doc = component(doc)
        return doc

    def pipe(self, texts: Iterable[Any], *, batch_size: Optional[int] = None, as_tuples: bool = False,
             disable: Union[str, Iterable[str]] = (), n_process: int = 1) -> Iterator[Any]:
        """Annotate a stream of texts (or Docs), yielding Docs in input order.

        batch_size: docs per batch (default nlp.batch_size); with n_process > 1, also the
        texts a process takes at a time. as_tuples: `texts` holds (text, context) pairs
        and (doc, context) pairs come out; contexts stay in this process. disable: names
        of components to skip for this call. n_process: processes that annotate, this one
        and n_process - 1 spawned workers (-1: one per CPU; processes.py); the workers load
        the pipeline as to_disk saves it and send back Docs with their annotation and
        picklable user data (doc._.trf_data included); every doc yielded is a new Doc."""
        batch_size = self.batch_size if batch_size is None else batch_size
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise PipelineError(f"nlp.pipe: batch_size must be a positive number of docs, not {batch_size!r}")
        skipped = self._checked_disable(disable)
        n_process = n_processes(n_process)
        if as_tuples:
            return self._pipe_pairs(texts, batch_size, skipped, n_process)
        if n_process > 1:
            if self.load_saved is None:
                raise PipelineError("nlp.pipe(n_process > 1) needs transfer_cli.pipeline imported whole "
                                    "(it loads pipelines in the worker processes)")
            return pipe_in_processes(self, texts, n_process=n_process, batch_size=batch_size, disable=skipped,
                                     load=self.load_saved)
        return self._pipe_here(texts, batch_size, skipped)

    def _checked_disable(self, disable: Union[str, Iterable[str]]) -> List[str]:
        names = [disable] if isinstance(disable, str) else list(disable)
        unknown = [name for name in names if not self.has_pipe(name)]
        if unknown:
            raise PipelineError(f"nlp.pipe(disable=...): no component named {', '.join(map(repr, unknown))}; "
                                f"the pipeline has {self.component_names}")
        return names

    def _pipe_here(self, texts: Iterable[Union[str, Doc]], batch_size: int, skipped: List[str]) -> Iterator[Doc]:
        docs: Iterable[Doc] = (self._as_doc(i, t) for i, t in enumerate(texts))
        for name, component in self.pipeline:
            if name not in skipped:
                docs = component.pipe(docs, batch_size=batch_size)
        with limited_blas_threads():
            yield from docs

    def _as_doc(self, index: int, text: Union[str, Doc]) -> Doc:
        if isinstance(text, str):
            return self.make_doc(text)
        if isinstance(text, Doc):
            return text
        raise PipelineError(f"nlp.pipe expects texts (str) or Docs; input {index} is a {type(text).__name__}")

    def _pipe_pairs(self, pairs: Iterable[Any], batch_size: int, skipped: List[str],
                    n_process: int) -> Iterator[Tuple[Doc, Any]]:
        checked = (_checked_pair(i, pair) for i, pair in enumerate(pairs))
        for_texts, for_contexts = itertools.tee(checked)  # holds only the contexts of docs in flight
        docs = self.pipe((text for text, _ in for_texts), batch_size=batch_size, disable=skipped,
                         n_process=n_process)
        for doc, (_, context) in zip(docs, for_contexts):
            yield doc, context

    # -- training -----------------------------------------------------------------------------------
    def initialize(self, get_examples: Callable[[], Iterable], *, sgd: Optional[Optimizer] = None,
                   settings: Optional[Dict[str, Dict[str, Any]]] = None) -> Optimizer:
        """Initialize every component's model from the examples (labels, shapes).
        `settings[name]` are extra keyword arguments for that component (e.g. labels)."""
        settings = settings or {}
        unknown = [name for name in settings if not self.has_pipe(name)]
        if unknown:
            raise PipelineError(f"[initialize.components] names components that are not in the pipeline: {unknown}")
        self.link_listeners()
        for name, component in self._components:
            if name in self.sourced:  # trained elsewhere: keeps its labels and weights
                continue
            component.initialize(get_examples, nlp=self, **settings.get(name, {}))
        self.link_listeners()
        return sgd if sgd is not None else Adam(0.001)

    def update(self, examples: List, *, drop: float = 0.0, sgd: Optional[Optimizer] = None,
               losses: Optional[Dict[str, float]] = None, exclude: Iterable[str] = (),
               annotates: Iterable[str] = ()) -> Dict[str, float]:
        """Forward and backward over one batch for every enabled, non-excluded component.
        Upstreams sum their listeners' gradients and backpropagate once; with `sgd`
        every updated model takes one optimizer step."""
        with limited_blas_threads():
            return self._update(list(examples), drop, sgd, {} if losses is None else losses, set(exclude),
                                set(annotates))

    def _update(self, examples: List, drop: float, sgd: Optional[Optimizer], losses: Dict[str, float],
                exclude: set, annotates: set) -> Dict[str, float]:
        if not examples:
            return losses
        updated = []
        for name, component in self.pipeline:
            if name not in exclude and component.is_trainable:
                component.update(examples, drop=drop, sgd=None, losses=losses)
                updated.append(component)
            if name in annotates:  # later components see this one's predictions
                docs = [eg.predicted for eg in examples]
                if component.is_trainable:
                    component.set_annotations(docs, component.predict(docs))
                else:
                    for doc in docs:
                        component(doc)
        for component in updated:
            component.apply_gradients()
        if sgd is not None:
            for component in updated:
                component.finish_update(sgd)
        return losses

    def finish_update(self, sgd: Optimizer, exclude: Iterable[str] = ()) -> None:
        exclude = set(exclude)
        for name, component in self.pipeline:
            if name not in exclude and component.is_trainable:
                component.finish_update(sgd)

    def evaluate(self, examples: Iterable, *, batch_size: Optional[int] = None) -> Dict[str, Any]:
        """Run the pipeline over the examples' texts and score against their references."""
        examples = list(examples)
        start = time.perf_counter()
        docs = [eg.predicted.blank_copy() for eg in examples]
        for eg, doc in zip(examples, self.pipe(docs, batch_size=batch_size)):
            eg.predicted = doc
        elapsed = time.perf_counter() - start
        n_words = sum(len(eg.predicted) for eg in examples)
        scores = score_examples(self, examples)
        scores["speed"] = n_words / elapsed if elapsed > 0 else 0.0
        return scores

    # -- serialization --------------------------------------------------------------------------
    def to_disk(self, path: Union[str, Path]) -> None:
        """Write config.cfg, meta.json, vocab/, tokenizer and one folder per component.
        Written to a temporary directory first, then renamed into place."""
        write_pipeline(self, Path(path))

    def from_disk(self, path: Union[str, Path]) -> "Pipeline":
        read_pipeline_weights(self, Path(path))
        return self


class DisabledPipes(list):
    """The components that `Pipeline.select_pipes` disabled: `restore()`, or the end of
    the `with` block, turns them back on (only those: other changes made meanwhile stay)."""

    def __init__(self, nlp: Pipeline, names: Sequence[str]) -> None:
        self.nlp = nlp
        newly_disabled = [name for name in names if name not in nlp.disabled]
        for name in names:
            nlp.disable_pipe(name)
        super().__init__(newly_disabled)

    def __enter__(self) -> "DisabledPipes":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.restore()

    def restore(self) -> None:
        for name in self:
            if self.nlp.has_pipe(name):
                self.nlp.enable_pipe(name)
        del self[:]


def _checked_pair(index: int, pair: Any) -> Tuple[Any, Any]:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise PipelineError(f"nlp.pipe(as_tuples=True) expects (text, context) pairs; input {index} is "
                            f"{type(pair).__name__} {pair!r:.60}")
    return pair[0], pair[1]


def build_component(nlp: Pipeline, factory_name: str, name: str, settings: Optional[Dict[str, Any]] = None):
    """(component, filled config block) from a factory name and settings over its defaults."""
    block = {"factory": factory_name, **copy.deepcopy(settings or {})}
    spec = resolve_component_block(name, block)
    component = spec.func(nlp, name, **spec.settings)
    return component, spec.config
