"""floret tables: hashed subword vectors, so every word gets a vector.

A floret table (https://github.com/explosion/floret) has no keys: its rows are hash
buckets. A word's vector is the mean of the rows of its character n-grams. The word
is padded with `bow`/`eow` ("<word>"); its n-grams are the padded word itself plus
every substring of `minn` to `maxn` characters. Each n-gram is hashed (UTF-8 bytes)
with MurmurHash3_x64_128 seeded with `hash_seed`; the first `hash_count` of the four
32-bit words of the hash, modulo the number of rows, are its rows. floret's `.floret`
export starts with the header `rows dims minn maxn hash_count hash_seed bow eow`,
followed by one line per row (an index, then the values).
"""
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Sequence, Tuple

import numpy

from ...errors import DataError
from .hashing import murmurhash3_parts

# gathered n-gram rows per block when averaging: bounds the temporary memory
_BLOCK_VALUES = 4_000_000


@dataclass(frozen=True)
class FloretSettings:
    minn: int
    maxn: int
    hash_count: int
    hash_seed: int
    bow: str = "<"
    eow: str = ">"

    def check(self) -> "FloretSettings":
        if self.minn < 1 or self.maxn < self.minn:
            raise DataError(f"floret settings: need 1 <= minn <= maxn, got minn={self.minn} maxn={self.maxn}")
        if not 1 <= self.hash_count <= 4:
            raise DataError(f"floret settings: hash_count must be 1 to 4, got {self.hash_count}")
        if not 0 <= self.hash_seed < 2 ** 32:
            raise DataError(f"floret settings: hash_seed must be a 32-bit unsigned number, got {self.hash_seed}")
        return self

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_header(cls, fields: Sequence[str]) -> "FloretSettings":
        """From the last six fields of a floret header line."""
        minn, maxn, hash_count, hash_seed = (int(x) for x in fields[:4])
        return cls(minn, maxn, hash_count, hash_seed, fields[4], fields[5]).check()

    def ngrams(self, word: str) -> List[str]:
        padded = self.bow + word + self.eow
        grams = [padded]
        for size in range(self.minn, self.maxn + 1):
            grams.extend(padded[i:i + size] for i in range(len(padded) - size + 1))
        return grams


def ngram_rows(words: Sequence[str], settings: FloretSettings, n_rows: int) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """(rows, counts): the table rows of every word's n-grams, concatenated, and how
    many belong to each word. The empty string has none."""
    grams: List[bytes] = []
    counts = numpy.zeros(len(words), dtype=numpy.int64)
    for i, word in enumerate(words):
        if word:
            word_grams = settings.ngrams(word)
            grams.extend(g.encode("utf8") for g in word_grams)
            counts[i] = len(word_grams)
    if not grams:
        return numpy.zeros(0, dtype=numpy.int64), counts
    parts = murmurhash3_parts(grams, settings.hash_seed)[:, :settings.hash_count]
    rows = (parts % numpy.uint64(n_rows)).astype(numpy.int64).ravel()
    return rows, counts * settings.hash_count


def floret_vectors(table: numpy.ndarray, words: Sequence[str], settings: FloretSettings) -> numpy.ndarray:
    """(len(words), dims) float32: each word's mean n-gram row (zeros for '')."""
    n_rows, dims = table.shape
    out = numpy.zeros((len(words), dims), dtype=numpy.float32)
    if not len(words) or not n_rows:
        return out
    per_word = max(1, settings.hash_count * (settings.maxn - settings.minn + 2) * 12)
    step = max(1, _BLOCK_VALUES // max(1, dims * per_word))
    for begin in range(0, len(words), step):
        block = words[begin:begin + step]
        rows, counts = ngram_rows(block, settings, n_rows)
        present = counts > 0
        if not present.any():
            continue
        gathered = table[rows]
        offsets = numpy.concatenate([[0], numpy.cumsum(counts[present])[:-1]])
        sums = numpy.add.reduceat(gathered, offsets, axis=0, dtype=numpy.float32)
        out[begin:begin + len(block)][present] = sums / counts[present, None].astype(numpy.float32)
    return out
