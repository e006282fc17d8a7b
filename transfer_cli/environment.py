"""What `transfer-cli info` reports about the installation: versions of transfer-cli,
Python and the libraries whose versions change results, and the pipeline packages
installed. Read from the installed distributions' metadata: nothing heavy is imported."""
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, Optional

from .about import __version__
from .installed import installed_pipelines

# the libraries whose versions change results
LIBRARIES = ("thinc", "confection", "numpy", "torch", "transformers", "safetensors", "srsly", "cupy-cuda12x")


def installed_versions() -> Dict[str, Optional[str]]:
    """Versions of transfer-cli's libraries (None: not installed), without importing them."""
    versions: Dict[str, Optional[str]] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def environment_info() -> Dict[str, Any]:
    return {"transfer_cli": __version__, "python": sys.version.split()[0], "platform": platform.platform(),
            "location": str(Path(__file__).resolve().parent), "libraries": installed_versions(),
            "pipelines": {name: p.version for name, p in sorted(installed_pipelines().items())}}
