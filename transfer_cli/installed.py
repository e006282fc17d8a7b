"""Pipelines installed as Python packages (built by `transfer-cli package`), found by name:
`load("en_my_pipeline")` as spaCy users write `spacy.load("en_core_web_sm")`.

Each such package registers itself in the entry point group `transfer_cli_pipelines`
(name: the package's import name; value: its `data_path` function). Lookup reads only the
installed distributions' metadata and locates the package with `importlib.util.find_spec`,
which imports nothing: no code of an installed package runs when a pipeline is found by
name. The pipeline directory inside the package is `NAME-VERSION/` (a hyphen, so it can
never be taken for a Python package)."""
import importlib.metadata
import importlib.util
import os
import re
from pathlib import Path
from typing import Dict, List, NamedTuple, Union

from .errors import PathError

ENTRY_POINT_GROUP = "transfer_cli_pipelines"
# What load() takes for a package name rather than a path (when no such path exists).
_BARE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


class InstalledPipeline(NamedTuple):
    name: str      # the import name, e.g. en_my_pipeline
    version: str   # the installed distribution's version
    path: Path     # the pipeline directory inside the package


def data_dir_name(package: str, version: str) -> str:
    """The pipeline directory's name inside package `package`."""
    return f"{package}-{version}"


def normalize_name(name: str) -> str:
    """A distribution name as PEP 503 compares names (case, `-`, `_` and `.` alike)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def installed_pipelines() -> Dict[str, InstalledPipeline]:
    """The pipeline packages installed where this Python imports from, by import name.
    The first distribution on sys.path wins, as for imports."""
    found: Dict[str, InstalledPipeline] = {}
    for dist in importlib.metadata.distributions():
        for entry in dist.entry_points:
            if entry.group != ENTRY_POINT_GROUP or entry.name in found:
                continue
            package = entry.value.split(":", 1)[0].strip()
            if package != entry.name or not package.isidentifier():
                continue  # not the layout `transfer-cli package` writes (a top-level package of that name)
            spec = importlib.util.find_spec(package)  # top-level: finds without importing
            if spec is None or not spec.submodule_search_locations:
                continue
            location = Path(list(spec.submodule_search_locations)[0])
            found[entry.name] = InstalledPipeline(entry.name, dist.version,
                                                  location / data_dir_name(package, dist.version))
    return found


def pipeline_location(path: Union[str, Path]) -> Path:
    """Where load(path) reads from: `path` itself when it exists or cannot be a package
    name, else the directory of the installed pipeline package of that name. A name that
    is neither is one error listing the installed pipeline packages."""
    text = str(path)
    if os.path.lexists(text) or not _BARE_NAME.match(text):
        return Path(path)
    installed = installed_pipelines()
    by_normal_name = {normalize_name(name): pipeline for name, pipeline in installed.items()}
    pipeline = installed.get(text) or by_normal_name.get(normalize_name(text))
    if pipeline is None:
        raise PathError(f"pipeline directory not found, and no installed pipeline package is named '{text}' "
                        f"(installed: {_listing(list(installed.values()))})", path=text)
    if not pipeline.path.is_dir():
        raise PathError(f"the installed pipeline package {pipeline.name} {pipeline.version} has no pipeline "
                        f"directory at {pipeline.path}: damaged? reinstall it", path=text)
    return pipeline.path


def _listing(pipelines: List[InstalledPipeline]) -> str:
    if not pipelines:
        return "none; `transfer-cli package` builds one from a trained pipeline, then pip install it"
    return ", ".join(f"{p.name} {p.version}" for p in sorted(pipelines))
