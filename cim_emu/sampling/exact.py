"""Exact reference distributions for small models (<= 20 spins): enumeration and exact stationary laws.

* :func:`boltzmann_distribution`: p(m) ~ exp(-beta E(m)) over all 2^n states.
* :func:`stationary_distribution`: the exact stationary law of a deterministic-scan p-bit sampler whose
  spin i turns +1 with probability f_i(I_i) (any activation, e.g. the card's P(V) through the voltage map),
  by power iteration of the sweep operator. With f = (1 + tanh(beta I)) / 2 it equals the Boltzmann law;
  with the hardware's sigmoid-like P(V) it does not, and the difference is the bias of the switching law.

State index s encodes spins by bit i of s: m_i = +1 if bit i is set, -1 otherwise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from cim_emu.sampling.model import IsingModel, check_beta

__all__ = ["MAX_EXACT_SPINS", "all_states", "boltzmann_distribution", "stationary_distribution", "evolve_distribution",
           "moments",
           "Moments", "kl_divergence", "state_indices"]

#: Largest model enumerated: 2^20 states of 20 spins (8 MiB per float64 vector).
MAX_EXACT_SPINS = 20


def _check_size(model: IsingModel) -> None:
    if model.n_spins > MAX_EXACT_SPINS:
        raise ValueError(f"exact enumeration of {model.n_spins} spins needs 2^{model.n_spins} states; "
                         f"at most {MAX_EXACT_SPINS} spins are enumerated (sample larger models instead)")


def all_states(n_spins: int) -> torch.Tensor:
    """(2^n, n) float64 spins of every state, row s having m_i = +1 where bit i of s is set."""
    index = torch.arange(2 ** n_spins, dtype=torch.int64)
    bits = (index[:, None] >> torch.arange(n_spins, dtype=torch.int64)) & 1
    return (2 * bits - 1).to(torch.float64)


def boltzmann_distribution(model: IsingModel, beta: float) -> torch.Tensor:
    """(2^n,) float64 probabilities exp(-beta E(s)) / Z, by state index."""
    _check_size(model)
    beta = check_beta(beta)
    log_weights = -beta * model.energy(all_states(model.n_spins))
    return torch.softmax(log_weights, dim=0)


def _sweep_operator(model: IsingModel, activation: Callable[[int, torch.Tensor], torch.Tensor], blocks: list):
    states = all_states(model.n_spins)
    fields = model.local_fields(states)
    index = torch.arange(2 ** model.n_spins)
    # P(spin i = +1 | the rest) does not depend on spin i itself (J_ii = 0): one value per state pair.
    up_probability = [activation(i, fields[:, i]).to(torch.float64) for i in range(model.n_spins)]
    order = [int(i) for block in blocks for i in block]

    def sweep(distribution: torch.Tensor) -> torch.Tensor:
        for spin in order:
            bit = 1 << spin
            pair_mass = distribution + distribution[index ^ bit]
            is_up = (index & bit) != 0
            distribution = torch.where(is_up, pair_mass * up_probability[spin],
                                       pair_mass * (1 - up_probability[spin]))
        return distribution

    return sweep


def evolve_distribution(model: IsingModel, activation: Callable[[int, torch.Tensor], torch.Tensor], blocks: list,
                        n_sweeps: int, initial: torch.Tensor | None = None) -> torch.Tensor:
    """Exact law (2^n,) of the chain's state after ``n_sweeps`` sweeps from ``initial`` (default: uniform).

    Args: as :func:`stationary_distribution`; ``initial`` a distribution (2^n,) over state indices.
    """
    _check_size(model)
    sweep = _sweep_operator(model, activation, blocks)
    distribution = (torch.full((2 ** model.n_spins,), 2.0 ** -model.n_spins, dtype=torch.float64)
                    if initial is None else initial.to(torch.float64))
    for _ in range(n_sweeps):
        distribution = sweep(distribution)
    return distribution


def stationary_distribution(model: IsingModel, activation: Callable[[int, torch.Tensor], torch.Tensor],
                            blocks: list, *, tolerance: float = 1e-13, max_sweeps: int = 100_000) -> torch.Tensor:
    """Exact stationary law (2^n,) of a deterministic-scan sampler, by power iteration of one sweep.

    Args:
        model: the model (<= 20 spins).
        activation: ``activation(i, fields)`` -> P(m_i = +1) for local fields (2^n,) float64 of spin i.
        blocks: the update blocks in sweep order (independent sets; spins of a block are conditionally
            independent, so updating them one after another is the same as in parallel).
        tolerance: stop when the L1 change of one sweep is below this.
        max_sweeps: give up (``ValueError``) after this many sweeps.
    """
    _check_size(model)
    sweep = _sweep_operator(model, activation, blocks)
    distribution = torch.full((2 ** model.n_spins,), 2.0 ** -model.n_spins, dtype=torch.float64)
    for _ in range(max_sweeps):
        previous = distribution
        distribution = sweep(distribution)
        if float((distribution - previous).abs().sum()) < tolerance:
            return distribution / distribution.sum()
    raise ValueError(f"the sweep operator did not converge within {max_sweeps} sweeps (tolerance {tolerance}); "
                     "the chain mixes too slowly for power iteration: lower beta")


@dataclasses.dataclass(frozen=True)
class Moments:
    """First and second moments of a spin distribution.

    Attributes:
        mean_spin: (n,) <m_i>.
        pair_correlation: (n, n) <m_i m_j>, ones on the diagonal.
    """

    mean_spin: torch.Tensor
    pair_correlation: torch.Tensor


def moments(distribution: torch.Tensor, n_spins: int) -> Moments:
    """Moments of a distribution (2^n,) over state indices."""
    states = all_states(n_spins)
    mean = distribution @ states
    correlation = states.T @ (distribution[:, None] * states)
    return Moments(mean_spin=mean, pair_correlation=correlation)


def state_indices(spins: torch.Tensor) -> torch.Tensor:
    """State index (...,) int64 of spins (..., n) in {-1, +1} (bit i set where m_i = +1)."""
    bits = (spins > 0).to(torch.int64)
    return (bits << torch.arange(spins.shape[-1], dtype=torch.int64)).sum(dim=-1)


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> float:
    """KL(p || q) in nats for two distributions over the same states (terms with p = 0 contribute 0)."""
    support = p > 0
    return float((p[support] * (p[support].log() - q[support].clamp_min(1e-300).log())).sum())
