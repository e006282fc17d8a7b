"""Hashing many byte strings at once with numpy.

- `murmurhash64a`: MurmurHash64A with seed 1, the function `tokens.strings.hash_string`
  computes one string at a time (spaCy's string hashes). Converting a vectors file
  hashes hundreds of thousands of words; doing it per word in Python costs more than
  parsing their floats.
- `murmurhash3_x64_128`: MurmurHash3_x64_128, which floret tables use to map each
  character n-gram of a word to rows.

Strings are given as byte offsets into one uint8 buffer, gathered into a zero-padded
matrix and hashed block by block; uint64 arithmetic wraps modulo 2**64 as in C.
"""
import functools
from typing import Callable, List, Sequence, Tuple

import numpy
from numpy.lib.stride_tricks import sliding_window_view

_U64 = numpy.uint64
_M64A = _U64(0xC6A4A7935BD1E995)
_C1 = _U64(0x87C37B91114253D5)
_C2 = _U64(0x4CF5AD432745937F)
_FMIX1 = _U64(0xFF51AFD7ED558CCD)
_FMIX2 = _U64(0xC4CEB9FE1A85EC53)
# Strings longer than this are hashed one by one, so that one very long string does not
# widen the padded matrix of a whole batch.
MAX_BATCHED_BYTES = 256


def pack(strings: Sequence[bytes]) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """(buffer, starts, lengths) for a list of byte strings."""
    lengths = numpy.fromiter((len(s) for s in strings), dtype=numpy.int64, count=len(strings))
    starts = numpy.zeros(len(strings), dtype=numpy.int64)
    if len(strings) > 1:
        numpy.cumsum(lengths[:-1], out=starts[1:])
    return numpy.frombuffer(b"".join(strings), dtype=numpy.uint8), starts, lengths


