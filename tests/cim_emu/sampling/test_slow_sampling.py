"""Slow checks: the non-ideality ablation's orderings and the cross-check against thrml (optional extra)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cim_emu.sampling import GibbsSampler, IsingModel, boltzmann_distribution, moments, nonideality_bias


@pytest.mark.slow
def test_nonideality_bias_orderings():
    model = IsingModel.random(8, density=0.6, generator=np.random.default_rng(1))
    rows = {row.name: row for row in nonideality_bias(model, 1.0, seed=0, n_chains=20000, burn_in=30)}
    floor = rows["ideal (statistical floor)"]
    # 20000 independent samples: the floor is a few standard errors, 5 / sqrt(N) = 0.035 at most.
    assert floor.max_mean_error < 5 / np.sqrt(20000)
    untrimmed = rows["p-bit threshold variation, untrimmed"]
    trimmed = rows["p-bit threshold variation, trimmed"]
    assert untrimmed.max_mean_error > 3 * trimmed.max_mean_error
    assert rows["P(V) shape only"].kl_nats > floor.kl_nats
    assert rows["all (default hardware)"].kl_nats > rows["P(V) shape only"].kl_nats


@pytest.mark.slow
def test_cross_check_against_thrml():
    pytest.importorskip("thrml")
    import jax
    from thrml import Block, SamplingSchedule, SpinNode, sample_states
    from thrml.models import IsingEBM, IsingSamplingProgram, hinton_init

    from cim_emu.sampling import colour_blocks

    model = IsingModel.random(8, density=0.5, generator=np.random.default_rng(4))
    n_chains = 8000
    nodes = [SpinNode() for _ in range(8)]
    pairs = torch.nonzero(torch.triu(model.J, 1)).tolist()
    ebm = IsingEBM(nodes, [(nodes[i], nodes[j]) for i, j in pairs], jax.numpy.asarray(model.h.numpy()),
                   jax.numpy.asarray([float(model.J[i, j]) for i, j in pairs]), jax.numpy.asarray(1.0))
    blocks = [Block([nodes[i] for i in block]) for block in colour_blocks(model)]
    program = IsingSamplingProgram(ebm, blocks, clamped_blocks=[])
    schedule = SamplingSchedule(n_warmup=40, n_samples=1, steps_per_sample=1)

    def one_chain(key):
        init_key, run_key = jax.random.split(key)
        return sample_states(run_key, program, schedule, hinton_init(init_key, ebm, blocks, ()), [], [Block(nodes)])

    theirs = np.asarray(jax.jit(jax.vmap(one_chain))(jax.random.split(jax.random.key(0), n_chains))[0])[:, -1]
    theirs = torch.from_numpy(2.0 * theirs - 1.0).mean(0)
    ours = GibbsSampler(model).run(1.0, n_sweeps=40, n_chains=n_chains, seed=0, correlations=False)
    ours = ours.final_spins.double().mean(0)
    exact = moments(boltzmann_distribution(model, 1.0), 8).mean_spin
    error = torch.sqrt((1 - exact ** 2) / n_chains)
    assert bool(((ours - exact).abs() < 5 * error).all())
    assert bool(((theirs - exact).abs() < 5 * error).all())
