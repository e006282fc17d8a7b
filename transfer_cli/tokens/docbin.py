"""DocBin: many Docs packed into one binary blob, in spaCy's `.spacy` format.

The format (spaCy 3.x, version "0.1") is a zlib-compressed msgpack map:
  version "0.1"; attrs: attribute IDs, ORTH first; tokens: the docs' uint64 token
  arrays stacked (C order); spaces: one bool byte per token; lengths: int32 tokens per
  doc; strings: every string the arrays refer to; cats, flags ({"has_unknown_spaces"})
  and span_groups: one entry per doc; user_data: per-doc msgpack, only when stored.

String attributes hold 64-bit MurmurHash values, except that spaCy stores a string
that is one of its symbols (all UPOS tags, some labels and deps) as the symbol's small
ID. Our Doc always stores the hash, so values are translated on the way in and out
(spacy_symbols.py). MORPH is the hash of the normalised FEATS string."""
import struct
import zlib
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Union

import numpy

from ..errors import DataError, PathError
from ..fileio import write_bytes_atomic
from . import attrs as A
from .columns import COL, COLUMNS, N_LEX
from .doc import Doc
from .morph import normalize_morph
from .msgpack_codec import msgpack_dumps, msgpack_loads
from .span import Span
from .spacy_symbols import N_SYMBOLS, SYMBOL_NAMES, UPOS
from .strings import hash_string
from .vocab import Vocab

DOCBIN_VERSION = "0.1"
# The attributes spaCy's DocBin stores by default.
DOCBIN_ALL_ATTRS = ("ORTH", "NORM", "TAG", "HEAD", "DEP", "ENT_IOB", "ENT_TYPE", "ENT_KB_ID", "ENT_ID",
                    "LEMMA", "MORPH", "POS", "SENT_START")
# Columns whose values are string hashes (or spaCy symbol IDs).
STRING_COLUMNS = {A.ORTH, A.LOWER, A.NORM, A.SHAPE, A.PREFIX, A.SUFFIX, A.LEMMA, A.POS, A.TAG, A.DEP,
                  A.ENT_TYPE, A.ENT_KB_ID, A.ENT_ID, A.MORPH}
# Columns a Doc takes from an array; the lexical ones follow from the words themselves.
_SETTABLE = {A.TAG, A.POS, A.MORPH, A.LEMMA, A.DEP, A.HEAD, A.SENT_START, A.ENT_IOB, A.ENT_TYPE,
             A.ENT_KB_ID, A.ENT_ID}
_LEXICAL = {A.LOWER, A.SHAPE, A.PREFIX, A.SUFFIX}
_SPAN_STRUCT = ">QQQllll"  # span id, kb_id, label, start, end, start_char, end_char (big-endian)
_EMPTY_SPAN_GROUPS = msgpack_dumps([])
_EMPTY_MAP = msgpack_dumps({})  # what spaCy writes for no user_data
_CHUNK_TOKENS = 16384  # get_docs prepares this many tokens' columns at a time

# symbol ID -> our hash of the symbol's name; our hash -> symbol ID
_SYMBOL_TO_HASH = numpy.array([hash_string(name) for name in SYMBOL_NAMES], dtype="uint64")
_HASH_TO_SYMBOL: Dict[int, int] = {int(h): i for i, h in enumerate(_SYMBOL_TO_HASH) if i}
_SYMBOL_HASHES = numpy.array(sorted(_HASH_TO_SYMBOL), dtype="uint64")
_SYMBOL_IDS_BY_HASH = numpy.array([_HASH_TO_SYMBOL[int(h)] for h in _SYMBOL_HASHES], dtype="uint64")
_UPOS_HASHES = {hash_string(tag) for tag in UPOS}


