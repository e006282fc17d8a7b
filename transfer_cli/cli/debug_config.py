"""`transfer-cli debug-config CONFIG`: the config as training will see it, every
problem in it, the extra sections nothing refers to, and (as warnings) the paths it
names that do not exist and the packages it needs that are not installed."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ._util import (COMMAND_SETTINGS, app, check_config_text, handle_errors, import_code, import_thinc_for_config,
                    parse_overrides, print_warning)


@app.command("debug-config", context_settings=COMMAND_SETTINGS)
@handle_errors
def debug_config_cli(
    ctx: typer.Context,
    config_path: str = typer.Argument(..., help="Config to check (- reads stdin)."),
    code: Optional[Path] = typer.Option(None, "--code", "-c",
                                        help="Python file with registered functions to import first."),
    show_variables: bool = typer.Option(False, "--show-variables", "-V",
                                        help="Also list each ${variable} use and its value."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Print the filled, interpolated config and every validation problem (exit 1 if any).
    Overrides: --section.key value."""
    from ..config.parsing import read_config_text
    from ..config.validation import missing_packages, missing_paths
    from ..config.writing import config_to_str

    overrides = parse_overrides(ctx.args)
    if code is not None:  # the user's registrations change the registry: check with the live one
        import_thinc_for_config()
    import_code(code)
    text, display = read_config_text(config_path)
    _, check = check_config_text(text, display, overrides, code=code)
    shown = check.values if check.values is not None else check.filled  # a variable that does not resolve
    typer.echo(config_to_str(shown))                                     # is among the problems
    if show_variables:
        _print_variables(check.filled, shown)
    for name in check.unused_sections:
        print_warning(f"section [{name}] is not used: training does not read it and no variable refers to it")
    if check.values is not None:  # warnings: the data or packages may not be in place yet
        for missing in missing_paths(check.values) + missing_packages(check.values):
            print_warning(f"{missing.key}: {missing.message}")  # one line each: the key and the fix whole
    if check.problems:
        problems = check.problems
        msg.fail(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {config_path}:")
        for problem in problems:
            typer.echo(problem.format(check.source))
        raise typer.Exit(1)
    msg.good(f"{config_path} is valid")


def _print_variables(raw: dict, interpolated: dict, prefix: str = "") -> None:
    from confection import VARIABLE_RE

    for key, value in raw.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _print_variables(value, interpolated.get(key, {}) if isinstance(interpolated, dict) else {}, path)
        elif isinstance(value, str) and VARIABLE_RE.search(value):
            resolved = interpolated.get(key) if isinstance(interpolated, dict) else None
            typer.echo(f"{path} = {value} -> {resolved!r}")
