"""Splitting a chunk of text into whitespace-separated tokens and parsing decimal
numbers, vectorized with numpy.

A vectors file is mostly numbers (a 400,000 x 50 table is 20 million of them), so
parsing them is the cost of converting it: per-token Python (`float()`, or
`numpy.asarray(list_of_strings)`) spends ~200 ns a number. Here the tokens of a chunk
are found with array operations on its bytes, right-aligned in a (width, n_tokens)
byte matrix, and read column by column: the mantissa digits accumulate into a
float64 (exact below 2**53, so at most 15 digits), then one multiplication or
division by an exact power of ten gives the correctly rounded double — the same
double `float()` returns — which is cast to float32 like `numpy.float32(float(s))`.
Tokens outside that fast path (more digits, large exponents, 'nan', odd forms) go
through `float()` one by one; tokens `float()` rejects, or that are not finite, are
reported as failed.
"""
from typing import Tuple

import numpy
from numpy.lib.stride_tricks import sliding_window_view

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
    values = numpy.zeros(n, dtype=numpy.float64)
    if not n:
        return values, numpy.zeros(0, dtype=numpy.int64)
    lengths = ends - starts
    fast = numpy.flatnonzero(lengths <= MAX_FAST_WIDTH)
    ok = numpy.zeros(n, dtype=bool)
    if len(fast):
        values[fast], ok[fast] = _parse_fast(buf, starts[fast], ends[fast])
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


def _parse_fast(buf: numpy.ndarray, starts: numpy.ndarray, ends: numpy.ndarray
                ) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Values and a success mask for [sign] digits [. digits] [(e|E) [sign] digits].

    One pass over the (width, n) byte matrix, a row (one character of every token) at
    a time: this beats whole-matrix classification, whose temporaries are `width`
    times larger."""
    n = len(starts)
    lengths = (ends - starts).astype(numpy.int8)
    width = int(lengths.max())
    padded = numpy.concatenate([numpy.zeros(width, dtype=numpy.uint8), buf])
    # row j holds, for every token, its byte `width - j` places before its end (right-aligned)
    chars = numpy.ascontiguousarray(sliding_window_view(padded, width)[ends].T)
    first_row = (width - lengths).astype(numpy.int8)
    first_char = chars[first_row, numpy.arange(n)]
    negative = first_char == 45
    signed = negative | (first_char == 43)
    inside_all = numpy.arange(width, dtype=numpy.int8)[:, None] >= first_row[None, :]  # the token's own bytes
    is_e_all = (chars == 101) | (chars == 69)
    is_e_all &= inside_all
    has_exp = bool(is_e_all.any())
    mant = numpy.zeros(n, dtype=numpy.float64)
    n_digits = numpy.zeros(n, dtype=numpy.int8)
    n_frac = numpy.zeros(n, dtype=numpy.int8)
    n_dots = numpy.zeros(n, dtype=numpy.int8)
    n_signs = numpy.zeros(n, dtype=numpy.int8)
    n_allowed = numpy.zeros(n, dtype=numpy.int8)  # characters of the number syntax
    seen_dot = numpy.zeros(n, dtype=bool)
    if has_exp:
        n_e = numpy.zeros(n, dtype=numpy.int8)
        seen_e = numpy.zeros(n, dtype=bool)
        prev_e = numpy.zeros(n, dtype=bool)
        exp_value = numpy.zeros(n, dtype=numpy.int64)
        exp_digits = numpy.zeros(n, dtype=numpy.int8)
        exp_negative = numpy.zeros(n, dtype=bool)
        exp_signs = numpy.zeros(n, dtype=numpy.int8)
    # per-row work buffers, reused: no allocation inside the loop
    d = numpy.empty(n, dtype=numpy.uint8)
    digit = numpy.empty(n, dtype=bool)
    dot = numpy.empty(n, dtype=bool)
    sign = numpy.empty(n, dtype=bool)
    minus = numpy.empty(n, dtype=bool)
    scratch = numpy.empty(n, dtype=bool)
    factor = numpy.empty(n, dtype=numpy.float64)
    for j in range(width):
        c = chars[j]
        inside = inside_all[j]
        numpy.subtract(c, numpy.uint8(48), out=d)
        numpy.less(d, 10, out=digit)
        digit &= inside
        numpy.equal(c, 46, out=dot)
        dot &= inside
        numpy.equal(c, 45, out=minus)
        numpy.equal(c, 43, out=sign)
        sign |= minus
        sign &= inside
        if has_exp:
            is_e = is_e_all[j]
            exp_digit = digit & seen_e
            digit &= ~seen_e
            exp_value = numpy.where(exp_digit, exp_value * 10 + d, exp_value)
            exp_digits += exp_digit
            after_e = sign & prev_e
            exp_signs += after_e
            exp_negative |= after_e & minus
            n_e += is_e
            seen_e |= is_e
            prev_e = is_e
            n_allowed += is_e | exp_digit
        numpy.multiply(digit, 9.0, out=factor)
        factor += 1.0
        mant *= factor  # times 10 where this row holds a digit, else 1
        mant += d * digit
        n_digits += digit
        numpy.logical_and(digit, seen_dot, out=scratch)
        n_frac += scratch
        n_dots += dot
        n_signs += sign
        numpy.logical_or(digit, dot, out=scratch)
        scratch |= sign
        n_allowed += scratch
        seen_dot |= dot
    ok = (n_allowed == lengths) & (n_dots <= 1) & (n_digits >= 1) & (n_digits <= MAX_DIGITS)
    power = -n_frac.astype(numpy.int64)
    if has_exp:
        # one sign at the start and/or one right after the e; a dot only before the e
        ok &= (n_signs == signed.astype(numpy.int8) + exp_signs) & (n_e <= 1)
        dot_after_e = ((chars == 46) & numpy.logical_or.accumulate(is_e_all, axis=0)).any(axis=0)
        ok &= ~seen_e | ((exp_digits >= 1) & (exp_digits <= 4) & ~dot_after_e)
        power += numpy.where(exp_negative, -exp_value, exp_value)
    else:
        ok &= n_signs == signed
    ok &= numpy.abs(power) <= 22
    power = numpy.where(ok, power, 0)
    scale = _POW10[numpy.abs(power)]
    values = numpy.where(power >= 0, mant * scale, mant / scale)
    values[negative] *= -1.0
    return values, ok
