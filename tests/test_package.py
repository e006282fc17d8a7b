"""`transfer-cli package`: a trained pipeline as a wheel and an sdist that pip installs into
a fresh virtual environment, where `transfer_cli.load("en_NAME")` finds it by name; the
archives' contents, bad input, and the warning for a pipeline of another transfer-cli version."""
import base64
import csv
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import venv
import warnings
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import EWT_DEV, EWT_TRAIN, cli
from transfer_cli import __version__
from transfer_cli.cli.app import app
from transfer_cli.config.loading import load_config_from_str
from transfer_cli.config.quickstart import init_config
from transfer_cli.errors import PathError, VersionWarning
from transfer_cli.pipeline.packaging import transfer_cli_requirement
from transfer_cli.pipeline.serialize import major_minor
from transfer_cli.training.initialize import init_pipeline

import transfer_cli

TEXT = "The quick brown fox jumps over the lazy dog. It was fast."
PACKAGE = "en_pkgtest_demo"  # a name no real package has
WHEEL, SDIST = f"{PACKAGE}-1.2.3-py3-none-any.whl", f"{PACKAGE}-1.2.3.tar.gz"
DATA_DIR = f"{PACKAGE}-1.2.3"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """tok2vec + tagger after one update, saved."""
    config = load_config_from_str(init_config(pipeline=["tagger"], optimize="efficiency").to_str(),
                                  {"paths.train": str(EWT_TRAIN), "paths.dev": str(EWT_DEV),
                                   "corpora.train.limit": 12})
    setup = init_pipeline(config)
    setup.nlp.update(list(setup.train_corpus(setup.nlp)), sgd=setup.optimizer)
    path = tmp_path_factory.mktemp("package") / "model"
    setup.nlp.to_disk(path)
    return path


