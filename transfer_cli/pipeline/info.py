"""What `transfer-cli info MODEL` reports about a trained pipeline: its components,
labels, vectors and sizes on disk (read by loading it, so what is reported is what
would run). The installed versions are environment.py's."""
from pathlib import Path
from typing import Any, Dict, List

from ..installed import pipeline_location
from .build import load


def pipeline_info(path: Path) -> Dict[str, Any]:
    """Name, language, versions, components (factory, labels, size on disk), vectors and
    total size of the pipeline saved in `path` (or installed as a package of that name)."""
    path = pipeline_location(path)
    nlp = load(path)
    meta = nlp.meta
    components: List[Dict[str, Any]] = []
    for name, component in nlp.components:
        labels = getattr(component, "labels", None)
        components.append({
            "name": name, "factory": nlp.factory_name(name),
            "labels": list(labels) if labels is not None else None,
            "disabled": name in nlp.disabled, "bytes": _size(Path(path) / name)})
    vectors = nlp.vocab.vectors
    return {
        "path": str(path), "name": meta.get("name"), "version": meta.get("version"), "lang": nlp.lang,
        "trained_with": meta.get("transfer_cli_version"), "pipeline": list(nlp.component_names),
        "components": components, "performance": meta.get("performance") or {},
        "vectors": None if vectors.is_empty else vectors.info(), "bytes": _size(Path(path))}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
