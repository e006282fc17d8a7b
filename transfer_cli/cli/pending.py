"""Commands whose engines have not landed yet. Each has its real signature and help,
and says in one line that it is not available (exit 1) — never fake output.
A command moves to its own module when its engine lands."""
from pathlib import Path
from typing import Optional

import typer

from ._util import COMMAND_SETTINGS, app, handle_errors, not_yet


@app.command("pretrain", context_settings=COMMAND_SETTINGS)
@handle_errors
def pretrain(
    ctx: typer.Context,
    config_path: Path = typer.Argument(..., help="Config with a [pretraining] block."),
    output_dir: Path = typer.Argument(..., help="Directory for model{epoch}.bin weights."),
    code: Optional[Path] = typer.Option(None, "--code", help="Python file with registered functions to import."),
    resume_path: Optional[Path] = typer.Option(None, "--resume-path", help="Weights file to resume from."),
    epoch_resume: Optional[int] = typer.Option(None, "--epoch-resume", help="Epoch number to resume from."),
    gpu_id: int = typer.Option(-1, "--gpu-id", help="GPU id, -1 for CPU."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Pretrain the tok2vec layer on raw text (not available yet in this version)."""
    not_yet("pretrain", "pretraining")
