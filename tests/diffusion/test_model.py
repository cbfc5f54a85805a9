"""The model side: loading the shipped weights, deployment on tiles (one chip per seed), the noise sources."""

from __future__ import annotations

import pytest
import torch

from cim_emu import track_ops
from cim_emu.rng import SeedStream
from diffusion import (
    GenerationModel,
    InSituNoiseHead,
    Method,
    NoIncrements,
    TRNGIncrements,
    build_noise_source,
    calibrate_network_columns,
    deploy_model,
    load_digits_split,
    load_model,
)


def _eps(model: GenerationModel, seed: int = 0) -> torch.Tensor:
    x = torch.randn(16, model.latent_dim, generator=torch.Generator().manual_seed(seed))
    return model.network(x, torch.full((16,), 0.5), generator=torch.Generator().manual_seed(seed + 1))


def test_load_model_reads_codec_network_and_schedule():
    model = load_model(n_steps=7)
    assert model.latent_dim == 32 and model.schedule.n_steps == 7 and model.device == torch.device("cpu")
    assert load_model().schedule.n_steps == 100
    images = load_digits_split().test_images[:8]
    latents = model.encode(images)
    assert latents.shape == (8, 32)
    decoded = model.decode(latents)
    assert decoded.shape == (8, 1, 8, 8) and 0.0 <= float(decoded.min()) and float(decoded.max()) <= 1.0
    assert torch.equal(decoded, model.codec.decode(model.codec.encode(images)))


def test_missing_weights_are_a_clear_error(tmp_path):
    with pytest.raises((ValueError, OSError), match="score_network.pt"):
        load_model(tmp_path)


def test_deployment_draws_one_chip_per_seed_and_column_calibration_moves_outputs():
    latents = load_model().encode(load_digits_split().train_images[:256])
    first = deploy_model(load_model(n_steps=4), stream=SeedStream(0))
    again = deploy_model(load_model(n_steps=4), stream=SeedStream(0))
    other = deploy_model(load_model(n_steps=4), stream=SeedStream(1))
    assert torch.equal(_eps(first), _eps(again))
    assert not torch.equal(_eps(first), _eps(other))
    calibrated = deploy_model(load_model(n_steps=4), stream=SeedStream(0), calibration_latents=latents)
    assert not torch.equal(_eps(first), _eps(calibrated))
    # Deployment calibrates from its own named stream: doing it by hand with that stream gives the same chip.
    by_hand = deploy_model(load_model(n_steps=4), stream=SeedStream(0))
    calibrate_network_columns(by_hand.network, latents, by_hand.schedule,
                              generator=SeedStream(0).child("tile_calibration").torch_generator())
    assert torch.equal(_eps(calibrated), _eps(by_hand))
    with pytest.raises(ValueError, match="stochastic"):
        calibrate_network_columns(by_hand.network, latents, by_hand.schedule, generator=None)


def test_noise_sources_of_each_method():
    root = SeedStream(3)
    in_situ, calibration = build_noise_source(Method.IN_SITU, 32, stream=root, calibration_draws=1024)
    assert isinstance(in_situ, InSituNoiseHead) and in_situ.calibrated
    assert calibration is not None and calibration.n_draws == 1024
    again, _ = build_noise_source(Method.IN_SITU, 32, stream=root, calibration_draws=1024)
    draws = [source.increment(64, 0.5, generator=torch.Generator().manual_seed(9)) for source in (in_situ, again)]
    assert torch.equal(*draws)
    ex_situ, none = build_noise_source(Method.EX_SITU, 32, stream=root, bits_per_sample=8)
    assert isinstance(ex_situ, TRNGIncrements) and none is None
    with track_ops() as counts:
        ex_situ.increment(4, 0.5, generator=torch.Generator().manual_seed(0))
    assert counts.trng_bits_generated == 4 * 32 * 8
    no_noise, _ = build_noise_source(Method.NO_NOISE, 32, stream=root)
    assert isinstance(no_noise, NoIncrements)
    assert not no_noise.increment(4, 0.5, generator=torch.Generator()).any()
    with pytest.raises(ValueError, match="Method"):
        build_noise_source("in-situ", 32, stream=root)


def test_method_keys_name_the_files():
    assert [method.key for method in Method] == ["in_situ", "ex_situ", "no_noise"]
    assert Method("no-noise") is Method.NO_NOISE
