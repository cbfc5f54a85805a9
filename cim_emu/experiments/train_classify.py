"""Regenerate the shipped weights of ``cim-emu classify`` (``cim-emu classify --train``).

Every network of :mod:`cim_emu.experiments.classify` is trained on the digits' training split with Adam
(the paper's Appendix A optimiser), Glorot-uniform initialisation and the loss of the T-sample average:

* deterministic networks (``float``, ``int4`` ... ``int1``): T = 1, float weights;
* p-bit networks ``pbit_T1``, ``pbit_T2``, ``pbit_T5``, ``pbit_T10``: sample-aware, T = 1, 2, 5, 10, the
  p-bits at the median device (straight-through gradients, see ``PBitActivation``);
* ``mcdropconnect``: the trained float network converted with in-situ MC-dropconnect on ternary p-bit pairs
  (``MC_CONFIG``, keep probability ``MC_KEEP_PROBABILITY``) and fine-tuned through the layers' hardware-aware
  float path, with the loss of the ``mc_samples``-sample average (which calibrates the predictive distribution).

All randomness derives from ``SeedStream(seed).child("train_classify")``: the same seed gives the same file.
About two minutes for both model families on one CPU core (127 s measured).
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Callable

import torch
from torch import nn

import devices
from cim_emu.crossbar.convert import convert, crossbar_layers, generator_scope
from cim_emu.crossbar.layers.base import AnalogLinearBase
from cim_emu.crossbar.layers.conv import _CrossbarConvBase
from cim_emu.experiments.classify import (
    DETERMINISTIC_BITS,
    MC_CONFIG,
    MC_VARIANT,
    MODELS,
    PBIT_TRAINING_SAMPLES,
    DigitsData,
    build_network,
    initialise,
    load_digits_split,
    mc_pulse,
    pbit_variant,
    sample_average_probabilities,
)
from cim_emu.rng import SeedStream

__all__ = ["TrainingConfig", "train_network", "train_classify", "save_weights"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainingConfig:
    """Training schedule of the shipped networks.

    Attributes:
        seed: root seed (split, initialisation, batches, p-bit and mask streams).
        n_epochs: epochs of every float-weight network.
        mc_epochs: fine-tuning epochs of the MC-dropconnect network.
        mc_samples: mask samples per image per step of that fine-tuning.
        batch_size: images per step.
        learning_rate: Adam step size.
        models: model families to train.
    """

    seed: int = 0
    n_epochs: int = 30
    mc_epochs: int = 20
    mc_samples: int = 2
    batch_size: int = 64
    learning_rate: float = 1e-2
    models: tuple[str, ...] = MODELS

    def __post_init__(self):
        for name in ("n_epochs", "mc_epochs", "mc_samples", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainingConfig.{name}: must be an integer >= 1, got {value!r}")
        if not 0 < self.learning_rate < float("inf"):
            raise ValueError(f"TrainingConfig.learning_rate: must be a finite number > 0, got {self.learning_rate!r}")
        if not self.models or any(model not in MODELS for model in self.models):
            raise ValueError(f"TrainingConfig.models: expected a non-empty subset of {MODELS}, got {self.models!r}")


def train_network(network: nn.Module, data: DigitsData, *, n_samples: int, n_epochs: int, batch_size: int,
                  learning_rate: float, stream: SeedStream) -> nn.Module:
    """Sample-aware training: minimise -log of the T-sample average of the softmax outputs; returns ``network``.

    Args:
        network: a float or converted network (its stochastic layers take the scope's generator).
        data: the digits split.
        n_samples: T per step.
        n_epochs, batch_size, learning_rate: Adam schedule.
        stream: seeds of the batch order (``batches``) and of the stochastic units (``noise``).
    """
    optimiser = torch.optim.Adam(network.parameters(), lr=learning_rate)
    order_generator = stream.child("batches").torch_generator()
    noise_generator = stream.child("noise").torch_generator()
    network.train()
    n_images = data.train_images.shape[0]
    for _ in range(n_epochs):
        order = torch.randperm(n_images, generator=order_generator)
        for start in range(0, n_images, batch_size):
            index = order[start:start + batch_size]
            probabilities = sample_average_probabilities(network, data.train_images[index], n_samples=n_samples,
                                                         generator=noise_generator).mean(dim=0)
            picked = probabilities.gather(1, data.train_labels[index, None]).squeeze(1)
            loss = -torch.log(picked.clamp_min(1e-12)).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return network.eval()


def _float_state(converted: nn.Module, template: nn.Module) -> dict:
    """The converted network's weights in the float network's layout (conv kernels reshaped)."""
    state = copy.deepcopy(template.state_dict())
    for name, layer in crossbar_layers(converted):
        if isinstance(layer, _CrossbarConvBase):
            state[f"{name}.weight"] = layer.weight.detach().clone()
            state[f"{name}.bias"] = layer.bias.detach().clone()
        elif isinstance(layer, AnalogLinearBase):
            state[f"{name}.weight"] = layer.weight.detach().clone()
            state[f"{name}.bias"] = layer.bias.detach().clone()
    return state


def train_classify(config: TrainingConfig | None = None, *, card: devices.DeviceCard | None = None,
                   progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Train every network; returns the weights table that :func:`cim_emu.experiments.classify.load_weights`
    reads: ``{"format": 1, "seed", "training": {...}, "models": {model: {variant: float state_dict}}}``."""
    config = TrainingConfig() if config is None else config
    data = load_digits_split(config.seed)
    root = SeedStream(config.seed).child("train_classify")
    schedule = dict(batch_size=config.batch_size, learning_rate=config.learning_rate)
    models: dict[str, dict] = {}
    n_jobs = len(config.models) * (len(DETERMINISTIC_BITS) + len(PBIT_TRAINING_SAMPLES) + 1)
    done = 0
    for model in config.models:
        table: dict[str, dict] = {}
        jobs = [(variant, variant, 1) for variant in DETERMINISTIC_BITS]
        jobs += [(pbit_variant(t), "pbit", t) for t in PBIT_TRAINING_SAMPLES]
        for variant, activation, n_samples in jobs:
            if progress is not None:
                progress("training", done, n_jobs)
            done += 1
            stream = root.child(model).child(variant)
            network = initialise(build_network(model, activation, card=card),
                                 generator=stream.child("init").torch_generator())
            train_network(network, data, n_samples=n_samples, n_epochs=config.n_epochs, stream=stream, **schedule)
            table[variant] = copy.deepcopy(network.state_dict())
        if progress is not None:
            progress("training", done, n_jobs)
        done += 1
        template = build_network(model, "float", card=card)
        template.load_state_dict(table["float"])
        converted = convert(template, config=MC_CONFIG, card=card, mc_dropconnect=True, pulse=mc_pulse(card))
        stream = root.child(model).child(MC_VARIANT)
        with generator_scope(stream.child("scope").torch_generator()):
            train_network(converted, data, n_samples=config.mc_samples, n_epochs=config.mc_epochs, stream=stream,
                          **schedule)
        table[MC_VARIANT] = _float_state(converted, template)
        models[model] = table
    if progress is not None:
        progress("training", n_jobs, n_jobs)
    return {"format": 1, "seed": config.seed, "training": dataclasses.asdict(config), "models": models}


def save_weights(weights: dict, path: str | os.PathLike) -> str:
    """Write a weights table atomically (``torch.save``); returns the path."""
    with devices.atomic_write(path, "wb") as handle:
        torch.save(weights, handle)
    return os.fspath(path)
