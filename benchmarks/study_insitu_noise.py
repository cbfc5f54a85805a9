"""Design study: how should the p-bits of an MC-dropconnect layer supply the reverse-SDE increment?

    python benchmarks/study_insitu_noise.py [--n 500] [--steps 100] [--seeds 2]

All designs use the shipped drift network on the same programmed tiles and the same initial latents;
only the increment differs. Printed per design: per-step variance ratio (produced / g(t)^2 dt) over the
trajectory, mean excess kurtosis and RMS cross-correlation of the increments, KID and precision/recall
against real digits and KID against the ex-situ sampler of the same seed, random bits per image and
sampling time.

Designs:
* ``ex-situ (TRNG)``: reference, standardised sums of 16 TRNG bits.
* ``drive rows, measured`` (shipped): 16 p-bit rows per column driven at full scale; mean and spread
  measured at deployment (``diffusion.InSituNoiseHead``).
* ``drive rows, nominal``: the same block normalised with the nominal model (+-1 weights, deployed keep
  probabilities) instead of measurements: what the chip's conductance variation does to the variance.
* ``hidden-state head``: an MC-dropconnect layer (256 -> 32, +-1 checkerboard weights) reading the drift
  network's last hidden layer; exact per-row mean (``expected_output``) subtracted and the exact
  mask variance sum_i P(1-P) w^2 h_i^2 divided out, per row and step (the brief's suggestion).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

from cim_emu import MCDropConnectLinear, track_ops
from diffusion import (
    InSituNoiseHead,
    SamplerGenerators,
    TRNGIncrements,
    compare_features,
    increment_statistics,
    load_classifier,
    load_codec,
    load_digits_split,
    load_schedule,
    load_score_network,
    sample_latents,
)
from diffusion.score_net import time_embedding


class _HiddenCapture:
    """The drift network, keeping its last hidden layer for the hidden-state head."""

    def __init__(self, network):
        self.network, self.latent_dim, self.hidden = network, network.latent_dim, None

    def __call__(self, x, t, *, generator):
        hidden = torch.cat([x, time_embedding(t, self.network.config)], dim=1)
        for layer in self.network.hidden_layers:
            hidden = nn.functional.silu(layer(hidden, generator=generator))
        self.hidden = hidden
        return self.network.head(hidden, generator=generator)


class _HiddenStateHead:
    name = "hidden-state head"

    def __init__(self, capture, width, latent_dim, generator):
        self.capture, self.latent_dim = capture, latent_dim
        self.layer = MCDropConnectLinear(width, latent_dim, bias=False)
        with torch.no_grad():
            parity = (torch.arange(latent_dim)[:, None] + torch.arange(width)[None, :]) % 2
            self.layer.weight.copy_(1.0 - 2.0 * parity.float())
        self.layer.program(generator=generator)
        self.layer.eval()
        keep = self.layer.keep_probabilities.float()
        self.cell_variance = keep * (1 - keep) * self.layer.weight.detach() ** 2

    def increment(self, n_rows, step_std, *, generator):
        hidden = self.capture.hidden
        reads = self.layer(hidden, generator=generator)
        mean = self.layer.expected_output(hidden)
        variance = hidden.pow(2) @ self.cell_variance.T
        return step_std * (reads - mean) / variance.clamp_min(1e-12).sqrt()


class _NominalDrive:
    name = "drive rows, nominal"

    def __init__(self, head: InSituNoiseHead, calibration):
        self.head, self.latent_dim = head, head.latent_dim
        self.offset = torch.tensor(calibration.model_mean, dtype=torch.float32)
        self.spread = torch.tensor(calibration.model_std, dtype=torch.float32)

    def increment(self, n_rows, step_std, *, generator):
        reads = self.head.layer(self.head.drive.expand(n_rows, -1), generator=generator)
        return (reads - self.offset) * (step_std / self.spread)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    codec, classifier, split = load_codec(), load_classifier(), load_digits_split()
    schedule = load_schedule()
    schedule = type(schedule)(**{**schedule.__dict__, "n_steps": args.steps})
    network = load_score_network().program(generator=torch.Generator().manual_seed(0))
    capture = _HiddenCapture(network)
    head = InSituNoiseHead(network.latent_dim).program(generator=torch.Generator().manual_seed(1))
    calibration = head.calibrate(generator=torch.Generator().manual_seed(2))
    designs = [TRNGIncrements(network.latent_dim, 16), head, _NominalDrive(head, calibration),
               _HiddenStateHead(capture, network.config.width, network.latent_dim, torch.Generator().manual_seed(3))]
    reference = classifier.features(split.test_images)
    rng = np.random.default_rng(0)
    required = schedule.required_noise_std().tolist()
    features = {}
    print(f"{args.n} images, {args.steps} steps, seeds {list(range(args.seeds))}")
    for design in designs:
        for seed in range(args.seeds):
            records = []
            generators = SamplerGenerators(*(torch.Generator().manual_seed(100 * seed + k) for k in (1, 2, 3)))
            start = time.perf_counter()
            with track_ops() as counts:
                latents = sample_latents(
                    capture, design, schedule, args.n, generators=generators,
                    on_step=lambda i, t, inc, kept=records: kept.append((inc.clone(), required[i])))
            elapsed = time.perf_counter() - start
            images = codec.decode(latents.reshape(-1, *codec.latent_shape))
            features[design.name, seed] = classifier.features(images)
            stats = [increment_statistics(inc, std) for inc, std in records]
            ratios = [s.variance_ratio for s in stats]
            quality = compare_features(features[design.name, seed], reference, generator=rng)
            versus = compare_features(features[design.name, seed], features["ex-situ", seed], generator=rng) \
                if design.name != "ex-situ" else None
            bits = (counts.pbit_pulses + counts.trng_bits_generated) / args.n
            print(f"{design.name:22s} seed {seed}: var ratio {min(ratios):.3f}..{max(ratios):.3f}, kurtosis "
                  f"{statistics.mean(s.excess_kurtosis for s in stats):+.3f}, RMS corr "
                  f"{statistics.mean(s.rms_cross_correlation for s in stats):.4f} "
                  f"(indep. {stats[0].rms_cross_correlation_expected:.4f}); vs real KID {quality.kid_mean:.3f} +- "
                  f"{quality.kid_std:.3f} P {quality.precision:.3f} R {quality.recall:.3f}; "
                  + (f"vs ex-situ KID {versus.kid_mean:+.3f} +- {versus.kid_std:.3f}; " if versus else "")
                  + f"{bits:.0f} random bits/image, {counts.mvm_calls / args.n:.0f} MVMs/image, {elapsed:.2f} s")


if __name__ == "__main__":
    main()
