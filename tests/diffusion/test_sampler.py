"""The sampler: one step, the loop made of those steps, and diffusion.sample (loop + decoder)."""

from __future__ import annotations

import pytest
import torch

from cim_emu.rng import SeedStream
from diffusion import (
    GaussianIncrements,
    Method,
    NoIncrements,
    SamplerGenerators,
    build_noise_source,
    denoise,
    deploy_model,
    euler_maruyama_step,
    load_model,
    reverse_step,
    sample,
    sample_latents,
    torch_stream,
)


@pytest.fixture(scope="module")
def model():
    return deploy_model(load_model(n_steps=3), stream=SeedStream(0))


def _generators(seed: int) -> SamplerGenerators:
    return SamplerGenerators(*(torch_stream(seed, name) for name in ("initial_latents", "read_noise", "sde_noise")))


def test_reverse_step_is_the_network_the_increment_and_the_kernel(model):
    x = torch.randn(8, 32, generator=torch.Generator().manual_seed(0))
    noise = GaussianIncrements(32)
    stepped, increment = reverse_step(model.network, noise, model.schedule, x, t=0.5, dt=0.01, step_std=0.1,
                                      generators=_generators(1))
    generators = _generators(1)
    eps = model.network(x, torch.full((8,), 0.5), generator=generators.network)
    expected_increment = noise.increment(8, 0.1, generator=generators.noise)
    assert torch.equal(increment, expected_increment)
    assert torch.equal(stepped, euler_maruyama_step(x, eps, expected_increment, t=0.5, dt=0.01,
                                                    schedule=model.schedule))


def test_the_loop_is_its_steps_then_tweedie(model):
    generators = _generators(2)
    seen = []
    latents = sample_latents(model.network, NoIncrements(32), model.schedule, 8, generators=generators,
                             on_step=lambda index, t, increment: seen.append((index, t)))
    assert [index for index, _ in seen] == [0, 1, 2]
    assert [t for _, t in seen] == model.schedule.times().tolist()[:3]
    by_hand = _generators(2)
    x = torch.randn(8, 32, generator=by_hand.initial)
    times, sizes = model.schedule.times().tolist(), model.schedule.step_sizes().tolist()
    stds = model.schedule.required_noise_std().tolist()
    for index in range(3):
        x, _ = reverse_step(model.network, NoIncrements(32), model.schedule, x, t=times[index], dt=sizes[index],
                            step_std=stds[index], generators=by_hand)
    assert torch.equal(latents, denoise(model.network, model.schedule, x, t=times[-1], generator=by_hand.network))


def test_sample_decodes_the_loop_and_is_reproducible(model):
    source, _ = build_noise_source(Method.EX_SITU, 32, stream=SeedStream(0))
    images = sample(model, source, 8, generators=_generators(3))
    assert images.shape == (8, 1, 8, 8) and 0.0 <= float(images.min()) and float(images.max()) <= 1.0
    latents = sample_latents(model.network, source, model.schedule, 8, generators=_generators(3))
    assert torch.equal(images, model.decode(latents))
    assert torch.equal(images, sample(model, source, 8, generators=_generators(3)))
    assert not torch.equal(images, sample(model, source, 8, generators=_generators(4)))


def test_bad_sampler_input_is_rejected(model):
    with pytest.raises(ValueError, match="n_samples"):
        sample_latents(model.network, NoIncrements(32), model.schedule, 0, generators=_generators(0))
    with pytest.raises(ValueError, match="16-d increments"):
        sample_latents(model.network, NoIncrements(16), model.schedule, 4, generators=_generators(0))
