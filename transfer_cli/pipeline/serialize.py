"""Writing and reading a pipeline directory: config.cfg, meta.json, vocab/,
tokenizer/, one folder per component. No pickle: JSON, msgpack bytes, .npy,
safetensors. Writes go to a hidden sibling directory that is renamed into place
(fileio.atomic_dir); an existing directory is replaced only if transfer-cli wrote it.
Reads treat the directory as untrusted: links may not lead outside it, only
regular files are read, and an empty or damaged file is one error naming it."""
import hashlib
import os
import re
import warnings
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import srsly
from confection import Config

from ..about import __version__
from ..config.loading import load_config_from_str
from ..errors import DataError, PathError, PipelineError, VersionWarning
from ..fileio import OWNER_KEY, atomic_dir, recover
from ..model_files import (FILE_CHECKSUMS_KEY, TEXT_LIMIT, check_saved_dir, file_checksums, read_file_json,
                           read_file_text, read_string_list, verify_file_checksums)
from .lookups import read_lookups, write_lookups
from .vectors import read_pipeline_vectors

# "Pipeline" in annotations is the class of pipeline.py, named, not imported: pipeline.py
# builds on this module (Pipeline.to_disk/from_disk).


# meta.json's key for the SHA-256 of config.cfg: a config cut at a line end still parses,
# so only a checksum tells a truncated one from a shorter valid one
CONFIG_CHECKSUM_KEY = "config_sha256"


def pipeline_meta(nlp: "Pipeline", config_text: Optional[str] = None) -> Dict[str, Any]:
    meta = dict(nlp.meta)
    meta.pop(CONFIG_CHECKSUM_KEY, None)
    meta.pop(FILE_CHECKSUMS_KEY, None)  # a loaded pipeline's: recomputed over what is written
    if config_text is not None:
        meta[CONFIG_CHECKSUM_KEY] = _sha256(config_text)
    meta.setdefault("name", "pipeline")
    meta.setdefault("version", "0.0.0")
    meta["lang"] = nlp.lang
    meta[OWNER_KEY] = __version__  # marks the directory as ours: a later save may replace it
    meta["pipeline"] = nlp.pipe_names
    meta["components"] = nlp.component_names
    meta["disabled"] = nlp.disabled
    meta["labels"] = {name: list(getattr(c, "labels", ())) for name, c in nlp.components
                      if getattr(c, "labels", None) is not None}
    if len(nlp.vocab.vectors):  # the table saved in vocab/vectors, checked when it loads
        meta["vectors"] = nlp.vocab.vectors.info()
    return meta


def write_pipeline(nlp: "Pipeline", path: Path) -> None:
    with atomic_dir(Path(path)) as tmp:
        _write_contents(nlp, tmp)


def _write_contents(nlp: "Pipeline", path: Path) -> None:
    unsaved = [name for name in nlp.component_names if name not in nlp._component_configs]
    if unsaved:
        raise PipelineError(f"Cannot save components {unsaved}: they were added without a config block "
                            f"(use nlp.add_pipe(factory_name) so they can be rebuilt when loading)")
    vocab_dir = path / "vocab"
    vocab_dir.mkdir()
    srsly.write_json(vocab_dir / "strings.json", nlp.vocab.strings.to_list())
    if nlp.vocab.vectors is not None and hasattr(nlp.vocab.vectors, "to_disk"):
        nlp.vocab.vectors.to_disk(vocab_dir / "vectors")
    write_lookups(nlp.vocab, vocab_dir)  # [initialize.lookups] tables, if any
    if hasattr(nlp.tokenizer, "to_disk"):
        nlp.tokenizer.to_disk(path / "tokenizer")
    for name, component in nlp.components:
        if hasattr(component, "to_disk"):
            component.to_disk(path / name)
    # config.cfg and meta.json last: a directory without them is incomplete, so a
    # half-written one neither loads nor is taken for ours
    config_text = nlp.config.to_str()
    (path / "config.cfg").write_text(config_text, encoding="utf8")
    meta = pipeline_meta(nlp, config_text)
    meta[FILE_CHECKSUMS_KEY] = file_checksums(path)
    srsly.write_json(path / "meta.json", meta)


def refresh_file_checksums(path: Path) -> None:
    """Record the checksums again after a file of a pipeline being written (not yet in
    place) was changed (init-vectors appends its words to strings.json)."""
    meta = read_file_json(path / "meta.json", what="pipeline meta", expect=dict)
    meta[FILE_CHECKSUMS_KEY] = file_checksums(path)
    srsly.write_json(path / "meta.json", meta)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf8")).hexdigest()


