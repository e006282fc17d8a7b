"""`transfer-cli apply MODEL INPUT OUTPUT`: annotate text, JSONL or .spacy with a pipeline."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ._util import app, handle_errors, import_code, setup_gpu


@app.command("apply")
@handle_errors
def apply_cli(
    model: Path = typer.Argument(..., help="Trained pipeline directory."),
    input_path: Path = typer.Argument(..., help="Input: .txt (one doc per line), .jsonl ({\"text\": ...} per line), "
                                                ".spacy, or a directory of these."),
    output_path: Path = typer.Argument(..., help="Output file: .spacy or .jsonl (not an input, nor inside an "
                                                 "input directory)."),
    text_key: str = typer.Option("text", "--text-key", help="JSONL field holding the text."),
    batch_size: int = typer.Option(64, "--batch-size", "-b", help="Docs per batch (what a process takes at a time)."),
    n_process: int = typer.Option(1, "--n-process", "-n", help="Processes annotating in parallel: this one and N-1 "
                                                                "workers (-1: one per CPU). The output is the same."),
    code: Optional[Path] = typer.Option(None, "--code", "-c", help="Python file with registered functions the "
                                                                   "pipeline's config names."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU."),
    force: bool = typer.Option(False, "--force", "-F", help="Replace OUTPUT if it exists."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Run a pipeline over text/JSONL/.spacy input and write the annotated docs. An existing
    OUTPUT is replaced only with --force."""
    from ..annotate import annotate_files

    import_code(code)
    setup_gpu(gpu_id)
    n_docs = annotate_files(model, input_path, output_path, text_key=text_key, batch_size=batch_size,
                            n_process=n_process, progress=not quiet, force=force)
    msg.good(f"Annotated {n_docs} docs → {output_path}")
