"""Regenerating the shipped weights (slow: trains the VAE and the classifier as shipped)."""

from __future__ import annotations

import pytest
import torch

from diffusion import load_digits_split
from diffusion.pretrained import WEIGHTS_DIR, read_weights


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_vae_and_classifier(tmp_path):
    from diffusion.train import train_weights

    summary = train_weights(tmp_path, only=("vae", "classifier"))
    assert set(summary) == {"vae", "classifier"}
    for name, kind in (("vae.pt", "vae"), ("classifier.pt", "classifier")):
        shipped = read_weights(WEIGHTS_DIR / name, kind=kind)["state_dict"]
        retrained = read_weights(tmp_path / name, kind=kind)["state_dict"]
        for key, value in shipped.items():
            assert torch.equal(value, retrained[key]), (name, key)
    assert load_digits_split().test_images.shape[0] == 539
