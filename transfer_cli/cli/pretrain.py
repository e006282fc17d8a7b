"""`transfer-cli pretrain CONFIG OUTPUT_DIR`: pretrain the [pretraining] component's
network on raw text; model{epoch}.bin, model-last.bin and log.jsonl go to OUTPUT_DIR.

--max-time, Ctrl-C (SIGINT) and SIGTERM stop pretraining after saving model-last, so
`--resume-path OUTPUT_DIR/model-last.bin` continues from there; Ctrl-C exits 130 and
SIGTERM 143, as train does."""
from pathlib import Path
from typing import Any, Dict, Optional

import typer
from wasabi import msg

from ..errors import UserError
from ._util import (COMMAND_SETTINGS, EXIT_SIGINT, EXIT_SIGTERM, Terminated, app, handle_errors, import_code,
                    parse_overrides, setup_gpu, sigterm_as_interrupt)


@app.command("pretrain", context_settings=COMMAND_SETTINGS)
@handle_errors
def pretrain_cli(
    ctx: typer.Context,
    config_path: Path = typer.Argument(..., help="Config with a [pretraining] block (fill-config --pretraining "
                                                 "adds one); '-' reads stdin."),
    output_dir: Path = typer.Argument(..., help="New or empty directory for model{epoch}.bin, model-last.bin and "
                                                "log.jsonl (with --resume-path: the run's own directory)."),
    code: Optional[Path] = typer.Option(None, "--code", "-c", help="Python file with registered functions."),
    resume_path: Optional[Path] = typer.Option(None, "--resume-path", "-r", help="model{N}.bin or model-last.bin "
                                               "to continue from (with its .opt: the optimizer state too)."),
    epoch_resume: Optional[int] = typer.Option(None, "--epoch-resume", "-er", help="Number of the epoch to "
                                               "continue with (default: read from --resume-path)."),
    max_time: Optional[float] = typer.Option(None, "--max-time", help="Stop after this many seconds, saving "
                                             "model-last first."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or per-epoch lines."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Pretrain a pipeline's token-to-vector network on raw text (JSONL {"text": ...} lines or .spacy docs).
    Overrides: --section.key value (e.g. --paths.raw_text text.jsonl --pretraining.max_epochs 1)."""
    from ..config.loading import load_config
    from ..training.pretrain import init_pretraining, run_pretraining

    overrides = parse_overrides(ctx.args)
    if epoch_resume is not None and epoch_resume < 0:
        raise UserError(f"--epoch-resume must be 0 or more, not {epoch_resume}")
    if epoch_resume is not None and resume_path is None:
        raise UserError("--epoch-resume needs --resume-path (the weights to continue from)")
    if max_time is not None and max_time < 0:
        raise UserError(f"--max-time must be 0 or more seconds, not {max_time}")
    import_code(code)
    config = load_config(config_path, overrides)
    setup_gpu(gpu_id)

    def report(record: Dict[str, Any]) -> None:
        if quiet:
            return
        loss = f"{record['loss']:.4f}" if record["loss"] is not None else "-"
        speed = f"{record['words_per_second']:,.0f}" if record["words_per_second"] else "-"
        msg.info(f"epoch {record['epoch']} step {record['step']}: loss {loss}, {record['words']:,} words used, "
                 f"{speed} words/s -> {', '.join(record['saved'])}")

    with sigterm_as_interrupt() as received:
        try:
            setup = init_pretraining(config, use_gpu=gpu_id)
            if not quiet:
                msg.info(f"Pretraining component '{setup.settings['component']}'"
                         + (f" layer '{setup.settings['layer']}'" if setup.settings["layer"] else "")
                         + f" with {setup.config.values['pretraining']['objective']['@architectures']}")
            summary = run_pretraining(setup, output_dir, resume_path=resume_path, epoch_resume=epoch_resume,
                                      max_time=max_time, quiet=quiet, on_log=report)
        except Terminated:  # before pretraining started
            msg.warn("Terminated (SIGTERM)")
            raise typer.Exit(EXIT_SIGTERM)
    if summary.resumed_optimizer is False:
        msg.warn(f"No optimizer state ({Path(resume_path).with_suffix('.opt').name}) beside {resume_path}: "
                 f"continued from its weights with a fresh optimizer")
    stats = summary.corpus_stats
    if stats and not quiet:
        split = f", {stats['split']} long records split into {stats['pieces']} pieces" if stats.get("split") else ""
        short = f", {stats['too_short']} shorter than min_length skipped" if stats.get("too_short") else ""
        msg.info(f"Raw text: {stats.get('words', 0):,} words from {stats.get('records', 0):,} records per "
                 f"epoch{split}{short}")
    if summary.stopped == "interrupted":
        what = "Terminated (SIGTERM)" if received.get("sigterm") else "Interrupted"
        msg.warn(f"{what} at step {summary.progress.step}: saved {output_dir}/model-last.bin")
        raise typer.Exit(EXIT_SIGTERM if received.get("sigterm") else EXIT_SIGINT)
    if summary.stopped == "max_time":
        msg.good(f"Stopped at --max-time after {summary.progress.step} steps: saved {output_dir}/model-last.bin "
                 f"(continue with --resume-path {output_dir}/model-last.bin)")
    else:
        msg.good(f"Pretrained {summary.progress.step} steps: weights in {output_dir}")
