"""Digit classification on crossbars: the p-DNN paper's Sec. II experiments on emulated hardware.

The networks (``build_network``) are plain torch models, converted with :func:`cim_emu.convert` exactly as a
user's own model would be:

* ``cnn``: conv(1 -> 8, 3x3) - act - conv(8 -> 16, 3x3) - act - maxpool(2) - linear(256 -> 10) on the 8x8
  ``sklearn`` digits;
* ``mlp``: linear(64 -> 64) - act - linear(64 -> 10).

Activations: ``float`` (logistic sigmoid, 32-bit), ``int4`` ... ``int1`` (the sigmoid rounded to b bits,
straight-through gradient; int1 is a hard 0/1 threshold) and ``pbit`` (:class:`PBitActivation`, 1 bit,
stochastic; the paper uses sigmoid p-bits for classification). The p-bit networks are trained
sample-aware at T = 1, 2, 5, 10 (``pbit_T1`` ...; loss of the T-sample average, see
:func:`sample_average_probabilities`), the deterministic ones at T = 1. A float CNN fine-tuned with
in-situ MC-dropconnect (every layer on p-bit pairs) gives the uncertainty metrics.

At inference every network runs on emulated tiles (``CLASSIFY_CONFIG``: 4-bit weights over 4 ternary
slices, 8-bit DAC and ADC, read noise, device variation; the MC-dropconnect network on ternary p-bit pairs),
programmed and calibrated. Energy per inference is the paper's Eq. 4 (``cim_emu.energy.pdnn``) with the
operation counts measured by ``track_ops`` (:func:`measure_ops`): W = weights on the tiles (read once per
inference, shared by the T samples), M(T) = cell reads / (2 n_slices) (one MAC per weight per MVM),
A(T) = neuron outputs (counted on the activation modules; for p-bits equal to the p-bit pulses recorded by
the layers); the layers before the first stochastic one run once per image, the rest once per sample
(:func:`inference_energy_J`).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import math
import os
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

import devices
from cim_emu.crossbar.config import CrossbarConfig, WritePulse
from cim_emu.crossbar.convert import attach_generator_scope, calibrate, convert, generator_scope, program
from cim_emu.crossbar.counters import track_ops
from cim_emu.crossbar.layers.base import AnalogLinearBase
from cim_emu.crossbar.layers.conv import MCDropConnectConv2d
from cim_emu.crossbar.layers.mc_dropconnect import MCDropConnectLinear
from cim_emu.crossbar.layers.pbit import PBitActivation
from cim_emu.rng import SeedStream

__all__ = [
    "MODELS", "ACTIVATIONS", "DETERMINISTIC_BITS", "PBIT_TRAINING_SAMPLES", "CURVE_SAMPLES", "CLASSIFY_CONFIG",
    "MC_CONFIG", "DEFAULT_WEIGHTS", "SigmoidActivation", "DigitsData", "load_digits_split", "build_network",
    "initialise", "sample_average_probabilities", "ClassifyConfig", "ClassifyResult", "run_classify",
    "plot_classify", "load_weights", "expected_calibration_error", "auroc", "demo_section", "DemoSection",
    "MeasuredOps", "measure_ops", "inference_energy_J", "MC_KEEP_PROBABILITY", "mc_pulse", "pbit_variant",
    "EnergyPoint",
]

MODELS = ("cnn", "mlp")
#: Activation choices of ``cim-emu classify --activations``; ``pbit`` stands for the four p-bit networks.
ACTIVATIONS = ("float", "int4", "int3", "int2", "int1", "pbit")
DETERMINISTIC_BITS = {"float": 32, "int4": 4, "int3": 3, "int2": 2, "int1": 1}
PBIT_TRAINING_SAMPLES = (1, 2, 5, 10)
CURVE_SAMPLES = (1, 2, 4, 8, 16, 32, 64)
MC_VARIANT = "mcdropconnect"
CLASSIFY_CONFIG = CrossbarConfig(weight_bits=4)
MC_CONFIG = CrossbarConfig(weight_bits=1)
#: Keep probability of the MC-dropconnect network's p-bits (its write pulse, ``WritePulse.for_keep_probability``).
MC_KEEP_PROBABILITY = 0.8
DEFAULT_WEIGHTS = os.path.join(os.path.dirname(__file__), "weights", "digits_classify.pt")
_IMAGES_PER_BATCH = 64


def pbit_variant(n_training_samples: int) -> str:
    """Name of the p-bit network trained with T samples, e.g. ``pbit_T5``."""
    return f"pbit_T{n_training_samples}"


class SigmoidActivation(nn.Module):
    """Logistic sigmoid, optionally rounded to ``bits`` bits (levels k / (2^b - 1)), gradient straight through.

    Args:
        bits: None for the 32-bit float sigmoid; 1-8 for a b-bit activation (1 = hard threshold at 0).
    """

    def __init__(self, bits: int | None = None):
        super().__init__()
        if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 8):
            raise ValueError(f"bits: must be None or an integer in 1..8, got {bits!r}")
        self.bits = bits

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, ...) -> (N, ...) in [0, 1]."""
        value = torch.sigmoid(inputs)
        if self.bits is None:
            return value
        levels = 2 ** self.bits - 1
        return value + (torch.round(value * levels) / levels - value).detach()

    def extra_repr(self) -> str:
        return f"bits={self.bits}"


