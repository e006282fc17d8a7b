"""`transfer-cli evaluate MODEL DATA`: score a trained pipeline on gold data."""
from pathlib import Path
from typing import Any, Dict, Optional

import typer
from wasabi import msg

from ._util import app, handle_errors, setup_gpu


@app.command("evaluate")
@handle_errors
def evaluate_cli(
    model: Path = typer.Argument(..., help="Trained pipeline directory (e.g. output/model-best)."),
    data_path: Path = typer.Argument(..., help="Gold data: .spacy, CoNLL-U, IOB or JSONL file, or a directory."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the metrics to this JSON file."),
    force: bool = typer.Option(False, "--force", "-F", help="Replace the --output file if it exists."),
    gold_preproc: bool = typer.Option(False, "--gold-preproc", "-G", help="Use the gold tokenization."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Score a trained pipeline on gold data: a table of every score and words/second.
    An existing --output file is replaced only with --force."""
    import srsly  # loads numpy: not for --help

    from ..evaluation import evaluate_pipeline
    from ..fileio import check_output_file, write_text_atomic

    if output is not None:  # before the work: the metrics must not replace an input or a file silently
        check_output_file(output, inputs=[model, data_path], force=force)
    setup_gpu(gpu_id)
    scores = evaluate_pipeline(model, data_path, gold_preproc=gold_preproc)
    print_scores(scores)
    if output is not None:
        write_text_atomic(output, srsly.json_dumps(scores, indent=2) + "\n")
        msg.good(f"Saved metrics to {output}")


def print_scores(scores: Dict[str, Any]) -> None:
    rows = []
    for key, value in scores.items():
        if isinstance(value, dict):
            continue
        if value is None:
            rows.append((key, "-"))
        elif isinstance(value, str):  # e.g. cats_score_desc
            rows.append((key, value))
        elif key == "speed":
            rows.append(("words/s", f"{value:.0f}"))
        else:
            rows.append((key, f"{value * 100:.2f}" if 0 <= value <= 1 else f"{value:.2f}"))
    msg.table(rows, title="Results")
    for key, value in scores.items():
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            table = [(label, *(f"{v * 100:.2f}" if isinstance(v, float) else str(v) for v in prf.values()))
                     for label, prf in value.items()]
            header = ("", *[k.upper() for k in next(iter(value.values())).keys()])
            msg.table(table, header=header, title=key.replace("_", " "))
