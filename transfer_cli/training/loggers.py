"""Training loggers. A logger is `setup(nlp, stdout, stderr) -> (log_step, finalize)`;
`log_step` gets a StepInfo after every step (with scores on evaluation steps).
The console logger shows a tqdm bar between evaluations and a table row per evaluation."""
import sys
from pathlib import Path
from typing import IO, Callable, Dict, Optional, Tuple, Union

import tqdm
from wasabi import row as table_row

from ..config.registry import registry
from ..errors import ConfigError
from .loop import StepInfo, write_log_line

LoggerSetup = Callable[..., Tuple[Callable[[StepInfo], None], Callable[[], None]]]


@registry.loggers("spacy.ConsoleLogger.v1")
def console_logger(progress_bar: bool = False) -> LoggerSetup:
    """spacy.ConsoleLogger.v1: a results table per evaluation; with progress_bar, a bar
    between evaluations (shown on a terminal in any case)."""
    return make_console_logger("eval" if progress_bar else None, True, None)


@registry.loggers("spacy.ConsoleLogger.v2")
def console_logger_v2(progress_bar: bool = False, console_output: bool = True,
                      output_file: Optional[Union[str, Path]] = None) -> LoggerSetup:
    """spacy.ConsoleLogger.v2: as v1, optionally silent, appending evaluations to a JSONL file."""
    return make_console_logger("eval" if progress_bar else None, console_output, output_file)


@registry.loggers("spacy.ConsoleLogger.v3")
def console_logger_v3(progress_bar: Optional[str] = None, console_output: bool = True,
                      output_file: Optional[Union[str, Path]] = None) -> LoggerSetup:
    """spacy.ConsoleLogger.v3: progress_bar "eval" (steps to the next evaluation) or "train"
    (steps to max_steps)."""
    if progress_bar not in (None, "eval", "train"):
        raise ConfigError(f"progress_bar must be \"eval\", \"train\" or null, not {progress_bar!r}",
                          key="training.logger.progress_bar")
    return make_console_logger(progress_bar, console_output, output_file)


def make_console_logger(progress_bar: Optional[str], console_output: bool,
                        output_file: Optional[Union[str, Path]]) -> LoggerSetup:
    def setup(nlp, stdout: Optional[IO] = None, stderr: Optional[IO] = None, *, score_weights: Dict[str, float],
              eval_frequency: int, max_steps: int, quiet: bool = False):
        # score_weights, eval_frequency and max_steps are [training]'s (default_config.cfg)
        stdout, stderr = stdout or sys.stdout, stderr or sys.stderr  # the streams of now, not of import time
        losses_cols = [name for name, c in nlp.components if getattr(c, "is_trainable", False)]
        weighted = [k for k, w in (score_weights or {}).items() if w is not None]
        state = {"bar": None, "printed_header": False}
        table: Dict[str, list] = {}

        def layout(scores: Dict) -> None:
            # columns for the weighted scores the components actually report
            table["score_cols"] = [k for k in weighted if k in scores]
            table["header"] = (["E", "#"] + [f"LOSS {n.upper()}" for n in losses_cols]
                               + [k.upper() for k in table["score_cols"]] + ["SCORE", "WPS"])
            table["widths"] = [3, 6] + [max(10, len(h)) for h in table["header"][2:]]

        whole_run = progress_bar == "train" and max_steps > 0

        def new_bar():
            disable = quiet or not console_output or (not progress_bar and not stderr.isatty())
            return tqdm.tqdm(total=max_steps if whole_run else eval_frequency, disable=disable, leave=False,
                             file=stderr, ncols=80, desc="training")

        def log_step(info: StepInfo) -> None:
            if state["bar"] is None:
                state["bar"] = new_bar()
            state["bar"].update(1)
            if info.scores is None:
                return
            if not whole_run:
                state["bar"].close()
                state["bar"] = None
            if not table:
                layout(info.scores)
            widths = table["widths"]
            aligns = ["r"] * len(widths)
            if not state["printed_header"] and console_output and not quiet:
                stdout.write(table_row(table["header"], widths=widths, aligns=aligns) + "\n")
                stdout.write(table_row(["-" * w for w in widths], widths=widths) + "\n")
                state["printed_header"] = True
            row = [info.epoch, info.step]
            row += [f"{info.losses.get(n, 0.0):.2f}" for n in losses_cols]
            row += [_fmt_score(info.scores.get(k)) for k in table["score_cols"]]
            row += [f"{info.score:.2f}" if info.score is not None else "", f"{info.words_per_second or 0:.0f}"]
            if console_output and not quiet:
                stdout.write(table_row(row, widths=widths, aligns=aligns) + "\n")
                stdout.flush()
            if output_file is not None:
                write_log_line(Path(output_file), info)

        def finalize() -> None:
            if state["bar"] is not None:
                state["bar"].close()
                state["bar"] = None

        return log_step, finalize

    return setup


def _fmt_score(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return f"{value * 100:.2f}" if 0 <= value <= 1 else f"{value:.2f}"
    return str(value)