def _activation(kind: str, n_features: int, card: devices.DeviceCard | None) -> nn.Module:
    if kind == "pbit":
        return PBitActivation(n_features, card=card)
    return SigmoidActivation(None if kind == "float" else DETERMINISTIC_BITS[kind])


def build_network(model: str, activation: str, *, card: devices.DeviceCard | None = None) -> nn.Module:
    """The float network of ``model`` (``cnn`` or ``mlp``) with ``activation`` units, uninitialised (meta device).

    Call :func:`initialise` (or load weights) before use.

    Args:
        model: ``cnn`` or ``mlp``.
        activation: ``float``, ``int4`` ... ``int1`` or ``pbit``.
        card: device card of the p-bit neurons (default card).
    """
    if model not in MODELS:
        raise ValueError(f"model: expected one of {MODELS}, got {model!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {ACTIVATIONS}, got {activation!r}")
    # Layers are made on the meta device: torch's own initialisation would draw from the global generator.
    if model == "cnn":
        layers = collections.OrderedDict(
            conv1=nn.Conv2d(1, 8, 3, padding=1, device="meta"), act1=_activation(activation, 8, card),
            conv2=nn.Conv2d(8, 16, 3, padding=1, device="meta"), act2=_activation(activation, 16, card),
            pool=nn.MaxPool2d(2), flatten=nn.Flatten(), classifier=nn.Linear(16 * 4 * 4, 10, device="meta"))
    else:
        layers = collections.OrderedDict(
            flatten=nn.Flatten(), hidden=nn.Linear(64, 64, device="meta"), act1=_activation(activation, 64, card),
            classifier=nn.Linear(64, 10, device="meta"))
    network = nn.Sequential(layers)
    network.to_empty(device="cpu")
    # to_empty also empties the p-bits' offset buffers: back to the median device.
    for module in network.modules():
        if isinstance(module, PBitActivation):
            module.v50_offsets_V.zero_()
    return attach_generator_scope(network)


def initialise(network: nn.Module, *, generator: torch.Generator) -> nn.Module:
    """Glorot-uniform weights and zero biases (the paper's Appendix A), drawn from ``generator``; returns it."""
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                fan_out = module.weight.shape[0] * math.prod(module.weight.shape[2:])
                fan_in = math.prod(module.weight.shape[1:])
                bound = math.sqrt(6.0 / (fan_in + fan_out))
                draw = torch.rand(module.weight.shape, generator=generator, dtype=torch.float64)
                module.weight.copy_((2 * draw - 1) * bound)
                if module.bias is not None:
                    module.bias.zero_()
    return network


@dataclasses.dataclass(frozen=True)
class DigitsData:
    """The sklearn 8x8 digits, split once: images (N, 1, 8, 8) float32 in [0, 1], labels (N,) int64."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def load_digits_split(seed: int = 0, test_fraction: float = 0.25) -> DigitsData:
    """The digits (shipped with scikit-learn; no download), shuffled by ``SeedStream(seed).child("split")``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    order = torch.from_numpy(SeedStream(seed).child("split").numpy_generator().permutation(len(labels)))
    n_test = int(round(test_fraction * len(labels)))
    test, train = order[:n_test], order[n_test:]
    return DigitsData(images[train], labels[train], images[test], labels[test])


def _is_stochastic(module: nn.Module) -> bool:
    return isinstance(module, (PBitActivation, MCDropConnectLinear, MCDropConnectConv2d))


