"""`transfer-cli package`: a trained pipeline directory as an installable Python package,
a wheel and/or an sdist, as `spacy package` makes them, so that after `pip install`
`transfer_cli.load("en_NAME")` finds it by name (installed.py).

The package `LANG_NAME` holds the pipeline in `LANG_NAME/LANG_NAME-VERSION/` and a
generated `__init__.py` of a few lines (`data_path()` and `load()`); it depends on
transfer-cli within the running minor version and registers itself in the entry point
group `transfer_cli_pipelines`.

Both files are written here with the standard library (zipfile, tarfile): building
needs no network and no build backend. The wheel follows the binary distribution format
(METADATA, WHEEL, entry_points.txt and a RECORD with each file's SHA-256); the sdist is
buildable offline by setuptools (pyproject.toml names every file). Entries are sorted
and dated 1980-01-01, so the same input gives byte-identical files. Outputs are written
atomically and never replace a file unless told to (`force`)."""
import base64
import csv
import glob
import gzip
import hashlib
import io
import json
import keyword
import os
import re
import tarfile
import zipfile
from pathlib import Path
from typing import IO, Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from ..about import __version__
from ..errors import DataError, PathError, UserError
from ..fileio import OWNER_KEY, atomic_file, check_output_file
from ..model_files import check_saved_dir, read_file_json
from ..installed import ENTRY_POINT_GROUP, data_dir_name, normalize_name
from .serialize import CONFIG_CHECKSUM_KEY, major_minor, read_pipeline_config, warn_if_other_version

BUILDS = ("sdist", "wheel")
# meta.json keys that describe what the directory holds: --meta-path may not change them
PROTECTED_META_KEYS = ("lang", "pipeline", "components", "disabled", "labels", "vectors", OWNER_KEY,
                       CONFIG_CHECKSUM_KEY)
# Part of an import name and of a PEP 508 distribution name: ASCII letters, digits, `_`
# inside, no `_` at either end (a distribution name ends with a letter or digit).
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_]*[A-Za-z0-9])?$")
# PEP 440's canonical public version (its appendix): 1.0.0, 2!1.0, 1.0rc1, 1.0.post2.dev3
_VERSION = re.compile(r"^([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*((a|b|rc)(0|[1-9][0-9]*))?"
                      r"(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?$")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can record: reproducible archives
_TAR_MTIME = 315532800  # the same instant for the sdist
_CHUNK = 1 << 20
_ZIP64_ABOVE = 1 << 30  # zip64 headers for files that may pass 2 GiB (compressed data can grow a little)

INIT_PY = '''"""The transfer-cli pipeline {package} {version}, packaged by `transfer-cli package`."""
from pathlib import Path

__version__ = "{version}"


def data_path() -> Path:
    """The pipeline directory inside this package."""
    return Path(__file__).parent / "{data_dir}"


def load(**options):
    """The pipeline, as transfer_cli.load(data_path(), **options) loads it."""
    import transfer_cli

    return transfer_cli.load(data_path(), **options)
'''


class PackagePlan(NamedTuple):
    """What goes into the package: its names, meta, and the pipeline's files."""
    package: str                       # import name, e.g. en_my_pipeline
    dist_name: str                     # the name in file names, e.g. en_my_pipeline (lowercase)
    version: str
    meta: Dict[str, Any]               # the packaged meta.json
    files: List[Tuple[str, Path]]      # (path inside the pipeline directory, source file)
    requirements: List[str]            # Requires-Dist

    @property
    def data_dir(self) -> str:
        return data_dir_name(self.package, self.version)


class Packaged(NamedTuple):
    package: str               # the import name, what transfer_cli.load() takes after pip install
    outputs: Dict[str, Path]   # the files written, by build ("wheel", "sdist")


def transfer_cli_requirement(version: str = __version__) -> str:
    """The dependency a packaged pipeline declares: the running transfer-cli's minor version
    (pipelines are kept compatible within one; on load another minor version warns)."""
    major, minor = major_minor(version) or (0, 0)
    return f"transfer-cli>={major}.{minor}.0,<{major}.{minor + 1}.0"


def parse_builds(builds: str) -> List[str]:
    chosen = [b.strip() for b in builds.split(",") if b.strip()]
    unknown = [b for b in chosen if b not in BUILDS]
    if unknown or not chosen:
        raise UserError(f"--build {builds!r}: expected sdist, wheel or sdist,wheel")
    return [b for b in BUILDS if b in chosen]


