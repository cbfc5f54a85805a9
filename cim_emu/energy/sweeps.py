"""One-parameter sweeps of the energy model around the paper's operating point.

Each sweep changes one assumption of an :class:`EnergyConfig` and re-evaluates the model; the
result holds, per scheme, a throughput and an energy per value (SI units) and the operating point
of the input configuration, for :mod:`cim_emu.energy.plots` to mark.

* array size (rows = columns; ex-situ TRNG arrays follow: "same technology"),
* parallel columns (in situ: columns pulsed per cycle; ex situ: TRNG columns pulsed per cycle),
* pulse width and pulse amplitude (the word-line overdrive above the pulse is kept),
* ADC bits (a reference MC-dropconnect MVM on one tile, priced),
* samples T (the same MVM repeated T times; and the p-DNN framework's VGG5 inference).

Pulse sweeps report raw bits and, beside them, the p-bit's switching probability from the device
card: away from 1.5 V / 700 ps it leaves 0.5, so the bits no longer give the intended keep probability.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from cim_emu.energy.circuit import EnergyConfig, ExSituDesign
from cim_emu.energy.pbit_generation import GenerationResult, ex_situ_generation, in_situ_generation
from cim_emu.energy.pdnn import VGG5, ActivationKind, PDNNCosts, network_inference_energy
from cim_emu.energy.pricing import price_op_counts, reference_mvm_counts

__all__ = [
    "SweepSeries",
    "SweepResult",
    "sweep_array_size",
    "sweep_parallel_columns",
    "sweep_pulse_width",
    "sweep_pulse_amplitude",
    "sweep_adc_bits",
    "sweep_samples",
    "sweep_pdnn_samples",
    "all_sweeps",
]


@dataclass(frozen=True)
class SweepSeries:
    """One scheme's curve.

    Attributes:
        label: scheme name.
        throughput: one value per swept value (unit in :attr:`SweepResult.throughput_unit`), or None.
        energy: one value per swept value (unit in :attr:`SweepResult.energy_unit`).
    """

    label: str
    throughput: tuple[float, ...] | None
    energy: tuple[float, ...]


@dataclass(frozen=True)
class SweepResult:
    """A one-parameter sweep.

    Attributes:
        name: short identifier (also the plot's file stem).
        parameter: what was swept, in words.
        unit: its SI unit ("" for counts).
        values: the swept values.
        operating_point: the input configuration's value (the paper's point for the default).
        throughput_unit: unit of the series' throughput.
        energy_unit: unit of the series' energy.
        series: one curve per scheme.
        switching_probability: for pulse sweeps, the p-bit's switching probability at each value
            (``devices.switching_probability`` on the device card), else None.
    """

    name: str
    parameter: str
    unit: str
    values: tuple[float, ...]
    operating_point: float
    throughput_unit: str
    energy_unit: str
    series: tuple[SweepSeries, ...]
    switching_probability: tuple[float, ...] | None = None

    def to_dict(self) -> dict:
        """JSON-ready dictionary (SI units)."""
        return asdict(self)


def _generation_sweep(
    config: EnergyConfig,
    name: str,
    parameter: str,
    unit: str,
    values: Sequence[float],
    operating_point: float,
    vary: Callable[[EnergyConfig, float], EnergyConfig],
) -> SweepResult:
    results: dict[str, list[GenerationResult]] = {"in_situ": []}
    for design in config.ex_situ_designs:
        results[design.name] = []
    for value in values:
        varied = vary(config, value)
        results["in_situ"].append(in_situ_generation(varied))
        for design in varied.ex_situ_designs:
            results[design.name].append(ex_situ_generation(varied, design))
    series = tuple(
        SweepSeries(
            label=label,
            throughput=tuple(r.throughput_bit_per_s for r in runs),
            energy=tuple(r.energy_per_bit_J for r in runs),
        )
        for label, runs in results.items()
    )
    return SweepResult(
        name=name,
        parameter=parameter,
        unit=unit,
        values=tuple(float(v) for v in values),
        operating_point=float(operating_point),
        throughput_unit="bit/s",
        energy_unit="J/bit",
        series=series,
    )


def _switching_probability(card: object | None, voltages_V: Sequence[float], widths_s: Sequence[float]) -> tuple:
    import torch

    from devices import default_card, switching_probability

    card = default_card() if card is None else card
    probability = switching_probability(
        card.p_bit,
        torch.tensor(list(voltages_V), dtype=torch.float64),
        torch.tensor(list(widths_s), dtype=torch.float64),
    )
    return tuple(float(p) for p in probability)


def _with_designs(config: EnergyConfig, change: Callable[[ExSituDesign], ExSituDesign]) -> EnergyConfig:
    return config.replace(ex_situ_designs=tuple(change(design) for design in config.ex_situ_designs))


def sweep_array_size(
    config: EnergyConfig | None = None, sizes: Sequence[int] = (16, 32, 64, 128, 256, 512, 1024)
) -> SweepResult:
    """Square arrays of ``size`` x ``size`` cells; ex-situ TRNG bit lines get ``size`` rows too."""
    config = EnergyConfig() if config is None else config

    def vary(base: EnergyConfig, size: float) -> EnergyConfig:
        n = int(size)
        varied = base.replace(array=dataclasses.replace(base.array, n_rows=n, n_columns=n))
        return _with_designs(varied, lambda design: dataclasses.replace(design, trng_rows=n))

    return _generation_sweep(
        config, "array_size", "array size (rows = columns)", "cells", sizes, config.array.n_rows, vary
    )


def sweep_parallel_columns(
    config: EnergyConfig | None = None,
    values: Sequence[int] = (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256),
) -> SweepResult:
    """Columns pulsed per write cycle, in situ and in every ex-situ TRNG array."""
    config = EnergyConfig() if config is None else config

    def vary(base: EnergyConfig, value: float) -> EnergyConfig:
        n = int(value)
        varied = base.replace(write=dataclasses.replace(base.write, n_parallel_columns=n))
        return _with_designs(varied, lambda design: dataclasses.replace(design, n_parallel_columns=n))

    return _generation_sweep(
        config, "parallel_columns", "columns pulsed per cycle", "", values, config.write.n_parallel_columns, vary
    )


def sweep_pulse_width(
    config: EnergyConfig | None = None,
    values: Sequence[float] = tuple(w * 1e-12 for w in (200, 300, 400, 500, 700, 1000, 1500, 2000, 3000)),
    *,
    card: object | None = None,
) -> SweepResult:
    """Write-pulse width (seconds); ``card`` (default: ``devices.default_card()``) gives P per width."""
    config = EnergyConfig() if config is None else config

    def vary(base: EnergyConfig, value: float) -> EnergyConfig:
        return base.replace(write=dataclasses.replace(base.write, pulse_width_s=float(value)))

    result = _generation_sweep(
        config, "pulse_width", "write pulse width", "s", values, config.write.pulse_width_s, vary
    )
    probability = _switching_probability(card, [config.write.write_voltage_V] * len(values), values)
    return dataclasses.replace(result, switching_probability=probability)


def sweep_pulse_amplitude(
    config: EnergyConfig | None = None,
    values: Sequence[float] = (0.8, 1.0, 1.2, 1.4, 1.5, 1.6, 1.8, 2.0, 2.2, 2.5),
    *,
    card: object | None = None,
) -> SweepResult:
    """Write-pulse amplitude (volts); the word line keeps its overdrive above the pulse.

    ``card`` (default: ``devices.default_card()``) gives the switching probability per amplitude.
    """
    config = EnergyConfig() if config is None else config
    overdrive = config.write.wordline_voltage_V - config.write.write_voltage_V

    def vary(base: EnergyConfig, value: float) -> EnergyConfig:
        write = dataclasses.replace(
            base.write, write_voltage_V=float(value), wordline_voltage_V=float(value) + overdrive
        )
        return base.replace(write=write)

    result = _generation_sweep(
        config, "pulse_amplitude", "write pulse amplitude", "V", values, config.write.write_voltage_V, vary
    )
    probability = _switching_probability(card, values, [config.write.pulse_width_s] * len(values))
    return dataclasses.replace(result, switching_probability=probability)


def _mvm_sweep(
    config: EnergyConfig,
    name: str,
    parameter: str,
    values: Sequence[int],
    operating_point: float,
    build: Callable[[float], tuple[EnergyConfig, int]],
    throughput_unit: str,
    energy_unit: str,
) -> SweepResult:
    labels = ["in_situ"] + [design.name for design in config.ex_situ_designs]
    throughput: dict[str, list[float]] = {label: [] for label in labels}
    energy: dict[str, list[float]] = {label: [] for label in labels}
    for value in values:
        varied, n_samples = build(value)
        for label in labels:
            in_situ = label == "in_situ"
            counts = reference_mvm_counts(varied, in_situ=in_situ, n_samples=n_samples)
            priced = price_op_counts(counts, varied, ex_situ_design=None if in_situ else label)
            throughput[label].append(1.0 / priced.latency_s)
            energy[label].append(priced.energy_J)
    return SweepResult(
        name=name,
        parameter=parameter,
        unit="",
        values=tuple(float(v) for v in values),
        operating_point=float(operating_point),
        throughput_unit=throughput_unit,
        energy_unit=energy_unit,
        series=tuple(SweepSeries(label, tuple(throughput[label]), tuple(energy[label])) for label in labels),
    )


def sweep_adc_bits(config: EnergyConfig | None = None, values: Sequence[int] = tuple(range(1, 11))) -> SweepResult:
    """ADC resolution, priced on one MC-dropconnect MVM of a full tile (mask bits in situ or ex situ)."""
    config = EnergyConfig() if config is None else config

    def build(bits: float) -> tuple[EnergyConfig, int]:
        return config.replace(periphery=dataclasses.replace(config.periphery, adc_bits=int(bits))), 1

    return _mvm_sweep(config, "adc_bits", "ADC bits", values, config.periphery.adc_bits, build, "MVM/s", "J/MVM")


def sweep_samples(config: EnergyConfig | None = None, values: Sequence[int] = (1, 2, 4, 8, 16, 32, 64)) -> SweepResult:
    """T samples of one MC-dropconnect MVM on a full tile: inferences per second and energy per inference."""
    config = EnergyConfig() if config is None else config

    def build(samples: float) -> tuple[EnergyConfig, int]:
        return config, int(samples)

    return _mvm_sweep(config, "samples", "samples T", values, 1, build, "inference/s", "J/inference")


def sweep_pdnn_samples(
    costs: PDNNCosts | None = None, values: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128)
) -> SweepResult:
    """The p-DNN framework (Eq. 4, Table 1): VGG5 energy per inference vs T; no timing in the framework."""
    costs = PDNNCosts() if costs is None else costs
    pbit = tuple(
        network_inference_energy(
            VGG5, bits_weight=32, bits_activation=1, n_samples=int(t), kind=ActivationKind.PBIT, costs=costs
        ).total_J
        for t in values
    )
    deterministic = network_inference_energy(
        VGG5, bits_weight=32, bits_activation=32, kind=ActivationKind.DETERMINISTIC, costs=costs
    ).total_J
    return SweepResult(
        name="pdnn_samples",
        parameter="samples T (VGG5, Table 1 energies)",
        unit="",
        values=tuple(float(v) for v in values),
        operating_point=1.0,
        throughput_unit="",
        energy_unit="J/inference",
        series=(
            SweepSeries("p-DNN, 1-bit p-bit activations", None, pbit),
            SweepSeries("DNN, 32-bit activations (one sample)", None, tuple(deterministic for _ in values)),
        ),
    )


def all_sweeps(config: EnergyConfig | None = None, costs: PDNNCosts | None = None) -> tuple[SweepResult, ...]:
    """Every sweep at its default grid."""
    config = EnergyConfig() if config is None else config
    return (
        sweep_array_size(config),
        sweep_parallel_columns(config),
        sweep_pulse_width(config),
        sweep_pulse_amplitude(config),
        sweep_adc_bits(config),
        sweep_samples(config),
        sweep_pdnn_samples(costs),
    )
