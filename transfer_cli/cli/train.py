"""`transfer-cli train CONFIG`: train a pipeline; model-best and model-last go to --output."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ._util import COMMAND_SETTINGS, app, handle_errors, import_code, parse_overrides, setup_gpu


@app.command("train", context_settings=COMMAND_SETTINGS)
@handle_errors
def train_cli(
    ctx: typer.Context,
    config_path: Path = typer.Argument(..., help="Training config (.cfg); '-' reads stdin."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Directory for model-best, model-last "
                                                                      "and training_log.jsonl."),
    code: Optional[Path] = typer.Option(None, "--code", "-c", help="Python file with registered functions."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or table."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Train a pipeline from a config. Overrides: --section.key value (e.g. --paths.train corpus/train.spacy
    --training.max_steps 200)."""
    from ..config.loading import load_config
    from ..training.train import train_from_config

    overrides = parse_overrides(ctx.args)
    import_code(code)
    config = load_config(config_path, overrides)
    setup_gpu(gpu_id)
    if output is None and not quiet:
        msg.warn("No --output given: the trained pipeline will not be saved")

    def announce(setup) -> None:
        if not quiet:
            msg.info(f"Pipeline: {setup.nlp.pipe_names}")
            msg.info(f"Initial learn rate: {getattr(setup.optimizer, 'learn_rate', '?')}")

    summary = train_from_config(config, output, use_gpu=gpu_id, quiet=quiet, on_setup=announce)
    if summary["interrupted"]:
        msg.warn(f"Interrupted at step {summary['steps']}: saved model-last" + (f" to {output}" if output else ""))
        raise typer.Exit(130)
    if summary["best_score"] is None:
        msg.warn("Training stopped before the first evaluation: set [training] eval_frequency <= max_steps")
    else:
        msg.good(f"Best score {summary['best_score']:.4f} at step {summary['best_step']}")
    if output is not None:
        msg.good(f"Saved pipeline to {output}/model-best and {output}/model-last")
