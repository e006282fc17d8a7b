"""Rule-based tokenizer: whitespace split, then prefixes, suffixes, special cases,
URL/token matches and infixes, the way spaCy's tokenizer works.

The text is cut into maximal runs of whitespace and of non-whitespace ("chunks").
A single space after a chunk becomes the trailing whitespace of its last token;
any other whitespace run (minus that first space) is a token of its own, so
`doc.text == text` always holds. Each chunk is tokenized independently:

1. a chunk that is a special case (e.g. "don't" → "do", "n't") is done;
2. otherwise prefixes and suffixes are cut off, alternately, until nothing more
   comes off or what is left is a special case (on a long rest the rules see a
   window at its end, so that this takes time linear in the chunk: _WHOLE_REST);
3. the remaining core is a special case, a token match, a URL, or is split at
   its infixes;
4. special cases made of several affix pieces (":)" = ":" + ")") are then
   matched over the chunk's tokens and merged back.

Chunks repeat a lot in running text, so each chunk's tokens are cached, ready for
the Doc (their rows of Doc columns found, lengths known: tokens/token_rows.py); only
unseen chunks run the regexes.
"""
import json
import re
from itertools import accumulate
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from ..errors import DataError, PathError, UserError
from ..tokens import attrs as A
from ..tokens.doc import COL, Doc
from ..tokens.token_rows import TokenRows
from ..tokens.vocab import Vocab
from .pattern_guard import TimedPattern, guard
from .rules import default_patterns, upgrade_pattern

SearchFunc = Callable[[str], Optional["re.Match"]]
FinditerFunc = Callable[[str], Iterator["re.Match"]]
SpecialTokens = List[Dict[str, str]]
# one token of a chunk: (text, norm or None, the rule that made it)
Piece = Tuple[str, Optional[str], str]
# A chunk's tokens, as the cache keeps them: _N_FIELDS values per token, one flat tuple, so
# that a text's tokens are gathered with one list extend per chunk and split into columns by
# slicing: the word, whether a space follows it, its row of Doc columns (TokenRows: the
# lexeme, its special-case norm if any, and that space) and its length plus that space (the
# step to the next token's offset). Entries are as when a ' ' follows the chunk: the last
# token has the space; taking it away is subtracting 1 from its space, row and step.
Fields = Tuple[Any, ...]
_N_FIELDS = 4
_WORD, _SPACE, _ROW, _STEP = range(_N_FIELDS)

_WHITESPACE_SPLIT = re.compile(r"(\s+)").split
# Affixes come off one at a time. Running the rules over the whole rest after each cut made a
# run of n punctuation marks cost O(n²) (50,000 '!': 560 s). On a rest longer than _WHOLE_REST
# the rules see only _AFFIX_WINDOW characters at its start (prefixes) or end (suffixes); the
# window doubles while the match comes within _AFFIX_CONTEXT characters of its inner edge,
# where the characters beyond could change the answer (a run of periods, a lookbehind). That is
# the whole rest's answer for rules that decide an affix from at most 12 characters at that end
# (lookarounds included) or that match runs such as '\.\.+': all the default rules are so.
_WHOLE_REST = 64
_AFFIX_WINDOW = 16
_AFFIX_CONTEXT = 4
_ATTR_NAMES = {A.ORTH: "ORTH", A.NORM: "NORM", "orth": "ORTH", "norm": "NORM", "ORTH": "ORTH", "NORM": "NORM"}
_GUARDED_METHODS = ("search", "match", "finditer")
_REGEX_FIELDS = ("prefix_search", "suffix_search", "infix_finditer", "token_match", "url_match")
_FLAG_LETTERS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"),
                 (re.ASCII, "a"))


