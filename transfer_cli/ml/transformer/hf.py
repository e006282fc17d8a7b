"""Loading Hugging Face models and tokenizers from local directories only (a pipeline saves
its transformer itself: pipeline/transformer_files.py).

Nothing here downloads: every load passes local_files_only=True and never runs code
shipped with a model (trust_remote_code=False). A name that is not a local directory,
a directory that holds no transformer, or a tokenizer without character offsets (a
slow, Python tokenizer) is one clear error naming the path. transformers and torch are
imported inside the functions, so importing this module costs nothing."""
import contextlib
import importlib.util
import json
import re
import shlex
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

from ...errors import ConfigError, PathError

# Files save_pretrained writes for a model's weights, any of which makes a model dir.
# Only safetensors are loaded: pytorch_model.bin is a pickle, which can run code when read.
SAFE_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
PICKLED_WEIGHT_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json")
DEFAULT_MAX_LENGTH = 512  # when neither the tokenizer nor the model config states one
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def resolve_model_dir(name: str) -> Path:
    """The directory `name` points to: a local path, or a path inside an installed
    Python package ("some_package/model"). Raises PathError when there is none."""
    path = Path(str(name)).expanduser()
    if path.exists():
        if not path.is_dir():
            raise PathError(f"a transformer model must be a directory (config.json, weights, tokenizer files), "
                            f"not a file", path=str(path))
        return path
    packaged = _inside_package(str(name))
    if packaged is not None:
        return packaged
    if _HUB_NAME.match(str(name)) and not str(name).startswith((".", "~")):
        raise PathError(f"no local directory '{name}': transfer-cli never downloads models. Put a Hugging Face "
                        f"model directory there once (e.g. `huggingface-cli download {_hub_id(str(name))} "
                        f"--local-dir {name}`) or set the transformer's model.name to a directory you have")
    raise PathError("transformer model directory not found", path=str(path))


def _hub_id(name: str) -> str:
    """The Hub id a missing directory is most likely named after: init-config's placeholders
    are `models/<hub id>`, spaCy's configs name the Hub id itself."""
    return name[len("models/"):] if name.startswith("models/") else name


def _inside_package(name: str) -> Optional[Path]:
    """`package/rest` → the directory `rest` inside the installed package, if both exist."""
    first, _, rest = name.replace("\\", "/").partition("/")
    if not first.isidentifier():
        return None
    try:
        spec = importlib.util.find_spec(first)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / rest
    return path if path.is_dir() else None


def read_hidden_size(name: str) -> Optional[int]:
    """The model's width from its config.json, without loading anything; None when the
    directory or the value is not there (an error is raised later, on loading)."""
    try:
        path = resolve_model_dir(name)
        config = json.loads((path / "config.json").read_text(encoding="utf8"))
    except (PathError, OSError, ValueError):
        return None
    for key in ("hidden_size", "d_model", "dim", "n_embd"):
        if isinstance(config.get(key), int):
            return config[key]
    return None


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """No progress bars or info/warning logging from transformers while loading."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def load_hf(name: str, tokenizer_config: Dict[str, Any], transformer_config: Dict[str, Any]) -> Tuple[Any, Any]:
    """(torch model, fast tokenizer) from the local directory `name`, in float32 and
    eval mode."""
    path = resolve_model_dir(name)
    if not (path / "config.json").is_file():
        raise PathError("not a Hugging Face transformer directory: it has no config.json (expected the files "
                        "save_pretrained writes: config.json, model weights, tokenizer files)", path=str(path))
    if not any((path / f).is_file() for f in SAFE_WEIGHT_FILES):
        if any((path / f).is_file() for f in PICKLED_WEIGHT_FILES):
            raise PathError(f"the model's weights are only in pytorch_model.bin, a pickle that can run code when it "
                            "is loaded; transfer-cli loads safetensors weights only. If you trust the file, convert "
                            "it once: python -c \"import sys; from transformers import AutoModel; "
                            f"AutoModel.from_pretrained(sys.argv[1]).save_pretrained(sys.argv[1])\" {shlex.quote(str(path))}",
                            path=str(path))
        raise PathError("not a Hugging Face transformer directory: it has no model weights (model.safetensors)",
                        path=str(path))
    settings = dict(tokenizer_config)
    if not settings.pop("use_fast", True):
        raise ConfigError("tokenizer_config.use_fast = false: the transformer needs a fast tokenizer (it aligns "
                          "wordpieces to tokens with the tokenizer's character offsets); remove use_fast or set it "
                          "to true")
    with quiet_transformers():
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        safe = {"local_files_only": True, "trust_remote_code": False}
        try:
            config = AutoConfig.from_pretrained(str(path), **safe, **dict(transformer_config))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise PathError(f"not a usable transformer: its config.json cannot be read "
                            f"({_one_line(e)})", path=str(path)) from None
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path), use_fast=True, **safe, **settings)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise PathError(f"the tokenizer cannot be loaded ({_one_line(e)})", path=str(path)) from None
        if not getattr(tokenizer, "is_fast", False) or getattr(tokenizer, "backend_tokenizer", None) is None:
            raise PathError(f"the tokenizer is a slow (Python) tokenizer ({type(tokenizer).__name__}), which gives "
                            f"no character offsets to align wordpieces with tokens; save the model with a fast "
                            f"tokenizer (tokenizer.json, e.g. AutoTokenizer.from_pretrained(..., use_fast=True)"
                            f".save_pretrained(dir))", path=str(path))
        try:
            model = AutoModel.from_pretrained(str(path), config=config, use_safetensors=True, **safe)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            raise PathError(f"the model weights cannot be loaded ({_one_line(e)})", path=str(path)) from None
    model.float()
    model.eval()
    return model, tokenizer


def max_wordpieces(model: Any, tokenizer: Any) -> int:
    """The most wordpieces (special tokens included) one span may have: the tokenizer's
    model_max_length and the model's position embeddings, whichever is smaller."""
    limits = []
    tokenizer_limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(tokenizer_limit, int) and 0 < tokenizer_limit < 1_000_000:
        limits.append(tokenizer_limit)
    positions = getattr(model.config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        # RoBERTa-style embeddings number positions from padding_idx + 1
        padding_idx = getattr(getattr(model, "embeddings", None), "padding_idx", None)
        limits.append(positions - (padding_idx + 1 if isinstance(padding_idx, int) else 0))
    return min(limits) if limits else DEFAULT_MAX_LENGTH


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 300 else text[:297] + "..."