def sample_average_probabilities(network: nn.Module, images: torch.Tensor, *, n_samples: int,
                                 generator: torch.Generator | None) -> torch.Tensor:
    """Class probabilities of T samples per image, from one pass of the deterministic front of the network.

    For an ``nn.Sequential`` the layers before the first stochastic one (a ``PBitActivation`` or an
    MC-dropconnect layer) run once per image: their outputs (one analog read of those weights, read noise
    included) are shared by the T samples, as the paper's Eq. 2 assumes. The first stochastic layer draws T
    samples (``n_samples=T``) and every later layer runs on the T N samples. Other models get the images
    replicated T times. The prediction is the average over samples of the softmax outputs; training
    minimises its negative log-likelihood (the loss of the T-sample average, the paper's Sec. II.1).

    Args:
        network: a float or converted network.
        images: (N, 1, 8, 8).
        n_samples: T >= 1.
        generator: source of randomness (None only for a deterministic network).

    Returns:
        (T, N, classes) probabilities (differentiable).
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"samples: must be an integer >= 1, got {n_samples!r}")
    scope = generator_scope(generator) if generator is not None else contextlib.nullcontext()
    with scope:
        if isinstance(network, nn.Sequential) and any(_is_stochastic(m) for m in network):
            values, expanded = images, False
            for module in network:
                if not expanded and _is_stochastic(module):
                    sampled = module(values, n_samples=n_samples)
                    values, expanded = sampled.reshape(-1, *sampled.shape[2:]), True
                else:
                    values = module(values)
            logits = values
        else:
            logits = network(images.repeat(n_samples, *([1] * (images.dim() - 1))))
    return torch.softmax(logits, dim=-1).reshape(n_samples, images.shape[0], -1)


# -------------------------------------------------------------------------------------------------- metrics
def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, n_bins: int = 15
                               ) -> tuple[float, dict]:
    """Top-label ECE over equal-width confidence bins, and the reliability diagram's bins.

    Args:
        probabilities: (N, classes) predictive probabilities.
        labels: (N,) true classes.
        n_bins: confidence bins on [0, 1].

    Returns:
        (ECE, {"confidence": [...], "accuracy": [...], "count": [...]}) with NaN for empty bins.
    """
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == labels).astype(np.float64)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece, mean_confidence, accuracy, count = 0.0, [], [], []
    for index in range(n_bins):
        members = bins == index
        size = int(members.sum())
        count.append(size)
        if size == 0:
            mean_confidence.append(float("nan"))
            accuracy.append(float("nan"))
            continue
        mean_confidence.append(float(confidence[members].mean()))
        accuracy.append(float(correct[members].mean()))
        ece += size / len(labels) * abs(accuracy[-1] - mean_confidence[-1])
    return ece, {"confidence": mean_confidence, "accuracy": accuracy, "count": count}


def auroc(in_distribution: np.ndarray, out_of_distribution: np.ndarray) -> float:
    """Area under the ROC curve of a score meant to be higher out of distribution (Mann-Whitney U, ties 1/2)."""
    from scipy.stats import rankdata

    scores = np.concatenate([in_distribution, out_of_distribution])
    ranks = rankdata(scores)
    n_in, n_out = len(in_distribution), len(out_of_distribution)
    u_statistic = ranks[n_in:].sum() - n_out * (n_out + 1) / 2
    return float(u_statistic / (n_in * n_out))


def _entropy(probabilities: np.ndarray) -> np.ndarray:
    return -(probabilities * np.log(np.clip(probabilities, 1e-30, None))).sum(axis=1)


# -------------------------------------------------------------------------------------------------- weights
def load_weights(path: str | os.PathLike | None = None) -> dict:
    """The shipped (or a regenerated) weights file: ``{"format", "seed", "models": {model: {variant: state}}}``."""
    path = DEFAULT_WEIGHTS if path is None else os.fspath(path)
    try:
        weights = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as error:
        raise ValueError(f"{path}: no weights file; regenerate it with `cim-emu classify --train`") from error
    except Exception as error:  # noqa: BLE001 - a corrupt or foreign file: say which and how to fix
        raise ValueError(f"{path}: not a classify weights file ({type(error).__name__}: {error}); regenerate it "
                         "with `cim-emu classify --train`") from error
    if not isinstance(weights, dict) or weights.get("format") != 1 or not isinstance(weights.get("models"), dict):
        raise ValueError(f"{path}: not a classify weights file (format 1 with a 'models' table); regenerate it "
                         "with `cim-emu classify --train`")
    return weights


def _load_network(weights: dict, model: str, variant: str, card: devices.DeviceCard | None) -> nn.Module:
    table = weights["models"].get(model, {})
    if variant not in table:
        raise ValueError(f"weights: no {model!r} network {variant!r} in the weights file (has "
                         f"{sorted(table)}); regenerate it with `cim-emu classify --train`")
    activation = "pbit" if variant.startswith("pbit") else "float" if variant == MC_VARIANT else variant
    network = build_network(model, activation, card=card)
    try:
        network.load_state_dict(table[variant])
    except (RuntimeError, KeyError) as error:
        raise ValueError(f"weights: {model}/{variant} does not fit the network ({error}); regenerate the file "
                         "with `cim-emu classify --train`") from error
    return network


# -------------------------------------------------------------------------------------------------- experiment
@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifyConfig:
    """What ``cim-emu classify`` evaluates.

    Attributes:
        model: ``cnn`` or ``mlp``.
        activations: subset of :data:`ACTIVATIONS` (``pbit`` = the four p-bit networks).
        n_samples: T of the p-bit networks' reported accuracy and energy.
        curve_samples: T values of the accuracy-vs-samples curve (all <= 64 by default; nested prefixes of
            the largest T's samples).
        mc_samples: MC-dropconnect samples per image for the uncertainty metrics.
        n_calibration: training images used for the tiles' column calibration.
        n_bins: ECE bins.
        seed: root seed (programming, calibration and inference streams derive from it).
        uncertainty: run the MC-dropconnect network (ECE, NLL, OOD AUROC).
    """

    model: str = "cnn"
    activations: tuple[str, ...] = ACTIVATIONS
    n_samples: int = 10
    curve_samples: tuple[int, ...] = CURVE_SAMPLES
    mc_samples: int = 16
    n_calibration: int = 256
    n_bins: int = 15
    seed: int = 0
    uncertainty: bool = True

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"ClassifyConfig.model: expected one of {MODELS}, got {self.model!r}")
        if not self.activations or any(a not in ACTIVATIONS for a in self.activations):
            raise ValueError(f"ClassifyConfig.activations: expected a non-empty subset of {ACTIVATIONS}, "
                             f"got {self.activations!r}")
        for name in ("n_samples", "mc_samples", "n_calibration", "n_bins"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                label = "samples" if name == "n_samples" else name
                raise ValueError(f"ClassifyConfig.{label}: must be an integer >= 1, got {value!r}")
        if not self.curve_samples or any(isinstance(t, bool) or not isinstance(t, int) or t < 1
                                         for t in self.curve_samples):
            raise ValueError(f"ClassifyConfig.curve_samples: expected integers >= 1, got {self.curve_samples!r}")

    def variants(self) -> list[str]:
        """The networks to evaluate, in report order."""
        names = []
        for activation in self.activations:
            if activation == "pbit":
                names.extend(pbit_variant(t) for t in PBIT_TRAINING_SAMPLES)
            else:
                names.append(activation)
        return names


@dataclasses.dataclass(frozen=True)
class EnergyPoint:
    """One network at one T: accuracy and Eq. 4 energy per inference (J), with the counts it was priced from."""

    variant: str
    n_samples: int
    accuracy: float
    energy_per_inference_J: float
    n_weights: int
    n_compute_ops: int
    n_activations: int


@dataclasses.dataclass(frozen=True)
class ClassifyResult:
    """Everything ``cim-emu classify`` reports (JSON via :meth:`to_dict`).

    Attributes:
        config: the run's configuration.
        accuracy: test accuracy per network (p-bit networks at ``config.n_samples``).
        accuracy_vs_samples: {"T": [...], "accuracy": [...]} of the p-bit network trained at the largest T
            (empty lists if no p-bit network was run).
        accuracy_vs_samples_by_training: {"T", "accuracy"} of every p-bit network, keyed by variant (the
            networks other than the main one up to ``config.n_samples``).
        energy_points: accuracy and Eq. 4 energy of every network (p-bit networks at every curve T).
        energy_per_inference_J: energy per network at the reported T.
        ece, nll: of the MC-dropconnect network's predictive distribution on the test set (None if not run).
        ece_deterministic: the float network's ECE on the same tiles (None if not run).
        ood_auroc: AUROC of the MC-dropconnect predictive entropy, test digits vs all OOD images.
        ood_auroc_by_set: per OOD set (``rotated``: digits turned 90 degrees, ``noise``: uniform noise).
        reliability: the reliability diagram's bins (MC-dropconnect).
        entropies: predictive entropies {"test": [...], "rotated": [...], "noise": [...]} (MC-dropconnect).
        n_test: test images.
    """

    config: ClassifyConfig
    accuracy: dict
    accuracy_vs_samples: dict
    accuracy_vs_samples_by_training: dict
    energy_points: tuple[EnergyPoint, ...]
    energy_per_inference_J: dict
    ece: float | None
    nll: float | None
    ece_deterministic: float | None
    ood_auroc: float | None
    ood_auroc_by_set: dict
    reliability: dict
    entropies: dict
    n_test: int

    def to_dict(self) -> dict:
        """The JSON of ``cim-emu classify --json`` (keys of issue 13, plus the details)."""
        return {
            "model": self.config.model,
            "samples": self.config.n_samples,
            "accuracy": dict(self.accuracy),
            "accuracy_vs_samples": dict(self.accuracy_vs_samples),
            "energy_per_inference_J": dict(self.energy_per_inference_J),
            "ece": self.ece,
            "ood_auroc": self.ood_auroc,
            "nll": self.nll,
            "ece_deterministic": self.ece_deterministic,
            "ood_auroc_by_set": dict(self.ood_auroc_by_set),
            "accuracy_vs_samples_by_training": dict(self.accuracy_vs_samples_by_training),
            "energy_points": [dataclasses.asdict(point) for point in self.energy_points],
            "reliability": dict(self.reliability),
            "n_test": self.n_test,
            "seed": self.config.seed,
        }


def mc_pulse(card: devices.DeviceCard | None = None) -> WritePulse:
    """The MC-dropconnect network's write pulse: keep probability ``MC_KEEP_PROBABILITY`` at the card's width."""
    return WritePulse.for_keep_probability(devices.default_card() if card is None else card, MC_KEEP_PROBABILITY)


def _deploy(network: nn.Module, config: CrossbarConfig, mc: bool, calibration_images: torch.Tensor,
            stream: SeedStream, card: devices.DeviceCard | None) -> nn.Module:
    """Convert, program, calibrate and switch to eval mode."""
    deployed = convert(network, config=config, card=card, mc_dropconnect=mc, pulse=mc_pulse(card) if mc else None)
    program(deployed, generator=stream.child("program").torch_generator())
    calibrate(deployed, [calibration_images], generator=stream.child("calibrate").torch_generator())
    return deployed.eval()


def _count_activations(network: nn.Module) -> tuple[list, list]:
    """Forward hooks adding every activation module's output size to a one-element counter."""
    counter = [0]

    def count(_module, _inputs, output):
        counter[0] += output.numel()

    handles = [module.register_forward_hook(count) for module in network.modules()
               if isinstance(module, (SigmoidActivation, PBitActivation))]
    return counter, handles


@dataclasses.dataclass(frozen=True)
class MeasuredOps:
    """Operation counts of one inference of a deployed network, measured with ``track_ops``.

    The layers before the first stochastic one run once per image (``shared_*``); the rest once per sample
    (``sample_*``). Counts per image.

    Attributes:
        n_weights: weights on the tiles (W of Eq. 4, read once per inference).
        shared_compute_ops: MACs run once per image (cell reads / (2 n_slices)).
        sample_compute_ops: MACs per sample.
        shared_activations: neuron outputs once per image.
        sample_activations: neuron outputs per sample.
        sample_pbit_pulses: p-bit write pulses per sample recorded by the layers (equals ``sample_activations``
            for a p-bit network).
    """

    n_weights: int
    shared_compute_ops: int
    sample_compute_ops: int
    shared_activations: int
    sample_activations: int
    sample_pbit_pulses: int

    def compute_ops(self, n_samples: int) -> int:
        """M(T): MACs of one inference with T samples."""
        return self.shared_compute_ops + n_samples * self.sample_compute_ops

    def activations(self, n_samples: int) -> int:
        """A(T): neuron outputs of one inference with T samples."""
        return self.shared_activations + n_samples * self.sample_activations


def measure_ops(network: nn.Module, image: torch.Tensor, *, generator: torch.Generator | None) -> MeasuredOps:
    """Count the operations of one image at T = 1 and T = 2 (the counts do not depend on the pixel values).

    Args:
        network: a deployed (converted, programmed) network.
        image: (1, 1, 8, 8).
        generator: source of randomness for the two runs (None only for a deterministic network).
    """
    layers = [m for m in network.modules() if isinstance(m, AnalogLinearBase)]
    if not layers:
        raise ValueError("network: holds no crossbar layer; convert and program it first")
    slices = max(m.config.n_slices for m in layers)
    runs = []
    for n_samples in (1, 2):
        counter, handles = _count_activations(network)
        try:
            with torch.no_grad(), track_ops() as counts:
                sample_average_probabilities(network, image, n_samples=n_samples, generator=generator)
        finally:
            for handle in handles:
                handle.remove()
        runs.append((counts.cell_reads // (2 * slices), counter[0], counts.pbit_pulses))
    (macs_1, activations_1, pulses_1), (macs_2, activations_2, pulses_2) = runs
    return MeasuredOps(n_weights=sum(m.in_features * m.out_features for m in layers),
                       shared_compute_ops=2 * macs_1 - macs_2, sample_compute_ops=macs_2 - macs_1,
                       shared_activations=2 * activations_1 - activations_2,
                       sample_activations=activations_2 - activations_1, sample_pbit_pulses=pulses_2 - pulses_1)


def inference_energy_J(ops: MeasuredOps, *, bits_weight: int, bits_activation: int, n_samples: int, pbit: bool,
                       costs=None) -> float:
    """The p-DNN paper's Eq. 4 priced with measured counts: ``W b_w e_w + (M + A) b_a e_a + M E_W + A E_N``.

    Eq. 4 writes M and A per sample times T; here M = M(T) and A = A(T) are the measured totals (the layers
    before the first stochastic one run once, not T times). With no shared layers this is exactly
    ``cim_emu.energy.pdnn.network_inference_energy``.

    Args:
        ops: from :func:`measure_ops`.
        bits_weight: b_w (the tile's weight bits).
        bits_activation: b_a (32 float, b for int-b, 1 for p-bits).
        n_samples: T.
        pbit: p-bit neurons (AC synapses, RNG + compare) rather than deterministic ones (MAC).
        costs: ``cim_emu.energy.pdnn.PDNNCosts`` (default: the paper's Table 1).
    """
    from cim_emu.energy.pdnn import ActivationKind, PDNNCosts

    costs = PDNNCosts() if costs is None else costs
    kind = ActivationKind.PBIT if pbit else ActivationKind.DETERMINISTIC
    compute_ops, activations = ops.compute_ops(n_samples), ops.activations(n_samples)
    return (ops.n_weights * bits_weight * costs.weight_memory_energy_per_bit_J
            + (compute_ops + activations) * bits_activation * costs.activation_memory_energy_per_bit_J
            + compute_ops * costs.synapse_energy_per_input_J(kind, bits_weight, bits_activation)
            + activations * costs.neuron_energy_J(kind))


def _sampled_probabilities(network: nn.Module, images: torch.Tensor, n_samples: int,
                           generator: torch.Generator | None) -> np.ndarray:
    """(T, N, classes) probabilities, over batches of images."""
    pieces = []
    with torch.no_grad():
        for start in range(0, images.shape[0], _IMAGES_PER_BATCH):
            pieces.append(sample_average_probabilities(network, images[start:start + _IMAGES_PER_BATCH],
                                                       n_samples=n_samples, generator=generator))
    return torch.cat(pieces, dim=1).double().numpy()


def _ood_images(data: DigitsData, stream: SeedStream) -> dict[str, torch.Tensor]:
    noise = torch.rand(data.test_images.shape, generator=stream.child("noise_images").torch_generator())
    return {"rotated": torch.rot90(data.test_images, 1, dims=(2, 3)).contiguous(), "noise": noise}


def run_classify(config: ClassifyConfig | None = None, *, card: devices.DeviceCard | None = None,
                 weights: dict | str | os.PathLike | None = None,
                 progress: Callable[[str, int, int], None] | None = None) -> ClassifyResult:
    """Evaluate the shipped (or given) networks on emulated tiles.

    Args:
        config: what to run (default ``ClassifyConfig()``).
        card: device card (default card).
        weights: a weights table from :func:`load_weights` / ``train_classify``, a path, or None (shipped).
        progress: ``progress(stage, done, total)`` callback (the CLI's progress bar), networks done so far.

    Returns:
        A :class:`ClassifyResult`.
    """
    config = ClassifyConfig() if config is None else config
    weights = weights if isinstance(weights, dict) else load_weights(weights)
    data = load_digits_split(int(weights.get("seed", 0)))
    root = SeedStream(config.seed).child("classify").child(config.model)
    calibration_images = data.train_images[:config.n_calibration]
    labels = data.test_labels.numpy()
    bits_weight = CLASSIFY_CONFIG.weight_bits
    accuracy, energy, points, curves = {}, {}, [], {}
    variants = config.variants()
    trained = [pbit_variant(t) for t in PBIT_TRAINING_SAMPLES if pbit_variant(t) in variants]
    curve_variant = trained[-1] if trained else None
    n_stages = len(variants) + int(config.uncertainty)
    for done, variant in enumerate(variants):
        if progress is not None:
            progress("networks", done, n_stages)
        stream = root.child(variant)
        network = _deploy(_load_network(weights, config.model, variant, card), CLASSIFY_CONFIG, False,
                          calibration_images, stream, card)
        pbit = variant.startswith("pbit")
        # The full curve for the main p-bit network; the others up to the reported T (nested prefixes).
        n_run = (max(config.n_samples, *config.curve_samples) if variant == curve_variant else config.n_samples) \
            if pbit else 1
        probabilities = _sampled_probabilities(network, data.test_images, n_run,
                                               stream.child("inference").torch_generator())
        ops = measure_ops(network, data.test_images[:1], generator=stream.child("count").torch_generator())
        bits_activation = 1 if pbit else DETERMINISTIC_BITS[variant]

        def priced(n_samples: int, ops=ops, bits_activation=bits_activation, pbit=pbit) -> float:
            return inference_energy_J(ops, bits_weight=bits_weight, bits_activation=bits_activation,
                                      n_samples=n_samples, pbit=pbit)

        if pbit:
            # Accuracy at T from the first T samples of every image (nested prefixes of one run).
            def accuracy_at(n_samples: int, probabilities=probabilities) -> float:
                return float((probabilities[:n_samples].mean(axis=0).argmax(axis=1) == labels).mean())

            curve_t = [t for t in config.curve_samples if t <= n_run]
            curves[variant] = {"T": curve_t, "accuracy": [accuracy_at(t) for t in curve_t]}
            accuracy[variant] = accuracy_at(config.n_samples)
            energy[variant] = priced(config.n_samples)
            reported = list(zip(curve_t, curves[variant]["accuracy"], strict=True))
        else:
            accuracy[variant] = float((probabilities[0].argmax(axis=1) == labels).mean())
            energy[variant] = priced(1)
            reported = [(1, accuracy[variant])]
        points.extend(EnergyPoint(variant, t, value, priced(t), ops.n_weights, ops.compute_ops(t),
                                  ops.activations(t)) for t, value in reported)
    main_curve = dict(curves[curve_variant]) if curve_variant else {"T": [], "accuracy": []}
    uncertainty = _uncertainty(config, weights, data, root, calibration_images, card) if config.uncertainty else {}
    if progress is not None:
        progress("networks", n_stages, n_stages)
    return ClassifyResult(
        config=config, accuracy=accuracy, accuracy_vs_samples=main_curve, accuracy_vs_samples_by_training=curves,
        energy_points=tuple(points), energy_per_inference_J=energy, ece=uncertainty.get("ece"),
        nll=uncertainty.get("nll"), ece_deterministic=uncertainty.get("ece_deterministic"),
        ood_auroc=uncertainty.get("ood_auroc"), ood_auroc_by_set=uncertainty.get("ood_auroc_by_set", {}),
        reliability=uncertainty.get("reliability", {}), entropies=uncertainty.get("entropies", {}),
        n_test=int(data.test_labels.shape[0]))


def _uncertainty(config: ClassifyConfig, weights: dict, data: DigitsData, root: SeedStream,
                 calibration_images: torch.Tensor, card) -> dict:
    """MC-dropconnect predictive distribution: NLL, ECE, reliability, OOD entropy AUROC; and the float
    network's ECE on the deterministic tiles for comparison."""
    labels = data.test_labels.numpy()
    stream = root.child(MC_VARIANT)
    network = _deploy(_load_network(weights, config.model, MC_VARIANT, card), MC_CONFIG, True, calibration_images,
                      stream, card)
    sets = {"test": data.test_images, **_ood_images(data, stream)}
    predictive, entropies = {}, {}
    for name, images in sets.items():
        samples = _sampled_probabilities(network, images, config.mc_samples,
                                            stream.child("inference").child(name).torch_generator())
        predictive[name] = samples.mean(axis=0)
        entropies[name] = _entropy(predictive[name])
    test = predictive["test"]
    nll = float(-np.log(np.clip(test[np.arange(len(labels)), labels], 1e-30, None)).mean())
    ece, reliability = expected_calibration_error(test, labels, config.n_bins)
    ood = np.concatenate([entropies["rotated"], entropies["noise"]])
    by_set = {name: auroc(entropies["test"], entropies[name]) for name in ("rotated", "noise")}
    float_stream = root.child("float_calibration")
    deterministic = _deploy(_load_network(weights, config.model, "float", card), CLASSIFY_CONFIG, False,
                            calibration_images, float_stream, card)
    float_probabilities = _sampled_probabilities(deterministic, data.test_images, 1,
                                                    float_stream.child("inference").torch_generator())
    ece_deterministic, _ = expected_calibration_error(float_probabilities[0], labels, config.n_bins)
    return {"ece": ece, "nll": nll, "ece_deterministic": ece_deterministic,
            "ood_auroc": auroc(entropies["test"], ood), "ood_auroc_by_set": by_set, "reliability": reliability,
            "entropies": {name: values.tolist() for name, values in entropies.items()}}


# -------------------------------------------------------------------------------------------------- figures
def _save(figure, path: str) -> str:
    with devices.atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=120)
    return path


def plot_classify(result: ClassifyResult, directory: str | os.PathLike) -> list[str]:
    """Write the figures into ``directory`` (atomically); returns their paths.

    * ``accuracy_vs_samples.png``: the paper's Fig. 4a analogue (p-bit accuracy vs T, deterministic levels);
    * ``energy_vs_accuracy.png``: the Fig. 6c analogue (Eq. 4 energy per inference vs accuracy);
    * ``reliability.png`` and ``ood_entropy.png``: MC-dropconnect calibration and OOD entropy (if run).
    """
    from matplotlib.figure import Figure

    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    paths = []
    figure = Figure(figsize=(5.5, 4))
    axis = figure.add_subplot()
    for index, (variant, curve) in enumerate(result.accuracy_vs_samples_by_training.items()):
        axis.plot(curve["T"], curve["accuracy"], marker="o", color=f"C{index}",
                  label=f"p-bit, trained at T = {variant.split('_T')[1]}")
    for index, (variant, bits) in enumerate(DETERMINISTIC_BITS.items()):
        if variant in result.accuracy:
            axis.axhline(result.accuracy[variant], color=str(0.15 + 0.15 * index), ls="--", lw=1,
                         label=f"deterministic {bits}-bit")
    axis.set_xscale("log", base=2)
    axis.set_xlabel("samples at inference T")
    axis.set_ylabel("test accuracy")
    axis.set_title(f"{result.config.model}: accuracy vs samples (on emulated tiles)")
    axis.legend(fontsize=7)
    figure.tight_layout()
    paths.append(_save(figure, os.path.join(directory, "accuracy_vs_samples.png")))

    figure = Figure(figsize=(5.5, 4))
    axis = figure.add_subplot()
    for variant in dict.fromkeys(point.variant for point in result.energy_points):
        chosen = [p for p in result.energy_points if p.variant == variant]
        marker = "o-" if variant.startswith("pbit") else "s"
        axis.plot([p.energy_per_inference_J * 1e9 for p in chosen], [p.accuracy for p in chosen], marker,
                  label=variant)
    axis.set_xscale("log")
    axis.set_xlabel("energy per inference (nJ, p-DNN Eq. 4)")
    axis.set_ylabel("test accuracy")
    axis.set_title("energy vs accuracy (p-bit points: T = 1 ... 64)")
    axis.legend(fontsize=7)
    figure.tight_layout()
    paths.append(_save(figure, os.path.join(directory, "energy_vs_accuracy.png")))

    if result.reliability:
        figure = Figure(figsize=(4.5, 4))
        axis = figure.add_subplot()
        n_bins = len(result.reliability["count"])
        centres = (np.arange(n_bins) + 0.5) / n_bins
        axis.bar(centres, np.nan_to_num(result.reliability["accuracy"]), width=1 / n_bins, edgecolor="k",
                 alpha=0.7, label="MC-dropconnect accuracy")
        axis.plot([0, 1], [0, 1], "k:", label="perfect calibration")
        axis.set_xlabel("confidence")
        axis.set_ylabel("accuracy")
        axis.set_title(f"reliability (ECE {result.ece:.3f}, NLL {result.nll:.3f})")
        axis.legend(fontsize=7)
        figure.tight_layout()
        paths.append(_save(figure, os.path.join(directory, "reliability.png")))

        figure = Figure(figsize=(5.5, 4))
        axis = figure.add_subplot()
        top = math.log(10)
        for name, values in result.entropies.items():
            axis.hist(values, bins=30, range=(0, top), alpha=0.5, density=True, label=name)
        axis.set_xlabel("predictive entropy (nats)")
        axis.set_ylabel("density")
        axis.set_title(f"MC-dropconnect OOD detection (AUROC {result.ood_auroc:.3f})")
        axis.legend(fontsize=7)
        figure.tight_layout()
        paths.append(_save(figure, os.path.join(directory, "ood_entropy.png")))
    return paths


@dataclasses.dataclass(frozen=True)
class DemoSection:
    """The demo report's classification section (the report object of ``cim-emu demo`` renders it).

    Attributes:
        title: section heading.
        text: introduction paragraph.
        header, rows: the results table.
        figures: (path, caption) of the figures written.
        summary: one line for the terminal.
        result: the run's JSON dictionary.
    """

    title: str
    text: str
    header: list
    rows: list
    figures: list
    summary: str
    result: dict


def demo_section(directory: str | os.PathLike, *, seed: int = 0,
                 progress: Callable[[str, int, int], None] | None = None) -> DemoSection:
    """Run a short classification evaluation (CNN; float, 2-bit and p-bit networks; 8 MC samples), write its
    figures into ``directory`` and return the section's text, table and figure paths."""
    config = ClassifyConfig(activations=("float", "int2", "pbit"), seed=seed, mc_samples=8)
    result = run_classify(config, progress=progress)
    captions = {"accuracy_vs_samples": "accuracy vs samples T (paper Fig. 4a analogue)",
                "energy_vs_accuracy": "energy per inference (Eq. 4, measured counts) vs accuracy (Fig. 6c analogue)",
                "reliability": "MC-dropconnect reliability diagram",
                "ood_entropy": "MC-dropconnect predictive entropy: test vs rotated and noise digits"}
    figures = [(path, captions[os.path.splitext(os.path.basename(path))[0]])
               for path in plot_classify(result, directory)]
    rows = [[name, f"{value:.3f}", f"{result.energy_per_inference_J[name] * 1e9:.3g}"]
            for name, value in result.accuracy.items()]
    text = ("A conv-conv-pool-fc CNN on scikit-learn's 8x8 digits, converted with cim_emu.convert and run on emulated "
            f"tiles (4-bit weights, read noise, device variation, calibrated). p-bit networks (VCMA-MTJ switching law) "
            f"trained sample-aware at T = 1, 2, 5, 10 and evaluated at T = {config.n_samples}; energy from the "
            f"p-DNN paper's Eq. 4 with the measured operation counts. MC-dropconnect CNN: NLL {result.nll:.3f}, ECE "
            f"{result.ece:.3f} (float network {result.ece_deterministic:.3f}), OOD AUROC {result.ood_auroc:.3f} "
            f"(rotated {result.ood_auroc_by_set['rotated']:.3f}, noise {result.ood_auroc_by_set['noise']:.3f}).")
    summary = (f"classify: float {result.accuracy['float']:.3f}, p-bit (T=10 training, {config.n_samples} samples) "
               f"{result.accuracy['pbit_T10']:.3f}; MC-dropconnect ECE {result.ece:.3f}, OOD AUROC "
               f"{result.ood_auroc:.3f}")
    return DemoSection(title="Your own network on the crossbar: digit classification (p-DNN paper Figs. 4a, 6c)",
                       text=text, header=["network", "test accuracy", "energy per inference (nJ)"], rows=rows,
                       figures=figures, summary=summary, result=result.to_dict())
