"""Compiled ideal-mode Gibbs sweeps (numba): the CPU fast path of :class:`~cim_emu.sampling.gibbs.GibbsSampler`.

A kernel maps couplings (CSR), fields, spins and pre-drawn uniforms to updated spins; the sweep loop, the
draws (from the run's torch generator) and the statistics stay in :mod:`cim_emu.sampling.gibbs`.

Within a sweep the spins are visited in the sampler's permuted order, block after block. Spins of one block are
uncoupled, so visiting them one after another is the same update as the parallel one: the kernel is the block
sampler, exact. Each chain keeps its local fields, computed once per call and updated along a spin's row
(CSR, or dense when mostly full) only when the spin actually changes: an attempted update costs one draw, a
change costs the spin's degree. The chain loop is outermost (chains are independent), so the sweep order of
each chain is the same whatever the chunking of the calls. From ``BATCHED_CHAINS`` chains on, a
chain-vectorised kernel recomputes each field over the spins' rows with the chains in SIMD lanes instead.
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
    n = spins.shape[1]
    local = np.empty(n)
    for chain in range(n_chains):
        state = spins[chain]
        # Local fields once per call, then updated only where a spin actually changed: O(degree) per flip.
        for spin in range(n):
            total = fields[spin]
            for k in range(indptr[spin], indptr[spin + 1]):
                total += values[k] * state[indices[k]]
            local[spin] = total
        for sweep in range(n_sweeps):
            two_beta = 2.0 * betas[sweep]
            draws = uniforms[sweep, chain]
            for spin in range(n_free):
                new = _flip(local[spin], two_beta, draws[spin])
                if new != state[spin]:
                    change = new - state[spin]
                    state[spin] = new
                    for k in range(indptr[spin], indptr[spin + 1]):
                        local[indices[k]] += values[k] * change
            if counted[sweep]:
                for spin in range(n):
                    sums[spin] += state[spin]


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _dense_kernel(couplings, fields, spins, uniforms, betas, n_free, counted, sums):  # pragma: no cover - compiled
    n_sweeps, n_chains = uniforms.shape[0], uniforms.shape[1]
    n = spins.shape[1]
    local = np.empty(n)
    for chain in range(n_chains):
        state = spins[chain]
        for spin in range(n):
            row = couplings[spin]
            total = 0.0
            for k in range(n):
                total += row[k] * state[k]
            local[spin] = total + fields[spin]
        for sweep in range(n_sweeps):
            two_beta = 2.0 * betas[sweep]
            draws = uniforms[sweep, chain]
            for spin in range(n_free):
                new = _flip(local[spin], two_beta, draws[spin])
                if new != state[spin]:
                    change = new - state[spin]
                    state[spin] = new
                    # J is symmetric: row ``spin`` is the column the change spreads along.
                    row = couplings[spin]
                    for k in range(n):
                        local[k] += row[k] * change
            if counted[sweep]:
                for spin in range(n):
                    sums[spin] += state[spin]


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _batched_kernel(indptr, indices, values, fields, spins, uniforms, betas, n_free, counted,
                    sums):  # pragma: no cover - compiled
    # spins (n, chains) and uniforms (sweeps, n_free, chains): the innermost loop runs over chains, contiguous,
    # so one coupling serves every chain in SIMD lanes.
    n_sweeps, n_chains = uniforms.shape[0], uniforms.shape[2]
    n = spins.shape[0]
    local = np.empty(n_chains)
    for sweep in range(n_sweeps):
        two_beta = 2.0 * betas[sweep]
        for spin in range(n_free):
            for chain in range(n_chains):
                local[chain] = fields[spin]
            for k in range(indptr[spin], indptr[spin + 1]):
                value = values[k]
                neighbour = spins[indices[k]]
                for chain in range(n_chains):
                    local[chain] += value * neighbour[chain]
            draws = uniforms[sweep, spin]
            state = spins[spin]
            for chain in range(n_chains):
                state[chain] = _flip(local[chain], two_beta, draws[chain])
        if counted[sweep]:
            for spin in range(n):
                total = 0.0
                for chain in range(n_chains):
                    total += spins[spin, chain]
                sums[spin] += total


#: From this many chains on, the chain-vectorised kernel beats the per-chain incremental one.
BATCHED_CHAINS = 8


def gibbs_sweeps(couplings: CSRCouplings, fields: np.ndarray, spins: np.ndarray, uniforms: np.ndarray,
                 betas: np.ndarray, n_free: int, counted: np.ndarray, sums: np.ndarray) -> None:
    """Run ``len(betas)`` sweeps in place.

    Args:
        couplings: couplings of the permuted model.
        fields: (n,) float64 fields h.
        spins: (chains, n) float64 spins in {-1, +1}, updated in place (the first ``n_free`` spins; the rest
            are clamped).
        uniforms: (n_sweeps, chains, n_free) float32 or float64 uniform draws in [0, 1).
        betas: (n_sweeps,) float64 inverse temperatures.
        n_free: spins updated per sweep.
        counted: (n_sweeps,) bool, sweeps whose states are added to ``sums``.
        sums: (n,) float64 running sum of the counted states, updated in place.
    """
    if spins.shape[0] >= BATCHED_CHAINS:
        transposed = np.ascontiguousarray(spins.T)
        _batched_kernel(couplings.indptr, couplings.indices, couplings.values, fields, transposed,
                        np.ascontiguousarray(uniforms.transpose(0, 2, 1)), betas, n_free, counted, sums)
        spins[...] = transposed.T
    elif couplings.dense is not None:
        _dense_kernel(couplings.dense, fields, spins, uniforms, betas, n_free, counted, sums)
    else:
        _sparse_kernel(couplings.indptr, couplings.indices, couplings.values, fields, spins, uniforms, betas,
                       n_free, counted, sums)