def output_paths(plan: PackagePlan, output_dir: Path, builds: Sequence[str]) -> Dict[str, Path]:
    names = {"wheel": f"{plan.dist_name}-{plan.version}-py3-none-any.whl",
             "sdist": f"{plan.dist_name}-{plan.version}.tar.gz"}
    return {build: Path(output_dir) / names[build] for build in builds}


def package_pipeline(model_dir: Path, output_dir: Path, *, name: Optional[str] = None,
                     version: Optional[str] = None, meta_path: Optional[Path] = None,
                     builds: Sequence[str] = BUILDS, force: bool = False) -> Packaged:
    """Write the wheel and/or sdist of the pipeline in `model_dir` into `output_dir`.
    Everything is checked before anything is written."""
    plan = plan_package(Path(model_dir), name=name, version=version, meta_path=meta_path)
    outputs = output_paths(plan, Path(output_dir), builds)
    for path in outputs.values():
        check_output_file(path, inputs=[model_dir], force=force)
    writers = {"wheel": write_wheel, "sdist": write_sdist}
    for build, path in outputs.items():
        try:
            with atomic_file(path, binary=True) as f:
                writers[build](plan, f)
        except OSError as e:  # e.g. disk full, or a pipeline file unreadable: nothing is left half-written
            where = f" ({e.filename})" if e.filename else ""
            raise PathError(f"cannot write the {build}: {e.strerror or e}{where}", path=str(path)) from None
    return Packaged(plan.package, outputs)


# -- what goes in -----------------------------------------------------------------------------------
def plan_package(model_dir: Path, *, name: Optional[str] = None, version: Optional[str] = None,
                 meta_path: Optional[Path] = None) -> PackagePlan:
    """Check the pipeline directory and the options; collect the pipeline's files."""
    read_pipeline_config(model_dir)  # a pipeline directory: its config.cfg parses and matches its checksum
    meta_file = model_dir / "meta.json"
    if not meta_file.is_file():
        raise PathError("not a pipeline directory transfer-cli wrote: meta.json is missing", path=str(model_dir))
    meta = read_file_json(meta_file, what="pipeline meta", expect=dict)
    warn_if_other_version(meta, model_dir)
    if meta_path is not None:
        meta.update(_extra_meta(Path(meta_path)))
    if name is not None:
        meta["name"] = name
    if version is not None:
        meta["version"] = version
    lang = meta.get("lang")
    if not isinstance(lang, str) or not re.match(r"^[A-Za-z][A-Za-z0-9]*$", lang):
        raise DataError(f"meta.json has no usable \"lang\" ({lang!r}): expected a language code such as en",
                        path=str(meta_file))
    name, version = _checked_name(meta.get("name")), _checked_version(meta.get("version"))
    package = f"{lang}_{name}"
    if keyword.iskeyword(package):
        raise UserError(f"--name {name!r}: {package} is a Python keyword, not a package name")
    requirements = [transfer_cli_requirement()] + _checked_requirements(meta.get("requirements"))
    return PackagePlan(package, normalize_name(package), version, meta, _pipeline_files(model_dir),
                       requirements)


def _extra_meta(path: Path) -> Dict[str, Any]:
    extra = read_file_json(path, what="--meta-path file", expect=dict)
    protected = [key for key in PROTECTED_META_KEYS if key in extra]
    if protected:
        raise DataError(f"{', '.join(protected)}: these describe what the pipeline holds and come from its own "
                        f"meta.json; remove them from this file", path=str(path))
    for key in ("name", "version", "description", "author", "email", "url", "license"):
        if key in extra and not isinstance(extra[key], str):
            raise DataError(f"\"{key}\" should be a string, not {type(extra[key]).__name__}", path=str(path))
    return extra


def _checked_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise UserError(f"--name {name!r}: a package name part is ASCII letters, digits and underscores inside "
                        f"(e.g. my_pipeline); the package is imported as LANG_NAME (e.g. en_my_pipeline)")
    return name


def _checked_version(version: Any) -> str:
    if not isinstance(version, str) or not _VERSION.match(version):
        raise UserError(f"--version {version!r}: not a PEP 440 version in its normal form (e.g. 1.0.0, 1.0.0rc1, "
                        f"1.0.0.post1, 1.0.0.dev2)")
    return version


