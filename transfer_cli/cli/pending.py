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


@app.command("train", context_settings=COMMAND_SETTINGS)
@handle_errors
def train(
    ctx: typer.Context,
    config_path: Path = typer.Argument(..., help="Training config (.cfg)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Directory for model-best and model-last."),
    code: Optional[Path] = typer.Option(None, "--code", help="Python file with registered functions to import."),
    gpu_id: int = typer.Option(-1, "--gpu-id", help="GPU id, -1 for CPU."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Train a pipeline from a config. Overrides: --section.key value."""
    not_yet("train", "the tok2vec/tagger training engine")


@app.command("evaluate")
@handle_errors
def evaluate(
    model: Path = typer.Argument(..., help="Trained pipeline directory."),
    data_path: Path = typer.Argument(..., help="Gold data (.spacy, CoNLL-U, JSONL)."),
    output: Optional[Path] = typer.Option(None, "--output", help="Write metrics to this JSON file."),
    gpu_id: int = typer.Option(-1, "--gpu-id", help="GPU id, -1 for CPU."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Score a trained pipeline on gold data."""
    not_yet("evaluate", "the tok2vec/tagger training engine")


@app.command("apply")
@handle_errors
def apply(
    model: Path = typer.Argument(..., help="Trained pipeline directory."),
    input_path: Path = typer.Argument(..., help="Text, JSONL or .spacy input."),
    output_path: Path = typer.Argument(..., help="Output .spacy or .jsonl file."),
    batch_size: int = typer.Option(64, "--batch-size", help="Docs per batch."),
    gpu_id: int = typer.Option(-1, "--gpu-id", help="GPU id, -1 for CPU."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Run a pipeline over text/JSONL/.spacy and write the annotated docs."""
    not_yet("apply", "the tok2vec/tagger training engine")
