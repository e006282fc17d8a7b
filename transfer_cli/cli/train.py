"""`transfer-cli train CONFIG`: train a pipeline; model-best and model-last go to --output.

Ctrl-C (SIGINT) and SIGTERM (sent by `timeout`, CI runners and job schedulers) both stop
training, save model-last and exit: 130 after Ctrl-C, 143 (128 + 15, the shell's code for
a process ended by SIGTERM) after SIGTERM, so a caller can tell them apart. Both save a
checkpoint first; `--resume` continues from it."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ..errors import UserError
from ._util import (COMMAND_SETTINGS, EXIT_SIGINT, EXIT_SIGTERM, Terminated, app, handle_errors, import_code,
                    parse_overrides, setup_gpu, sigterm_as_interrupt)


@app.command("train", context_settings=COMMAND_SETTINGS)
@handle_errors
def train_cli(
    ctx: typer.Context,
    config_path: Path = typer.Argument(..., help="Training config (.cfg); '-' reads stdin."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Directory for model-best, model-last "
                                                                      "and training_log.jsonl (replaced only if "
                                                                      "transfer-cli wrote them; other files are "
                                                                      "left alone)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run whose checkpoint is in --output (saved "
                                                        "every [training] checkpoint_frequency steps, at the end, "
                                                        "at Ctrl-C and at SIGTERM), with the same config."),
    code: Optional[Path] = typer.Option(None, "--code", "-c", help="Python file with registered functions."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or table."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Train a pipeline from a config. Overrides: --section.key value (e.g. --paths.train corpus/train.spacy
    --training.max_steps 200). Ctrl-C or SIGTERM saves a checkpoint and model-last and stops (exit 130 / 143);
    --resume continues from the checkpoint."""
    from ..config.loading import load_config
    from ..training.checkpoint import CHECKPOINT_DIR
    from ..training.train import check_output_dir, train_from_config

    overrides = parse_overrides(ctx.args)
    if resume and output is None:
        raise UserError("--resume needs --output: the folder of the run to continue (its checkpoint is there)")
    if output is not None:
        check_output_dir(output)
    import_code(code)
    config = load_config(config_path, overrides)
    setup_gpu(gpu_id)
    if output is None and not quiet:
        msg.warn("No --output given: the trained pipeline will not be saved")
    if output is not None and not resume and not quiet and (output / CHECKPOINT_DIR / "meta.json").exists():
        msg.warn(f"{output / CHECKPOINT_DIR} is an earlier run's checkpoint: this run starts afresh and replaces it "
                 f"(--resume continues that run instead)")

    def resuming(checkpoint) -> None:
        if not quiet:
            msg.info(f"Resuming from step {checkpoint.step} (epoch {checkpoint.epoch}): {checkpoint.path}")

    def announce(setup) -> None:
        if not quiet:
            msg.info(f"Pipeline: {setup.nlp.pipe_names}")
            msg.info(f"Initial learn rate: {getattr(setup.optimizer, 'learn_rate', '?')}")

    with sigterm_as_interrupt() as received:
        try:
            summary = train_from_config(config, output, use_gpu=gpu_id, quiet=quiet, on_setup=announce,
                                        resume=resume, on_resume=resuming)
        except Terminated:  # before training started, or a second signal during the final save
            msg.warn("Terminated (SIGTERM)")
            raise typer.Exit(EXIT_SIGTERM)
    if summary["interrupted"]:
        what = "Terminated (SIGTERM)" if received.get("sigterm") else "Interrupted"
        msg.warn(f"{what} at step {summary['steps']}: " + (f"saved model-last and a checkpoint to {output} "
                                                             f"(--resume continues from it)" if output
                                                             else "nothing saved (no --output)"))
        raise typer.Exit(EXIT_SIGTERM if received.get("sigterm") else EXIT_SIGINT)
    if summary["best_score"] is None:
        msg.warn("Training stopped before the first evaluation: set [training] eval_frequency <= max_steps")
    else:
        msg.good(f"Best score {summary['best_score']:.4f} at step {summary['best_step']}")
    if output is not None:
        msg.good(f"Saved pipeline to {output}/model-best and {output}/model-last")
