"""The suite's own cephes igam/igamc against scipy's (the suite does not import scipy: startup cost)."""

from __future__ import annotations

import numpy as np
from scipy import special

from cim_emu.randomness.sp800_22._special import igam, igamc


def test_igamc_and_igam_match_scipy_over_the_suites_range():
    rng = np.random.default_rng(20261203)
    # Shapes the suite uses (K/2 up to ~300, 4.5, 0.5 ... ) and x on both sides of the series switch x = a.
    shapes = np.concatenate([rng.uniform(0.05, 600.0, 400), [0.5, 1.0, 2.5, 4.5]])
    worst = 0.0
    for a in shapes:
        for x in np.concatenate([a * rng.uniform(0.01, 3.0, 6), [0.1, 1.0, 50.0]]):
            reference = float(special.gammaincc(a, x))
            ours = igamc(float(a), float(x))
            assert abs(ours + igam(float(a), float(x)) - 1.0) < 1e-12
            if reference > 1e-12:
                worst = max(worst, abs(ours - reference) / reference)
            else:
                assert abs(ours - reference) < 1e-15
    assert worst < 1e-11, worst


def test_igamc_edges_follow_cephes():
    assert igamc(1.0, 0.0) == 1.0 and igamc(0.0, 1.0) == 1.0  # cephes' domain convention, as STS
    assert igam(2.0, 0.0) == 0.0
    assert igamc(3.0, 1e5) == 0.0  # underflow
    assert abs(igamc(1.0, 2.0) - np.exp(-2.0)) < 1e-15  # Q(1, x) = e^-x
