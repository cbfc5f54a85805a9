"""Special functions with the arithmetic of STS 2.1.2 (libm erf/erfc, cephes igamc)."""

from __future__ import annotations

import math

from scipy import special

SQRT2 = 1.414213562373095048801688724209698078569672


def igamc(a: float, x: float) -> float:
    """Upper regularised incomplete gamma Q(a, x); cephes ``igamc`` as used by STS."""
    if x <= 0.0 or a <= 0.0:
        return 1.0  # cephes returns 1 here instead of signalling a domain error
    return float(special.gammaincc(a, x))


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
