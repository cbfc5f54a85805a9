"""Regenerate the shipped weights (``cim-emu train-weights [--only vae,classifier,score] [--out DIR]``).

Trains, in order and each from its own fixed seed, the VAE, the feature classifier and the drift
network (on the VAE's latents), on the CPU with one thread so that the result is reproducible
bit-for-bit on a given platform. Takes a few minutes on one laptop core; progress is reported through an
optional ``progress(stage, done, total)`` callback (the CLI draws the bars; this module prints nothing).
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable

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


ProgressCallback = Callable[[str, int, int], None]


def _on_epoch(progress: ProgressCallback | None, stage: str, total: int) -> Callable[[int, float], None] | None:
    """A training loop's ``on_epoch(epoch, loss)`` that reports ``progress(stage, epochs done, total)``."""
    if progress is None:
        return None
    return lambda epoch, loss: progress(stage, epoch + 1, total)


def train_vae_weights(out: pathlib.Path, *, progress: ProgressCallback | None = None) -> dict:
    """Train the VAE and write ``out / vae.pt``; returns its report as a dict."""
    split = load_digits_split()
    codec, report = train_vae(
        split, VAEConfig(), VAE_TRAINING, generator=torch.Generator().manual_seed(VAE_SEED),
        on_epoch=_on_epoch(progress, "VAE epochs", VAE_TRAINING.n_epochs),
    )
    save_weights(out / "vae.pt", kind="vae", state_dict=codec.vae.state_dict(), config=VAEConfig(),
                 training=VAE_TRAINING, seed=VAE_SEED, report=report, extra=codec.extra_state())
    return dict(vars(report))


def train_classifier_weights(out: pathlib.Path, *, progress: ProgressCallback | None = None) -> dict:
    """Train the feature classifier and write ``out / classifier.pt``."""
    split = load_digits_split()
    config = ClassifierConfig()
    classifier, report = train_classifier(
        split, config, generator=torch.Generator().manual_seed(CLASSIFIER_SEED),
        on_epoch=_on_epoch(progress, "classifier epochs", config.n_epochs),
    )
    save_weights(out / "classifier.pt", kind="classifier", state_dict=classifier.state_dict(), config=config,
                 training=config, seed=CLASSIFIER_SEED, report=report)
    return dict(vars(report))


SCORE_NET = ScoreNetConfig()
SCORE_TRAINING = ScoreTrainingConfig(n_iterations=30_000)
SCHEDULE = VPSchedule()


def train_score_weights(out: pathlib.Path, *, codec, progress: ProgressCallback | None = None) -> dict:
    """Train the drift network (hardware-aware, on the default tiles) on the codec's latents; write
    ``out / score_network.pt``."""
    split = load_digits_split()
    latents = codec.encode(split.train_images).reshape(split.train_images.shape[0], -1)
    held_out = codec.encode(split.test_images).reshape(split.test_images.shape[0], -1)
    generator = torch.Generator().manual_seed(SCORE_SEED)
    network = ScoreNetwork(SCORE_NET, generator=generator)
    # train_score_network reports (iterations done, running loss) every 100 iterations.
    on_progress = None if progress is None else (
        lambda iteration, loss: progress("drift network iterations", iteration, SCORE_TRAINING.n_iterations))
    average, report = train_score_network(
        network, latents, SCHEDULE, SCORE_TRAINING, generator=generator,
        network_generator=torch.Generator().manual_seed(SCORE_SEED + 1000), held_out=held_out,
        on_progress=on_progress,
    )
    save_weights(out / "score_network.pt", kind="score_network", state_dict=average.state_dict(), config=SCORE_NET,
                 training=SCORE_TRAINING, seed=SCORE_SEED, report=report, extra={"schedule": SCHEDULE})
    return dict(vars(report))


MODELS = ("vae", "classifier", "score")


def train_weights(out: pathlib.Path = WEIGHTS_DIR, only: tuple[str, ...] = MODELS, *,
                  progress: ProgressCallback | None = None) -> dict[str, dict]:
    """Retrain the chosen models (in the order vae, classifier, score) into ``out``; returns their reports.

    One torch thread, fixed seeds: bit-for-bit reproducible on a given platform. The drift network trains on
    the latents of the VAE found in ``out``. ``progress``: optional ``callback(stage, done, total)``, stages
    ``"VAE epochs"``, ``"classifier epochs"`` and ``"drift network iterations"``.
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
            summary["vae"] = train_vae_weights(out, progress=progress)
        if "classifier" in only:
            summary["classifier"] = train_classifier_weights(out, progress=progress)
        if "score" in only:
            summary["score"] = train_score_weights(out, codec=load_codec(out / "vae.pt"), progress=progress)
        return summary
    finally:
        torch.set_num_threads(previous_threads)
