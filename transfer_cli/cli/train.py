"""`transfer-cli train CONFIG`: train a pipeline; model-best and model-last go to --output.

Ctrl-C (SIGINT) and SIGTERM (sent by `timeout`, CI runners and job schedulers) both stop
training, save model-last and exit: 130 after Ctrl-C, 143 (128 + 15, the shell's code for
a process ended by SIGTERM) after SIGTERM, so a caller can tell them apart. Both save a
checkpoint first; `--resume` continues from it.

Data-parallel: under torchrun (`torchrun --nproc_per_node K -m transfer_cli train ...`, one
machine or several) every process is one rank; `--n-workers K` starts K ranks here through
torchrun's launcher. Rank 0 prints, logs and saves (checkpoints too); every rank resumes from
--output's checkpoint, with --resume or after an elastic restart (torchrun --max-restarts)."""
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
    n_workers: int = typer.Option(1, "--n-workers", min=1, help="Train in this many processes on this machine "
                                                                 "(data parallel, through torchrun's launcher; "
                                                                 "each step trains K of the batcher's batches, one "
                                                                 "per process); 1: one process."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Train a pipeline from a config. Overrides: --section.key value (e.g. --paths.train corpus/train.spacy
    --training.max_steps 200). Ctrl-C or SIGTERM saves a checkpoint and model-last and stops (exit 130 / 143);
    --resume continues from the checkpoint."""
    from ..config.loading import load_config
    from ..training.checkpoint import CHECKPOINT_DIR
    from ..training.distributed import LaunchEnvironment, data_parallel, resumes
    from ..training.train import check_output_dir, train_from_config

    overrides = parse_overrides(ctx.args)
    launch = LaunchEnvironment.detect()
    if resume and output is None:
        raise UserError("--resume needs --output: the folder of the run to continue (its checkpoint is there)")
    if n_workers > 1:
        raise typer.Exit(_launch_workers(ctx, launch, n_workers, config_path, output, resume, code, gpu_id, quiet,
                                         verbose))
    main_rank = launch is None or launch.rank == 0
    quiet = quiet or not main_rank
    if output is not None and main_rank:
        check_output_dir(output)
    if output is not None:
        resume = resumes(launch, resume, (output / CHECKPOINT_DIR / "meta.json").exists())
    import_code(code)
    config = load_config(config_path, overrides)
    device = gpu_id if launch is None else launch.device(gpu_id)
    setup_gpu(device)
    if output is None and not quiet:
        msg.warn("No --output given: the trained pipeline will not be saved")
    if output is not None and not resume and not quiet and (output / CHECKPOINT_DIR / "meta.json").exists():
        msg.warn(f"{output / CHECKPOINT_DIR} is an earlier run's checkpoint: this run starts afresh and replaces it "
                 f"(--resume continues that run instead)")

    resumed_from = []

    def resuming(checkpoint) -> None:
        resumed_from.append(checkpoint.step)
        if not quiet:
            msg.info(f"Resuming from step {checkpoint.step} (epoch {checkpoint.epoch}): {checkpoint.path}")

    def announce(setup) -> None:
        if not quiet:
            msg.info(f"Pipeline: {setup.nlp.pipe_names}")
            # on resume the schedules are advanced later, so the optimizer still shows step 0's rate
            if not resumed_from:
                msg.info(f"Initial learn rate: {getattr(setup.optimizer, 'learn_rate', '?')}")

    with sigterm_as_interrupt() as received, data_parallel(launch, device) as parallel:
        try:
            summary = train_from_config(config, output, use_gpu=device, quiet=quiet, on_setup=announce,
                                        resume=resume, on_resume=resuming, parallel=parallel)
        except Terminated:  # before training started, or a second signal during the final save
            if not quiet:
                msg.warn("Terminated (SIGTERM)")
            raise typer.Exit(EXIT_SIGTERM)
    if summary["interrupted"] and not main_rank:
        raise typer.Exit(EXIT_SIGTERM if received.get("sigterm") else EXIT_SIGINT)
    if not main_rank:
        return
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


def _launch_workers(ctx: typer.Context, launch, n_workers: int, config_path: Path, output: Optional[Path],
                    resume: bool, code: Optional[Path], gpu_id: int, quiet: bool, verbose: bool) -> int:
    """`--n-workers K`: check what can be checked once, here, then run K ranks of this same
    command through torchrun's launcher; their exit status is ours."""
    from ..config.loading import load_config
    from ..training.distributed import launch_local
    from ..training.train import check_output_dir

    if launch is not None:
        raise UserError(f"--n-workers starts its own {n_workers} processes, but this one is already rank "
                        f"{launch.rank} of {launch.world_size} (torchrun?): use one or the other")
    if str(config_path) == "-":
        raise UserError("--n-workers needs the config as a file: every worker reads it, so it cannot come from stdin")
    if output is not None:
        check_output_dir(output)
    import_code(code)
    load_config(config_path, parse_overrides(ctx.args))  # a bad config fails once, here, not in every worker
    args = [str(config_path), *(["--output", str(output)] if output is not None else []),
            *(["--resume"] if resume else []), *(["--code", str(code)] if code is not None else []),
            "--gpu-id", str(gpu_id), *(["--quiet"] if quiet else []), *(["--verbose"] if verbose else []), *ctx.args]
    return launch_local(n_workers, args)
