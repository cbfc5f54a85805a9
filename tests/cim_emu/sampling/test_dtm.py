"""The denoising chain: the conditional RBM's Ising form, training on a toy data set, sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cim_emu.sampling import GibbsSampler, HardwareMode
from cim_emu.sampling.dtm import ConditionalRBM, DTMConfig, binarize_digits, sample_chain, train_chain
from cim_emu.sampling.exact import all_states


def test_conditional_rbm_ising_form_has_the_right_conditionals():
    generator = torch.Generator().manual_seed(0)
    machine = ConditionalRBM(weights=torch.randn((3, 2), generator=generator, dtype=torch.float64),
                             visible_bias=torch.randn(3, generator=generator, dtype=torch.float64),
                             hidden_bias=torch.randn(2, generator=generator, dtype=torch.float64), coupling=0.7)
    model = machine.to_ising()
    spins = all_states(8)
    visible, hidden, clamped = spins[:, :3], spins[:, 3:5], spins[:, 5:]
    fields = model.local_fields(spins)
    assert torch.allclose(fields[:, :3], hidden @ machine.weights.T + machine.visible_bias + 0.7 * clamped)
    assert torch.allclose(fields[:, 3:5], visible @ machine.weights + machine.hidden_bias)


def test_gamma_is_the_forward_log_likelihood():
    config = DTMConfig(flip_probabilities=(0.1, 0.3))
    # p(x | v) = (1 - q) if x = v else q = exp(gamma v x) / (2 cosh gamma).
    gamma = config.coupling(1)
    assert math.exp(gamma) / (2 * math.cosh(gamma)) == pytest.approx(0.9)


def _stripes(n_images: int) -> torch.Tensor:
    """A two-mode toy data set of 16-pixel images: horizontal or vertical stripes."""
    grid = torch.arange(16).reshape(4, 4)
    horizontal = torch.where(grid // 4 % 2 == 0, 1.0, -1.0).flatten()
    vertical = torch.where(grid % 4 % 2 == 0, 1.0, -1.0).flatten()
    return torch.stack([horizontal, vertical] * (n_images // 2)).to(torch.float64)


def test_chain_learns_a_two_mode_toy_set():
    data = _stripes(64)
    config = DTMConfig(flip_probabilities=(0.05, 0.2, 0.4), n_hidden=8, n_epochs=40, batch_size=16,
                       learning_rate=0.05, n_sweeps=20)
    chain = train_chain(data, config, seed=0)
    samples = sample_chain(chain, 200, seed=1)
    images = samples.images * 2 - 1
    # Share of generated images within 2 pixels of one of the two modes: random images would be ~0.
    distances = torch.cdist(images.double(), data[:2]).square() / 4
    close = (distances.min(dim=1).values <= 2).double().mean()
    assert float(close) > 0.6
    assert samples.trajectory.shape == (4, 10, 16)
    assert samples.n_flips == 3 * 20 * 200 * (16 + 8)


def test_hardware_sampling_counts_pulses():
    data = _stripes(16)
    config = DTMConfig(flip_probabilities=(0.1, 0.4), n_hidden=4, n_epochs=2, batch_size=8, n_sweeps=2)
    chain = train_chain(data, config, seed=0)
    samples = sample_chain(chain, 5, seed=0, mode=HardwareMode())
    assert samples.op_counts["pbit_pulses"] == samples.n_flips == 2 * 2 * 5 * (16 + 4)


def test_binarize_and_clamping_checks():
    images = torch.tensor([[[[0.2, 0.8]]]])
    assert binarize_digits(images).tolist() == [[-1.0, 1.0]]
    machine = ConditionalRBM(weights=torch.zeros((2, 1), dtype=torch.float64),
                             visible_bias=torch.zeros(2, dtype=torch.float64),
                             hidden_bias=torch.zeros(1, dtype=torch.float64), coupling=1.0)
    with pytest.raises(ValueError, match="blocks"):
        GibbsSampler(machine.to_ising(), clamped=np.array([3, 4]))
    sampler = GibbsSampler(machine.to_ising(), blocks=[np.array([2]), np.array([0, 1])], clamped=np.array([3, 4]))
    with pytest.raises(ValueError, match="initial"):
        sampler.run(1.0, n_sweeps=1, seed=0)
    with pytest.raises(ValueError, match="flip_probabilities"):
        DTMConfig(flip_probabilities=(0.5,))
