"""Splitting a chunk of text into whitespace-separated tokens and parsing decimal
numbers, vectorized with numpy.

A vectors file is mostly numbers (a 400,000 x 50 table is 20 million of them), so
parsing them is the cost of converting it: per-token Python (`float()`, or
`numpy.asarray(list_of_strings)`) spends ~200 ns a number. Here the tokens of a chunk
are found with array operations on its bytes and right-aligned in a (width, n_tokens)
byte matrix (gathered 8 bytes at a time), which is read one character position at a
time for all tokens: the mantissa digits accumulate into a float64 (exact below 2**53,
so at most 15 digits), then one multiplication or division by an exact power of ten
gives the correctly rounded double — the same double `float()` returns — which is cast
to float32 like `numpy.float32(float(s))`.
Tokens outside that fast path (more digits, large exponents, 'nan', odd forms) go
through `float()` one by one; tokens `float()` rejects, or that are not finite, are
reported as failed.
"""
from typing import Tuple

import numpy

# Bytes up to 32 (space, tab, newline, carriage return and the other control characters)
# separate tokens: one comparison per byte. A line whose word contains a control
# character other than whitespace is then one token too long, and is read by the slower
# per-line path, which splits on whitespace only.
_SEPARATOR_MAX = numpy.uint8(32)
_POW10 = 10.0 ** numpy.arange(23)
MAX_DIGITS = 15  # mantissas below 10**15 < 2**53 are exact in a float64
MAX_FAST_WIDTH = 32  # longer tokens take the float() path


def tokenize(buf: numpy.ndarray) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """(starts, ends) byte offsets of the whitespace-separated tokens of buf."""
    if not len(buf):
        empty = numpy.zeros(0, dtype=numpy.int64)
        return empty, empty
    space = buf <= _SEPARATOR_MAX
    # positions where a token starts or ends: they alternate, beginning with a start
    change = numpy.empty(len(buf), dtype=bool)
    change[0] = not space[0]
    numpy.not_equal(space[1:], space[:-1], out=change[1:])
    edges = numpy.flatnonzero(change)
    if len(edges) % 2:  # the last token runs to the end of buf
        edges = numpy.append(edges, len(buf))
    return edges[0::2], edges[1::2]


def parse_floats(buf: numpy.ndarray, starts: numpy.ndarray, ends: numpy.ndarray
                 ) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """(values, failed): float64 values of the tokens buf[starts[i]:ends[i]], and the
    indices of tokens that are not finite decimal numbers (their values are 0)."""
    n = len(starts)
    if not n:
        return numpy.zeros(0, dtype=numpy.float64), numpy.zeros(0, dtype=numpy.int64)
    lengths = ends - starts
    if lengths.max() <= MAX_FAST_WIDTH:
        values, ok = _parse_fast(buf, ends, lengths)
    else:
        values, ok = numpy.zeros(n, dtype=numpy.float64), numpy.zeros(n, dtype=bool)
        fast = numpy.flatnonzero(lengths <= MAX_FAST_WIDTH)
        if len(fast):
            values[fast], ok[fast] = _parse_fast(buf, ends[fast], lengths[fast])
    failed = []
    for i in numpy.flatnonzero(~ok).tolist():
        try:
            value = float(bytes(buf[starts[i]:ends[i]]))
        except ValueError:
            value = float("nan")
        if numpy.isfinite(value):
            values[i] = value
        else:
            failed.append(i)
    return values, numpy.asarray(failed, dtype=numpy.int64)


