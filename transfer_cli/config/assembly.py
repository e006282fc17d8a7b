"""init-config's first step: assemble a starter config from the blocks in
templates/*.cfg (then quickstart.py fills it). Light: it imports no model code."""
import copy
from typing import Any, Callable, Dict, List, Optional, Sequence

from confection import Config

from ..errors import UserError
from .defaults import TEMPLATES_DIR, load_packaged_config
from .names import check_lang_code

MARKER = "TOK2VEC"
COMPONENTS = ("tagger", "ner", "textcat", "textcat_multilabel", "senter")
OPTIMIZE = ("efficiency", "accuracy")


def assemble_config(*, lang: str, pipeline: Sequence[str], optimize: str, gpu: bool, vectors: Optional[str],
                    shared: bool, factory_defaults: Callable[[str], Dict[str, Any]]) -> Config:
    """The config init-config writes before it is filled (variables kept).
    factory_defaults(name): the default_config of a registered component factory.

    gpu: a transformer component with a listener in each component.
    vectors: path of a vectors directory; static vectors are used in the embedding.
    shared: one tok2vec component with listeners; False gives each component its own.
    """
    check_lang_code(lang)
    if optimize not in OPTIMIZE:
        raise UserError(f"--optimize must be one of {', '.join(OPTIMIZE)}, got '{optimize}'")
    if gpu and not shared:
        raise UserError("--independent is for tok2vec pipelines: with --gpu every component listens to "
                        "the one transformer")
    names = component_names(pipeline)
    if not names:
        raise UserError("--pipeline names no components: give e.g. -p tagger,ner")
    hardware = "gpu" if gpu else "cpu"
    parts = load_packaged_config(TEMPLATES_DIR / "components.cfg")
    config = load_packaged_config(TEMPLATES_DIR / "base.cfg")
    if gpu:
        config = config.merge(load_packaged_config(TEMPLATES_DIR / "transformer.cfg"))
    config["nlp"]["lang"] = lang
    if vectors is not None:
        config["paths"]["vectors"] = str(vectors)

    blocks = {name: _component_block(parts, hardware, optimize, name) for name in names}
    upstream = "transformer" if gpu else "tok2vec"
    needs_embedding = any(_has_marker(block) for block in blocks.values())
    if "senter" in blocks and needs_embedding and shared and not gpu:
        # spaCy gives senter a small embedding of its own; beside other components we let it
        # listen to the shared tok2vec instead, so every component trains one embedding
        senter_model = copy.deepcopy(factory_defaults("senter")["model"])
        blocks["senter"].setdefault("model", senter_model)["tok2vec"] = MARKER
    components: Dict[str, Any] = {}
    if needs_embedding and shared:
        components[upstream] = (_transformer_block(parts, lang) if gpu else
                                {"factory": "tok2vec",
                                 "model": _tok2vec_model(parts, optimize, vectors, "components.tok2vec.model")})
        listener = parts["listeners"][hardware]
        for name, block in blocks.items():
            components[name] = _replace_marker(block, lambda path: _with_path(listener, "components.tok2vec.model"))
    else:
        for name, block in blocks.items():
            components[name] = _replace_marker(
                block, lambda path, name=name: _tok2vec_model(parts, optimize, vectors,
                                                              f"components.{name}.{path}"))
    config["components"] = components
    config["nlp"]["pipeline"] = list(components)
    return config


def component_names(pipeline: Sequence[str]) -> List[str]:
    names: List[str] = []
    for name in pipeline:
        name = name.strip()
        if name and name not in ("tok2vec", "transformer") and name not in names:
            names.append(name)
    return names


def _component_block(parts: Config, hardware: str, optimize: str, name: str) -> Dict[str, Any]:
    for group in (f"{hardware}.{optimize}", f"any.{optimize}", hardware, "any"):
        node: Any = parts
        for key in group.split("."):
            node = node.get(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict) and name in node:
            return copy.deepcopy(node[name])
    return {"factory": name}  # a factory of the user's own, with its defaults


def _has_marker(node: Any) -> bool:
    if isinstance(node, dict):
        return any(_has_marker(v) for v in node.values())
    return node == MARKER


def _replace_marker(node: Any, make, path: str = "") -> Any:
    """Replace each "TOK2VEC" value with make(dotted path of that value)."""
    if isinstance(node, dict):
        return {k: _replace_marker(v, make, f"{path}.{k}" if path else k) for k, v in node.items()}
    if node == MARKER:
        return make(path)
    return node


def _with_path(node: Any, block_path: str) -> Any:
    """Point the ${TOK2VEC...} variables of a template block at `block_path`."""
    if isinstance(node, dict):
        return {k: _with_path(v, block_path) for k, v in node.items()}
    if isinstance(node, str):
        return node.replace("${" + MARKER + ".", "${" + block_path + ".")
    return copy.deepcopy(node)


def _tok2vec_model(parts: Config, optimize: str, vectors: Optional[str], block_path: str) -> Dict[str, Any]:
    model = _with_path(parts["tok2vec_model"], block_path)
    model["encode"].update(parts["sizes"][optimize])
    model["embed"]["include_static_vectors"] = vectors is not None
    return model


def _transformer_block(parts: Config, lang: str) -> Dict[str, Any]:
    block = copy.deepcopy(parts["transformer"])
    names = parts["transformer_models"]
    model_name = names.get(lang, names["default"]).split("/")[-1]
    block["model"]["name"] = block["model"]["name"].replace("MODEL", model_name)
    return block