@pytest.fixture(scope="module")
def packaged(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    previous = os.umask(0o022)
    try:
        code, output = cli("package", model, out, "--name", "pkgtest_demo", "--version", "1.2.3")
    finally:
        os.umask(previous)
    assert code == 0, output
    assert f'transfer_cli.load("{PACKAGE}")' in output
    return out


def tags(nlp):
    return [(t.text, t.tag_) for t in nlp(TEXT)]


def model_files(model):
    return {p.relative_to(model).as_posix(): p.read_bytes() for p in model.rglob("*") if p.is_file()}


def one_error_line(*args):
    """Run the CLI expecting a user error: exit 1 and one line; returns that line."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and lines[0].startswith("✘"), result.output
    return lines[0]


# -- the wheel --------------------------------------------------------------------------------------
def test_package_writes_a_wheel_and_an_sdist_with_ordinary_modes(packaged):
    assert sorted(p.name for p in packaged.iterdir()) == sorted([WHEEL, SDIST])  # no leftovers
    for name in (WHEEL, SDIST):
        assert stat.S_IMODE((packaged / name).stat().st_mode) == 0o644


def test_the_wheel_holds_the_pipeline_its_meta_and_a_valid_record(packaged, model):
    with zipfile.ZipFile(packaged / WHEEL) as wheel:
        names = wheel.namelist()
        contents = {name: wheel.read(name) for name in names}
    dist_info = f"{PACKAGE}-1.2.3.dist-info"
    # RECORD: every other file once, with its SHA-256 (urlsafe base64, no padding) and size
    rows = list(csv.reader(io.StringIO(contents[f"{dist_info}/RECORD"].decode("utf8"))))
    assert sorted(row[0] for row in rows) == sorted(names)
    for path, digest, size in rows:
        if path == f"{dist_info}/RECORD":
            assert digest == size == ""
            continue
        expected = base64.urlsafe_b64encode(hashlib.sha256(contents[path]).digest()).rstrip(b"=").decode()
        assert digest == f"sha256={expected}" and int(size) == len(contents[path]), path
    # the pipeline's files, byte for byte; meta.json with the package's name and version
    packaged_files = {name[len(f"{PACKAGE}/{DATA_DIR}/"):]: data for name, data in contents.items()
                      if name.startswith(f"{PACKAGE}/{DATA_DIR}/")}
    original = model_files(model)
    assert set(packaged_files) == set(original)
    for name, data in original.items():
        if name != "meta.json":
            assert packaged_files[name] == data, name
    meta = json.loads(packaged_files["meta.json"])
    original_meta = json.loads(original["meta.json"])
    assert meta["name"] == "pkgtest_demo" and meta["version"] == "1.2.3"
    assert meta["transfer_cli_version"] == original_meta["transfer_cli_version"] == __version__
    assert meta["config_sha256"] == original_meta["config_sha256"]
    # metadata: the dependency on this minor version of transfer-cli, the entry point
    metadata = contents[f"{dist_info}/METADATA"].decode("utf8")
    major, minor = major_minor(__version__)
    assert f"Requires-Dist: transfer-cli>={major}.{minor}.0,<{major}.{minor + 1}.0\n" in metadata
    assert f"Name: {PACKAGE}\nVersion: 1.2.3\n" in metadata
    assert contents[f"{dist_info}/WHEEL"].decode().splitlines()[-2:] == ["Root-Is-Purelib: true", "Tag: py3-none-any"]
    assert contents[f"{dist_info}/entry_points.txt"].decode() == \
        f"[transfer_cli_pipelines]\n{PACKAGE} = {PACKAGE}:data_path\n"
    # the package's only code: a few lines that return the data path (and load it)
    init = contents[f"{PACKAGE}/__init__.py"].decode()
    assert init.count("\n") < 25 and "def data_path()" in init
    assert [n for n in names if n.endswith(".py")] == [f"{PACKAGE}/__init__.py"]


def test_transfer_cli_requirement_allows_the_running_minor_version_only():
    assert transfer_cli_requirement("0.1.0") == "transfer-cli>=0.1.0,<0.2.0"
    assert transfer_cli_requirement("2.13.4.dev1") == "transfer-cli>=2.13.0,<2.14.0"


def test_packaging_again_gives_the_same_bytes(packaged, model, tmp_path):
    code, output = cli("package", model, tmp_path, "--name", "pkgtest_demo", "--version", "1.2.3")
    assert code == 0, output
    for name in (WHEEL, SDIST):
        assert (tmp_path / name).read_bytes() == (packaged / name).read_bytes(), name


# -- the sdist --------------------------------------------------------------------------------------
def test_the_sdist_is_a_tarball_of_the_pipeline_with_a_setuptools_project(packaged, model):
    root = f"{PACKAGE}-1.2.3"
    with tarfile.open(packaged / SDIST, "r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert all(m.isfile() and m.mode == 0o644 for m in members.values())
        read = {name: tar.extractfile(m).read() for name, m in members.items()}
    original = model_files(model)
    for name, data in original.items():
        if name != "meta.json":
            assert read[f"{root}/{PACKAGE}/{DATA_DIR}/{name}"] == data, name
    assert json.loads(read[f"{root}/{PACKAGE}/{DATA_DIR}/meta.json"])["version"] == "1.2.3"
    assert read[f"{root}/PKG-INFO"].decode().startswith(f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: 1.2.3\n")
    pyproject = read[f"{root}/pyproject.toml"].decode()
    if sys.version_info >= (3, 11):
        import tomllib

        project = tomllib.loads(pyproject)
        assert project["project"]["entry-points"]["transfer_cli_pipelines"] == {PACKAGE: f"{PACKAGE}:data_path"}
        listed = project["tool"]["setuptools"]["package-data"][PACKAGE]
        assert sorted(listed) == sorted(f"{DATA_DIR}/{name}" for name in original)  # every file, by name
        assert project["project"]["dependencies"] == [transfer_cli_requirement()]


# -- installed into a fresh virtual environment -----------------------------------------------------
def fresh_venv(path: Path) -> Path:
    """A new virtual environment whose python imports transfer-cli (this checkout) and its
    dependencies from the running interpreter, without downloading anything.

    Why a .pth file: the tests run offline, and installing torch, thinc and the rest into
    each new environment would take minutes and a network. A .pth file in the new
    environment's site-packages appends the running interpreter's import paths (the repo
    root first, so this checkout's code is what runs), after the environment's own
    site-packages: pip still installs the pipeline package into the new environment, and
    it is found there, by name, exactly as on a user's machine. pip itself comes through
    the same paths (no ensurepip: it would install a bundled pip and setuptools, seconds
    of work), unless the running interpreter has none."""
    with_pip = importlib.util.find_spec("pip") is None
    venv.EnvBuilder(with_pip=with_pip, symlinks=os.name != "nt").create(path)
    python = path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site_packages = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                   capture_output=True, text=True, check=True).stdout.strip()
    repo_root = Path(transfer_cli.__file__).resolve().parent.parent
    paths = [str(repo_root)] + [p for p in sys.path if p and Path(p).is_dir() and Path(p).resolve() != repo_root]
    (Path(site_packages) / "_running_interpreter.pth").write_text("\n".join(paths) + "\n", encoding="utf8")
    return python


def clean_env():
    """The environment without pip settings (find-links, indexes) or Python paths."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PIP_CONFIG_FILE=os.devnull)
    return env


LOAD_BY_NAME = f"""
import json, warnings
import transfer_cli, {PACKAGE}
from transfer_cli.errors import VersionWarning
warnings.simplefilter("error", VersionWarning)  # a version warning here would be a failure
nlp = transfer_cli.load("{PACKAGE}")
print(json.dumps({{"tags": [[t.text, t.tag_] for t in nlp({TEXT!r})], "module": transfer_cli.__file__,
                  "data_path": str({PACKAGE}.data_path()), "name": nlp.meta["name"],
                  "same": [[t.tag_ for t in {PACKAGE}.load()({TEXT!r})]]}}))
"""


def install_and_load(python: Path, archive: Path, *pip_options: str, cwd: Path) -> dict:
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-index", "--no-deps", "--no-cache-dir",
                              "--quiet", *pip_options, str(archive)], capture_output=True, text=True, env=clean_env(),
                             cwd=cwd)
    assert install.returncode == 0, install.stdout + install.stderr
    # run from an empty folder: nothing but the installed package can be found by that name
    run = subprocess.run([str(python), "-c", LOAD_BY_NAME], capture_output=True, text=True, env=clean_env(), cwd=cwd)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_wheel_installs_into_a_fresh_venv_and_loads_by_name(packaged, model, tmp_path):
    python = fresh_venv(tmp_path / "venv")
    (tmp_path / "work").mkdir()
    result = install_and_load(python, packaged / WHEEL, cwd=tmp_path / "work")
    expected = tags(transfer_cli.load(model))
    assert [tuple(pair) for pair in result["tags"]] == expected
    assert result["same"] == [[tag for _, tag in expected]]
    assert result["name"] == "pkgtest_demo"
    assert Path(result["data_path"]).is_relative_to(tmp_path / "venv")  # loaded from the installed package
    assert Path(result["module"]).resolve() == Path(transfer_cli.__file__).resolve()


