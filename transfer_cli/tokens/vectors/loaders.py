"""Reading vectors files as a stream of row blocks.

Formats:
- text, one word and its values per line, space separated: GloVe (no header),
  word2vec and fastText `.vec` (a `rows dims` header line first), floret's `.floret`
  export (header `rows dims minn maxn hash_count hash_seed bow eow`);
- any of those compressed as `.gz`, `.bz2`, `.xz`, or inside a `.zip` / `.tar(.gz)`;
- word2vec binary `.bin` (header line, then each word, a space and dims
  little-endian float32 values).

The text is read in chunks of whole lines (512 KB); each chunk is split into tokens
and its numbers parsed with array operations (parse.py), and its words are hashed in
one batch (hashing.py). Two threads parse chunks side by side (numpy releases the GIL
in its loops); the blocks still come out in file order. Lines with a word that contains spaces (as in some GloVe files)
are read one by one: the last `dims` fields are the values. Problems are DataErrors
naming the file and line.
"""
import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Deque, Iterator, List, Optional, Tuple

import numpy

from ...errors import DataError, PathError
from .floret import FloretSettings
from .hashing import hash_strings, murmurhash64a
from .parse import parse_floats, tokenize

PARSE_THREADS = 2
CHUNK_BYTES = 512 * 1024  # bounds the parse temporaries (~10 MB); larger chunks are no faster
FASTTEXT_MAGIC = 793712314  # first int32 of a fastText model .bin
TEXT_MEMBER_SUFFIXES = (".txt", ".vec", ".floret", ".bin")

ProgressFn = Callable[[int], None]
# what reading a damaged or truncated (compressed) file raises
READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)


@dataclass
class TableHeader:
    """What the file says (or its first row shows) about the table."""

    dims: int
    rows: Optional[int] = None  # from a header line
    floret: Optional[FloretSettings] = None
    has_header: bool = False
    binary: bool = False


@dataclass
class Block:
    """Consecutive rows of the file: words, their keys (hashes), values, line numbers."""

    words: List[str]
    keys: numpy.ndarray  # uint64
    data: numpy.ndarray  # float32 (n, dims)
    lines: numpy.ndarray  # int64, 1-based line (or row, for .bin) numbers


class _Counting(io.RawIOBase):
    """Reports how many bytes are read from the underlying (compressed) file."""

    def __init__(self, raw: BinaryIO, progress: Optional[ProgressFn]) -> None:
        self.raw = raw
        self.progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        if n and self.progress is not None:
            self.progress(n)
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def open_vectors_file(path: Path, progress: Optional[ProgressFn] = None) -> Tuple[BinaryIO, int]:
    """(decompressed binary stream, total bytes that progress will count up to)."""
    path = Path(path)
    if not path.exists():
        raise PathError("vectors file not found", path=str(path))
    if path.is_dir():
        raise PathError("expected a vectors file (.txt/.vec/.gz/.zip/.bin ...), got a directory", path=str(path))
    name = path.name.lower()
    size = path.stat().st_size
    try:
        if name.endswith(".zip"):
            archive = zipfile.ZipFile(path)
            member = _pick_member(path, [i.filename for i in archive.infolist() if not i.is_dir()])
            stream = archive.open(member)
            return io.BufferedReader(_Counting(stream, progress), CHUNK_BYTES), archive.getinfo(member).file_size
        if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
            archive = tarfile.open(path)
            member = _pick_member(path, [m.name for m in archive.getmembers() if m.isfile()])
            info = archive.getmember(member)
            stream = archive.extractfile(info)
            return io.BufferedReader(_Counting(stream, progress), CHUNK_BYTES), info.size
        raw = io.BufferedReader(_Counting(open(path, "rb", buffering=0), progress), CHUNK_BYTES)
        if name.endswith(".gz"):
            return gzip.GzipFile(fileobj=raw, mode="rb"), size
        if name.endswith(".bz2"):
            return bz2.BZ2File(raw), size
        if name.endswith((".xz", ".lzma")):
            return lzma.LZMAFile(raw), size
        return raw, size
    except (zipfile.BadZipFile, tarfile.TarError) as e:
        raise DataError(f"cannot open the archive: {e}", path=str(path)) from None