def _checked_requirements(requirements: Any) -> List[str]:
    if requirements is None:
        return []
    if not isinstance(requirements, list) or not all(isinstance(r, str) and r.strip() and "\n" not in r
                                                     for r in requirements):
        raise UserError(f"meta \"requirements\" should be a list of one-line requirement strings "
                        f"(e.g. [\"numpy>=1.20\"]), not {requirements!r}")
    return [r.strip() for r in requirements]


def _pipeline_files(model_dir: Path) -> List[Tuple[str, Path]]:
    """Every regular file of the pipeline directory except its meta.json (rewritten) and
    hidden entries (leftovers of interrupted writes), sorted by path."""
    check_saved_dir(model_dir)  # no links out of it, no devices or FIFOs
    files: List[Tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(model_dir):
        here = Path(dirpath)
        linked = [d for d in dirnames if (here / d).is_symlink()]
        if linked:
            raise PathError("a symbolic link to a directory: replace it by the directory itself to package it",
                            path=str(here / linked[0]))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in filenames:
            relative = (here / filename).relative_to(model_dir).as_posix()
            if filename.startswith(".") or relative == "meta.json":
                continue
            files.append((relative, here / filename))
    return sorted(files)


# -- the package's own files -----------------------------------------------------------------------
def _generated_files(plan: PackagePlan) -> List[Tuple[str, bytes]]:
    """(path inside the package folder, content) of the files written here, not copied."""
    init = INIT_PY.format(package=plan.package, version=plan.version, data_dir=plan.data_dir)
    meta = json.dumps(plan.meta, indent=2, ensure_ascii=False) + "\n"
    return [("__init__.py", init.encode("utf8")), (f"{plan.data_dir}/meta.json", meta.encode("utf8"))]


def _metadata(plan: PackagePlan) -> str:
    """Core metadata 2.1 (the wheel's METADATA and the sdist's PKG-INFO)."""
    meta = plan.meta
    headers = [("Metadata-Version", "2.1"), ("Name", plan.package), ("Version", plan.version),
               ("Summary", _one_line(meta.get("description")) or f"transfer-cli pipeline {plan.package}")]
    for header, key in (("Home-page", "url"), ("Author", "author"), ("Author-email", "email"),
                        ("License", "license")):
        if isinstance(meta.get(key), str) and meta[key].strip():
            headers.append((header, _one_line(meta[key])))
    headers += [("Requires-Dist", requirement) for requirement in plan.requirements]
    headers.append(("Description-Content-Type", "text/markdown"))
    return "".join(f"{key}: {value}\n" for key, value in headers) + "\n" + _readme(plan)


def _readme(plan: PackagePlan) -> str:
    meta = plan.meta
    components = ", ".join(str(c) for c in meta.get("pipeline") or ()) or "none"
    lines = [f"# {plan.package} {plan.version}", "",
             f"A transfer-cli pipeline (language {meta.get('lang')}; components: {components}), trained with "
             f"transfer-cli {meta.get(OWNER_KEY, 'unknown')}.", "",
             "```python", "import transfer_cli", "", f'nlp = transfer_cli.load("{plan.package}")', "```", ""]
    if isinstance(meta.get("description"), str) and meta["description"].strip():
        lines += [meta["description"].strip(), ""]
    return "\n".join(lines)


def _one_line(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _entry_points(plan: PackagePlan) -> str:
    return f"[{ENTRY_POINT_GROUP}]\n{plan.package} = {plan.package}:data_path\n"


# -- the wheel --------------------------------------------------------------------------------------
def write_wheel(plan: PackagePlan, out: IO[bytes]) -> None:
    dist_info = f"{plan.dist_name}-{plan.version}.dist-info"
    record: List[Tuple[str, str, str]] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for relative, content in _generated_files(plan):
            record.append(_zip_bytes(wheel, f"{plan.package}/{relative}", content))
        for relative, source in plan.files:
            record.append(_zip_file(wheel, f"{plan.package}/{plan.data_dir}/{relative}", source))
        wheel_file = (f"Wheel-Version: 1.0\nGenerator: transfer-cli {__version__}\nRoot-Is-Purelib: true\n"
                      f"Tag: py3-none-any\n")
        for name, text in (("METADATA", _metadata(plan)), ("WHEEL", wheel_file),
                           ("entry_points.txt", _entry_points(plan)), ("top_level.txt", plan.package + "\n")):
            record.append(_zip_bytes(wheel, f"{dist_info}/{name}", text.encode("utf8")))
        record.append((f"{dist_info}/RECORD", "", ""))  # RECORD lists itself without a hash
        lines = io.StringIO()
        csv.writer(lines, lineterminator="\n").writerows(record)
        _zip_bytes(wheel, f"{dist_info}/RECORD", lines.getvalue().encode("utf8"))


def _zip_info(arcname: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(arcname, date_time=_ZIP_DATE)
    info.external_attr = 0o100644 << 16  # a regular file, rw-r--r-- when unpacked
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _zip_bytes(wheel: zipfile.ZipFile, arcname: str, content: bytes) -> Tuple[str, str, str]:
    wheel.writestr(_zip_info(arcname), content)
    return _record_line(arcname, hashlib.sha256(content).digest(), len(content))


def _zip_file(wheel: zipfile.ZipFile, arcname: str, source: Path) -> Tuple[str, str, str]:
    """Stream a file into the wheel (weights can be large), hashing it on the way."""
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as src, \
            wheel.open(_zip_info(arcname), "w", force_zip64=os.fstat(src.fileno()).st_size > _ZIP64_ABOVE) as dst:
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return _record_line(arcname, digest.digest(), size)


def _record_line(arcname: str, digest: bytes, size: int) -> Tuple[str, str, str]:
    """A RECORD row: path, sha256=<urlsafe base64 without padding>, size."""
    encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return arcname, f"sha256={encoded}", str(size)


# -- the sdist --------------------------------------------------------------------------------------
def write_sdist(plan: PackagePlan, out: IO[bytes]) -> None:
    root = f"{plan.dist_name}-{plan.version}"
    # gzip without a file name or time in its header: reproducible
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as compressed, \
            tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _tar_bytes(tar, f"{root}/PKG-INFO", _metadata(plan).encode("utf8"))
        _tar_bytes(tar, f"{root}/pyproject.toml", _pyproject(plan).encode("utf8"))
        for relative, content in _generated_files(plan):
            _tar_bytes(tar, f"{root}/{plan.package}/{relative}", content)
        for relative, source in plan.files:
            with open(source, "rb") as src:
                size = os.fstat(src.fileno()).st_size
                tar.addfile(_tar_info(f"{root}/{plan.package}/{plan.data_dir}/{relative}", size), src)


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, _TAR_MTIME, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _tar_bytes(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    tar.addfile(_tar_info(name, len(content)), io.BytesIO(content))


def _pyproject(plan: PackagePlan) -> str:
    """setuptools (>= 61; offline with pip's --no-build-isolation) builds the same package:
    package data is every file by its own name (glob-escaped), so no glob feature of a
    newer setuptools is needed and nothing else is picked up."""
    meta = plan.meta
    data = [f"{plan.data_dir}/meta.json"] + [f"{plan.data_dir}/{relative}" for relative, _ in plan.files]
    # setuptools < 70.1 builds wheels with the `wheel` package; later ones need nothing more
    lines = ["[build-system]", 'requires = ["setuptools>=61", "wheel"]', 'build-backend = "setuptools.build_meta"', "",
             "[project]", f"name = {_toml(plan.package)}", f"version = {_toml(plan.version)}",
             f"description = {_toml(_one_line(meta.get('description')) or f'transfer-cli pipeline {plan.package}')}",
             f"dependencies = [{', '.join(_toml(r) for r in plan.requirements)}]"]
    if _one_line(meta.get("author")) or _one_line(meta.get("email")):
        person = {"name": _one_line(meta.get("author")), "email": _one_line(meta.get("email"))}
        lines.append("authors = [{" + ", ".join(f"{k} = {_toml(v)}" for k, v in person.items() if v) + "}]")
    if _one_line(meta.get("url")):
        lines += ["", "[project.urls]", f"Homepage = {_toml(_one_line(meta['url']))}"]
    lines += ["", f"[project.entry-points.{ENTRY_POINT_GROUP}]", f"{plan.package} = {_toml(plan.package + ':data_path')}",
              "", "[tool.setuptools]", f"packages = [{_toml(plan.package)}]", "include-package-data = false", "",
              "[tool.setuptools.package-data]",
              f"{plan.package} = [{', '.join(_toml(glob.escape(path)) for path in data)}]", ""]
    return "\n".join(lines)


def _toml(value: str) -> str:
    """A TOML basic string: JSON's string escapes are TOML's."""
    return json.dumps(value, ensure_ascii=False)

