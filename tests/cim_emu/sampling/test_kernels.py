"""The compiled sweep kernels: per-chain incremental (sparse and dense rows) and chain-vectorised agree exactly."""

from __future__ import annotations

import numpy as np
import torch

from cim_emu.sampling import IsingModel
from cim_emu.sampling.kernels import BATCHED_CHAINS, CSRCouplings, gibbs_sweeps


def _run(couplings, fields, spins, uniforms, betas):
    spins = spins.copy()
    sums = np.zeros(spins.shape[1])
    counted = np.ones(len(betas), dtype=bool)
    gibbs_sweeps(couplings, fields, spins, uniforms, betas, spins.shape[1], counted, sums)
    return spins, sums


def test_kernels_make_the_same_updates_from_the_same_draws():
    model = IsingModel.random(30, density=0.15, generator=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    n_chains = 2 * BATCHED_CHAINS
    spins = rng.choice([-1.0, 1.0], size=(n_chains, 30))
    uniforms = rng.random((25, n_chains, 30))
    betas = np.linspace(0.2, 2.0, 25)
    sparse = CSRCouplings(model.J)
    assert sparse.dense is None
    dense = CSRCouplings(model.J)
    dense.dense = np.ascontiguousarray(model.J.numpy())
    batched, batched_sums = _run(sparse, model.h.numpy(), spins, uniforms, betas)
    few = BATCHED_CHAINS // 2
    for couplings in (sparse, dense):
        # Fewer chains than BATCHED_CHAINS: the incremental per-chain kernel, on the same draws.
        single, single_sums = _run(couplings, model.h.numpy(), spins[:few], uniforms[:, :few], betas)
        assert np.array_equal(single, batched[:few])
    full_sums = np.zeros(30)
    for start in range(0, n_chains, few):
        part, part_sums = _run(sparse, model.h.numpy(), spins[start:start + few], uniforms[:, start:start + few],
                               betas)
        full_sums += part_sums
    assert np.allclose(full_sums, batched_sums)
    # The chains moved: every update was made (not a copy of the input).
    assert not np.array_equal(batched, spins)


def test_zero_temperature_sweep_descends_the_energy():
    model = IsingModel.random(40, density=0.2, generator=np.random.default_rng(2))
    rng = np.random.default_rng(3)
    spins = rng.choice([-1.0, 1.0], size=(2, 40))
    couplings = CSRCouplings(model.J)
    before = model.energy(torch.from_numpy(spins))
    # beta huge: every spin aligns with its field, so the energy never rises.
    after, _ = _run(couplings, model.h.numpy(), spins, rng.random((3, 2, 40)), np.full(3, 1e6))
    assert bool((model.energy(torch.from_numpy(after)) <= before + 1e-12).all())
