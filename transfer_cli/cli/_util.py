"""Pieces every command shares: the Typer app, override parsing, `--code` imports
and the one error printer (exit 1 for user errors, no traceback unless --verbose)."""
import functools
import json
import os
import signal
import sys
import traceback
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Tuple

import typer
from wasabi import msg

from ..errors import DataWarning, UserError
from ..user_code import import_code  # noqa: F401  (the commands' --code)

if TYPE_CHECKING:
    from confection import Config

    from ..config.validation import ConfigCheck

COMMAND_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": True}

app = typer.Typer(
    name="transfer-cli",
    help="Train and run NLP pipelines with shared tok2vec layers, transformers, static vectors and pretraining.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def parse_overrides(args: List[str]) -> Dict[str, Any]:
    """Turn `--section.key value` / `--section.key=value` pairs into a dict of
    dotted keys to values, parsing each value as JSON where possible."""
    overrides: Dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise UserError(f"Unexpected argument '{arg}': config overrides look like --section.key value")
        key = arg[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            value = args[i + 1]
            i += 2
        else:  # a bare flag means true
            value = "true"
            i += 1
        if "." not in key:
            raise UserError(f"Config override '--{key}' has no section: use --section.key value (e.g. --training.max_steps 100)")
        overrides[key.replace("-", "_")] = parse_value(value)
    return overrides


def parse_value(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def handle_errors(func: Callable) -> Callable:
    """Run a command, printing user errors as one line and exiting 1. `--verbose`
    (or TRANSFER_CLI_VERBOSE=1) shows the traceback too."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        def show_warning(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, DataWarning):
                print_warning(str(message))
            else:
                original_showwarning(message, category, filename, lineno, file, line)

        original_showwarning = warnings.showwarning
        warnings.showwarning = show_warning
        try:
            return func(*args, **kwargs)
        except UserError as e:
            if is_verbose():
                traceback.print_exc()
            print_error(str(e))
            raise typer.Exit(1)
        except KeyboardInterrupt:
            msg.warn("Interrupted")
            raise typer.Exit(130)
        finally:
            warnings.showwarning = original_showwarning

    return wrapper


def print_error(message: str) -> None:
    """A user error on stderr: one line per line of the message (several config problems
    are one line each), never wrapped, so the line names the file, line or key whole.
    Red on a terminal; plain text when piped (click drops the colour)."""
    for line in message.splitlines() or [message]:
        typer.echo(typer.style(f"✘ {line}", fg="red"), err=True)


def print_warning(message: str) -> None:
    """A warning on stdout: one line per line of the message, never wrapped (as print_error)."""
    for line in message.splitlines() or [""]:
        typer.echo(typer.style(f"⚠ {line}", fg="yellow"))


def is_verbose() -> bool:
    return "--verbose" in sys.argv or os.environ.get("TRANSFER_CLI_VERBOSE") == "1"


def setup_gpu(gpu_id: int) -> None:
    """Use GPU `gpu_id` through thinc (CuPy) and torch; -1 keeps the CPU."""
    if gpu_id < 0:
        return
    from thinc.api import require_gpu

    try:
        require_gpu(gpu_id)
    except (ValueError, ImportError) as e:
        raise UserError(f"--gpu-id {gpu_id}: no usable GPU ({e}); install the cuda12x extra "
                        f"(pip install 'transfer-cli[cuda12x]') or use --gpu-id -1") from e


def import_thinc_without_torch() -> None:
    """Import thinc with torch hidden. thinc imports torch (seconds) only to record whether
    it is installed; a process that runs a config-only command and then exits never uses
    it, so it skips that import. Only for such a process: thinc then treats torch as absent
    for the rest of it. `import torch` itself works again afterwards (e.g. in --code)."""
    if "thinc" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError
    try:
        import thinc.api  # noqa: F401
    finally:
        del sys.modules["torch"]


def import_confection_without_pydantic_v1() -> None:
    """Import confection with pydantic.v1 hidden. confection imports pydantic.v1 (a tenth of
    a second) only to recognize schemas written as pydantic v1 models, which neither this
    package nor thinc uses; for a process that writes a config from the package's own
    templates and exits (init-config without --code). `import pydantic.v1` works again
    afterwards."""
    if "confection" in sys.modules or "pydantic.v1" in sys.modules:
        return
    sys.modules["pydantic.v1"] = None  # type: ignore[assignment]  # `import pydantic.v1` raises ImportError
    try:
        import confection  # noqa: F401
    finally:
        del sys.modules["pydantic.v1"]


# Set by main() when this process runs one command that builds no model and then exits.
_config_only_process = False


def mark_config_only_process() -> None:
    global _config_only_process
    _config_only_process = True


def import_thinc_for_config() -> None:
    """Before a config command first needs the live registry: in a process main() marked,
    thinc with torch hidden (elsewhere, e.g. tests calling the app, thinc as it comes)."""
    if _config_only_process:
        import_thinc_without_torch()


def check_config_text(text: str, path: str, overrides: Dict[str, Any], *, code: Optional[object],
                      pretraining: bool = False) -> "Tuple[Config, ConfigCheck]":
    """The config in `text` (read from `path`) and its check (filling.check_config), for
    fill-config and debug-config. A config without overrides or --code that the registry
    snapshot covers and finds valid is filled and checked from it, without thinc; any
    other is loaded and checked with the live registry, which reports what is wrong (so
    errors and output are the same either way)."""
    from ..config.parsing import config_from_text
    from ..config.snapshot import check_config_from_snapshot, registrations_may_differ

    if code is None and not overrides and not registrations_may_differ():
        try:
            config = config_from_text(text, path)
        except UserError:
            check = None  # loading it live raises the same error
        else:
            check = check_config_from_snapshot(config, pretraining=pretraining)
        if check is not None:
            return config, check
    import_thinc_for_config()
    from ..config.filling import check_config
    from ..config.loading import load_config_from_str

    config = load_config_from_str(text, overrides, path=path)
    return config, check_config(config, pretraining=pretraining)


EXIT_SIGINT = 130  # 128 + SIGINT (2)
EXIT_SIGTERM = 143  # 128 + SIGTERM (15)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt, so training and pretraining
    stop (and save model-last) the same way."""


@contextmanager
def sigterm_as_interrupt() -> Iterator[Dict[str, bool]]:
    """While the block runs, SIGTERM raises Terminated; the yielded dict records
    whether it came. Off the main thread (no handlers there) SIGTERM keeps its default."""
    received: Dict[str, bool] = {}

    def on_sigterm(signum, frame) -> None:
        received["sigterm"] = True
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:
        yield received
        return
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)