def _to_spacy_values(column: numpy.ndarray) -> numpy.ndarray:
    """Our string hashes → spaCy's values (symbol IDs where the string is a symbol)."""
    pos = numpy.searchsorted(_SYMBOL_HASHES, column).clip(0, len(_SYMBOL_HASHES) - 1)
    mask = _SYMBOL_HASHES[pos] == column
    if mask.any():
        column = column.copy()
        column[mask] = _SYMBOL_IDS_BY_HASH[pos[mask]]
    return column


def _from_spacy_values(column: numpy.ndarray, attr: int, used_symbols: Set[str]) -> numpy.ndarray:
    """spaCy's values → our hashes; the names of the symbols met go into `used_symbols`.
    Anything at or above N_SYMBOLS is a hash already."""
    mask = (column < N_SYMBOLS) & (column > 0)
    if mask.any():
        column = column.copy()
        ids = column[mask].astype("int64")
        used_symbols.update(SYMBOL_NAMES[i] for i in numpy.unique(ids).tolist())
        column[mask] = _SYMBOL_TO_HASH[ids]
        if attr == A.MORPH:  # "_": morph set but empty; our Doc has one 'no features' value
            column[column == _SYMBOL_TO_HASH[N_SYMBOLS - 1]] = 0
    return column


def _spacy_value(value: int) -> int:
    return _HASH_TO_SYMBOL.get(value, value)


def _our_value(value: int, vocab: Vocab) -> int:
    return vocab.strings.add(SYMBOL_NAMES[value]) if 0 < value < N_SYMBOLS else value


# Real .spacy files decompress to a few times their size (deflate's best is ~1000x): a
# file that claims far more is refused before it can take gigabytes of memory.
MAX_EXPANSION = 100
MIN_DECOMPRESSED_LIMIT = 64 << 20


def decompress_bounded(data: bytes, where: Optional[str] = None) -> bytes:
    """zlib-decompress `data`, refusing output beyond MAX_EXPANSION times its size (at
    least MIN_DECOMPRESSED_LIMIT): memory stays bounded whatever the stream claims."""
    limit = max(MIN_DECOMPRESSED_LIMIT, MAX_EXPANSION * len(data))
    decompressor = zlib.decompressobj()
    out = decompressor.decompress(data, limit)
    if not decompressor.eof:
        if len(out) >= limit:
            raise DataError(f"decompresses to more than {limit >> 20} MiB, over {MAX_EXPANSION} times its "
                            f"{len(data):,} bytes: refused as a likely decompression bomb (real .spacy files "
                            "compress far less)", path=where)
        raise DataError("not a .spacy file (the zlib stream is truncated)", path=where)
    return out