def _pick_member(path: Path, names: List[str]) -> str:
    if len(names) == 1:
        return names[0]
    candidates = [n for n in names if n.lower().endswith(TEXT_MEMBER_SUFFIXES)]
    if len(candidates) == 1:
        return candidates[0]
    raise DataError(f"the archive holds {len(names)} files ({', '.join(names[:5])}"
                    f"{', ...' if len(names) > 5 else ''}); expected one vectors file", path=str(path))


def read_vectors(path: Path, stream: BinaryIO, *, mode: str = "default") -> Tuple[TableHeader, Iterator[Block]]:
    """(header, blocks) of an opened vectors file (see open_vectors_file). The blocks
    stream the rows in file order and close the stream when done."""
    try:
        first_line = stream.readline()
    except READ_ERRORS as e:
        stream.close()
        raise DataError(f"cannot read the file: {e}", path=str(path)) from None
    try:
        if len(first_line) >= 4 and int.from_bytes(first_line[:4], "little") == FASTTEXT_MAGIC:
            raise DataError("this is a fastText model .bin, not a vectors table: use the .vec file fastText "
                            "writes beside it (or `fasttext print-word-vectors`)", path=str(path))
        if not first_line.strip():
            raise DataError("the file is empty" if not first_line else "line 1 is empty: expected a header "
                            "('rows dims') or a word and its values", path=str(path), line=1)
        binary = Path(path).name.lower().endswith(".bin")
        header = _read_header(path, first_line, mode, binary)
    except DataError:
        stream.close()
        raise
    if binary:
        return header, _binary_blocks(path, stream, header)
    return header, _text_blocks(path, stream, header, b"" if header.has_header else first_line)


def _read_header(path: Path, line: bytes, mode: str, binary: bool) -> TableHeader:
    fields = line.split()
    if mode == "floret":
        if binary:
            raise DataError("floret tables are text files (the .floret export), not .bin", path=str(path))
        if len(fields) != 8 or not all(f.isdigit() for f in fields[:6]):
            raise DataError("a floret table starts with the header 'rows dims minn maxn hash_count hash_seed "
                            f"bow eow'; line 1 is {_show(line)}", path=str(path), line=1)
        settings = FloretSettings.from_header([f.decode("utf8") for f in fields[2:]])
        rows, dims = int(fields[0]), int(fields[1])
        if rows < 1 or dims < 1:
            raise DataError(f"the header gives a table of {rows} x {dims}", path=str(path), line=1)
        return TableHeader(dims=dims, rows=rows, floret=settings, has_header=True)
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        rows, dims = int(fields[0]), int(fields[1])
        if dims < 1:
            raise DataError(f"the header says each vector has {dims} values", path=str(path), line=1)
        return TableHeader(dims=dims, rows=rows, has_header=True, binary=binary)
    if binary:
        raise DataError(f"a word2vec .bin file starts with the header 'rows dims'; line 1 is {_show(line)}",
                        path=str(path), line=1)
    if len(fields) == 8 and all(f.isdigit() for f in fields[:6]):
        raise DataError("line 1 looks like a floret header (rows dims minn maxn hash_count hash_seed bow eow): "
                        "convert it with --mode floret", path=str(path), line=1)
    if len(fields) < 2:
        raise DataError(f"line 1 has no values: {_show(line)}", path=str(path), line=1)
    return TableHeader(dims=len(fields) - 1)


def _show(line: bytes, limit: int = 60) -> str:
    text = line.decode("utf8", errors="replace").strip()
    return repr(text if len(text) <= limit else text[:limit] + "...")