def read_pipeline_config(path: Path) -> Config:
    """The config.cfg of a saved pipeline directory (checked as a whole first)."""
    path = Path(path)
    if not os.path.lexists(path):
        recover(path)  # a save killed between its two renames left the complete model beside it: put it back
    if not path.exists():
        raise PathError("pipeline directory not found", path=str(path))
    check_saved_dir(path)
    config_path = path / "config.cfg"
    if not config_path.exists() and not config_path.is_symlink():
        raise PathError("not a pipeline directory: config.cfg is missing", path=str(path))
    _refuse_other_libraries_pipeline(path)
    text = read_file_text(config_path, limit=TEXT_LIMIT, what="pipeline config")
    _check_config_checksum(path, config_path, text)
    config = load_config_from_str(text, path=str(config_path))
    pipeline = (config.get("nlp") or {}).get("pipeline")
    if not isinstance(pipeline, list):
        raise DataError("the pipeline config has no [nlp] pipeline list: not a saved pipeline's config "
                        "(truncated or damaged?)", path=str(config_path))
    return config


def _refuse_other_libraries_pipeline(path: Path) -> None:
    """A directory spaCy saved has a config.cfg too, but its weights are in spaCy's own
    format: say so, instead of failing later on the first file that differs."""
    meta_path = path / "meta.json"
    if not meta_path.exists() and not meta_path.is_symlink():
        return
    meta = read_file_json(meta_path, what="pipeline meta", expect=dict)
    if OWNER_KEY not in meta and "spacy_version" in meta:
        raise PathError("this pipeline was saved by spaCy (meta.json has spacy_version, not transfer_cli_version): "
                        "transfer-cli loads only pipelines it saved; train one from the same config with "
                        "`transfer-cli train` (spaCy's configs run unchanged)", path=str(path))


def _check_config_checksum(path: Path, config_path: Path, text: str) -> None:
    meta_path = path / "meta.json"
    if not meta_path.exists() and not meta_path.is_symlink():
        return  # a hand-assembled directory: nothing to check against
    expected = read_file_json(meta_path, what="pipeline meta", expect=dict).get(CONFIG_CHECKSUM_KEY)
    if expected is not None and expected != _sha256(text):
        raise DataError("the pipeline config does not match the checksum in meta.json: truncated or "
                        "edited after saving? (to edit it on purpose, remove 'config_sha256' from meta.json)",
                        path=str(config_path))


def read_pipeline_weights(nlp: "Pipeline", path: Path) -> None:
    path = Path(path)
    if not path.is_dir():
        raise PathError(f"Pipeline directory not found: {path}")
    check_saved_dir(path)
    meta_path = path / "meta.json"
    if meta_path.exists() or meta_path.is_symlink():
        meta = read_file_json(meta_path, what="pipeline meta", expect=dict)
        verify_file_checksums(path, meta)  # before any file is read: a garbled one is named, not used
        nlp.meta.update(meta)
        warn_if_other_version(nlp.meta, path)
    strings_path = path / "vocab" / "strings.json"
    if strings_path.exists() or strings_path.is_symlink():
        nlp.vocab.strings.update(read_string_list(strings_path))
    read_pipeline_vectors(nlp, path / "vocab")  # vocab/vectors, checked against meta.json
    read_lookups(nlp.vocab, path / "vocab")
    if (path / "tokenizer").exists() and hasattr(nlp.tokenizer, "from_disk"):
        nlp.tokenizer.from_disk(path / "tokenizer")
    for name, component in nlp.components:
        if not hasattr(component, "from_disk"):
            continue
        if not (path / name).is_dir():
            raise PipelineError(f"{path}: the folder for component '{name}' is missing")
        component.from_disk(path / name)
    nlp.link_listeners()


def warn_if_other_version(meta: Dict[str, Any], path: Path) -> None:
    """Warn (VersionWarning) when the transfer-cli that saved a pipeline (meta.json's
    transfer_cli_version) differs from this one in its major or minor version: weights
    and configs are kept compatible only within a minor version."""
    saved_with = meta.get(OWNER_KEY)
    if not isinstance(saved_with, str) or major_minor(saved_with) is None:
        return  # a hand-assembled directory: nothing to compare
    if major_minor(saved_with) != major_minor(__version__):
        major, minor = major_minor(saved_with)
        warnings.warn(f"{path}: this pipeline was trained with transfer-cli {saved_with} but is loaded by "
                      f"transfer-cli {__version__}; it may fail to load or predict differently: install "
                      f"transfer-cli>={major}.{minor}.0,<{major}.{minor + 1}.0 or train it again",
                      VersionWarning, stacklevel=2)


def major_minor(version: str) -> Optional[Tuple[int, int]]:
    """(major, minor) of a version string such as 1.2.3 or 0.1.0.dev1; None if it has none."""
    match = re.match(r"\s*v?(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else None
