"""The paper's Fig. 22: heteroscedastic 1-D regression, deterministic network vs MC-dropconnect network.

Data: x ~ U(-1, 1), y = sin(2.5 x) + sigma(x) e with e ~ N(0, 1) and a noise level that triples across the
domain, sigma(x) = 0.15 + 0.3 ((x + 1) / 2)^2. (An MC-dropconnect network's spread is made by the same masked
weights that make its mean, so where the mean has slope its spread cannot fall arbitrarily low: with a floor
of 0.04 the 64-wide network of the default configuration still spreads ~0.17 there and over-covers.)

Two networks of the same shape (1 -> hidden -> hidden -> 1, ReLU) are trained hardware-aware in plain torch,
programmed onto emulated tiles, and column-calibrated (digital gain and offset per output, fitted on the
training inputs; see ``AnalogLinearBase.calibrate``):

* the ANN (``CrossbarLinear``) is trained with mean squared error; it predicts the conditional mean only,
  and its predictive spread is whatever the tile's read noise gives: its intervals collapse;
* the MC-dropconnect network (``MCDropConnectLinear`` everywhere) is trained with the energy score (CRPS in
  one dimension) of its sampled outputs, T mask samples per input, a proper scoring rule minimised only by
  the data's conditional distribution (Gneiting & Raftery 2007), so its mask randomness learns the data's
  spread.

Both are evaluated on held-out data from their programmed tiles, from ``n_eval_samples`` runs per input: the
Gaussian NLL of the sample mean and standard deviation (floored at ``min_std``), and the coverage of the
central 90 % interval of the samples.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

import devices
from cim_emu.crossbar.config import CrossbarConfig, WritePulse
from cim_emu.crossbar.layers.linear import CrossbarLinear
from cim_emu.crossbar.layers.mc_dropconnect import MCDropConnectLinear
from cim_emu.rng import SeedStream

NOISE_FLOOR = 0.15
NOISE_GROWTH = 0.3

__all__ = ["RegressionConfig", "RegressionResult", "heteroscedastic_data", "noise_level", "run_regression",
           "plot_regression"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RegressionConfig:
    """Settings of the Fig. 22 experiment.

    Attributes:
        n_train: training points.
        n_test: held-out points.
        hidden: width of the two hidden layers.
        n_steps: optimiser steps per network.
        batch_size: points per step.
        learning_rate: Adam learning rate.
        n_train_samples: mask samples per point in the energy-score loss (>= 2).
        n_eval_samples: tile runs per held-out point.
        keep_probability: median p-bit keep probability; sets the write pulse amplitude.
        interval: central predictive interval whose coverage is reported.
        min_std: floor of the predictive standard deviation in the NLL (a collapsed ANN stays finite).
        seed: root seed of data, initialisation, training masks, programming and evaluation streams.
        crossbar: tile hardware of both networks.
    """

    n_train: int = 2000
    n_test: int = 2000
    hidden: int = 64
    n_steps: int = 2000
    batch_size: int = 128
    learning_rate: float = 5e-3
    n_train_samples: int = 16
    n_eval_samples: int = 200
    keep_probability: float = 0.8
    interval: float = 0.9
    min_std: float = 1e-6
    seed: int = 0
    crossbar: CrossbarConfig = dataclasses.field(default_factory=CrossbarConfig)

    def __post_init__(self):
        for name in ("n_train", "n_test", "hidden", "n_steps", "batch_size", "n_eval_samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"RegressionConfig.{name}: must be an integer >= 1, got {value!r}")
        if isinstance(self.n_train_samples, bool) or not isinstance(self.n_train_samples, int) \
                or self.n_train_samples < 2:
            raise ValueError(f"RegressionConfig.n_train_samples: the energy score needs >= 2 samples, "
                             f"got {self.n_train_samples!r}")
        for name, low, high in (("keep_probability", 0.0, 1.0), ("interval", 0.0, 1.0)):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not low < value < high:
                raise ValueError(f"RegressionConfig.{name}: must be in ({low}, {high}), got {value!r}")
        if not isinstance(self.learning_rate, (int, float)) or not self.learning_rate > 0:
            raise ValueError(f"RegressionConfig.learning_rate: must be > 0, got {self.learning_rate!r}")
        if not isinstance(self.min_std, (int, float)) or not self.min_std > 0:
            raise ValueError(f"RegressionConfig.min_std: must be > 0, got {self.min_std!r}")

    @classmethod
    def fast(cls, **overrides) -> RegressionConfig:
        """A configuration for tests: smaller data and fewer steps (tens of seconds on one core)."""
        values = dict(n_train=1000, n_test=1000, n_steps=800, n_train_samples=8, n_eval_samples=100)
        values.update(overrides)
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class RegressionResult:
    """Held-out metrics of both networks on their tiles, and curves for the figure.

    Attributes:
        ann_nll, mc_nll: mean Gaussian negative log-likelihood per held-out point (nats).
        ann_coverage, mc_coverage: fraction of held-out targets inside the central ``interval``.
        ann_mean_abs_error, mc_mean_abs_error: |predictive mean - target| averaged over held-out points.
        interval: the nominal coverage.
        keep_probability_mean, keep_probability_std: deployed per-cell keep probabilities of the MC network.
        x_grid, ann_prediction, mc_mean, mc_lower, mc_upper, true_mean, true_lower, true_upper: curves (lists).
        train_x, train_y: training data (lists), for the scatter.
        config: the experiment's settings (JSON-ready).
    """

    ann_nll: float
    mc_nll: float
    ann_coverage: float
    mc_coverage: float
    ann_mean_abs_error: float
    mc_mean_abs_error: float
    interval: float
    keep_probability_mean: float
    keep_probability_std: float
    x_grid: list
    ann_prediction: list
    mc_mean: list
    mc_lower: list
    mc_upper: list
    true_mean: list
    true_lower: list
    true_upper: list
    train_x: list
    train_y: list
    config: dict

    @property
    def accepted(self) -> bool:
        """The issue's acceptance: MC coverage within 5 points of nominal and a lower NLL than the ANN."""
        return abs(self.mc_coverage - self.interval) <= 0.05 and self.mc_nll < self.ann_nll

    def metrics(self) -> dict:
        """The JSON summary: metrics, acceptance and settings (no curves)."""
        names = ("ann_nll", "mc_nll", "ann_coverage", "mc_coverage", "ann_mean_abs_error", "mc_mean_abs_error",
                 "interval", "keep_probability_mean", "keep_probability_std")
        return {**{name: getattr(self, name) for name in names}, "accepted": self.accepted, "config": self.config}