def setuptools_builds_wheels() -> bool:
    """Whether setuptools can build a wheel here without downloading: 70.1 and later on their
    own, earlier ones with the `wheel` package."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    version = tuple(int(part) for part in re.findall(r"\d+", importlib.metadata.version("setuptools"))[:2])
    return version >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.mark.skipif(not setuptools_builds_wheels(),
                    reason="no setuptools that builds wheels offline here (>= 70.1, or older with `wheel`): the "
                           "sdist's contents are tested above")
def test_the_sdist_builds_offline_and_installs_into_a_fresh_venv(packaged, model, tmp_path):
    python = fresh_venv(tmp_path / "venv")
    (tmp_path / "work").mkdir()
    result = install_and_load(python, packaged / SDIST, "--no-build-isolation", cwd=tmp_path / "work")
    assert [tuple(pair) for pair in result["tags"]] == tags(transfer_cli.load(model))
    assert Path(result["data_path"]).is_relative_to(tmp_path / "venv")


# -- finding installed pipelines by name, in this process ---------------------------------------------
def test_load_by_name_finds_an_unpacked_wheel_on_sys_path(packaged, model, tmp_path, monkeypatch):
    # a wheel unpacked into a folder on sys.path is what pip's install does for a pure wheel
    with zipfile.ZipFile(packaged / WHEEL) as wheel:
        wheel.extractall(tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.chdir(tmp_path)
    assert tags(transfer_cli.load(PACKAGE)) == tags(transfer_cli.load(model))
    assert tags(transfer_cli.load(PACKAGE.upper().replace("_", "-"))) == tags(transfer_cli.load(model))
    with pytest.raises(PathError) as error:
        transfer_cli.load("en_not_installed_anywhere")
    assert f"{PACKAGE} 1.2.3" in str(error.value)  # the listing names what is installed
    assert PACKAGE not in sys.modules  # found without running the package's code
    # the commands that take a pipeline take its name too; `info` lists what is installed
    (tmp_path / "texts.txt").write_text(TEXT + "\n")
    code, output = cli("apply", PACKAGE, tmp_path / "texts.txt", tmp_path / "tagged.jsonl")
    assert code == 0, output
    assert [t["tag"] for t in json.loads((tmp_path / "tagged.jsonl").read_text())["tokens"]] == \
        [tag for _, tag in tags(transfer_cli.load(model))]
    code, output = cli("info", PACKAGE)
    assert code == 0 and "en_pkgtest_demo" in output and "Version 1.2.3" in output, output
    code, output = cli("info")
    assert code == 0 and f"Pipelines {PACKAGE} 1.2.3" in output, output


def test_load_of_a_name_that_is_not_installed_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PathError) as error:
        transfer_cli.load("en_not_installed_anywhere")
    message = str(error.value)
    assert message.startswith("en_not_installed_anywhere: pipeline directory not found, and no installed pipeline "
                              "package is named 'en_not_installed_anywhere' (installed: ")
    assert "\n" not in message


def test_a_directory_of_that_name_wins_over_an_installed_package(packaged, model, tmp_path, monkeypatch):
    with zipfile.ZipFile(packaged / WHEEL) as wheel:
        wheel.extractall(tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.chdir(tmp_path)
    shutil.copytree(model, tmp_path / PACKAGE)
    assert transfer_cli.load(PACKAGE).meta["name"] != "pkgtest_demo"  # the directory, not the package


# -- versions ---------------------------------------------------------------------------------------
def with_saved_version(model: Path, target: Path, version: str) -> Path:
    shutil.copytree(model, target)
    meta = json.loads((target / "meta.json").read_text(encoding="utf8"))
    meta["transfer_cli_version"] = version
    (target / "meta.json").write_text(json.dumps(meta), encoding="utf8")
    return target


def test_loading_a_pipeline_of_another_minor_version_warns(model, tmp_path):
    major, minor = major_minor(__version__)
    other = with_saved_version(model, tmp_path / "other", f"{major}.{minor + 1}.0")
    with pytest.warns(VersionWarning, match=rf"trained with transfer-cli {major}\.{minor + 1}\.0 but is loaded by "
                                            rf"transfer-cli {__version__}"):
        transfer_cli.load(other)
    patch = with_saved_version(model, tmp_path / "patch", f"{major}.{minor}.99")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transfer_cli.load(patch)  # another patch release: compatible, silent


def test_package_shows_the_version_warning_as_one_line(model, tmp_path):
    major, minor = major_minor(__version__)
    other = with_saved_version(model, tmp_path / "other", f"{major + 1}.0.0")
    result = CliRunner().invoke(app, ["package", str(other), str(tmp_path / "dist"), "--build", "wheel"])
    assert result.exit_code == 0, result.output
    warning_lines = [line for line in result.output.splitlines() if f"transfer-cli {major + 1}.0.0" in line]
    assert len(warning_lines) == 1 and warning_lines[0].startswith("⚠"), result.output
    assert "Traceback" not in result.output and "warnings.warn" not in result.output


# -- options and bad input --------------------------------------------------------------------------
def test_existing_output_is_refused_unless_forced(model, tmp_path):
    (tmp_path / WHEEL).write_text("mine")
    line = one_error_line("package", model, tmp_path, "--name", "pkgtest_demo", "--version", "1.2.3")
    assert WHEEL in line and "--force" in line
    assert (tmp_path / WHEEL).read_text() == "mine" and not (tmp_path / SDIST).exists()  # nothing written
    code, output = cli("package", model, tmp_path, "--name", "pkgtest_demo", "--version", "1.2.3", "--force")
    assert code == 0, output
    assert zipfile.is_zipfile(tmp_path / WHEEL) and tarfile.is_tarfile(tmp_path / SDIST)


def test_build_selects_what_is_written(model, tmp_path):
    code, output = cli("package", model, tmp_path, "--name", "pkgtest_demo", "--version", "1.2.3", "--build", "wheel")
    assert code == 0, output
    assert [p.name for p in tmp_path.iterdir()] == [WHEEL]
    assert "--build 'egg'" in one_error_line("package", model, tmp_path / "x", "--build", "egg")


def test_meta_path_sets_description_author_and_requirements(model, tmp_path):
    extra = {"description": "A demo\ntagger.", "author": "Ada", "email": "ada@example.invalid",
             "url": "https://example.invalid/demo", "license": "MIT", "requirements": ["numpy>=1.19"],
             "sources": [{"name": "EWT"}]}
    (tmp_path / "meta.json").write_text(json.dumps(extra))
    code, output = cli("package", model, tmp_path / "dist", "--meta-path", tmp_path / "meta.json", "--name",
                       "pkgtest_demo", "--version", "1.2.3", "--build", "wheel")
    assert code == 0, output
    with zipfile.ZipFile(tmp_path / "dist" / WHEEL) as wheel:
        metadata = wheel.read(f"{PACKAGE}-1.2.3.dist-info/METADATA").decode()
        meta = json.loads(wheel.read(f"{PACKAGE}/{DATA_DIR}/meta.json"))
    for line in ("Summary: A demo tagger.", "Author: Ada", "Author-email: ada@example.invalid",
                 "Home-page: https://example.invalid/demo", "License: MIT", "Requires-Dist: numpy>=1.19"):
        assert line + "\n" in metadata
    assert meta["sources"] == [{"name": "EWT"}] and meta["author"] == "Ada"


def test_meta_path_may_not_change_what_the_pipeline_holds(model, tmp_path):
    (tmp_path / "meta.json").write_text(json.dumps({"pipeline": ["ner"], "lang": "de"}))
    line = one_error_line("package", model, tmp_path / "dist", "--meta-path", tmp_path / "meta.json")
    assert "meta.json" in line and "lang, pipeline" in line
    assert not (tmp_path / "dist").exists()


@pytest.mark.parametrize("name", ["my-pipe", "_private", "trailing_", "ünï", "two words", ""])
def test_bad_names_are_one_error(model, tmp_path, name):
    line = one_error_line("package", model, tmp_path, "--name", name, "--version", "1.0.0")
    assert "--name" in line and "letters, digits and underscores" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("version", ["1.0-beta", "one", "v1.0", "1.0.0+local", "01.0"])
def test_bad_versions_are_one_error(model, tmp_path, version):
    line = one_error_line("package", model, tmp_path, "--name", "demo", "--version", version)
    assert f"--version '{version}'" in line and "PEP 440" in line
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_is_not_a_pipeline_is_one_error(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "config.cfg is missing" in one_error_line("package", tmp_path / "empty", tmp_path / "dist")
    assert "not found" in one_error_line("package", tmp_path / "missing", tmp_path / "dist")
    assert not (tmp_path / "dist").exists()


def test_output_inside_the_pipeline_directory_is_refused(model, tmp_path):
    copy = shutil.copytree(model, tmp_path / "model")
    line = one_error_line("package", copy, copy / "dist", "--name", "demo", "--version", "1.0.0")
    assert "inside the input directory" in line
    assert not (copy / "dist").exists()



def test_a_write_error_is_one_line_and_leaves_no_file(model, tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("transfer_cli.pipeline.packaging._zip_file", disk_full)
    line = one_error_line("package", model, tmp_path / "dist", "--name", "demo", "--version", "1.0.0")
    assert "cannot write the wheel: No space left on device" in line and "en_demo-1.0.0-py3-none-any.whl" in line
    assert [p.name for p in (tmp_path / "dist").iterdir()] == ["en_demo-1.0.0.tar.gz"]  # complete, written first
