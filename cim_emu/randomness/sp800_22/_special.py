"""Special functions with the arithmetic of STS 2.1.2 (libm erf/erfc, cephes igamc)."""

from __future__ import annotations

import math

SQRT2 = 1.414213562373095048801688724209698078569672

# cephes' constants for IEEE double (machine epsilon 2^-53, log of the largest double, the rescaling bound of the
# continued fraction): the same arithmetic as STS 2.1.2's cephes.c. Written out here rather than taken from
# scipy, whose import alone costs a whole `cim-emu nist` run (0.25 s).
_MACHEP = 1.11022302462515654042e-16
_MAXLOG = 7.09782712893383996843e2
_BIG = 4.503599627370496e15
_BIG_INVERSE = 2.22044604925031308085e-16


def _log_prefactor(a: float, x: float) -> float:
    """log(x^a e^-x / Gamma(a)), the common factor of both series."""
    return a * math.log(x) - x - math.lgamma(a)


def igam(a: float, x: float) -> float:
    """Lower regularised incomplete gamma P(a, x): cephes ``igam`` (power series; Q's continued fraction beyond
    x > max(1, a))."""
    if x <= 0.0 or a <= 0.0:
        return 0.0
    if x > 1.0 and x > a:
        return 1.0 - igamc(a, x)
    log_factor = _log_prefactor(a, x)
    if log_factor < -_MAXLOG:
        return 0.0  # underflow
    r, term, total = a, 1.0, 1.0
    while True:
        r += 1.0
        term *= x / r
        total += term
        if term / total <= _MACHEP:
            break
    return total * math.exp(log_factor) / a


def igamc(a: float, x: float) -> float:
    """Upper regularised incomplete gamma Q(a, x); cephes ``igamc`` as used by STS (continued fraction)."""
    if x <= 0.0 or a <= 0.0:
        return 1.0  # cephes returns 1 here instead of signalling a domain error
    if x < 1.0 or x < a:
        return 1.0 - igam(a, x)
    log_factor = _log_prefactor(a, x)
    if log_factor < -_MAXLOG:
        return 0.0  # underflow
    y = 1.0 - a
    z = x + y + 1.0
    c = 0.0
    p_prev, q_prev = 1.0, x
    p_last, q_last = x + 1.0, z * x
    answer = p_last / q_last
    while True:
        c += 1.0
        y += 1.0
        z += 2.0
        yc = y * c
        p = p_last * z - p_prev * yc
        q = q_last * z - q_prev * yc
        if q != 0.0:
            ratio = p / q
            change = abs((answer - ratio) / ratio)
            answer = ratio
        else:
            change = 1.0
        p_prev, p_last, q_prev, q_last = p_last, p, q_last, q
        if abs(p) > _BIG:  # rescale so the recurrences neither overflow nor lose the ratio
            p_prev *= _BIG_INVERSE
            p_last *= _BIG_INVERSE
            q_prev *= _BIG_INVERSE
            q_last *= _BIG_INVERSE
        if change <= _MACHEP:
            break
    return answer * math.exp(log_factor)


def erfc(x: float) -> float:
    """Complementary error function (libm, as STS)."""
    return math.erfc(x)


def sts_normal_cdf(x: float) -> float:
    """STS's ``cephes_normal``: the standard normal CDF through libm erf."""
    if x > 0:
        return 0.5 * (1.0 + math.erf(x / SQRT2))
    return 0.5 * (1.0 - math.erf(-x / SQRT2))


def c_int_div(numerator: int, denominator: int) -> int:
    """Integer division truncating toward zero, as C does (Python's // floors)."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient
