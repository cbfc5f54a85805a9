"""Differential pairs: two data-bits as a ternary weight, a data-bit with a p-bit as a probabilistic one.

Ternary pair (read as G+ - G-): +1 = (P, AP), -1 = (AP, P), 0 = (AP, AP). We store 0 as both devices
antiparallel: the smaller conductances give the 0 state less spread and less read current than (P, P).

Probabilistic differential pair (paper Fig. 3c): a data-bit D holds the sign and a p-bit B sits on the
other side. Before each sample the p-bit is reset to D's state (the pair reads 0: the weight is dropped);
the VCMA pulse then toggles B with probability P, giving G_D - G_B = +/-(G_P - G_AP): the weight is kept.
So the keep probability of a cell is its p-bit's switching probability at the write pulse, whatever the
sign; a zero weight is a pair whose p-bit is not pulsed. This is the MC-dropconnect mask of the paper.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from devices._tensor import require_generator
from devices.card import DataBitParams
from devices.mtj import resistance_parallel_ohm, sample_device_conductances, tmr_at_bias

__all__ = ["PAIR_STATES", "PairStatistics", "pair_state_statistics", "ternary_pair_conductance",
           "probabilistic_pair_conductance"]

PAIR_STATES = (-1, 0, 1)


@dataclasses.dataclass(frozen=True)
class PairStatistics:
    """Conductance statistics (siemens) of the three ternary states within one array.

    Attributes:
        states: (-1, 0, +1).
        mean_S: mean G+ - G- per state.
        std_S: standard deviation per state (device-to-device variation, TMR spread and one read).
        margin_sigma: smallest gap between adjacent states over the mean of their two spreads.
    """

    states: tuple[int, int, int]
    mean_S: tuple[float, float, float]
    std_S: tuple[float, float, float]
    margin_sigma: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def margin_in_sigma(mean: tuple[float, ...], std: tuple[float, ...]) -> float:
    """Smallest (mu_b - mu_a) / ((sigma_a + sigma_b) / 2) over adjacent states sorted by mean."""
    order = np.argsort(mean)
    gaps = [(mean[b] - mean[a]) / (0.5 * (std[a] + std[b])) for a, b in zip(order[:-1], order[1:], strict=True)]
    return float(min(gaps))


def pair_state_statistics(params: DataBitParams, read_voltage_V: float | None = None) -> PairStatistics:
    """Exact first two moments of the pair states within one array (Gauss-Hermite quadrature).

    G_P = G0 exp(-d - e1), G_AP = G0 exp(-d - e2) / (1 + t) with d ~ N(0, sd_dev^2), read noise e ~ N(0, sd_read^2)
    and t ~ N(TMR(V), sd_tmr^2); the two devices of a pair are independent.
    """
    voltage = params.read_voltage_V if read_voltage_V is None else read_voltage_V
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    weights = weights / weights.sum()
    g0 = 1.0 / resistance_parallel_ohm(params)
    spread = np.hypot(params.sigma_ln_r_device, params.read_noise_ln)
    lognormal_1 = np.exp(spread ** 2 / 2)          # E[exp(-d - e)]
    lognormal_2 = np.exp(2 * spread ** 2)          # E[exp(-2 (d + e))]
    tmr_read = tmr_at_bias(params, params.read_voltage_V)
    tmr = (tmr_read + params.sigma_tmr_device * nodes) * (tmr_at_bias(params, voltage) / tmr_read)
    inverse_1 = float(np.sum(weights / (1 + tmr)))
    inverse_2 = float(np.sum(weights / (1 + tmr) ** 2))
    mean_p, second_p = g0 * lognormal_1, g0 ** 2 * lognormal_2
    mean_ap, second_ap = g0 * lognormal_1 * inverse_1, g0 ** 2 * lognormal_2 * inverse_2
    var_p, var_ap = second_p - mean_p ** 2, second_ap - mean_ap ** 2
    plus_mean, plus_std = mean_p - mean_ap, float(np.sqrt(var_p + var_ap))
    zero_std = float(np.sqrt(2 * var_ap))
    mean = (-plus_mean, 0.0, plus_mean)
    std = (plus_std, zero_std, plus_std)
    return PairStatistics(states=PAIR_STATES, mean_S=mean, std_S=std, margin_sigma=margin_in_sigma(mean, std))


def ternary_pair_conductance(params: DataBitParams, weights: torch.Tensor, *, generator: torch.Generator,
                             array_index: torch.Tensor | None = None) -> torch.Tensor:
    """Program ternary weights (-1, 0, +1) onto fresh pairs and return G+ - G- (siemens).

    Variation is drawn as in :func:`devices.mtj.sample_device_conductances` for the two devices of each pair.
    """
    require_generator(generator, "ternary_pair_conductance")
    if not torch.all((weights == -1) | (weights == 0) | (weights == 1)):
        raise ValueError("weights: expected only -1, 0 and +1 (ternary pair states)")
    shape = (2,) + tuple(weights.shape)
    index = None if array_index is None else torch.broadcast_to(array_index, weights.shape).expand(shape)
    devices = sample_device_conductances(params, shape, generator=generator, array_index=index)
    weights = weights.to(devices.parallel_S.device)
    plus_parallel, minus_parallel = weights == 1, weights == -1
    g_plus = torch.where(plus_parallel, devices.parallel_S[0], devices.antiparallel_S[0])
    g_minus = torch.where(minus_parallel, devices.parallel_S[1], devices.antiparallel_S[1])
    return g_plus - g_minus


def probabilistic_pair_conductance(data_parallel: torch.Tensor, pbit_switched: torch.Tensor,
                                   data_conductances: tuple[torch.Tensor, torch.Tensor],
                                   pbit_conductances: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """G_D - G_B of probabilistic pairs (siemens), the p-bit reset to D's state and then switched or not.

    Args:
        data_parallel: bool, True where the data-bit is parallel (a positive weight).
        pbit_switched: bool, True where the VCMA pulse switched the p-bit (the weight is kept).
        data_conductances: (G_P, G_AP) of the data-bits.
        pbit_conductances: (G_P, G_AP) of the p-bits.
    """
    g_data = torch.where(data_parallel, data_conductances[0], data_conductances[1])
    pbit_parallel = data_parallel ^ pbit_switched
    g_pbit = torch.where(pbit_parallel, pbit_conductances[0], pbit_conductances[1])
    return g_data - g_pbit