# -- text -----------------------------------------------------------------------------------------
def _text_blocks(path: Path, stream: BinaryIO, header: TableHeader, pending: bytes) -> Iterator[Block]:
    """Blocks in file order. Chunks are parsed by PARSE_THREADS threads (numpy releases
    the GIL in its loops), at most PARSE_THREADS + 1 chunks in flight."""
    line_no = 1 if header.has_header else 0  # lines before the next chunk
    pool = ThreadPoolExecutor(PARSE_THREADS)
    in_flight: Deque[Future] = deque()
    try:
        for chunk in _whole_lines(stream, pending):
            in_flight.append(pool.submit(_parse_chunk, path, chunk, header.dims, line_no))
            line_no += chunk.count(b"\n")
            if len(in_flight) > PARSE_THREADS:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()
    except READ_ERRORS as e:
        raise DataError(f"cannot read the file: {e}", path=str(path)) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        stream.close()


def _whole_lines(stream: BinaryIO, pending: bytes) -> Iterator[bytes]:
    """The stream in chunks of about CHUNK_BYTES that end at a line end."""
    while True:
        data = stream.read(CHUNK_BYTES)
        buf = pending + data if pending else data
        if not data:
            if buf:
                yield buf if buf.endswith(b"\n") else buf + b"\n"
            return
        cut = buf.rfind(b"\n") + 1
        if not cut:  # one line longer than a chunk: keep reading
            pending = buf
            continue
        pending = buf[cut:]
        yield buf[:cut]


