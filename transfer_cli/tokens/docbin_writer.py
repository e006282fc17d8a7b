"""Writing a `.spacy` (DocBin) file with bounded memory, however many docs go in.

A DocBin's bytes are one zlib-compressed msgpack map whose fields each hold all docs
(one token array, one spaces array, a list of cats, ...), so a DocBin built in memory
grows with the corpus. DocBinWriter packs docs with a DocBin a batch at a time and
spills each batch's fields to anonymous temporary files; `write` then streams the map
into a zlib compressor field by field. Only the string table (one entry per distinct
string) and one batch stay in memory. The file is a standard `.spacy` file: msgpack
allows the 32-bit length headers used for the spilled fields, and spaCy's reader and
ours read it like any other."""
import struct
import tempfile
import zlib
from pathlib import Path
from typing import IO, Dict, Iterable, Optional, Union

import numpy

from ..errors import DataError
from .docbin import DOCBIN_ALL_ATTRS, STRING_COLUMNS, DocBin, _to_spacy_values
from .doc import Doc
from .msgpack_codec import msgpack_dumps

# Tokens a batch holds before it is spilled (x 13 attrs x 8 bytes: ~2 MB; spilling copies it a few times).
BATCH_TOKENS = 20_000
_COPY_CHUNK = 1 << 20
_MAX_BIN = (1 << 32) - 1  # msgpack's largest bin/array


class DocBinWriter:
    """Add Docs one at a time, then `write(file)` once. Spill files are created in
    `spill_dir` (default: the system's temp folder) and vanish when closed."""

    def __init__(self, attrs: Iterable[Union[str, int]] = DOCBIN_ALL_ATTRS, store_user_data: bool = False, *,
                 spill_dir: Optional[Union[str, Path]] = None, batch_tokens: int = BATCH_TOKENS) -> None:
        self._batch = DocBin(attrs=attrs, store_user_data=store_user_data)
        self._batch_tokens = batch_tokens
        self._pending_tokens = 0
        self._spill_dir = str(spill_dir) if spill_dir is not None else None
        self._fields: Dict[str, IO[bytes]] = {}
        self._sizes: Dict[str, int] = {}  # spilled bytes of the binary fields, entries of the list fields
        self.n_docs = 0
        self.n_tokens = 0

    @property
    def attrs(self):
        return self._batch.attrs

    def __len__(self) -> int:
        return self.n_docs

    def add(self, doc: Doc) -> None:
        self._batch.add(doc)
        self.n_docs += 1
        self.n_tokens += len(doc)
        self._pending_tokens += len(doc)
        if self._pending_tokens >= self._batch_tokens:
            self._spill()

    def _field(self, name: str) -> IO[bytes]:
        if name not in self._fields:
            self._fields[name] = tempfile.TemporaryFile(dir=self._spill_dir, prefix=".docbin-")
            self._sizes[name] = 0
        return self._fields[name]

    def _spill(self) -> None:
        """Move the batch's per-doc fields to the spill files; keep its string table."""
        batch = self._batch
        if batch.tokens:
            tokens = numpy.ascontiguousarray(numpy.vstack(batch.tokens), dtype="uint64")
            for j, attr in enumerate(batch.attrs):
                if attr in STRING_COLUMNS:
                    tokens[:, j] = _to_spacy_values(tokens[:, j])
            self._append("tokens", tokens.tobytes("C"))
            self._append("spaces", numpy.ascontiguousarray(numpy.vstack(batch.spaces), dtype=bool).tobytes("C"))
            lengths = numpy.asarray([len(t) for t in batch.tokens], dtype="int32")
            self._append("lengths", lengths.tobytes("C"))
        lists = [("cats", batch.cats), ("flags", batch.flags), ("span_groups", batch.span_groups)]
        if batch.store_user_data:
            lists.append(("user_data", batch.user_data))
        for name, values in lists:
            field = self._field(name)
            for value in values:
                field.write(msgpack_dumps(value))
            self._sizes[name] += len(values)
        for values in (batch.tokens, batch.spaces, batch.cats, batch.flags, batch.span_groups, batch.user_data):
            values.clear()
        self._pending_tokens = 0

    def _append(self, name: str, data: bytes) -> None:
        self._field(name).write(data)
        self._sizes[name] += len(data)

    def write(self, out: IO[bytes]) -> None:
        """Stream the whole `.spacy` file into the binary file `out`."""
        self._spill()
        batch = self._batch
        keys = ["version", "attrs", "tokens", "spaces", "lengths", "strings", "cats", "flags", "span_groups"]
        if batch.store_user_data:
            keys.append("user_data")
        for name in keys[2:]:
            if name != "strings":
                self._field(name)
        compressor = zlib.compressobj()

        def emit(data: bytes) -> None:
            out.write(compressor.compress(data))

        emit(bytes([0x80 | len(keys)]))  # fixmap header
        for key in keys:
            emit(msgpack_dumps(key))
            if key == "version":
                emit(msgpack_dumps(batch.version))
            elif key == "attrs":
                emit(msgpack_dumps(batch.attrs))
            elif key == "strings":
                emit(msgpack_dumps(sorted(batch.strings)))
            else:
                size = self._sizes[key]
                if size > _MAX_BIN:
                    raise DataError(f"too much data for one .spacy file ({key}: {size} bytes or entries, the "
                                    "format's limit is 4 GiB): split the input into several files")
                binary = key in ("tokens", "spaces", "lengths")
                emit((b"\xc6" if binary else b"\xdd") + struct.pack(">I", size))  # bin 32 / array 32 header
                field = self._fields[key]
                field.seek(0)
                for chunk in iter(lambda: field.read(_COPY_CHUNK), b""):
                    emit(chunk)
        out.write(compressor.flush())

    def close(self) -> None:
        for field in self._fields.values():
            field.close()
        self._fields.clear()

    def __enter__(self) -> "DocBinWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
