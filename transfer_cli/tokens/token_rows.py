"""Token rows: a token's columns laid out as a Doc holds them, ready to be gathered.

The tokenizer's chunk cache refers to tokens by a row of this table, so that a Doc's
whole column matrix is one `take` (no zero-filled matrix to fill in column by column).
A row is a word's lexeme row (Vocab), its special-case NORM if it has one, SPACY, and
zeros for IDX and every annotation column. Rows come in pairs: an even row is the token
without a trailing space, the odd row after it the same token with one, so that giving a
token its space is adding 1 to its row.

Rows are copies of the Vocab's lexeme rows: when the Vocab has changed a row since
(`lexeme_version` differs from Vocab.lexeme_version), the owner starts afresh with `clear`.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy

from . import attrs as A
from .columns import COL, COLUMNS, N_LEX
from .doc import Doc
from .vocab import Vocab

_SPACY = COL[A.SPACY]
_IDX = COL[A.IDX]
_NORM = COL[A.NORM]
_INITIAL_ROWS = 1024


class TokenRows:
    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self._table = _new_table(_INITIAL_ROWS)
        self.clear()

    def clear(self) -> None:
        """Forget every row (the row numbers handed out before are no longer valid)."""
        if len(self._table) > _INITIAL_ROWS:  # a long text's many rows are not kept for ever
            self._table = _new_table(_INITIAL_ROWS)
        # word, or (word, special-case norm) -> the pair's even row
        self._pair_of: Dict[Union[str, Tuple[str, str]], int] = {}
        self._norms: Dict[int, str] = {}  # even row -> its special-case norm, for pairs that have one
        # the pairs made since the last write, in row order: their lexeme rows and norms
        self._pending_lexemes: List[int] = []
        self._pending_norms: List[Tuple[int, str]] = []
        self._n_rows = 0
        self._n_written = 0
        self.lexeme_version = self.vocab.lexeme_version

    def __len__(self) -> int:
        return self._n_rows

    def pairs(self, tokens: Sequence[Tuple[str, Optional[str], Any]]) -> List[int]:
        """The even rows of tokens given as (word, special-case norm or None for the lexeme's
        own, anything); +1 for a row with a space. New words are added to the Vocab."""
        get = self._pair_of.get
        rows = [get(word) if norm is None else get((word, norm)) for word, norm, _ in tokens]
        if None in rows:
            rows = [self.pair(word, norm) if row is None else row for row, (word, norm, _) in zip(rows, tokens)]
        return rows

    def pair(self, word: str, norm: Optional[str] = None) -> int:
        """The even row of one token (see pairs), made if new."""
        key: Union[str, Tuple[str, str]] = word if norm is None else (word, norm)
        row = self._pair_of.get(key)
        if row is None:
            row = self._n_rows
            self._n_rows += 2
            self._pair_of[key] = row
            # written in one go before the next take
            self._pending_lexemes.append(self.vocab.row_id(word))
            if norm is not None:
                self._norms[row] = norm
                self._pending_norms.append((row, norm))
        return row

    def norm(self, row: int) -> Optional[str]:
        """The special-case norm of a row, None if it has the lexeme's own."""
        return self._norms.get(row & ~1)

    def doc(self, words: List[str], spaces: List[bool], rows: List[int], idx: List[int]) -> Doc:
        """The Doc of these tokens: `rows` from pair() (+1 where a space follows), `idx` their
        character offsets. The lists are taken over, not copied."""
        if self._n_written != self._n_rows:
            self._write_pending()
        cols = self._table.take(rows, axis=0)
        if rows:
            cols[:, _IDX] = idx
        return Doc._from_prepared(self.vocab, words, spaces, cols)

    def _write_pending(self) -> None:
        if self._n_rows > len(self._table):
            grown = _new_table(max(self._n_rows, 2 * len(self._table)))
            grown[:len(self._table)] = self._table
            self._table = grown
        # each pair's two rows get the same lexeme row
        pairs = self._table[self._n_written:self._n_rows].reshape((-1, 2, len(COLUMNS)))
        pairs[:, :, :N_LEX] = self.vocab.rows(self._pending_lexemes)[:, None, :]
        if self._pending_norms:
            add = self.vocab.strings.add
            for row, norm in self._pending_norms:
                self._table[row:row + 2, _NORM] = add(norm)
            self._pending_norms = []
        self._pending_lexemes = []
        self._n_written = self._n_rows


def _new_table(n_rows: int) -> numpy.ndarray:
    """Zeros, except SPACY, which is 1 in every odd row (the second of a pair) and stays so."""
    table = numpy.zeros((n_rows, len(COLUMNS)), dtype="uint64")
    table[1::2, _SPACY] = 1
    return table