def noise_level(x: torch.Tensor, floor: float = NOISE_FLOOR, growth: float = NOISE_GROWTH) -> torch.Tensor:
    """Standard deviation of the data's noise at x: floor + growth ((x + 1) / 2)^2 (heteroscedastic)."""
    return floor + growth * ((x + 1) / 2) ** 2


def heteroscedastic_data(n_points: int, *, generator: torch.Generator, floor: float = NOISE_FLOOR,
                         growth: float = NOISE_GROWTH) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y), each (n_points, 1) float32: x ~ U(-1, 1), y = sin(2.5 x) + noise_level(x) N(0, 1)."""
    x = torch.rand((n_points, 1), generator=generator, dtype=torch.float64) * 2 - 1
    noise = noise_level(x, floor, growth) * torch.randn((n_points, 1), generator=generator, dtype=torch.float64)
    return x.float(), (torch.sin(2.5 * x) + noise).float()


class _Network(nn.Module):
    """1 -> hidden -> hidden -> 1 with ReLU; layers of one kind."""

    def __init__(self, layers: list[nn.Module]):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor, *, generator: torch.Generator | None = None,
                n_samples: int | None = None) -> torch.Tensor:
        for index, layer in enumerate(self.layers):
            if isinstance(layer, MCDropConnectLinear):
                x = layer(x, generator=generator, n_samples=n_samples if index == 0 else None)
            else:
                x = layer(x, generator=generator)
            if index < len(self.layers) - 1:
                x = torch.relu(x)
        return x


def _build(kind, config: RegressionConfig, pulse: WritePulse, card, generator) -> _Network:
    sizes = [1, config.hidden, config.hidden, 1]
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        if kind is MCDropConnectLinear:
            layers.append(MCDropConnectLinear(fan_in, fan_out, pulse=pulse, config=config.crossbar, card=card,
                                              generator=generator))
        else:
            layers.append(CrossbarLinear(fan_in, fan_out, config=config.crossbar, card=card, generator=generator))
    return _Network(layers)


def energy_score(samples: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean energy score (CRPS in 1-D) of samples (T, batch, 1) against targets (batch, 1); unbiased form."""
    n_samples = samples.shape[0]
    accuracy = (samples - targets).abs().mean(dim=0)
    spread = (samples[:, None] - samples[None, :]).abs().sum(dim=(0, 1)) / (2 * n_samples * (n_samples - 1))
    return (accuracy - spread).mean()


