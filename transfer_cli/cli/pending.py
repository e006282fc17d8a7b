"""Commands whose engines have not landed yet. Each has its real signature and help,
and says in one line that it is not available (exit 1) — never fake output.
A command moves to its own module when its engine lands."""
from pathlib import Path
from typing import Optional

import typer

from ._util import COMMAND_SETTINGS, app, handle_errors, not_yet


@app.command("init-vectors")
@handle_errors
def init_vectors(
    lang: str = typer.Argument(..., help="Language code of the pipeline the vectors are for, e.g. en."),
    vectors_loc: Path = typer.Argument(..., help="word2vec/GloVe/fastText .vec/.txt/.gz/.zip file, or a floret table."),
    output_dir: Path = typer.Argument(..., help="Directory to write the vectors to."),
    truncate: int = typer.Option(0, "--truncate", help="Read only the first N rows (0: all)."),
    prune: int = typer.Option(-1, "--prune", help="Keep N rows; map every other word to its nearest kept vector."),
    name: Optional[str] = typer.Option(None, "--name", help="Name of the vectors table, stored in meta."),
    mode: str = typer.Option("default", "--mode", help="default or floret."),
) -> None:
    """Convert word vectors into a vectors directory usable by [initialize] vectors."""
    not_yet("init-vectors", "static word vectors")


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
    """Pretrain the tok2vec layer on raw text (characters or vectors objective)."""
    not_yet("pretrain", "pretraining")