def _blocks(buf: numpy.ndarray, starts: numpy.ndarray, lengths: numpy.ndarray, block: int) -> numpy.ndarray:
    """(n, n_blocks) little-endian uint64 words of each string, zero-padded, with at
    least one all-zero word after the last byte of the longest string."""
    width = (int(lengths.max()) // block + 1) * block
    padded = numpy.concatenate([buf, numpy.zeros(width, dtype=numpy.uint8)])
    matrix = sliding_window_view(padded, width)[starts]  # a copy: one row per string
    matrix[numpy.arange(width)[None, :] >= lengths[:, None]] = 0
    return matrix.view("<u8")


def _by_length(func, buf: numpy.ndarray, starts: numpy.ndarray, lengths: numpy.ndarray, seed: int):
    """Hash the short strings as one batch and each long one on its own."""
    short = numpy.flatnonzero(lengths <= MAX_BATCHED_BYTES)
    parts = [(short, func(buf, starts[short], lengths[short], seed))]
    parts += [(numpy.array([i]), func(buf, starts[i:i + 1], lengths[i:i + 1], seed))
              for i in numpy.flatnonzero(lengths > MAX_BATCHED_BYTES).tolist()]
    multi = isinstance(parts[0][1], tuple)
    outs = [numpy.zeros(len(starts), dtype=numpy.uint64) for _ in range(2 if multi else 1)]
    for index, result in parts:
        for out, values in zip(outs, result if multi else (result,)):
            out[index] = values
    return tuple(outs) if multi else outs[0]


def _rotl(x: numpy.ndarray, r: int) -> numpy.ndarray:
    return (x << _U64(r)) | (x >> _U64(64 - r))


def _hash_in_blocks(block: int, n_outputs: int) -> Callable[[Callable], Callable]:
    """Turn `kernel(words, lengths, seed)`, which hashes a zero-padded matrix of `block`-byte
    blocks, into a function of (buf, starts, lengths, seed) that handles empty input and
    hashes very long strings on their own."""
    def wrap(kernel: Callable) -> Callable:
        @functools.wraps(kernel)
        def hash_all(buf: numpy.ndarray, starts: numpy.ndarray, lengths: numpy.ndarray, seed: int):
            if not len(starts):
                empty = numpy.zeros(0, dtype=numpy.uint64)
                return empty if n_outputs == 1 else tuple(empty.copy() for _ in range(n_outputs))
            lengths = numpy.asarray(lengths, dtype=numpy.int64)
            if len(starts) > 1 and lengths.max() > MAX_BATCHED_BYTES:
                return _by_length(hash_all, buf, starts, lengths, seed)
            return kernel(_blocks(buf, starts, lengths, block), lengths, seed)
        return hash_all
    return wrap


def murmurhash64a(buf: numpy.ndarray, starts: numpy.ndarray, lengths: numpy.ndarray, seed: int = 1
                  ) -> numpy.ndarray:
    """uint64 MurmurHash64A of buf[starts[i]:starts[i] + lengths[i]] for every i."""
    return _murmurhash64a(buf, starts, lengths, seed)


@_hash_in_blocks(8, 1)
def _murmurhash64a(words: numpy.ndarray, lengths: numpy.ndarray, seed: int) -> numpy.ndarray:
    n = len(lengths)
    n_full = lengths // 8
    with numpy.errstate(over="ignore"):
        h = _U64(seed) ^ (lengths.astype(numpy.uint64) * _M64A)
        for b in range(int(n_full.max())):
            k = words[:, b] * _M64A
            k ^= k >> _U64(47)
            k *= _M64A
            mixed = (h ^ k) * _M64A
            h = numpy.where(n_full > b, mixed, h)
        tail = words[numpy.arange(n), n_full]
        h = numpy.where(lengths % 8 != 0, (h ^ tail) * _M64A, h)
        h ^= h >> _U64(47)
        h *= _M64A
        h ^= h >> _U64(47)
    return h


def hash_strings(strings: Sequence[str]) -> numpy.ndarray:
    """uint64 keys of strings, equal to `tokens.strings.hash_string` of each."""
    encoded = [s.encode("utf8") for s in strings]
    if not encoded:
        return numpy.zeros(0, dtype=numpy.uint64)
    buf, starts, lengths = pack(encoded)
    keys = murmurhash64a(buf, starts, lengths)
    keys[lengths == 0] = 0  # the empty string is the 'missing' value
    return keys


def _fmix64(k: numpy.ndarray) -> numpy.ndarray:
    k ^= k >> _U64(33)
    k *= _FMIX1
    k ^= k >> _U64(33)
    k *= _FMIX2
    k ^= k >> _U64(33)
    return k


def murmurhash3_x64_128(buf: numpy.ndarray, starts: numpy.ndarray, lengths: numpy.ndarray, seed: int
                        ) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """The two uint64 halves (h1, h2) of MurmurHash3_x64_128 of each string."""
    return _murmurhash3_x64_128(buf, starts, lengths, seed)


@_hash_in_blocks(16, 2)
def _murmurhash3_x64_128(words: numpy.ndarray, lengths: numpy.ndarray, seed: int
                         ) -> Tuple[numpy.ndarray, numpy.ndarray]:
    n = len(lengths)
    n_full = lengths // 16
    with numpy.errstate(over="ignore"):
        h1 = numpy.full(n, seed & 0xFFFFFFFF, dtype=numpy.uint64)
        h2 = h1.copy()
        for b in range(int(n_full.max())):
            active = n_full > b
            k1 = words[:, 2 * b] * _C1
            k1 = _rotl(k1, 31) * _C2
            g1 = _rotl(h1 ^ k1, 27) + h2
            g1 = g1 * _U64(5) + _U64(0x52DCE729)
            k2 = words[:, 2 * b + 1] * _C2
            k2 = _rotl(k2, 33) * _C1
            g2 = _rotl(h2 ^ k2, 31) + g1
            g2 = g2 * _U64(5) + _U64(0x38495AB5)
            h1 = numpy.where(active, g1, h1)
            h2 = numpy.where(active, g2, h2)
        # the tail: zero padding makes the mixing of absent tail bytes a no-op
        rows = numpy.arange(n)
        k1 = words[rows, 2 * n_full] * _C1
        k2 = words[rows, 2 * n_full + 1] * _C2
        h2 ^= _rotl(k2, 33) * _C1
        h1 ^= _rotl(k1, 31) * _C2
        size = lengths.astype(numpy.uint64)
        h1 ^= size
        h2 ^= size
        h1 += h2
        h2 += h1
        h1 = _fmix64(h1)
        h2 = _fmix64(h2)
        h1 += h2
        h2 += h1
    return h1, h2


def murmurhash3_parts(strings: List[bytes], seed: int) -> numpy.ndarray:
    """(n, 4) uint64: the four 32-bit words of each string's MurmurHash3_x64_128
    (h1 low, h1 high, h2 low, h2 high), the order floret uses them in."""
    buf, starts, lengths = pack(strings)
    h1, h2 = murmurhash3_x64_128(buf, starts, lengths, seed)
    low = _U64(0xFFFFFFFF)
    return numpy.stack([h1 & low, h1 >> _U64(32), h2 & low, h2 >> _U64(32)], axis=1)
