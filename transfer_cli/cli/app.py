"""The Typer application: imports each command module so it registers itself."""
import typer

from ..about import __version__
from ._util import app


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"transfer-cli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Train and run NLP pipelines with shared tok2vec layers, transformers, static vectors and pretraining."""


def _register_commands() -> None:
    # each module adds its command(s) to `app` when imported
    from . import (apply, convert, debug_config, debug_data, evaluate, fill_config, init_config,  # noqa: F401
                   init_vectors, package, pretrain, train)
    from . import info, spellings  # noqa: F401  (spellings after the commands it spells differently)


def main() -> None:
    _register_commands()
    app()
