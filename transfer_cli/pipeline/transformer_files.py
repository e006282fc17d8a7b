"""A transformer inside a saved pipeline: a Hugging Face directory in the component's
folder (config.json, the tokenizer files save_pretrained writes, and the weights as
model.safetensors), so a saved pipeline loads without the directory it was trained
from and without a network.

Loading treats the folder as untrusted, like the rest of a pipeline directory
(model_files.py): config.json and the weights are read as bounded regular files, the
weights only as safetensors (a pickle-format weights file is refused, never handed to
torch.load), the model is built from its config class (trust_remote_code is never on)
and the tokenizer is read with local_files_only."""
from pathlib import Path
from typing import Any, List

from thinc.api import Model

from ..errors import DataError, PathError, PipelineError
from ..ml.transformer.hf import quiet_transformers
from ..ml.transformer.model import hf_model, install_transformer, is_loaded
from ..model_files import JSON_LIMIT, read_file_bytes, read_file_json

WEIGHTS_FILE = "model.safetensors"
# weights formats that unpickle when loaded: never read from a saved pipeline
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".h5", ".msgpack")
NESTED_DIR = "transformer"  # a component's own transformers (Tok2VecTransformer): NESTED_DIR0, NESTED_DIR1 ...


def is_transformer_node(node: Model) -> bool:
    """A spacy-transformers.TransformerModel layer (ml/transformer/model.py)."""
    return "get_spans" in node.attrs and "tokenizer" in node.attrs and "tokenizer_config" in node.attrs


def transformer_nodes(model: Model) -> List[Model]:
    return [node for node in model.walk() if is_transformer_node(node)]


def save_transformer_dir(model: Model, path: Path, *, component: str, weights: bool = True) -> None:
    """config.json and the tokenizer files of the loaded transformer `model` into `path`,
    and (with `weights`) its state as model.safetensors."""
    if not is_loaded(model):
        raise PipelineError(f"Cannot save component '{component}': its transformer is not loaded yet "
                            f"(initialize the pipeline or train it first)")
    torch_model = hf_model(model)
    path.mkdir(parents=True, exist_ok=True)
    with quiet_transformers():
        torch_model.config.save_pretrained(str(path))
        model.attrs["tokenizer"].save_pretrained(str(path))
    if weights:
        import safetensors.torch

        # contiguous CPU copies: safetensors refuses tensors that share memory (tied weights)
        state = {key: value.detach().to("cpu").contiguous().clone() for key, value in torch_model.state_dict().items()}
        # bytes written as any file is (save_file makes the file 0600, whatever the umask)
        (path / WEIGHTS_FILE).write_bytes(safetensors.torch.save(state, metadata={"format": "pt"}))


def load_transformer_dir(model: Model, path: Path, *, component: str, weights: bool = True) -> None:
    """Build the transformer saved in `path` into `model` (with `weights`, load its
    model.safetensors; without, the caller loads the weights from elsewhere)."""
    what = f"transformer of component '{component}'"
    if not path.is_dir():
        raise PathError(f"the {what} is missing (expected a directory with config.json, the tokenizer files "
                        f"and {WEIGHTS_FILE})", path=str(path))
    for entry in path.iterdir():
        if entry.suffix.lower() in PICKLE_SUFFIXES:
            raise PathError(f"a weights file in a pickle-based format in the {what}: refusing to load it (weights "
                            f"are read as {WEIGHTS_FILE} only)", path=str(entry))
    config_path = path / "config.json"
    settings = read_file_json(config_path, limit=JSON_LIMIT, what=f"config of the {what}", expect=dict)
    state = _read_weights(path / WEIGHTS_FILE, what) if weights else None
    with quiet_transformers():
        from transformers import CONFIG_MAPPING, AutoModel, AutoTokenizer

        model_type = settings.get("model_type")
        if not isinstance(model_type, str) or model_type not in CONFIG_MAPPING:
            raise DataError(f"the config of the {what} names no known model_type ({model_type!r}): damaged, or "
                            f"saved with a newer transformers?", path=str(config_path))
        try:
            config = CONFIG_MAPPING[model_type].from_dict(settings)
            torch_model = AutoModel.from_config(config, trust_remote_code=False)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise DataError(f"the config of the {what} does not build a model: {_one_line(e)}",
                            path=str(config_path)) from None
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path), use_fast=True, local_files_only=True,
                                                      trust_remote_code=False)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise DataError(f"the tokenizer of the {what} cannot be loaded: {_one_line(e)}", path=str(path)) from None
    if not getattr(tokenizer, "is_fast", False):
        raise DataError(f"the tokenizer of the {what} is not a fast tokenizer (tokenizer.json is missing?)",
                        path=str(path))
    if state is not None:
        _load_state(torch_model, state, path / WEIGHTS_FILE, what)
    torch_model.float()
    torch_model.eval()
    install_transformer(model, torch_model, tokenizer)


def _read_weights(path: Path, what: str) -> Any:
    import safetensors.torch

    data = read_file_bytes(path, what=f"weights of the {what}")
    try:
        return safetensors.torch.load(data)
    except Exception as e:  # safetensors raises several types on damaged input
        raise DataError(f"the weights of the {what} are not a safetensors file (truncated or damaged?): "
                        f"{_one_line(e)}", path=str(path)) from None


def _load_state(torch_model: Any, state: Any, path: Path, what: str) -> None:
    expected = set(torch_model.state_dict())
    different = sorted(expected ^ set(state))
    if different:
        raise DataError(f"the weights of the {what} do not fit its config ({len(different)} entries differ, e.g. "
                        f"{different[:3]})", path=str(path))
    try:
        torch_model.load_state_dict(state, strict=True)
    except RuntimeError as e:  # shapes that differ from the config's
        raise DataError(f"the weights of the {what} do not fit its config: {_one_line(e)}", path=str(path)) from None


def save_nested_transformers(model: Model, path: Path, *, component: str) -> None:
    """The config and tokenizer of each transformer inside a component's model (e.g.
    Tok2VecTransformer); their weights are saved with the rest of the model's."""
    for i, node in enumerate(transformer_nodes(model)):
        save_transformer_dir(node, path / f"{NESTED_DIR}{i}", component=component, weights=False)


def load_nested_transformers(model: Model, path: Path, *, component: str) -> None:
    """Build each transformer inside a component's model from its saved config and
    tokenizer, so the saved weights have layers to load into."""
    for i, node in enumerate(transformer_nodes(model)):
        load_transformer_dir(node, path / f"{NESTED_DIR}{i}", component=component, weights=False)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 300 else text[:297] + "..."