class DocBin:
    """Docs packed for binary serialization in spaCy's `.spacy` format.

    attrs: the token attributes to store (ORTH is always stored, first; SPACY goes
    in its own field). store_user_data: also store each doc's `user_data`.
    In memory the token arrays hold our hashes; spaCy's symbol IDs exist only in the
    bytes (translated once per to_bytes/from_bytes, for all docs together)."""

    def __init__(self, attrs: Iterable[Union[str, int]] = DOCBIN_ALL_ATTRS, store_user_data: bool = False,
                 docs: Iterable[Doc] = ()) -> None:
        attr_ids = sorted(set(A.intify_attrs(attrs)))
        self.version = DOCBIN_VERSION
        self.attrs: List[int] = [A.ORTH] + [a for a in attr_ids if a not in (A.ORTH, A.SPACY)]
        self.store_user_data = store_user_data
        self.tokens: List[numpy.ndarray] = []  # per doc: (n_tokens, len(attrs)) uint64, our hashes
        self.spaces: List[numpy.ndarray] = []
        self.cats: List[Dict[str, float]] = []
        self.flags: List[Dict[str, Any]] = []
        self.span_groups: List[bytes] = []
        self.user_data: List[Optional[bytes]] = []
        self.strings: Set[str] = set()
        self._symbol_strings: Set[str] = set()  # symbol names met reading bytes: vocab needs them
        self._seen: Set[int] = set()  # hashes whose strings are in self.strings already
        self._morph_keys: Dict[int, int] = {}  # MORPH hash -> hash of its normalised string
        for doc in docs:
            self.add(doc)

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def n_tokens(self) -> int:
        return sum(len(t) for t in self.tokens)

    # -- adding and reading docs ---------------------------------------------------------------
    def add(self, doc: Doc) -> None:
        """Add a Doc's annotation (the configured attrs, spaces, cats, span groups)."""
        array = doc.to_array(self.attrs)
        if not array.flags.writeable or numpy.shares_memory(array, doc.cols):
            array = array.copy()
        strings = doc.vocab.strings
        string_cols = []
        for j, attr in enumerate(self.attrs):
            if attr == A.MORPH:
                array[:, j] = self._normalized_morphs(array[:, j], doc)
            elif attr == A.POS:
                bad = [v for v in numpy.unique(array[:, j]).tolist() if v and v not in _UPOS_HASHES]
                if bad:
                    raise DataError(f"POS '{strings[bad[0]]}' is not a universal POS tag; .spacy files can "
                                    f"only store {', '.join(UPOS)}")
            elif attr in STRING_COLUMNS and attr != A.ORTH:
                string_cols.append(j)
        if string_cols:
            seen = self._seen
            new = [v for v in numpy.unique(array[:, string_cols]).tolist() if v not in seen]
            self.strings.update(strings[v] for v in new)
            seen.update(new)
        self.strings.update(doc.words)
        self.tokens.append(array)
        self.spaces.append(numpy.asarray(doc.spaces, dtype=bool).reshape((-1, 1)))
        self.flags.append({"has_unknown_spaces": False})
        self.cats.append(dict(doc.cats))
        self.span_groups.append(self._span_groups_to_bytes(doc))
        if self.store_user_data:
            self.user_data.append(msgpack_dumps(doc.user_data))

    def _normalized_morphs(self, column: numpy.ndarray, doc: Doc) -> numpy.ndarray:
        """Re-key MORPH by the normalised FEATS string, the key spaCy uses."""
        keys = self._morph_keys
        for value in numpy.unique(column).tolist():
            if not value:
                continue
            key = keys.get(value)
            if key is None:
                try:
                    norm = normalize_morph(doc.vocab.strings[value])
                except ValueError as e:
                    raise DataError(str(e)) from None
                self.strings.add(norm)
                key = keys[value] = hash_string(norm)
            if key != value:
                column = column.copy()
                column[column == value] = key
        return column

    def _span_groups_to_bytes(self, doc: Doc) -> bytes:
        if not doc.spans:
            return _EMPTY_SPAN_GROUPS
        msg: Dict[bytes, List[str]] = {}
        for key, group in doc.spans.items():
            spans = []
            for span in group:
                self.strings.add(span.label_)
                if span.kb_id:
                    self.strings.add(span.kb_id_)
                spans.append(struct.pack(_SPAN_STRUCT, 0, _spacy_value(span.kb_id), _spacy_value(span.label),
                                         span.start, span.end, span.start_char, span.end_char))
            group_bytes = msgpack_dumps({"name": key, "attrs": {}, "spans": spans})
            msg.setdefault(group_bytes, []).append(key)
        return msgpack_dumps(msg)

    def get_docs(self, vocab: Vocab) -> Iterator[Doc]:
        """Yield the Docs one at a time, their strings added to `vocab`.

        Docs are decoded a chunk at a time (about _CHUNK_TOKENS tokens): the words' strings,
        lexeme rows, offsets and checks are worked out with array operations for the whole
        chunk, so the per-doc work is slicing. Extra memory stays bounded by the chunk."""
        lookup: Dict[int, str] = {}
        add = vocab.strings.add
        for string in self.strings:
            lookup[add(string)] = string
        for string in self._symbol_strings:
            lookup[add(string)] = string
        n_docs = len(self.tokens)
        start = 0
        while start < n_docs:
            end, n_tokens = start, 0
            while end < n_docs and (end == start or n_tokens < _CHUNK_TOKENS):
                n_tokens += len(self.tokens[end])
                end += 1
            yield from self._decode_chunk(vocab, lookup, start, end)
            start = end

    def _decode_chunk(self, vocab: Vocab, lookup: Dict[int, str], first: int, end: int) -> Iterator[Doc]:
        """The Docs first..end-1, built from columns prepared for all of them at once."""
        lengths = numpy.array([len(self.tokens[i]) for i in range(first, end)], dtype="int64")
        n = int(lengths.sum())
        starts = numpy.zeros(len(lengths), dtype="int64")
        numpy.cumsum(lengths[:-1], out=starts[1:])
        doc_of_token = numpy.repeat(numpy.arange(first, end), lengths)
        tokens = numpy.concatenate(self.tokens[first:end]) if n else numpy.zeros((0, len(self.attrs)), "uint64")
        # words: each distinct ORTH hash looked up (and analysed by the vocab) once per chunk
        hashes, inverse = numpy.unique(tokens[:, self.attrs.index(A.ORTH)], return_inverse=True)
        inverse = inverse.reshape(-1)
        try:
            distinct = [lookup[h] for h in hashes.tolist()]
        except KeyError as e:
            i = int(doc_of_token[int(numpy.argmax(hashes[inverse] == numpy.uint64(e.args[0])))])
            raise DataError(f"doc {i}: a word's hash ({e.args[0]}) is not in the file's string table") from None
        if distinct and not all(distinct):
            i = int(doc_of_token[int(numpy.argmax(inverse == distinct.index("")))])
            raise DataError(f"doc {i}: a word is the empty string (words must be non-empty)")
        cols = numpy.zeros((n, len(COLUMNS)), dtype="uint64")
        if n:
            cols[:, :N_LEX] = vocab.lexeme_rows(distinct)[inverse]
        words = numpy.array(distinct, dtype=object)[inverse].tolist() if n else []
        spaces = numpy.concatenate([s.reshape(-1) for s in self.spaces[first:end]]) if n else \
            numpy.zeros(0, dtype=bool)
        unknown_spaces = [i for i in range(first, end) if self.flags[i].get("has_unknown_spaces")]
        if unknown_spaces:  # spaces not recorded: a space after every token, as Doc(words) assumes
            spaces = spaces.copy()
            for i in unknown_spaces:
                spaces[starts[i - first]:starts[i - first] + lengths[i - first]] = True
        cols[:, COL[A.SPACY]] = spaces
        # IDX: the characters before each token within its doc
        widths = numpy.fromiter(map(len, distinct), dtype="uint64", count=len(distinct))[inverse] + spaces
        offsets = numpy.cumsum(widths) - widths
        cols[:, COL[A.IDX]] = offsets - numpy.repeat(offsets[starts[lengths > 0]], lengths[lengths > 0])
        set_cols = [j for j, attr in enumerate(self.attrs) if attr in _SETTABLE]
        set_attrs = [self.attrs[j] for j in set_cols]
        for j, attr in zip(set_cols, set_attrs):
            cols[:, COL[attr]] = tokens[:, j]
        self._check_columns(cols, first, lengths, starts, doc_of_token, set_attrs)
        spaces_list = spaces.tolist()
        for k, i in enumerate(range(first, end)):
            a, b = int(starts[k]), int(starts[k] + lengths[k])
            doc = Doc._from_prepared(vocab, words[a:b], spaces_list[a:b], cols[a:b].copy())
            doc.cats = dict(self.cats[i]) if i < len(self.cats) else {}
            try:
                if i < len(self.span_groups):
                    self._span_groups_from_bytes(doc, self.span_groups[i])
                if i < len(self.user_data) and self.user_data[i] is not None and self.user_data[i] != _EMPTY_MAP:
                    user_data = msgpack_loads(self.user_data[i], use_list=False)
                    if not isinstance(user_data, dict):
                        raise ValueError(f"user_data must be a map, not {type(user_data).__name__}")
                    doc.user_data.update(user_data)
            except DataError:
                raise
            except Exception as e:  # msgpack and struct raise several unrelated types on damaged bytes
                raise DataError(f"doc {i}: damaged span groups or user_data ({type(e).__name__}: {e})") from None
            yield doc

    @staticmethod
    def _check_columns(cols: numpy.ndarray, first: int, lengths: numpy.ndarray, starts: numpy.ndarray,
                       doc_of_token: numpy.ndarray, attrs: List[int]) -> None:
        """Values a Doc cannot hold (a HEAD outside its doc, IOB codes, SENT_START) are an
        error naming the first doc that has one."""
        if not len(cols):
            return
        position = numpy.arange(len(cols)) - numpy.repeat(starts, lengths)
        if A.HEAD in attrs:
            heads = cols[:, COL[A.HEAD]].view("int64") + position
            bad = (heads < 0) | (heads >= numpy.repeat(lengths, lengths))
            if bad.any():
                i = int(doc_of_token[int(numpy.argmax(bad))])
                raise DataError(f"doc {i}: a HEAD points outside the doc ({int(lengths[i - first])} tokens)")
        if A.ENT_IOB in attrs:
            bad = cols[:, COL[A.ENT_IOB]] > 3
            if bad.any():
                raise DataError(f"doc {int(doc_of_token[int(numpy.argmax(bad))])}: ENT_IOB values must be 0..3")
        if A.SENT_START in attrs:
            values = cols[:, COL[A.SENT_START]].view("int64")
            bad = (values < -1) | (values > 1)
            if bad.any():
                raise DataError(f"doc {int(doc_of_token[int(numpy.argmax(bad))])}: SENT_START values must be "
                                "-1, 0 or 1")

    @staticmethod
    def _span_groups_from_bytes(doc: Doc, data: bytes) -> None:
        if not data or data == _EMPTY_SPAN_GROUPS or data == _EMPTY_MAP:
            return
        msg = msgpack_loads(data)
        # older spaCy wrote a list of group bytes (keyed by group name), newer a map bytes -> keys
        items = [(group, None) for group in msg] if isinstance(msg, list) else list(msg.items())
        for group_bytes, keys in items:
            group = msgpack_loads(group_bytes)
            spans = []
            for span_bytes in group["spans"]:
                _id, kb_id, label, start, end, _sc, _ec = struct.unpack(_SPAN_STRUCT, span_bytes)
                if not 0 <= start <= end <= len(doc):
                    raise ValueError(f"a span [{start}, {end}) outside the doc ({len(doc)} tokens)")
                spans.append(Span(doc, start, end, label=_our_value(label, doc.vocab),
                                  kb_id=_our_value(kb_id, doc.vocab)))
            for key in keys or [group["name"]]:
                doc.spans[key] = list(spans)

    def merge(self, other: "DocBin") -> None:
        """Append another DocBin's docs; both must store the same attrs and user-data setting."""
        if self.attrs != other.attrs:
            raise ValueError(f"Cannot merge DocBins with different attrs: {self.attrs} vs {other.attrs}")
        if self.store_user_data != other.store_user_data:
            raise ValueError("Cannot merge DocBins that differ in store_user_data")
        self.tokens.extend(other.tokens)
        self.spaces.extend(other.spaces)
        self.strings.update(other.strings)
        self._symbol_strings.update(other._symbol_strings)
        self.cats.extend(other.cats)
        self.flags.extend(other.flags)
        self.span_groups.extend(other.span_groups)
        self.user_data.extend(other.user_data)

    # -- bytes ------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        lengths = [len(tokens) for tokens in self.tokens]
        tokens = numpy.vstack(self.tokens) if self.tokens else numpy.zeros((0, len(self.attrs)), dtype="uint64")
        tokens = numpy.ascontiguousarray(tokens, dtype="uint64")
        for j, attr in enumerate(self.attrs):
            if attr in STRING_COLUMNS:
                tokens[:, j] = _to_spacy_values(tokens[:, j])
        spaces = numpy.vstack(self.spaces) if self.spaces else numpy.zeros((0, 1), dtype=bool)
        msg = {
            "version": self.version,
            "attrs": self.attrs,
            "tokens": tokens.tobytes("C"),
            "spaces": numpy.ascontiguousarray(spaces, dtype=bool).tobytes("C"),
            "lengths": numpy.asarray(lengths, dtype="int32").tobytes("C"),
            "strings": sorted(self.strings),
            "cats": self.cats,
            "flags": self.flags,
            "span_groups": self.span_groups,
        }
        if self.store_user_data:
            msg["user_data"] = self.user_data
        return zlib.compress(msgpack_dumps(msg))

    def from_bytes(self, data: bytes, *, path: Optional[Union[str, Path]] = None) -> "DocBin":
        """Load from bytes; DataError (naming `path` if given) when they are not a DocBin."""
        where = str(path) if path is not None else None
        try:
            msg = msgpack_loads(decompress_bounded(data, where))
        except zlib.error:
            raise DataError("not a .spacy file (zlib decompression failed)", path=where) from None
        except DataError:
            raise
        except Exception as e:  # msgpack raises several types for garbage
            raise DataError(f"not a .spacy file (msgpack: {e})", path=where) from None
        try:
            self._load_msg(msg)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise DataError(f"corrupt .spacy file: {e}", path=where) from None
        return self

    def _load_msg(self, msg: Any) -> None:
        if not isinstance(msg, dict):
            raise ValueError("expected a map with attrs, tokens, spaces, lengths and strings")
        missing = [k for k in ("attrs", "tokens", "spaces", "lengths", "strings") if k not in msg]
        if missing:
            raise ValueError(f"missing field(s) {', '.join(missing)}")
        attrs = [int(a) for a in msg["attrs"]]
        if not attrs or attrs[0] != A.ORTH:
            raise ValueError("attrs must start with ORTH (65)")
        lengths = numpy.frombuffer(msg["lengths"], dtype="int32")
        flat_tokens = numpy.frombuffer(msg["tokens"], dtype="uint64")
        flat_spaces = numpy.frombuffer(msg["spaces"], dtype=bool)
        n_tokens = int(lengths.sum()) if len(lengths) else 0
        if (lengths < 0).any() or flat_tokens.size != n_tokens * len(attrs) or flat_spaces.size != n_tokens:
            raise ValueError(f"sizes disagree: {len(lengths)} docs of {n_tokens} tokens in all, "
                             f"{flat_tokens.size} token values for {len(attrs)} attrs, {flat_spaces.size} spaces")
        n_docs = len(lengths)
        flat_tokens = flat_tokens.reshape((n_tokens, len(attrs))).copy()
        flat_spaces = flat_spaces.reshape((n_tokens, 1))
        bounds = numpy.cumsum(lengths)[:-1] if n_docs else []
        self.attrs = attrs
        self.version = str(msg.get("version", DOCBIN_VERSION))
        self.strings = set(msg["strings"])
        self.tokens = numpy.split(flat_tokens, bounds) if n_docs else []
        self.spaces = numpy.split(flat_spaces, bounds) if n_docs else []
        self.cats = list(msg.get("cats") or [{} for _ in range(n_docs)])
        self.flags = list(msg.get("flags") or [{} for _ in range(n_docs)])
        self.span_groups = list(msg.get("span_groups") or [b"" for _ in range(n_docs)])
        if "user_data" in msg:
            self.user_data = list(msg["user_data"])
            self.store_user_data = True
        else:
            self.user_data = [None] * n_docs
        for name, values in (("cats", self.cats), ("flags", self.flags), ("span_groups", self.span_groups)):
            if len(values) != n_docs:
                raise ValueError(f"{len(values)} {name} entries for {n_docs} docs")
        _check_doc_entries(self.cats, self.flags, self.span_groups, self.user_data)
        self._check_strings(flat_tokens)
        self._symbol_strings = set()
        for j, attr in enumerate(attrs):  # spaCy's symbol IDs -> our hashes, all docs at once
            if attr in STRING_COLUMNS:
                flat_tokens[:, j] = _from_spacy_values(flat_tokens[:, j], attr, self._symbol_strings)
        self._seen = set()
        self._morph_keys = {}

    def _check_strings(self, flat_tokens: numpy.ndarray) -> None:
        """Every hash in a column we read must have its string in the table. (spaCy does not
        store the strings of LOWER/SHAPE/PREFIX/SUFFIX; those follow from the words anyway.)"""
        columns = [j for j, attr in enumerate(self.attrs) if attr in STRING_COLUMNS and attr not in _LEXICAL]
        if not columns or not len(flat_tokens):
            return
        known = numpy.fromiter((hash_string(s) for s in self.strings), dtype="uint64", count=len(self.strings))
        known.sort()
        if not len(known):
            known = numpy.zeros(1, dtype="uint64")
        unknown_parts = []
        for j in columns:  # a binary search per value: no sort of the (large) token arrays
            values = flat_tokens[:, j]
            found = known[numpy.searchsorted(known, values).clip(0, len(known) - 1)] == values
            unknown_parts.append(values[~found & (values >= N_SYMBOLS)])
        unknown = numpy.unique(numpy.concatenate(unknown_parts))
        if len(unknown):
            raise ValueError(f"{len(unknown)} hash(es) in the token arrays have no string in the string table "
                             f"(e.g. {int(unknown[0])})")

    # -- files ------------------------------------------------------------------------------------
    def to_disk(self, path: Union[str, Path]) -> None:
        """Write to `path` (a temp file renamed into place, so no half-written file is left)."""
        path = Path(path)
        if not path.parent.is_dir():
            raise PathError(f"cannot write {path}: directory {path.parent} does not exist")
        write_bytes_atomic(path, self.to_bytes())

    def from_disk(self, path: Union[str, Path]) -> "DocBin":
        path = Path(path)
        if not path.exists():
            raise PathError(f"file not found: {path}")
        if path.is_dir():
            raise PathError(f"expected a .spacy file, found a directory: {path}")
        try:
            data = path.read_bytes()
        except OSError as e:
            raise PathError(f"cannot read {path}: {e.strerror}") from None
        return self.from_bytes(data, path=path)


def _check_doc_entries(cats: List[Any], flags: List[Any], span_groups: List[Any], user_data: List[Any]) -> None:
    """The per-doc fields of a .spacy file have the types the docs are built from: a
    file that lies about them is one error here, not a crash (or odd cats) later."""
    for i, doc_cats in enumerate(cats):
        if not isinstance(doc_cats, dict) or not all(
                isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
                for k, v in doc_cats.items()):
            raise ValueError(f"doc {i}: cats must map label strings to numbers")
    for i, doc_flags in enumerate(flags):
        if not isinstance(doc_flags, dict) or not isinstance(doc_flags.get("has_unknown_spaces", False), bool):
            raise ValueError(f"doc {i}: flags must be a map with a boolean has_unknown_spaces")
    for i, data in enumerate(span_groups):
        if not isinstance(data, bytes):
            raise ValueError(f"doc {i}: span_groups must be bytes")
    if len(user_data) != len(cats) or not all(data is None or isinstance(data, bytes) for data in user_data):
        raise ValueError(f"user_data must hold one bytes entry (or null) per doc ({len(cats)})")