def _parse_fast(buf: numpy.ndarray, ends: numpy.ndarray, lengths: numpy.ndarray
                ) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Values and a success mask for [sign] digits [. digits] [(e|E) [sign] digits]."""
    starts = ends - lengths
    lengths = lengths.astype(numpy.int8)  # <= MAX_FAST_WIDTH: small integers keep the checks cheap
    first_char = buf[starts]
    negative = first_char == 45
    signed = negative | (first_char == 43)
    chars = _right_aligned(buf, starts, ends, lengths, signed)
    is_e = (chars == 101) | (chars == 69)
    if is_e.any():
        mant, n_frac, n_dots, n_allowed, n_digits, power, exp_ok = _rows_with_exponent(chars, is_e, signed)
    else:
        mant, n_frac, n_dots, n_allowed = _rows(chars)
        n_digits = lengths - n_dots - signed  # when all characters are allowed: digits, a dot, the sign
        power, exp_ok = None, True
    ok = (n_allowed == lengths) & (n_dots <= 1) & (n_digits >= 1) & (n_digits <= MAX_DIGITS) & exp_ok
    if exp_ok is True:  # no exponents: value = mantissa / 10**digits after the dot
        values = mant / _POW10[n_frac]
    else:
        power -= n_frac
        ok &= numpy.abs(power) <= 22
        power = numpy.where(ok, power, 0)
        scale = _POW10[numpy.abs(power)]
        values = numpy.where(power >= 0, mant * scale, mant / scale)
    numpy.negative(values, out=values, where=negative)
    return values, ok


# For a token with k (0..8) of its bytes at the top of a little-endian 8-byte word: the
# mask keeping them, and spaces for the other bytes.
_KEEP = numpy.array([0] + [(0xFFFFFFFFFFFFFFFF << (8 * (8 - k))) & 0xFFFFFFFFFFFFFFFF for k in range(1, 9)],
                    dtype=numpy.uint64)
_FILL = numpy.uint64(0x2020202020202020) & ~_KEEP


def _right_aligned(buf: numpy.ndarray, starts: numpy.ndarray, ends: numpy.ndarray, lengths: numpy.ndarray,
                   signed: numpy.ndarray) -> numpy.ndarray:
    """(width, n) uint8: row j holds every token's byte `width - j` places before its
    end. Bytes before a token are spaces (no part of a number); a leading sign becomes
    '0' (a leading zero changes nothing, and any other sign now makes a token invalid).

    The bytes are gathered 8 at a time: a uint64 view of the buffer at every byte
    offset, indexed at the token ends, then the bytes before each token are masked."""
    width = int(lengths.max())
    n_words = (width + 7) // 8
    margin = 8 * n_words
    padded = numpy.empty(margin + len(buf) + 8, dtype=numpy.uint8)
    padded[:margin] = 32
    padded[margin:margin + len(buf)] = buf
    padded[margin + len(buf):] = 32
    padded[starts + margin] = numpy.where(signed, numpy.uint8(48), buf[starts])  # in order: no mask compress
    words = numpy.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    blocks = []
    for k in reversed(range(n_words)):  # word k: the 8 bytes ending 8k bytes before the token's end
        word = words[ends + (margin - 8 * (k + 1))]
        inside = numpy.clip(lengths - 8 * k, 0, 8)
        word &= _KEEP[inside]
        word |= _FILL[inside]
        blocks.append(word.view(numpy.uint8).reshape(-1, 8))
    matrix = blocks[0] if n_words == 1 else numpy.hstack(blocks)
    return numpy.ascontiguousarray(matrix[:, margin - width:].T)


def _rows(chars: numpy.ndarray) -> Tuple[numpy.ndarray, ...]:
    """(mantissa, digits after the dot, dots, digits + dots) of tokens without exponent,
    a row (one character of every token) at a time, in reused buffers."""
    n = chars.shape[1]
    mant = numpy.zeros(n, dtype=numpy.float64)
    n_frac = numpy.zeros(n, dtype=numpy.int8)
    n_dots = numpy.zeros(n, dtype=numpy.int8)
    n_allowed = numpy.zeros(n, dtype=numpy.int8)
    seen_dot = numpy.zeros(n, dtype=bool)
    d = numpy.empty(n, dtype=numpy.uint8)
    digit = numpy.empty(n, dtype=bool)
    dot = numpy.empty(n, dtype=bool)
    scratch = numpy.empty(n, dtype=bool)
    factor = numpy.empty(n, dtype=numpy.float64)
    for c in chars:
        numpy.subtract(c, numpy.uint8(48), out=d)
        numpy.less(d, 10, out=digit)
        numpy.equal(c, 46, out=dot)
        numpy.multiply(digit, 9.0, out=factor)
        factor += 1.0
        mant *= factor  # times 10 where this row holds a digit, else 1
        d *= digit
        mant += d
        numpy.logical_and(digit, seen_dot, out=scratch)
        n_frac += scratch
        n_dots += dot
        digit |= dot
        n_allowed += digit
        seen_dot |= dot
    return mant, n_frac, n_dots, n_allowed


def _rows_with_exponent(chars: numpy.ndarray, is_e: numpy.ndarray, signed: numpy.ndarray
                        ) -> Tuple[numpy.ndarray, ...]:
    """As _rows, for a batch where some token has an exponent: also the exponent's
    digits and sign (right after the e), and the checks that the e comes once, after a
    mantissa digit, with no dot after it. Returns (mantissa, n_frac, n_dots, n_allowed,
    mantissa digits, exponent, valid)."""
    n = chars.shape[1]
    mant = numpy.zeros(n, dtype=numpy.float64)
    n_frac = numpy.zeros(n, dtype=numpy.int8)
    n_dots = numpy.zeros(n, dtype=numpy.int8)
    n_allowed = numpy.zeros(n, dtype=numpy.int8)
    n_digits = -signed.astype(numpy.int8)  # the sign was turned into a '0'
    seen_dot = numpy.zeros(n, dtype=bool)
    seen_e = numpy.zeros(n, dtype=bool)
    prev_e = numpy.zeros(n, dtype=bool)
    exponent = numpy.zeros(n, dtype=numpy.int64)
    exp_digits = numpy.zeros(n, dtype=numpy.int8)
    exp_negative = numpy.zeros(n, dtype=bool)
    valid = numpy.ones(n, dtype=bool)
    for c, e in zip(chars, is_e):
        d = c - numpy.uint8(48)
        digit = d < 10
        dot = c == 46
        exp_sign = ((c == 45) | (c == 43)) & prev_e
        exp_digit = digit & seen_e
        digit &= ~seen_e
        mant = numpy.where(digit, mant * 10.0 + d, mant)
        exponent = numpy.where(exp_digit, exponent * 10 + d, exponent)
        valid &= ~(e & (seen_e | (n_digits <= 0))) & ~(dot & seen_e)
        n_digits += digit
        exp_digits += exp_digit
        exp_negative |= exp_sign & (c == 45)
        n_frac += digit & seen_dot
        n_dots += dot
        n_allowed += digit | dot | e | exp_digit | exp_sign
        seen_dot |= dot
        seen_e |= e
        prev_e = e
    valid &= ~seen_e | ((exp_digits >= 1) & (exp_digits <= 4))
    return mant, n_frac, n_dots, n_allowed, n_digits, numpy.where(exp_negative, -exponent, exponent), valid