def _parse_chunk(path: Path, chunk: bytes, dims: int, line_offset: int) -> Block:
    """Rows of a chunk of whole lines (ending with \\n); line_offset lines precede it."""
    buf = numpy.frombuffer(chunk, dtype=numpy.uint8)
    starts, ends = tokenize(buf)
    newlines = numpy.flatnonzero(buf == 10)
    n_lines = len(newlines)
    line_of_token = numpy.searchsorted(newlines, starts)  # the newlines before each token
    counts = numpy.bincount(line_of_token, minlength=n_lines)
    first_token = numpy.cumsum(counts) - counts
    regular = counts == dims + 1
    row_lines = numpy.flatnonzero(counts > 0)  # blank lines are skipped
    n_rows = len(row_lines)
    reg_lines = numpy.flatnonzero(regular)
    word_tokens = first_token[reg_lines]
    values = numpy.zeros((n_rows, dims), dtype=numpy.float32)
    keys = numpy.zeros(n_rows, dtype=numpy.uint64)
    all_regular = len(reg_lines) == n_rows
    reg_rows = numpy.arange(n_rows) if all_regular else numpy.searchsorted(row_lines, reg_lines)
    if len(reg_lines):
        value_tokens = (word_tokens[:, None] + numpy.arange(1, dims + 1)).ravel()
        parsed, failed = parse_floats(buf, starts[value_tokens], ends[value_tokens])
        if len(failed):
            bad = int(failed[0])
            token = bytes(buf[starts[value_tokens[bad]]:ends[value_tokens[bad]]])
            line = line_offset + int(reg_lines[bad // dims]) + 1
            raise DataError(f"value {bad % dims + 1} of the row is {_show(token)}, not a finite number",
                            path=str(path), line=line)
        values[reg_rows] = parsed.reshape(len(reg_lines), dims)
        w_starts, w_ends = starts[word_tokens], ends[word_tokens]
        keys[reg_rows] = murmurhash64a(buf, w_starts, w_ends - w_starts)
    words: List[str] = [""] * n_rows if not all_regular else []
    try:
        decoded = [chunk[a:b].decode("utf8") for a, b in zip(starts[word_tokens].tolist(),
                                                              ends[word_tokens].tolist())]
    except UnicodeDecodeError:
        decoded = []
        for i, (a, b) in enumerate(zip(starts[word_tokens].tolist(), ends[word_tokens].tolist())):
            try:
                decoded.append(chunk[a:b].decode("utf8"))
            except UnicodeDecodeError:
                raise DataError("the word is not valid UTF-8", path=str(path),
                                line=line_offset + int(reg_lines[i]) + 1) from None
    if all_regular:
        words = decoded
    else:
        for row, word in zip(reg_rows.tolist(), decoded):
            words[row] = word
        line_starts = numpy.concatenate([[0], newlines[:-1] + 1])
        irregular_rows = numpy.setdiff1d(numpy.arange(n_rows), reg_rows, assume_unique=True)
        for row in irregular_rows.tolist():
            index = int(row_lines[row])
            line = line_offset + index + 1
            text = chunk[line_starts[index]:newlines[index]]
            words[row], values[row] = _parse_irregular(path, text, dims, line)
        keys[irregular_rows] = hash_strings([words[r] for r in irregular_rows.tolist()])
    lines = line_offset + row_lines.astype(numpy.int64) + 1
    return Block(words, keys, values, lines)


def _parse_irregular(path: Path, text: bytes, dims: int, line: int) -> Tuple[str, numpy.ndarray]:
    """A line whose token count is not dims + 1: too few values is an error; more
    tokens are a word containing spaces, unless what precedes the values ends with a
    number (then the row has too many values)."""
    fields = text.split()
    if len(fields) < dims + 1:
        raise DataError(f"the row has {len(fields) - 1} values, expected {dims} (the width of "
                        f"{'the header' if line > 1 else 'line 1'})", path=str(path), line=line)
    parts = text.strip().rsplit(None, dims)
    word_part = parts[0]
    if _is_number(word_part.split()[-1]):
        raise DataError(f"the row has {len(fields) - 1} values, expected {dims}", path=str(path), line=line)
    try:
        word = word_part.decode("utf8")
    except UnicodeDecodeError:
        raise DataError("the word is not valid UTF-8", path=str(path), line=line) from None
    values = numpy.zeros(dims, dtype=numpy.float32)
    for i, field in enumerate(parts[1:]):
        if not _is_number(field):
            raise DataError(f"value {i + 1} of the row is {_show(field)}, not a finite number",
                            path=str(path), line=line)
        values[i] = float(field)
    return word, values


def _is_number(field: bytes) -> bool:
    try:
        return bool(numpy.isfinite(float(field)))
    except ValueError:
        return False


# -- word2vec binary -----------------------------------------------------------------------------
def _binary_blocks(path: Path, stream: BinaryIO, header: TableHeader) -> Iterator[Block]:
    """word2vec .bin: after the header, `word<space>` then dims float32 (little-endian)
    per row, rows optionally separated by a newline."""
    dims = header.dims
    row_bytes = 4 * dims
    buf = b""
    row = 0
    try:
        eof = False
        while not eof:
            data = stream.read(CHUNK_BYTES)
            eof = not data
            buf += data
            pos = 0
            words: List[str] = []
            offsets: List[int] = []
            while True:
                while pos < len(buf) and buf[pos] in (10, 13):
                    pos += 1
                space = buf.find(b" ", pos)
                if space < 0 or space + 1 + row_bytes > len(buf):
                    break
                word = buf[pos:space]
                if not word or b"\n" in word:
                    raise DataError("malformed word2vec binary row (expected 'word', a space and "
                                    f"{dims} float32 values)", path=str(path), line=row + 2)
                try:
                    words.append(word.decode("utf8"))
                except UnicodeDecodeError:
                    raise DataError("the word is not valid UTF-8", path=str(path), line=row + 2) from None
                offsets.append(space + 1)
                pos = space + 1 + row_bytes
                row += 1
            if words:
                raw = numpy.frombuffer(buf, dtype=numpy.uint8)
                gathered = raw[numpy.asarray(offsets)[:, None] + numpy.arange(row_bytes)]
                values = gathered.view("<f4").reshape(len(words), dims).astype(numpy.float32)
                finite = numpy.isfinite(values).all(axis=1)
                if not finite.all():
                    bad = int(numpy.flatnonzero(~finite)[0])
                    raise DataError("the row holds a value that is not a finite number", path=str(path),
                                    line=row - len(words) + bad + 2)
                lines = numpy.arange(row - len(words), row, dtype=numpy.int64) + 2
                yield Block(words, hash_strings(words), values, lines)
            buf = buf[pos:]
        if buf.strip():
            raise DataError(f"the file ends inside a row ({len(buf.strip())} bytes left over): truncated?",
                            path=str(path), line=row + 2)
    except READ_ERRORS as e:
        raise DataError(f"cannot read the file: {e}", path=str(path)) from None
    finally:
        stream.close()
