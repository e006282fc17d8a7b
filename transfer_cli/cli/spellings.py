"""spaCy's spellings of our commands: `init config`, `init fill-config`, `init vectors` and
`debug config` / `debug data` are init-config, fill-config, init-vectors, debug-config and
debug-data (the same functions, options and help), so a Makefile that ran
`spacy init config ...` needs only the program name changed."""
import typer

from ._util import COMMAND_SETTINGS, app
from .debug_config import debug_config_cli
from .debug_data import debug_data_cli
from .fill_config import fill_config_cli
from .init_config import init_config_cli
from .init_vectors import init_vectors_cli

init_app = typer.Typer(no_args_is_help=True, add_completion=False,
                       help="spaCy's spellings: `init config` = init-config, `init fill-config` = fill-config, "
                            "`init vectors` = init-vectors.")
init_app.command("config")(init_config_cli)
init_app.command("fill-config", context_settings=COMMAND_SETTINGS)(fill_config_cli)
init_app.command("vectors")(init_vectors_cli)

debug_app = typer.Typer(no_args_is_help=True, add_completion=False,
                        help="spaCy's spellings: `debug config` = debug-config, `debug data` = debug-data.")
debug_app.command("config", context_settings=COMMAND_SETTINGS)(debug_config_cli)
debug_app.command("data", context_settings=COMMAND_SETTINGS)(debug_data_cli)

app.add_typer(init_app, name="init")
app.add_typer(debug_app, name="debug")
