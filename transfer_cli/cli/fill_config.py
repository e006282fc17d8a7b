"""`transfer-cli fill-config BASE OUTPUT`: write BASE with every default filled in."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import Printer

from ._util import (COMMAND_SETTINGS, app, check_config_text, handle_errors, import_code, import_thinc_for_config,
                    parse_overrides)


@app.command("fill-config", context_settings=COMMAND_SETTINGS)
@handle_errors
def fill_config_cli(
    ctx: typer.Context,
    base: str = typer.Argument(..., help="Config to fill (- reads stdin)."),
    output: str = typer.Argument("-", help="File to write, or - for stdout (the config only)."),
    pretraining: bool = typer.Option(False, "--pretraining", "-pt", help="Also fill a complete [pretraining] block."),
    diff: bool = typer.Option(False, "--diff", "-D", help="Show what was filled in, as a diff."),
    force: bool = typer.Option(False, "--force", "-F", help="Replace OUTPUT if it exists (OUTPUT may be BASE)."),
    code: Optional[Path] = typer.Option(None, "--code", "-c",
                                        help="Python file with registered functions to import first."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Fill every missing setting from the defaults, the component factories and the
    registered functions' signatures. An existing OUTPUT is replaced only with --force.
    Overrides: --section.key value."""
    from ..config.parsing import read_config_text
    from ..config.writing import config_diff, config_to_str, write_config
    from ..fileio import check_output_file

    args = list(ctx.args)
    if output.startswith("--"):  # OUTPUT left out: click took the first override for it
        args, output = [output, *args], "-"
    overrides = parse_overrides(args)
    is_stdout = output == "-"
    if not is_stdout:
        check_output_file(output, force=force)
    if code is not None:  # the user's registrations change the registry: fill with the live one
        import_thinc_for_config()
    import_code(code)
    text, display = read_config_text(base)
    config, check = check_config_text(text, display, overrides, code=code, pretraining=pretraining)
    filled = check.valid().filled
    before, after = config_to_str(config), config_to_str(filled)
    # with the config on stdout, messages and the diff go to stderr
    printer = Printer(no_print=is_stdout)
    write_config(filled, output)
    if before == after:
        printer.good(f"Nothing to fill: {base} is complete")
    else:
        printer.good(f"Filled config saved to {output}")
    if pretraining and "tok2vec" not in filled["nlp"].get("pipeline", []):
        typer.echo("warning: [pretraining] component = \"tok2vec\" but the pipeline has no tok2vec component",
                   err=True)
    if diff and before != after:
        typer.echo(config_diff(before, after, before_name=str(base), after_name=str(output)),
                   err=is_stdout, nl=False)
