"""The Typer application: imports each command module so it registers itself."""
import sys
from typing import List

import typer

from ..about import __version__
from ._util import app, import_confection_without_pydantic_v1, mark_config_only_process


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


# Commands that read and write configs but build no model: they need thinc's registry and
# config system, never torch.
CONFIG_ONLY_COMMANDS = {("init-config",), ("fill-config",), ("debug-config",), ("init", "config"),
                        ("init", "fill-config"), ("debug", "config")}


def builds_no_model(args: List[str]) -> bool:
    return tuple(args[:1]) in CONFIG_ONLY_COMMANDS or tuple(args[:2]) in CONFIG_ONLY_COMMANDS


def main() -> None:
    args = sys.argv[1:]
    if builds_no_model(args) and "--help" not in args:
        mark_config_only_process()
        if "--code" not in args and "-c" not in args:
            # the config commands fill and check from a snapshot of the registry
            # (config/snapshot.py): thinc (without torch) only when it does not cover the config
            import_confection_without_pydantic_v1()
    _register_commands()
    app()
