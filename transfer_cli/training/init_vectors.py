"""init-vectors: a vectors file → a pipeline directory holding the table.

It builds a pipeline, so it sits above pipeline/; the table, the file loaders and
pruning are in tokens/vectors/. The rows stream from the file (loaders.py) straight
into `vectors.npy` in a staging directory, and the words into `words.txt` beside it,
so memory holds one chunk and the keys (8 bytes a word), not the table. Duplicate
words keep their first row. --truncate stops reading after N rows; --prune keeps the first
N rows (the file's prefix, so the kept table is the file truncated) and points every
other word at its nearest kept row (prune.py). The output is a blank pipeline of the
language with the table in vocab/vectors and the words in vocab/strings.json, written
in the staging directory and renamed into place: an error leaves nothing behind.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

import numpy
import srsly
from confection import Config

from ..config.names import check_lang_code
from ..errors import DataError, PathError, UserError
from ..fileio import dir_problem, replace_dir, scratch_dir
from ..pipeline.build import pipeline_from_config
from ..pipeline.serialize import refresh_file_checksums
from ..tokens.vectors.loaders import open_vectors_file, read_vectors
from ..tokens.vectors.npy import NpyWriter, truncate_rows
from ..tokens.vectors.prune import nearest_rows
from ..tokens.vectors.vectors import MODES, Vectors

# token attributes a table may be keyed by (the Doc column StaticVectors reads)
KEY_ATTRS = ("ORTH", "LOWER", "NORM")
MAX_REPORTED_DUPLICATES = 5


@dataclass
class ConversionReport:
    name: str
    rows: int
    dims: int
    keys: int
    mode: str
    duplicates: int = 0
    duplicate_examples: List[Tuple[str, int]] = field(default_factory=list)  # (word, line)
    header_rows: Optional[int] = None
    truncated: bool = False
    pruned: int = 0  # words remapped to a kept row
    mean_similarity: Optional[float] = None  # of the remapped words to their new rows
    warnings: List[str] = field(default_factory=list)


class Progress:
    """Callbacks for a progress display: reading (bytes) and pruning (rows)."""

    def start(self, stage: str, total: int) -> None: ...

    def advance(self, n: int) -> None: ...

    def finish(self) -> None: ...


def init_vectors(lang: str, vectors_loc: Path, output_dir: Path, *, truncate: int = 0, prune: int = -1,
                 name: Optional[str] = None, mode: str = "default", attr: str = "ORTH",
                 progress: Optional[Progress] = None) -> ConversionReport:
    vectors_loc, output_dir = Path(vectors_loc), Path(output_dir)
    if mode not in MODES:
        raise UserError(f"--mode must be 'default' or 'floret', got '{mode}'")
    if attr not in KEY_ATTRS:
        raise UserError(f"--attr must be one of {', '.join(KEY_ATTRS)}, got '{attr}'")
    if truncate < 0:
        raise UserError(f"--truncate must be 0 (read everything) or a positive number of rows, got {truncate}")
    if prune == 0 or prune < -1:
        raise UserError(f"--prune must be a positive number of rows to keep (or -1: no pruning), got {prune}")
    check_lang_code(lang)  # before the (long) read of the vectors file
    if mode == "floret" and truncate > 0:
        raise UserError("--truncate cannot be used with --mode floret: a floret table needs all its rows "
                        "(they are hash buckets)")
    if mode == "floret" and prune > 0:
        raise UserError("--prune cannot be used with --mode floret: every word already shares hashed rows")
    problem = dir_problem(output_dir)  # an existing directory is replaced only if we wrote it
    if problem:
        raise PathError(problem, path=str(output_dir))
    progress = progress or Progress()
    with scratch_dir(output_dir) as staging:
        table, words_path, report = _read_table(vectors_loc, staging, truncate, prune, mode, attr, progress)
        report.name = table.name = name or _default_name(vectors_loc)
        _write_pipeline(lang, table, words_path, staging / "pipeline")
        del table
        replace_dir(staging / "pipeline", output_dir)
        return report


def _default_name(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".bz2", ".xz", ".lzma", ".zip", ".tgz", ".tar", ".txt", ".vec", ".floret", ".bin"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[:-len(suffix)]
    return name


def _read_table(path: Path, staging: Path, truncate: int, prune: int, mode: str, attr: str,
                progress: Progress) -> Tuple[Vectors, Optional[Path], ConversionReport]:
    stream, total = open_vectors_file(path, progress.advance)
    progress.start("read", total)
    header, blocks = read_vectors(path, stream, mode=mode)
    npy_path = staging / "vectors.npy"
    words_path = staging / "words.txt"  # words never contain a newline: they come from lines
    key_blocks: List[numpy.ndarray] = []
    seen = numpy.zeros(0, dtype=numpy.uint64)  # sorted keys kept so far
    duplicates = 0
    examples: List[Tuple[str, int]] = []
    n_rows = 0
    limit = truncate if truncate > 0 else None
    with NpyWriter(npy_path, header.dims) as writer, \
            open(words_path, "w", encoding="utf8", newline="\n") as words:
        for block in blocks:
            if limit is not None and n_rows + len(block.words) > limit:
                cut = limit - n_rows
                block.words, block.keys, block.data, block.lines = (block.words[:cut], block.keys[:cut],
                                                                    block.data[:cut], block.lines[:cut])
            if mode == "floret":
                keep = numpy.arange(len(block.words))
            else:
                keep, dup = _first_occurrences(block.keys, seen)
                if len(dup):
                    duplicates += len(dup)
                    examples += [(block.words[i], int(block.lines[i])) for i in dup[:MAX_REPORTED_DUPLICATES]]
                    examples = examples[:MAX_REPORTED_DUPLICATES]
                    block.words = [block.words[i] for i in keep.tolist()]
                kept_keys = block.keys[keep]
                key_blocks.append(kept_keys)
                # merging two sorted runs: the stable sort (timsort) does it in linear time
                seen = numpy.sort(numpy.concatenate([seen, numpy.sort(kept_keys)]), kind="stable")
                if block.words:
                    words.write("\n".join(block.words) + "\n")
            writer.append(block.data[keep])
            n_rows += len(keep)
            if limit is not None and n_rows >= limit:
                blocks.close()
                break
        writer.close()
    progress.finish()
    if n_rows == 0:
        raise DataError("no vectors found" + (" after the header line" if header.has_header else ""), path=str(path))
    report = ConversionReport(name="", rows=n_rows, dims=header.dims, keys=n_rows if mode != "floret" else 0,
                              mode=mode, duplicates=duplicates, duplicate_examples=examples,
                              header_rows=header.rows, truncated=limit is not None and n_rows >= limit)
    if header.rows is not None and header.rows != n_rows + duplicates and not report.truncated:
        if mode == "floret":
            raise DataError(f"the header says {header.rows} rows but the file has {n_rows}: a floret table "
                            "needs exactly its hash buckets", path=str(path))
        report.warnings.append(f"the header says {header.rows:,} rows, the file has {n_rows + duplicates:,}")
    if mode == "floret":
        data = numpy.load(npy_path, mmap_mode="r")
        return Vectors(data=data, mode="floret", attr=attr, floret=header.floret), None, report
    keys = numpy.concatenate(key_blocks) if key_blocks else numpy.zeros(0, dtype=numpy.uint64)
    rows = numpy.arange(n_rows, dtype=numpy.int64)
    if 0 < prune < n_rows:
        rows, report.pruned, report.mean_similarity = _prune(npy_path, n_rows, prune, progress)
        n_rows = prune
    data = numpy.load(npy_path, mmap_mode="r")
    table = Vectors(data=data, keys=keys, rows=rows, mode="default", attr=attr)
    report.rows = n_rows
    return table, words_path, report


def _first_occurrences(keys: numpy.ndarray, seen: numpy.ndarray) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """(positions to keep, positions of duplicates) of a block: a key seen in an earlier
    block or earlier in this one is a duplicate."""
    _, first = numpy.unique(keys, return_index=True)
    is_first = numpy.zeros(len(keys), dtype=bool)
    is_first[first] = True
    if len(seen):
        pos = numpy.minimum(numpy.searchsorted(seen, keys), len(seen) - 1)
        is_first &= seen[pos] != keys
    return numpy.flatnonzero(is_first), numpy.flatnonzero(~is_first)


def _prune(npy_path: Path, n_rows: int, n_keep: int, progress: Progress) -> Tuple[numpy.ndarray, int, float]:
    data = numpy.load(npy_path, mmap_mode="r")
    progress.start("prune", n_rows - n_keep)
    nearest, scores = nearest_rows(data, n_keep, progress=progress.advance)
    progress.finish()
    del data
    truncate_rows(npy_path, n_keep)
    rows = numpy.concatenate([numpy.arange(n_keep, dtype=numpy.int64), nearest])
    return rows, len(nearest), float(scores.mean()) if len(scores) else 0.0


def _write_pipeline(lang: str, table: Vectors, words_path: Optional[Path], path: Path) -> None:
    """A blank pipeline of `lang` (a complete config, so `transfer_cli.load` reads it)
    whose vocab holds the table and, in strings.json, its words."""
    nlp = pipeline_from_config(Config({"nlp": {"lang": lang, "pipeline": []}}))
    nlp.vocab.vectors = table
    nlp.meta["vectors"] = table.info()
    nlp.to_disk(path)
    if words_path is not None:
        _append_strings(path / "vocab" / "strings.json", words_path)
        refresh_file_checksums(path)


def _append_strings(strings_path: Path, words_path: Path, batch: int = 20000) -> None:
    """Add the words (one a line) to a strings.json list, streaming: the words are
    never all in memory."""
    strings = list(srsly.read_json(strings_path))
    known = set(strings)
    tmp = strings_path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf8") as out, open(words_path, encoding="utf8", newline="\n") as lines:
        out.write(json.dumps(strings, ensure_ascii=False)[:-1])
        pending: List[str] = []
        first = not strings
        for line in lines:
            word = line[:-1]
            if word not in known:
                pending.append(word)
            if len(pending) >= batch:
                out.write(("" if first else ",") + json.dumps(pending, ensure_ascii=False)[1:-1])
                first, pending = False, []
        if pending:
            out.write(("" if first else ",") + json.dumps(pending, ensure_ascii=False)[1:-1])
        out.write("]")
    tmp.replace(strings_path)
