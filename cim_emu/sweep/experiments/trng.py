"""Sweep adapter: p-bit bitstreams (``devices.generate_bitstream``) judged by NIST SP800-22 and TRNG metrics.

Per cell: :func:`cim_emu.experiments.trng.simulate_trng` (what ``cim-emu trng`` runs) with the cell's seed as
its root seed: ``n_devices`` p-bits write ``n_bits`` bits each at the pulse of the ``pulse`` group (by default
the card's operating point; trimmed to each device's 50 % point unless ``options.trimmed = false``); the
streams are tested with :func:`cim_emu.randomness.run_suite` and :func:`cim_emu.randomness.assess_quality`.
``cim-emu trng --seed <the row's seed>`` with the same card and options reproduces a cell's streams.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from cim_emu.sweep.experiments import Experiment, Group, card_group, metric_name

__all__ = ["EXPERIMENT", "TRNGOptions", "run_trng_cell"]

# Bits simulated and tested per cell are held in memory (1 byte a bit, 4 more with conductances off).
MAX_BITS_PER_CELL = 100_000_000


@dataclasses.dataclass(frozen=True, kw_only=True)
class TRNGOptions:
    """Options of a TRNG cell.

    Attributes:
        n_bits: bits per device.
        n_devices: simulated p-bits (each with its own device variation).
        mode: ``"reset"`` (reset-then-write, independent bits) or ``"toggle"`` (Markov chain).
        trimmed: pulse each device at its own 50 % amplitude (the paper's configuration step); False pulses
            every device at ``pulse.voltage_V``. (Device-to-device variation: ``card.p_bit.sigma_v50_device_V``.)
        corrected: the corrected NIST arithmetic instead of STS 2.1.2's (docs/randomness.md).
    """

    n_bits: int = 4096
    n_devices: int = 1
    mode: str = "reset"
    trimmed: bool = True
    corrected: bool = False

    def __post_init__(self):
        for name in ("n_bits", "n_devices"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TRNGOptions.{name}: must be an integer >= 1, got {value!r}")
        if self.n_bits * self.n_devices > MAX_BITS_PER_CELL:
            raise ValueError(f"TRNGOptions: {self.n_bits} x {self.n_devices} bits per cell exceeds "
                             f"{MAX_BITS_PER_CELL}; split the work over replicas")
        if self.mode not in ("reset", "toggle"):
            raise ValueError(f"TRNGOptions.mode: 'reset' or 'toggle', got {self.mode!r}")


def _pulse_base(context):
    from cim_emu.crossbar.config import WritePulse

    card = context.built["card"]
    return WritePulse(voltage_V=card.p_bit.write_voltage_V, pulse_width_s=card.p_bit.pulse_width_s)


def _check(settings: Mapping[str, Any], touched: frozenset[str]) -> None:
    if settings["options"].trimmed and "pulse.voltage_V" in touched:
        raise ValueError("pulse.voltage_V sets an untrimmed operating point, but each device is trimmed to its "
                         "50 % point: add options.trimmed = false")


def _nan_if_none(value) -> float:
    return math.nan if value is None else float(value)


def run_trng_cell(settings: Mapping[str, Any], stream) -> dict[str, float]:
    """Simulate and judge the cell's bitstreams.

    Args:
        settings: ``card`` (DeviceCard), ``pulse`` (WritePulse), ``options`` (TRNGOptions).
        stream: the cell's ``SeedStream``; its integer (the row's ``seed``) is the simulation's root seed.

    Returns:
        Switching probability (mean, std over devices), read errors, quality metrics averaged over
        devices, the fraction of (device, applicable test) NIST verdicts that pass, and per test the
        smallest p-value over devices and sub-tests (NaN where not applicable at this length).
    """
    import numpy as np

    from cim_emu.experiments.trng import simulate_trng
    from cim_emu.randomness import TEST_NAMES, assess_quality, run_suite

    card, pulse, options = settings["card"], settings["pulse"], settings["options"]
    simulation = simulate_trng(card, n_bits=options.n_bits, n_devices=options.n_devices, seed=stream.integer(),
                               mode=options.mode, voltage_V=pulse.voltage_V, pulse_width_s=pulse.pulse_width_s,
                               trimmed=options.trimmed)
    bits, probabilities, read_errors = simulation.bits, simulation.probabilities, simulation.read_errors
    quality = assess_quality(bits)
    metrics = {
        "switching_probability_mean": float(np.mean(probabilities)),
        "switching_probability_std": float(np.std(probabilities)),
        "read_errors": float(read_errors),
        "ones_fraction_mean": float(np.mean(quality.ones_fraction)),
        "shannon_entropy_per_bit_mean": float(np.mean(quality.shannon_entropy_per_bit)),
        "min_entropy_per_bit_mean": float(np.mean(quality.min_entropy_per_bit)),
        "lags_outside_bound": float(quality.lags_outside_bound),
        "hamming_distance_mean": _nan_if_none(quality.hamming_distance_mean),
    }
    verdicts, smallest = [], {name: math.inf for name in TEST_NAMES}
    for row in bits:
        report = run_suite(row, corrected=options.corrected)
        for test in report.results:
            if test.applicable or test.rejected:
                verdicts.append(test.passed)
            if test.p_values:
                smallest[test.name] = min(smallest[test.name], min(test.p_values))
    metrics["nist_pass_fraction"] = float(np.mean(verdicts)) if verdicts else math.nan
    for name, value in smallest.items():
        metrics[metric_name("nist_min_p", name)] = value if math.isfinite(value) else math.nan
    return metrics


def _warm_up() -> None:
    # The first bitstream and the first NIST run of a process pay for imports and numba compiles (~0.3 s).
    import devices
    from cim_emu.rng import SeedStream

    settings = EXPERIMENT.build(devices.default_card(), {"options": {"n_bits": 512}}, "warm-up: ")
    run_trng_cell(settings, SeedStream(0))


EXPERIMENT = Experiment(
    name="trng",
    description="p-bit bitstreams judged by NIST SP800-22 and the TRNG quality metrics (cim-emu trng --test)",
    groups=(card_group(),
            Group("pulse", _pulse_base, "the write pulse (cim_emu.WritePulse): voltage_V, pulse_width_s; "
                                        "default: the card's operating point"),
            Group("options", lambda context: TRNGOptions(), "TRNG options: n_bits, n_devices, mode, trimmed, "
                                                             "corrected")),
    run=run_trng_cell,
    check=_check,
    warm_up=_warm_up,
)
