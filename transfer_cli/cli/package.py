"""`transfer-cli package MODEL_DIR OUTPUT_DIR`: a trained pipeline as a wheel and an sdist
that pip installs, after which `transfer_cli.load("LANG_NAME")` finds it by name."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ._util import app, handle_errors


@app.command("package")
@handle_errors
def package_cli(
    model_dir: Path = typer.Argument(..., help="A trained pipeline directory (e.g. output/model-best)."),
    output_dir: Path = typer.Argument(..., help="Folder to write the wheel and sdist into (created if missing)."),
    name: Optional[str] = typer.Option(None, "--name", "-n", help="Package name without the language prefix "
                                                                  "(default: meta.json's name): en + my_pipeline "
                                                                  "is installed and loaded as en_my_pipeline."),
    version: Optional[str] = typer.Option(None, "--version", "-v", help="Package version, PEP 440 "
                                                                        "(default: meta.json's version)."),
    meta_path: Optional[Path] = typer.Option(None, "--meta-path", "-m", help="A JSON file of meta fields to set "
                                                                             "(description, author, email, url, "
                                                                             "license, requirements, ...)."),
    build: str = typer.Option("sdist,wheel", "--build", "-b", help="What to build: sdist, wheel or sdist,wheel."),
    force: bool = typer.Option(False, "--force", "-f", "-F", help="Replace existing package files."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Package a trained pipeline for pip (as spaCy's `spacy package`); after `pip install`,
    transfer_cli.load("en_NAME") loads it by name."""
    from ..pipeline.packaging import package_pipeline, parse_builds

    packaged = package_pipeline(model_dir, output_dir, name=name, version=version, meta_path=meta_path,
                                builds=parse_builds(build), force=force)
    for path in packaged.outputs.values():
        msg.good(f"Wrote {path}")
    installable = packaged.outputs.get("wheel") or packaged.outputs["sdist"]
    msg.text(f"Install it with `pip install {installable}`, then load it with "
             f"transfer_cli.load(\"{packaged.package}\")")