def _train(network: _Network, x: torch.Tensor, y: torch.Tensor, config: RegressionConfig, *, stochastic: bool,
           generator: torch.Generator) -> None:
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.n_steps)
    network.train()
    for _ in range(config.n_steps):
        batch = torch.randint(0, x.shape[0], (config.batch_size,), generator=generator)
        if stochastic:
            samples = network(x[batch], generator=generator, n_samples=config.n_train_samples)
            loss = energy_score(samples, y[batch])
        else:
            loss = torch.mean((network(x[batch]) - y[batch]) ** 2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()


def _program_and_calibrate(network: _Network, calibration_x: torch.Tensor, generator: torch.Generator) -> None:
    """Program every layer, then calibrate each one's digital column gain/offset on the activations the
    trained (float-path) network gives it on the calibration inputs."""
    network.eval()
    activations = calibration_x
    inputs_per_layer = []
    with torch.no_grad():
        for index, layer in enumerate(network.layers):
            inputs_per_layer.append(activations)
            activations = layer.expected_output(activations) if isinstance(layer, MCDropConnectLinear) \
                else layer(activations)
            if index < len(network.layers) - 1:
                activations = torch.relu(activations)
    for layer, inputs in zip(network.layers, inputs_per_layer, strict=True):
        layer.program(generator=generator)
        layer.calibrate(inputs)


def _predictive_samples(network: _Network, x: torch.Tensor, n_samples: int, generator: torch.Generator,
                        stochastic: bool) -> torch.Tensor:
    """(n_samples, batch) outputs of the programmed network: repeated tile runs."""
    with torch.no_grad():
        if stochastic:
            return network(x, generator=generator, n_samples=n_samples)[..., 0]
        return torch.stack([network(x, generator=generator)[:, 0] for _ in range(n_samples)])


def _metrics(samples: torch.Tensor, targets: torch.Tensor, interval: float, min_std: float) -> tuple[float, ...]:
    samples, targets = samples.double(), targets[:, 0].double()
    mean, std = samples.mean(dim=0), samples.std(dim=0).clamp_min(min_std)
    nll = 0.5 * math.log(2 * math.pi) + torch.log(std) + 0.5 * ((targets - mean) / std) ** 2
    tail = (1 - interval) / 2
    lower, upper = torch.quantile(samples, tail, dim=0), torch.quantile(samples, 1 - tail, dim=0)
    coverage = ((targets >= lower) & (targets <= upper)).double().mean()
    return float(nll.mean()), float(coverage), float((mean - targets).abs().mean())


def run_regression(config: RegressionConfig | None = None, *, card: devices.DeviceCard | None = None
                   ) -> RegressionResult:
    """Train both networks, program them onto tiles, and evaluate them on held-out data.

    Args:
        config: experiment settings (default ``RegressionConfig()``).
        card: device card (default ``devices.default_card()``).

    Returns:
        A :class:`RegressionResult`.
    """
    config = RegressionConfig() if config is None else config
    card = devices.default_card() if card is None else card
    pulse = WritePulse.for_keep_probability(card, config.keep_probability)
    # One named stream per purpose, split from the root seed.
    root = SeedStream(config.seed).child("regression")
    data_stream, init_stream, train_stream, program_stream, eval_stream = (
        root.child(name).torch_generator("cpu") for name in ("data", "init", "train", "program", "evaluation"))
    train_x, train_y = heteroscedastic_data(config.n_train, generator=data_stream)
    test_x, test_y = heteroscedastic_data(config.n_test, generator=data_stream)

    ann = _build(CrossbarLinear, config, pulse, card, init_stream)
    mc = _build(MCDropConnectLinear, config, pulse, card, init_stream)
    _train(ann, train_x, train_y, config, stochastic=False, generator=train_stream)
    _train(mc, train_x, train_y, config, stochastic=True, generator=train_stream)
    for network in (ann, mc):
        _program_and_calibrate(network, train_x, program_stream)

    ann_samples = _predictive_samples(ann, test_x, config.n_eval_samples, eval_stream, stochastic=False)
    mc_samples = _predictive_samples(mc, test_x, config.n_eval_samples, eval_stream, stochastic=True)
    ann_nll, ann_coverage, ann_error = _metrics(ann_samples, test_y, config.interval, config.min_std)
    mc_nll, mc_coverage, mc_error = _metrics(mc_samples, test_y, config.interval, config.min_std)

    grid = torch.linspace(-1, 1, 201)[:, None]
    ann_grid = _predictive_samples(ann, grid, config.n_eval_samples, eval_stream, stochastic=False)
    mc_grid = _predictive_samples(mc, grid, config.n_eval_samples, eval_stream, stochastic=True).double()
    tail = (1 - config.interval) / 2
    z = math.sqrt(2) * torch.erfinv(torch.tensor(config.interval, dtype=torch.float64)).item()
    true_mean = torch.sin(2.5 * grid[:, 0].double())
    keep = torch.cat([layer.keep_probabilities[layer.tile.codes != 0] for layer in mc.layers])
    return RegressionResult(
        ann_nll=ann_nll, mc_nll=mc_nll, ann_coverage=ann_coverage, mc_coverage=mc_coverage,
        ann_mean_abs_error=ann_error, mc_mean_abs_error=mc_error, interval=config.interval,
        keep_probability_mean=float(keep.mean()), keep_probability_std=float(keep.std()),
        x_grid=grid[:, 0].tolist(), ann_prediction=ann_grid.double().mean(dim=0).tolist(),
        mc_mean=mc_grid.mean(dim=0).tolist(), mc_lower=torch.quantile(mc_grid, tail, dim=0).tolist(),
        mc_upper=torch.quantile(mc_grid, 1 - tail, dim=0).tolist(), true_mean=true_mean.tolist(),
        true_lower=(true_mean - z * noise_level(grid[:, 0].double())).tolist(),
        true_upper=(true_mean + z * noise_level(grid[:, 0].double())).tolist(),
        train_x=train_x[:, 0].tolist(), train_y=train_y[:, 0].tolist(),
        config={**{f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name != "crossbar"},
                "crossbar": config.crossbar.to_dict(), "card": card.name,
                "pulse": {"voltage_V": pulse.voltage_V, "pulse_width_s": pulse.pulse_width_s}},
    )


def plot_regression(result: RegressionResult, path) -> None:
    """Write the Fig. 22 analogue (PNG): data, ANN prediction, MC-dropconnect predictive band.

    Args:
        result: from :func:`run_regression`.
        path: output PNG path (written atomically).
    """
    from matplotlib.figure import Figure  # no pyplot: no global matplotlib state

    figure = Figure(figsize=(10, 4))
    axes = figure.subplots(1, 2, sharey=True)
    percent = round(100 * result.interval)
    for axis, title in zip(axes, ("(a) ANN on data-bit pairs", "(b) MC-dropconnect on p-bit pairs"), strict=True):
        axis.scatter(result.train_x, result.train_y, s=3, color="0.6", alpha=0.5, label="training data")
        axis.plot(result.x_grid, result.true_lower, color="k", lw=0.8, ls=":", label=f"true {percent} % band")
        axis.plot(result.x_grid, result.true_upper, color="k", lw=0.8, ls=":")
        axis.set_title(title)
        axis.set_xlabel("x")
    axes[0].plot(result.x_grid, result.ann_prediction, color="C3", lw=2, label="ANN prediction")
    axes[0].set_ylabel("y")
    axes[0].text(0.02, 0.02, f"coverage {result.ann_coverage:.1%}\nNLL {result.ann_nll:.3g}",
                 transform=axes[0].transAxes, fontsize=8)
    axes[1].fill_between(result.x_grid, result.mc_lower, result.mc_upper, color="C0", alpha=0.3,
                         label=f"MC-dropconnect {percent} % band")
    axes[1].plot(result.x_grid, result.mc_mean, color="C0", lw=2, label="MC-dropconnect mean")
    axes[1].text(0.02, 0.02, f"coverage {result.mc_coverage:.1%}\nNLL {result.mc_nll:.3g}",
                 transform=axes[1].transAxes, fontsize=8)
    for axis in axes:
        axis.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    with devices.atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=120)
