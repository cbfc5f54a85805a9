"""The VAE codec (shipped weights): reconstruction and standardisation; reproducible training; config checks."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from diffusion import DigitsSplit, VAEConfig, VAETrainingConfig, load_codec, load_digits_split, read_weights, train_vae
from diffusion.pretrained import WEIGHTS_DIR


def test_shipped_codec_reconstructs_and_standardises():
    codec = load_codec()
    split = load_digits_split()
    latents = codec.encode(split.train_images)
    assert latents.shape == (split.train_images.shape[0], 2, 4, 4)
    assert float(latents.mean()) == pytest.approx(0.0, abs=1e-4)
    assert float(latents.std()) == pytest.approx(1.0, rel=1e-3)
    reconstruction = codec.decode(codec.encode(split.test_images))
    assert 0.0 <= float(reconstruction.min()) and float(reconstruction.max()) <= 1.0
    test_mse = float(torch.mean((reconstruction - split.test_images) ** 2))
    report = read_weights(WEIGHTS_DIR / "vae.pt", kind="vae")["report"]
    assert test_mse == pytest.approx(report["test_mse"], rel=1e-4)
    assert test_mse < 0.003


def test_vae_training_is_reproducible_from_the_seed():
    split = load_digits_split()
    tiny = DigitsSplit(split.train_images[:96], split.train_labels[:96], split.test_images[:32],
                       split.test_labels[:32])
    config = VAEConfig(block_out_channels=(8, 8), norm_num_groups=4)
    training = VAETrainingConfig(n_epochs=2, batch_size=32)
    first, first_report = train_vae(tiny, config, training, generator=torch.Generator().manual_seed(11))
    second, second_report = train_vae(tiny, config, training, generator=torch.Generator().manual_seed(11))
    other, _ = train_vae(tiny, config, training, generator=torch.Generator().manual_seed(12))
    assert first_report == second_report
    for name, tensor in first.state_dict().items():
        assert torch.equal(tensor, second.state_dict()[name]), name
    assert not torch.equal(first.vae.decoder.conv_out.weight, other.vae.decoder.conv_out.weight)


@pytest.mark.parametrize("field, value", [("block_out_channels", (12, 32)), ("latent_channels", 0)])
def test_bad_vae_config_is_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(VAEConfig(), **{field: value})
