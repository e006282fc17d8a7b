"""`transfer-cli init-vectors LANG VECTORS_LOC OUTPUT_DIR`: convert word vectors into a
pipeline directory usable by `[initialize] vectors` and by `transfer_cli.load`."""
import sys
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ._util import app, handle_errors


class _TqdmProgress:
    """Progress bars for reading (bytes) and pruning (rows); silent unless stderr is a terminal."""

    LABELS = {"read": "Reading vectors", "prune": "Pruning"}

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None

    def start(self, stage: str, total: int) -> None:
        if self.enabled:
            from tqdm import tqdm

            unit = {"read": ("B", True)}.get(stage, ("rows", False))
            self.bar = tqdm(total=total, desc=self.LABELS.get(stage, stage), unit=unit[0], unit_scale=unit[1],
                            leave=False, file=sys.stderr)

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _keep_freed_memory() -> None:
    """Converting allocates and frees MB-sized arrays for every chunk of the file. By
    default glibc hands each back to the OS and the next chunk faults it in again: ~1M
    page faults, a quarter of the time on GloVe 6B. Keep freed memory for reuse (this
    command's process only; glibc only, skipped elsewhere)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 64 * 1024 * 1024)
        libc.mallopt(m_trim_threshold, 256 * 1024 * 1024)
    except (OSError, AttributeError):
        pass


@app.command("init-vectors")
@handle_errors
def init_vectors_cli(
    lang: str = typer.Argument(..., help="Language code of the pipeline the vectors are for, e.g. en."),
    vectors_loc: Path = typer.Argument(..., help="word2vec/GloVe/fastText .vec/.txt (.gz/.bz2/.xz/.zip/.tar.gz), "
                                                 "word2vec .bin, or a floret table (--mode floret)."),
    output_dir: Path = typer.Argument(..., help="Directory to write (a pipeline with the vectors in vocab/vectors). "
                                                "An existing one is replaced only if transfer-cli wrote it."),
    truncate: int = typer.Option(0, "--truncate", help="Read only the first N rows (0: all)."),
    prune: int = typer.Option(-1, "--prune", help="Keep the first N rows; map every other word to its nearest "
                                                  "kept vector (cosine)."),
    name: Optional[str] = typer.Option(None, "--name", help="Name of the vectors table (default: the file name), "
                                                            "stored in meta and checked when a model loads."),
    mode: str = typer.Option("default", "--mode", help="default, or floret for a floret table (hashed subwords)."),
    attr: str = typer.Option("ORTH", "--attr", help="Token attribute the table is keyed by: ORTH, or LOWER/NORM "
                                                    "for uncased tables."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Convert word vectors into a directory usable by [initialize] vectors."""
    from ..training.init_vectors import init_vectors

    _keep_freed_memory()
    progress = _TqdmProgress(enabled=not quiet and sys.stderr.isatty())
    report = init_vectors(lang, vectors_loc, output_dir, truncate=truncate, prune=prune, name=name, mode=mode,
                          attr=attr, progress=progress)
    for warning in report.warnings:
        msg.warn(warning)
    if report.duplicates:
        shown = ", ".join(f"'{word}' (line {line})" for word, line in report.duplicate_examples)
        more = "" if report.duplicates <= len(report.duplicate_examples) else ", ..."
        msg.warn(f"Skipped {report.duplicates:,} duplicate word(s), keeping each word's first row: {shown}{more}")
    if report.mode == "floret":
        msg.good(f"Converted a floret table of {report.rows:,} x {report.dims} (hashed subword rows)")
    else:
        read = report.rows + report.pruned
        msg.good(f"Converted {read:,} vectors of {report.dims} dimensions"
                 + (" (truncated)" if report.truncated else ""))
    if report.pruned:
        msg.good(f"Pruned to {report.rows:,} rows: {report.pruned:,} words now share their nearest kept row "
                 f"(mean similarity {report.mean_similarity:.3f})")
    msg.good(f"Saved vectors '{report.name}' to {output_dir}")
