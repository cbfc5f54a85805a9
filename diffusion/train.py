"""Regenerate the shipped weights (``cim-emu train-weights [--only vae,classifier,score] [--out DIR]``).

Trains, in order and each from its own fixed seed, the VAE, the feature classifier and the drift
network (on the VAE's latents), on the CPU with one thread so that the result is reproducible
bit-for-bit on a given platform. Takes a few minutes on one laptop core; progress bars go to stderr.
"""

from __future__ import annotations

import pathlib
import sys

import torch

from diffusion.classifier import ClassifierConfig, train_classifier
from diffusion.data import load_digits_split
from diffusion.pretrained import WEIGHTS_DIR, load_codec, save_weights
from diffusion.schedule import VPSchedule
from diffusion.score_net import ScoreNetConfig, ScoreNetwork
from diffusion.training import ScoreTrainingConfig, train_score_network
from diffusion.vae import VAEConfig, VAETrainingConfig, train_vae

__all__ = ["VAE_SEED", "CLASSIFIER_SEED", "SCORE_SEED", "MODELS", "train_weights"]

VAE_SEED = 2
CLASSIFIER_SEED = 2
SCORE_SEED = 3
VAE_TRAINING = VAETrainingConfig(n_epochs=60)


def _bar(total: int, description: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="it", file=sys.stderr, leave=False)


def train_vae_weights(out: pathlib.Path) -> dict:
    """Train the VAE and write ``out / vae.pt``; returns its report as a dict."""
    split = load_digits_split()
    bar = _bar(VAE_TRAINING.n_epochs, "VAE epochs")
    codec, report = train_vae(
        split, VAEConfig(), VAE_TRAINING, generator=torch.Generator().manual_seed(VAE_SEED),
        on_epoch=lambda epoch, mse: bar.update(1),
    )
    bar.close()
    save_weights(out / "vae.pt", kind="vae", state_dict=codec.vae.state_dict(), config=VAEConfig(),
                 training=VAE_TRAINING, seed=VAE_SEED, report=report, extra=codec.extra_state())
    return dict(vars(report))


def train_classifier_weights(out: pathlib.Path) -> dict:
    """Train the feature classifier and write ``out / classifier.pt``."""
    split = load_digits_split()
    config = ClassifierConfig()
    bar = _bar(config.n_epochs, "classifier epochs")
    classifier, report = train_classifier(
        split, config, generator=torch.Generator().manual_seed(CLASSIFIER_SEED),
        on_epoch=lambda epoch, loss: bar.update(1),
    )
    bar.close()
    save_weights(out / "classifier.pt", kind="classifier", state_dict=classifier.state_dict(), config=config,
                 training=config, seed=CLASSIFIER_SEED, report=report)
    return dict(vars(report))


SCORE_NET = ScoreNetConfig()
SCORE_TRAINING = ScoreTrainingConfig(n_iterations=30_000)
SCHEDULE = VPSchedule()


def train_score_weights(out: pathlib.Path, *, codec) -> dict:
    """Train the drift network (hardware-aware, on the default tiles) on the codec's latents; write
    ``out / score_network.pt``."""
    split = load_digits_split()
    latents = codec.encode(split.train_images).reshape(split.train_images.shape[0], -1)
    held_out = codec.encode(split.test_images).reshape(split.test_images.shape[0], -1)
    generator = torch.Generator().manual_seed(SCORE_SEED)
    network = ScoreNetwork(SCORE_NET, generator=generator)
    bar = _bar(SCORE_TRAINING.n_iterations, "drift network iterations")

    def progress(iteration: int, loss: float) -> None:
        bar.update(100)
        bar.set_postfix(loss=f"{loss:.4f}")

    average, report = train_score_network(
        network, latents, SCHEDULE, SCORE_TRAINING, generator=generator,
        network_generator=torch.Generator().manual_seed(SCORE_SEED + 1000), held_out=held_out, on_progress=progress,
    )
    bar.close()
    save_weights(out / "score_network.pt", kind="score_network", state_dict=average.state_dict(), config=SCORE_NET,
                 training=SCORE_TRAINING, seed=SCORE_SEED, report=report, extra={"schedule": SCHEDULE})
    return dict(vars(report))


MODELS = ("vae", "classifier", "score")


def train_weights(out: pathlib.Path = WEIGHTS_DIR, only: tuple[str, ...] = MODELS) -> dict[str, dict]:
    """Retrain the chosen models (in the order vae, classifier, score) into ``out``; returns their reports.

    One torch thread, fixed seeds: bit-for-bit reproducible on a given platform. The drift network trains on
    the latents of the VAE found in ``out``.
    """
    unknown = set(only) - set(MODELS)
    if unknown:
        raise ValueError(f"only: unknown model(s) {sorted(unknown)}; choose from {', '.join(MODELS)}")
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        summary = {}
        if "vae" in only:
            summary["vae"] = train_vae_weights(out)
        if "classifier" in only:
            summary["classifier"] = train_classifier_weights(out)
        if "score" in only:
            summary["score"] = train_score_weights(out, codec=load_codec(out / "vae.pt"))
        return summary
    finally:
        torch.set_num_threads(previous_threads)
