"""A measured p-bit bitstream: its switching probability, serial correlation and the write mode it implies."""

from __future__ import annotations

import math

import numpy as np

from devices.fit.report import Estimate, FileFit

__all__ = ["fit_bitstream"]


def fit_bitstream(bits: np.ndarray, *, file: str = "bitstream.txt") -> FileFit:
    """Estimate P(1), the lag-1 autocorrelation and which write mode the stream is consistent with.

    Reset mode gives independent bits (autocorrelation 0, P(1) = P); toggle mode gives a Markov chain with
    P(1) = 1/2 and lag-1 autocorrelation 1 - 2P, so P = (1 - rho) / 2.
    """
    bits = np.asarray(bits, dtype=np.float64)
    n = bits.size
    if n < 2:
        raise ValueError(f"{file}: need at least two bits, got {n}")
    ones = float(bits.mean())
    centred = bits - ones
    variance = float(centred @ centred / n)
    lag1 = float(centred[1:] @ centred[:-1] / (n * variance)) if variance > 0 else math.nan
    lag1_error = 1 / math.sqrt(n)
    reset_consistent = abs(lag1) < 3 * lag1_error
    estimates = {
        "probability_one": Estimate(ones, math.sqrt(max(ones * (1 - ones), 1e-300) / n), ""),
        "lag1_autocorrelation": Estimate(lag1, lag1_error, ""),
    }
    if not reset_consistent:
        toggle_probability = (1 - lag1) / 2
        estimates["toggle_switching_probability"] = Estimate(toggle_probability, lag1_error / 2, "")
    goodness = {"n_bits": n, "mode": "reset" if reset_consistent else "toggle",
                "independence_z": lag1 / lag1_error}
    return FileFit(file=file, method="sample frequency and lag-1 autocorrelation", estimates=estimates,
                   goodness=goodness)