class Tokenizer:
    """Splits text into a Doc. The rules are regex-method callables (as in spaCy):
    `prefix_search` and `suffix_search` are compiled patterns' `.search`,
    `infix_finditer` a pattern's `.finditer`, `token_match` / `url_match` a
    pattern's `.match`; `rules` maps special-case strings to their tokens,
    e.g. {"don't": [{"ORTH": "do"}, {"ORTH": "n't", "NORM": "not"}]}."""

    def __init__(self, vocab: Vocab, rules: Optional[Dict[str, SpecialTokens]] = None,
                 prefix_search: Optional[SearchFunc] = None, suffix_search: Optional[SearchFunc] = None,
                 infix_finditer: Optional[FinditerFunc] = None, token_match: Optional[SearchFunc] = None,
                 url_match: Optional[SearchFunc] = None, *, faster_heuristics: bool = True,
                 max_cache_size: int = 100_000) -> None:
        self._cache: Dict[str, Fields] = {}
        self.vocab = vocab
        self._prefix_search = _as_method(prefix_search, "search")
        self._suffix_search = _as_method(suffix_search, "search")
        self._infix_finditer = _as_method(infix_finditer, "finditer")
        self._token_match = _as_method(token_match, "match")
        self._url_match = _as_method(url_match, "match")
        self.faster_heuristics = faster_heuristics
        self.max_cache_size = max_cache_size
        self._rules: Dict[str, SpecialTokens] = {}
        self._specials: Dict[str, List[Piece]] = {}
        self._longest_special = 0
        # special cases that the affix rules would split, by the pieces they split into
        self._affix_specials: Dict[Tuple[str, ...], str] = {}
        # the same as a trie: {piece: {next piece: ..., None: special ending here}}
        self._affix_special_trie: Dict[Optional[str], Any] = {}
        # special cases containing whitespace: matched over the whole text's tokens
        self._spaced_specials: Dict[Tuple[Tuple[str, ...], Tuple[bool, ...]], str] = {}
        self._load_rules(rules or {})

    # -- rule settings (changing one empties the cache) -----------------------------------
    @property
    def vocab(self) -> Vocab:
        return self._vocab

    @vocab.setter
    def vocab(self, value: Vocab) -> None:
        self._vocab = value
        self._token_rows = TokenRows(value)
        self._cache.clear()  # cached rows are the old Vocab's

    def _clear_cache(self) -> None:
        self._cache.clear()
        self._token_rows.clear()

    @property
    def prefix_search(self) -> Optional[SearchFunc]:
        return self._prefix_search

    @prefix_search.setter
    def prefix_search(self, value: Optional[SearchFunc]) -> None:
        self._prefix_search = _as_method(value, "search")
        self._reload()

    @property
    def suffix_search(self) -> Optional[SearchFunc]:
        return self._suffix_search

    @suffix_search.setter
    def suffix_search(self, value: Optional[SearchFunc]) -> None:
        self._suffix_search = _as_method(value, "search")
        self._reload()

    @property
    def infix_finditer(self) -> Optional[FinditerFunc]:
        return self._infix_finditer

    @infix_finditer.setter
    def infix_finditer(self, value: Optional[FinditerFunc]) -> None:
        self._infix_finditer = _as_method(value, "finditer")
        self._reload()

    @property
    def token_match(self) -> Optional[SearchFunc]:
        return self._token_match

    @token_match.setter
    def token_match(self, value: Optional[SearchFunc]) -> None:
        self._token_match = _as_method(value, "match")
        self._reload()

    @property
    def url_match(self) -> Optional[SearchFunc]:
        return self._url_match

    @url_match.setter
    def url_match(self, value: Optional[SearchFunc]) -> None:
        self._url_match = _as_method(value, "match")
        self._reload()

    @property
    def rules(self) -> Dict[str, SpecialTokens]:
        return {string: [dict(t) for t in tokens] for string, tokens in self._rules.items()}

    @rules.setter
    def rules(self, rules: Dict[str, SpecialTokens]) -> None:
        self._load_rules(rules)

    # -- special cases ----------------------------------------------------------------------
    def add_special_case(self, string: str, substrings: Iterable[Dict[Any, str]]) -> None:
        """Tokenize `string` as `substrings` (dicts with ORTH and optionally NORM;
        the ORTHs must concatenate to `string`)."""
        tokens = _check_special_case(string, substrings)
        self._rules[string] = tokens
        self._specials[string] = _special_pieces(tokens)
        self._longest_special = max(self._longest_special, len(string))
        self._clear_cache()
        self._affix_specials = {k: v for k, v in self._affix_specials.items() if v != string}
        self._spaced_specials = {k: v for k, v in self._spaced_specials.items() if v != string}
        self._index_special(string)
        self._index_affix_specials()

    def _load_rules(self, rules: Dict[str, SpecialTokens]) -> None:
        checked = {string: _check_special_case(string, tokens) for string, tokens in rules.items()}
        self._rules = checked
        self._specials = {string: _special_pieces(tokens) for string, tokens in checked.items()}
        self._reload()

    def _reload(self) -> None:
        """Re-derive everything that depends on the rules: the cache and the affix specials."""
        self._clear_cache()
        self._longest_special = max(map(len, self._specials), default=0)
        self._letters_plain = self._letters_are_plain()
        self._affix_specials = {}
        self._spaced_specials = {}
        for string in self._rules:
            self._index_special(string)
        self._index_affix_specials()

    def _index_special(self, string: str) -> None:
        """Register a special case that the affix rules would cut into pieces, so that the
        pieces are merged back when they occur inside a longer chunk (e.g. ':)' in 'Hi:)')."""
        # whitespace inside a string that is not all whitespace: it spans several chunks
        has_space = not string.isspace() and any(c.isspace() for c in string)
        if self.faster_heuristics and not has_space and not self._has_affix(string):
            return
        if has_space:
            words, spaces, _, _ = self._split_text(string, with_special_cases=False, with_labels=True)
            self._spaced_specials[(tuple(words), tuple(spaces[:-1]))] = string
        else:
            pieces = tuple(p[0] for p in self._split_chunk(string, with_special_cases=False))
            self._affix_specials[pieces] = string

    def _index_affix_specials(self) -> None:
        trie: Dict[Optional[str], Any] = {}
        for pieces, special in self._affix_specials.items():
            node = trie
            for piece in pieces:
                node = node.setdefault(piece, {})
            node[None] = special
        self._affix_special_trie = trie

    def _has_affix(self, string: str) -> bool:
        return bool(self.find_prefix(string) or self.find_suffix(string) or self.find_infix(string))

    # -- rule lookups ---------------------------------------------------------------------------
    def find_prefix(self, string: str) -> int:
        """Length of the prefix to cut off `string` (0 if none)."""
        if self._prefix_search is None:
            return 0
        match = self._prefix_search(string)
        return match.end() - match.start() if match is not None else 0

    def find_suffix(self, string: str) -> int:
        """Length of the suffix to cut off `string` (0 if none)."""
        if self._suffix_search is None:
            return 0
        match = self._suffix_search(string)
        return match.end() - match.start() if match is not None else 0

    def find_infix(self, string: str) -> List["re.Match"]:
        """The infix matches inside `string`."""
        if self._infix_finditer is None:
            return []
        return list(self._infix_finditer(string))

    def _prefix_len(self, chunk: str, start: int, end: int) -> int:
        """find_prefix(chunk[start:end]), reading only the start of a long rest (see _AFFIX_WINDOW)."""
        if self._prefix_search is None:
            return 0
        if end - start <= _WHOLE_REST:
            return self.find_prefix(chunk[start:end])
        size = _AFFIX_WINDOW
        while end - start > size:
            length = self.find_prefix(chunk[start:start + size])
            if length <= size - _AFFIX_CONTEXT:  # decided well inside the window
                return length
            size *= 2
        return self.find_prefix(chunk[start:end])

    def _suffix_len(self, chunk: str, start: int, end: int) -> int:
        """find_suffix(chunk[start:end]), reading only the end of a long rest (see _AFFIX_WINDOW)."""
        if self._suffix_search is None:
            return 0
        if end - start <= _WHOLE_REST:
            return self.find_suffix(chunk[start:end])
        size = _AFFIX_WINDOW
        while end - start > size:
            length = self.find_suffix(chunk[end - size:end])
            if length <= size - _AFFIX_CONTEXT:
                return length
            size *= 2
        return self.find_suffix(chunk[start:end])

    # -- tokenizing -----------------------------------------------------------------------------
    def __call__(self, text: str) -> Doc:
        token_rows = self._token_rows
        if len(self._cache) >= self.max_cache_size or token_rows.lexeme_version != self._vocab.lexeme_version:
            # a full cache starts afresh (so the rows it refers to stay bounded too); rows
            # copied from lexeme rows the Vocab has changed since are dropped
            self._clear_cache()
        if self._spaced_specials:  # tokens merge across chunks: the lists, then the Doc
            words, spaces, norms, _ = self._split_text(text)
            doc = Doc(self.vocab, words, spaces)
            column = doc.cols[:, COL[A.NORM]]
            add = self.vocab.strings.add
            for i, norm in norms.items():
                column[i] = add(norm)
            return doc
        fields = self._token_fields(text)
        idx = list(accumulate(fields[_STEP::_N_FIELDS], initial=0))
        idx.pop()  # the offset after the last token
        return token_rows.doc(fields[_WORD::_N_FIELDS], fields[_SPACE::_N_FIELDS], fields[_ROW::_N_FIELDS], idx)

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        """Tokenize a stream of texts (batch_size is accepted for spaCy compatibility:
        tokenizing is per text, so there is nothing to batch)."""
        for text in texts:
            yield self(text)

    def explain(self, text: str) -> List[Tuple[str, str]]:
        """(rule, token text) for every non-whitespace token, the rule being PREFIX,
        SUFFIX, INFIX, TOKEN, SPECIAL-n, TOKEN_MATCH or URL_MATCH. The tokens are the
        ones __call__ makes."""
        words, _, _, labels = self._split_text(text, with_labels=True)
        return [(label, word) for word, label in zip(words, labels) if not word.isspace()]

    def _token_fields(self, text: str) -> List[Any]:
        """The tokens of `text` as _N_FIELDS values each, in one list (see Fields)."""
        fields: List[Any] = []
        if not text:
            return fields
        cache_get, fields_for = self._cache.get, self._chunk_fields
        if text.isprintable() and "  " not in text and text[0] != " " and text[-1] != " ":
            # the common case: the only whitespace is single spaces between chunks
            for chunk in text.split(" "):
                fields += cache_get(chunk) or fields_for(chunk)
            fields[_SPACE - _N_FIELDS] = False  # no space after the last chunk
            fields[_ROW - _N_FIELDS] -= 1
            fields[_STEP - _N_FIELDS] -= 1
        else:
            parts = _WHITESPACE_SPLIT(text)  # non-space, space, non-space, ..., non-space
            for i, part in enumerate(parts):
                if not part:
                    continue
                if i % 2 and part[0] == " " and fields:  # whitespace: its first ' ' trails the previous token
                    fields[_SPACE - _N_FIELDS] = True
                    fields[_ROW - _N_FIELDS] += 1
                    fields[_STEP - _N_FIELDS] += 1
                    part = part[1:]
                    if not part:
                        continue
                fields += cache_get(part) or fields_for(part)
                fields[_SPACE - _N_FIELDS] = False  # until whitespace that starts with ' ' follows
                fields[_ROW - _N_FIELDS] -= 1
                fields[_STEP - _N_FIELDS] -= 1
        return fields

    def _chunk_fields(self, chunk: str) -> Fields:
        """A chunk's cache entry (Fields), made and, while the cache has room, kept."""
        pieces = self._split_chunk(chunk)
        rows = self._token_rows.pairs(pieces)
        values: List[Any] = []
        for (word, _, _), row in zip(pieces, rows):
            values += (word, False, row, len(word))
        values[_SPACE - _N_FIELDS] = True
        values[_ROW - _N_FIELDS] += 1
        values[_STEP - _N_FIELDS] += 1
        fields = tuple(values)
        if len(self._cache) < self.max_cache_size:
            self._cache[chunk] = fields
        return fields

    def _split_text(self, text: str, *, with_special_cases: bool = True, with_labels: bool = False
                    ) -> Tuple[List[str], List[bool], Dict[int, str], List[str]]:
        """words, spaces, {token index: norm} for special-case norms, and (with_labels, or
        without special cases) the rule that made each token."""
        words: List[str]
        spaces: List[bool]
        labels: List[str] = []
        norms: Dict[int, str] = {}
        if with_special_cases and not with_labels:
            fields = self._token_fields(text)
            words, spaces = fields[_WORD::_N_FIELDS], fields[_SPACE::_N_FIELDS]
            norm_of = self._token_rows.norm
            for i, row in enumerate(fields[_ROW::_N_FIELDS]):
                norm = norm_of(row)
                if norm is not None:
                    norms[i] = norm
        else:  # explain() and special-case indexing: computed afresh, with labels
            words, spaces = [], []
            for i, part in enumerate(_WHITESPACE_SPLIT(text) if text else ()):
                if not part:
                    continue
                if i % 2 and part[0] == " " and words:  # whitespace: its first ' ' trails the previous token
                    spaces[-1] = True
                    part = part[1:]
                    if not part:
                        continue
                for word, norm, label in self._split_chunk(part, with_special_cases):
                    if norm is not None:
                        norms[len(words)] = norm
                    words.append(word)
                    spaces.append(False)
                    labels.append(label)
        if self._spaced_specials and with_special_cases:
            words, spaces, norms, labels = self._merge_spaced_specials(words, spaces, norms, labels, with_labels)
        return words, spaces, norms, labels

    def _split_chunk(self, chunk: str, with_special_cases: bool = True) -> List[Piece]:
        """The tokens of one whitespace-free chunk (or one whitespace run)."""
        specials = self._specials if with_special_cases else {}
        special = specials.get(chunk)
        if special is not None:
            return list(special)
        if self._letters_plain and chunk.isalpha():
            # letters only: no default rule applies to them (checked when the rules were set)
            return [(chunk, None, "TOKEN")]
        token_match = self._token_match
        # chunk[start:end] is what is left; the guard on its length keeps the special-case
        # lookups from hashing a long rest on every round
        longest_special = self._longest_special if with_special_cases else 0
        prefixes: List[str] = []
        suffixes: List[str] = []
        start, end = 0, len(chunk)
        while start < end:
            if token_match is not None and token_match(chunk[start:end]):
                break
            if end - start <= longest_special and chunk[start:end] in specials:
                break
            pre_len = self._prefix_len(chunk, start, end)
            if pre_len and end - start - pre_len <= longest_special and chunk[start + pre_len:end] in specials:
                prefixes.append(chunk[start:start + pre_len])
                start += pre_len
                break
            suf_len = self._suffix_len(chunk, start + pre_len, end)
            if suf_len and end - suf_len - start <= longest_special and chunk[start:end - suf_len] in specials:
                suffixes.append(chunk[end - suf_len:end])
                end -= suf_len
                break
            if not pre_len and not suf_len:
                break
            if pre_len:
                prefixes.append(chunk[start:start + pre_len])
                start += pre_len
            if suf_len:
                suffixes.append(chunk[end - suf_len:end])
                end -= suf_len
        pieces: List[Piece] = [(p, None, "PREFIX") for p in prefixes]
        if start < end:
            pieces += self._split_core(chunk[start:end], specials)
        pieces += [(s, None, "SUFFIX") for s in reversed(suffixes)]
        if len(pieces) > 1 and self._affix_specials and with_special_cases:
            pieces = self._merge_affix_specials(pieces)
        return pieces

    def _split_core(self, string: str, specials: Dict[str, List[Piece]]) -> List[Piece]:
        special = specials.get(string)
        if special is not None:
            return list(special)
        if self._token_match is not None and self._token_match(string):
            return [(string, None, "TOKEN_MATCH")]
        if self._url_match is not None and self._url_match(string):
            return [(string, None, "URL_MATCH")]
        matches = self.find_infix(string)
        if not matches:
            return [(string, None, "TOKEN")]
        pieces: List[Piece] = []
        start = 0
        for match in matches:
            infix_start, infix_end = match.start(), match.end()
            if infix_start == 0:  # an infix at the very start stays with the next piece
                continue
            if infix_start != start:
                pieces.append((string[start:infix_start], None, "TOKEN"))
            if infix_start != infix_end:
                pieces.append((string[infix_start:infix_end], None, "INFIX"))
            start = infix_end
        if start < len(string):
            pieces.append((string[start:], None, "TOKEN"))
        return pieces

    def _merge_affix_specials(self, pieces: List[Piece]) -> List[Piece]:
        """Merge runs of pieces that spell an affix-split special case; longer runs first,
        then leftmost, never overlapping."""
        texts = [p[0] for p in pieces]
        found: List[Tuple[int, int, int, str]] = []  # (-length, start, end, special)
        n = len(texts)
        for start in range(n):  # follow the trie from each piece: as far as the pieces spell a special case
            node = self._affix_special_trie.get(texts[start])
            end = start + 1
            while node is not None:
                special = node.get(None)
                if special is not None:
                    found.append((start - end, start, end, special))
                node = node.get(texts[end]) if end < n else None
                end += 1
        if not found:
            return pieces
        # A run whose first or last piece is already covered is skipped, and (as in spaCy)
        # its pieces still count as covered: in ':):)' the overlapping '):' blocks the second ':)'.
        taken = [False] * len(texts)
        chosen: Dict[int, Tuple[int, str]] = {}
        for _, start, end, special in sorted(found):
            if not taken[start] and not taken[end - 1]:
                chosen[start] = (end, special)
            for i in range(start, end):
                taken[i] = True
        merged: List[Piece] = []
        i = 0
        while i < len(pieces):
            if i in chosen:
                end, special = chosen[i]
                merged += self._specials[special]
                i = end
            else:
                merged.append(pieces[i])
                i += 1
        return merged

    def _merge_spaced_specials(self, words: List[str], spaces: List[bool], norms: Dict[int, str],
                               labels: List[str], with_labels: bool
                               ) -> Tuple[List[str], List[bool], Dict[int, str], List[str]]:
        """Special cases containing whitespace ('New York'), matched over the whole text."""
        by_first: Dict[str, List[Tuple[Tuple[str, ...], Tuple[bool, ...], str]]] = {}
        for (pattern_words, pattern_spaces), special in self._spaced_specials.items():
            by_first.setdefault(pattern_words[0], []).append((pattern_words, pattern_spaces, special))
        out_words: List[str] = []
        out_spaces: List[bool] = []
        out_labels: List[str] = []
        out_norms: Dict[int, str] = {}
        i = 0
        n = len(words)
        while i < n:
            best = None
            for pattern_words, pattern_spaces, special in by_first.get(words[i], ()):
                length = len(pattern_words)
                if (tuple(words[i:i + length]) == pattern_words
                        and tuple(spaces[i:i + length - 1]) == pattern_spaces
                        and (best is None or length > len(best[0]))):
                    best = (pattern_words, special)
            if best is None:
                if i in norms:
                    out_norms[len(out_words)] = norms[i]
                out_words.append(words[i])
                out_spaces.append(spaces[i])
                if with_labels:
                    out_labels.append(labels[i])
                i += 1
                continue
            length = len(best[0])
            pieces = self._specials[best[1]]
            for text, norm, label in pieces:
                if norm is not None:
                    out_norms[len(out_words)] = norm
                out_words.append(text)
                out_spaces.append(False)
                if with_labels:
                    out_labels.append(label)
            out_spaces[-1] = spaces[i + length - 1]
            i += length
        return out_words, out_spaces, out_norms, out_labels

    def _letters_are_plain(self) -> bool:
        """Whether a chunk of letters only can skip the regexes: true when every rule is
        absent or one of the default rules, none of which applies to letters alone."""
        patterns = [_pattern_of(getattr(self, "_" + name)) for name in _REGEX_FIELDS]
        if any(p is None and getattr(self, "_" + n) is not None for p, n in zip(patterns, _REGEX_FIELDS)):
            return False  # a custom function: cannot be checked
        known = default_patterns()
        return all(p is None or p == known.get(n) for p, n in zip(patterns, _REGEX_FIELDS))

    # -- serialization ---------------------------------------------------------------------------
    def to_bytes(self, *, exclude: Sequence[str] = ()) -> bytes:
        """The settings as UTF-8 JSON: the five regex patterns and the special cases."""
        data: Dict[str, Any] = {}
        for name in _REGEX_FIELDS:
            if name not in exclude:
                data[name] = _pattern_string(getattr(self, "_" + name), name)
        if "exceptions" not in exclude:
            data["exceptions"] = self.rules
        if "faster_heuristics" not in exclude:
            data["faster_heuristics"] = self.faster_heuristics
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf8")

    def from_bytes(self, data: bytes, *, exclude: Sequence[str] = ()) -> "Tokenizer":
        """Load settings written by to_bytes (JSON) or by spaCy's Tokenizer.to_bytes (msgpack)."""
        settings = _load_settings(data)
        for name in _REGEX_FIELDS:
            if name in settings and name not in exclude:
                setattr(self, "_" + name, _compile_setting(settings[name], name))
        if "faster_heuristics" in settings and "faster_heuristics" not in exclude:
            self.faster_heuristics = bool(settings["faster_heuristics"])
        if "exceptions" in settings and "exceptions" not in exclude:
            self._load_rules(settings["exceptions"] or {})
        else:
            self._reload()
        return self

    def to_disk(self, path: Union[str, Path], *, exclude: Sequence[str] = ()) -> None:
        """Write the settings to the file `path` (written to a temp file, then renamed)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_bytes(self.to_bytes(exclude=exclude))
            tmp.replace(path)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise PathError(f"cannot write the tokenizer settings: {err.strerror}", path=str(path)) from err

    def from_disk(self, path: Union[str, Path], *, exclude: Sequence[str] = ()) -> "Tokenizer":
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise PathError(f"cannot read the tokenizer settings: {err.strerror}", path=str(path)) from err
        try:
            return self.from_bytes(data, exclude=exclude)
        except DataError as err:
            raise DataError(err.bare_message, path=str(path)) from err


# -------------------------------------------------------------------------------- helpers
def _special_pieces(tokens: SpecialTokens) -> List[Piece]:
    return [(t["ORTH"], t.get("NORM"), f"SPECIAL-{i + 1}") for i, t in enumerate(tokens)]


def _check_special_case(string: str, substrings: Iterable[Dict[Any, str]]) -> SpecialTokens:
    tokens: SpecialTokens = []
    for token in substrings:
        converted: Dict[str, str] = {}
        for key, value in dict(token).items():
            name = _ATTR_NAMES.get(key)
            if name is None:
                raise UserError(f"special case {string!r}: only ORTH and NORM can be set, not {key!r}")
            if not isinstance(value, str):
                raise UserError(f"special case {string!r}: {name} must be a string, not {value!r}")
            converted[name] = value
        if not converted.get("ORTH"):
            raise UserError(f"special case {string!r}: every token needs a non-empty ORTH")
        tokens.append(converted)
    if not string or "".join(t["ORTH"] for t in tokens) != string:
        orths = [t["ORTH"] for t in tokens]
        raise UserError(f"special case {string!r}: the ORTHs {orths} do not add up to the string")
    return tokens


def _as_method(value: Any, method: str) -> Any:
    """Accept a compiled pattern or a pattern string in place of its bound method."""
    if isinstance(value, str):
        value = re.compile(value)
    if isinstance(value, re.Pattern):
        return getattr(guard(value), method)
    owner = getattr(value, "__self__", None)
    if isinstance(owner, re.Pattern) and getattr(value, "__name__", None) in _GUARDED_METHODS:
        return getattr(guard(owner), value.__name__)  # a user's pattern gets a time limit
    if value is not None and not callable(value):
        raise UserError(f"tokenizer rule must be a compiled regex or its .{method}, not {type(value).__name__}")
    return value


def _pattern_of(func: Any) -> Optional[str]:
    owner = getattr(func, "__self__", None)
    if isinstance(owner, (re.Pattern, TimedPattern)):
        flags = owner.flags & ~re.UNICODE
        inline = "".join(letter for flag, letter in _FLAG_LETTERS if flags & flag)
        return (f"(?{inline})" if inline else "") + owner.pattern
    return None


def _pattern_string(func: Any, name: str) -> Optional[str]:
    if func is None:
        return None
    pattern = _pattern_of(func)
    if pattern is None:
        raise UserError(f"the tokenizer's {name} is a custom function and cannot be saved: "
                        "use a compiled regex's method instead")
    return pattern


def _compile_setting(value: Any, name: str) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, bytes):
        value = value.decode("utf8")
    if not isinstance(value, str):
        raise DataError(f"tokenizer setting {name} must be a regex pattern string, not {type(value).__name__}")
    value = upgrade_pattern(value)  # patterns saved by earlier versions: same strings, less time
    try:
        compiled = re.compile(value)
    except re.error as err:
        raise DataError(f"tokenizer setting {name} is not a valid regex: {err}") from err
    return getattr(guard(compiled), "finditer" if name == "infix_finditer" else "match"
                   if name in ("token_match", "url_match") else "search")


def _load_settings(data: bytes) -> Dict[str, Any]:
    if data[:1] == b"{":
        try:
            settings = json.loads(data.decode("utf8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise DataError(f"tokenizer settings are not valid JSON: {err}") from err
    else:
        import srsly  # spaCy writes its tokenizer settings as msgpack

        try:
            settings = srsly.msgpack_loads(data)
        except Exception as err:  # msgpack raises several unrelated types
            raise DataError(f"tokenizer settings are neither JSON nor msgpack: {err}") from err
    if not isinstance(settings, dict):
        raise DataError("tokenizer settings must be a mapping of setting names to values")
    return settings
