"""Compiled ideal-mode Gibbs sweeps (numba): the CPU fast path of :class:`~cim_emu.sampling.gibbs.GibbsSampler`.

A kernel maps couplings (CSR), fields, spins and pre-drawn uniforms to updated spins; the sweep loop, the
draws (from the run's torch generator) and the statistics stay in :mod:`cim_emu.sampling.gibbs`.

Within a sweep the spins are visited in the sampler's permuted order, block after block. Spins of one block are
uncoupled, so visiting them one after another is the same update as the parallel one: the kernel is the block
sampler, exact. The field of spin i costs its degree (CSR row), so sparse graphs cost O(edges) per sweep.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch

__all__ = ["CSRCouplings", "gibbs_sweeps"]


#: Above this share of nonzero couplings the dense kernel (contiguous, SIMD dot products) beats CSR gathers.
_DENSE_FILL = 0.25


class CSRCouplings:
    """Couplings J (n, n) for the kernels: compressed sparse rows, or the dense matrix when it is mostly full."""

    def __init__(self, couplings: torch.Tensor):
        dense = np.ascontiguousarray(couplings.to(torch.float64).numpy())
        mask = dense != 0
        self.dense = dense if mask.mean() > _DENSE_FILL else None
        self.indptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int64)
        rows, columns = np.nonzero(mask)
        self.indices = columns.astype(np.int64)
        self.values = dense[rows, columns].astype(np.float64)


@numba.njit(cache=True, nogil=True, fastmath=False)
def _flip(local, two_beta, draw):  # pragma: no cover - compiled
    # P(+1) = sigmoid(2 beta I), the exact Gibbs conditional.
    return 1.0 if draw < 1.0 / (1.0 + math.exp(-two_beta * local)) else -1.0


@numba.njit(cache=True, nogil=True)
def _sparse_kernel(indptr, indices, values, fields, spins, uniforms, betas, n_free, counted,
                   sums):  # pragma: no cover - compiled
    n_sweeps, n_chains = uniforms.shape[0], uniforms.shape[1]
    for sweep in range(n_sweeps):
        two_beta = 2.0 * betas[sweep]
        for chain in range(n_chains):
            state = spins[chain]
            draws = uniforms[sweep, chain]
            for spin in range(n_free):
                local = fields[spin]
                for k in range(indptr[spin], indptr[spin + 1]):
                    local += values[k] * state[indices[k]]
                state[spin] = _flip(local, two_beta, draws[spin])
            if counted[sweep]:
                for spin in range(state.shape[0]):
                    sums[spin] += state[spin]


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _dense_kernel(couplings, fields, spins, uniforms, betas, n_free, counted, sums):  # pragma: no cover - compiled
    n_sweeps, n_chains = uniforms.shape[0], uniforms.shape[1]
    n = spins.shape[1]
    for sweep in range(n_sweeps):
        two_beta = 2.0 * betas[sweep]
        for chain in range(n_chains):
            state = spins[chain]
            draws = uniforms[sweep, chain]
            for spin in range(n_free):
                row = couplings[spin]
                local = 0.0
                for k in range(n):
                    local += row[k] * state[k]
                state[spin] = _flip(local + fields[spin], two_beta, draws[spin])
            if counted[sweep]:
                for spin in range(n):
                    sums[spin] += state[spin]


def gibbs_sweeps(couplings: CSRCouplings, fields: np.ndarray, spins: np.ndarray, uniforms: np.ndarray,
                 betas: np.ndarray, n_free: int, counted: np.ndarray, sums: np.ndarray) -> None:
    """Run ``len(betas)`` sweeps in place.

    Args:
        couplings: couplings of the permuted model.
        fields: (n,) float64 fields h.
        spins: (chains, n) float64 spins in {-1, +1}, updated in place (the first ``n_free`` spins; the rest
            are clamped).
        uniforms: (n_sweeps, chains, n_free) float64 uniform draws in [0, 1).
        betas: (n_sweeps,) float64 inverse temperatures.
        n_free: spins updated per sweep.
        counted: (n_sweeps,) bool, sweeps whose states are added to ``sums``.
        sums: (n,) float64 running sum of the counted states, updated in place.
    """
    if couplings.dense is not None:
        _dense_kernel(couplings.dense, fields, spins, uniforms, betas, n_free, counted, sums)
    else:
        _sparse_kernel(couplings.indptr, couplings.indices, couplings.values, fields, spins, uniforms, betas,
                       n_free, counted, sums)
