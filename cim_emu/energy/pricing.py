"""Price the hardware events of an emulation run (:class:`cim_emu.crossbar.counters.OpCounts`) in joules and seconds.

Each counter gets an energy and a critical-path time per event from the circuit model:

* ``mvm_calls``: control, decoders and clocks; time: bit-line settle and integration (``read_time_s``).
* ``cell_reads``: V_dd V_read G_mean t_read of one junction; time: inside the MVM's read window.
* ``dac_conversions``: the driver plus the row line's C V_read V_dd; time: inside the read window.
* ``adc_conversions``: Walden FoM 2^bits; time: (bits + 1) bit cycles over the ADCs of the array.
* ``cell_writes`` and ``pbit_resets``: a deterministic write pulse plus shares of word line and control;
  time: the write cycle over the columns written per cycle.
* ``pbit_pulses``: the in-situ p-bit of the Table II model; time: 1 / in-situ throughput.
* ``trng_bits_generated``: the ex-situ design's write and sampling per bit; time: 1 / its sampling rate.
* ``bits_moved``: the ex-situ design's buffer, wire and link per bit; time: none while within the link rate
  (pipelined behind sampling), else the excess.
* ``digital_adds``: one addition; time: add time over the adders.

Latency assumes one tile and no overlap between event classes (an upper bound, except that ex-situ
transfer is pipelined behind sampling up to the link's rate).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from cim_emu.crossbar.counters import COUNTER_FIELDS, OpCounts
from cim_emu.energy.circuit import EnergyConfig
from cim_emu.energy.pbit_generation import (
    ex_situ_generation,
    in_situ_generation,
    write_pulse_energy,
)

__all__ = [
    "UnitCosts",
    "PricedOps",
    "SchemeCost",
    "EndToEndReport",
    "unit_costs",
    "price_op_counts",
    "end_to_end_report",
    "load_op_counts_file",
    "reference_mvm_counts",
]


@dataclass(frozen=True)
class UnitCosts:
    """Energy (J) and critical-path time (s) of one event of each counter.

    Attributes:
        energy_J: counter name -> joules per event.
        time_s: counter name -> seconds per event.
        ex_situ_design: the design pricing ``trng_bits_generated`` and ``bits_moved``.
        link_rate_bit_per_s: the transfer rate above which moved bits stop being pipelined.
    """

    energy_J: dict[str, float]
    time_s: dict[str, float]
    ex_situ_design: str
    link_rate_bit_per_s: float


def unit_costs(config: EnergyConfig | None = None, *, ex_situ_design: str | None = None) -> UnitCosts:
    """Per-event energy and time of every operation counter under ``config``.

    Args:
        config: circuit configuration (default: the shipped one).
        ex_situ_design: design name for ex-situ counters (default: ``config.pricing_design_name``).
    """
    config = EnergyConfig() if config is None else config
    design = config.design(ex_situ_design or config.pricing_design_name)
    periphery, technology, mtj = config.periphery, config.technology, config.mtj
    supply, read_voltage = technology.supply_voltage_V, mtj.read_voltage_V

    in_situ = in_situ_generation(config)
    ex_situ = ex_situ_generation(config, design)
    transfer = ex_situ.transfer_energy_J()

    # Deterministic pulses (programming, p-bit reset) reuse the write path at the programming point.
    program = write_pulse_energy(
        config, voltage_V=periphery.programming_voltage_V, pulse_width_s=periphery.programming_pulse_width_s
    )
    program_columns = in_situ.bits_per_cycle
    program_shared = (
        config.array.wordline_capacitance_F(technology) * config.write.wordline_voltage_V**2
        + config.write.control_energy_J
    ) / program_columns
    program_cycle = in_situ.cycle_time_s - config.write.pulse_width_s + periphery.programming_pulse_width_s
    n_adcs = math.ceil(config.array.n_columns / periphery.columns_per_adc)
    adc_time = (periphery.adc_bits + 1) * periphery.adc_bit_cycle_time_s

    sampling_rate = ex_situ.bits_per_cycle / ex_situ.cycle_time_s
    energy = {
        "mvm_calls": periphery.mvm_control_energy_J,
        "cell_reads": supply * read_voltage * mtj.mean_conductance_S(read_voltage) * periphery.read_time_s,
        "dac_conversions": periphery.dac_energy_J
        + config.array.row_line_capacitance_F(technology) * read_voltage * supply,
        "adc_conversions": periphery.adc_energy_per_step_J * 2**periphery.adc_bits,
        "cell_writes": program.total_J + program_shared,
        "pbit_pulses": in_situ.energy_per_bit_J,
        "pbit_resets": program.total_J + program_shared,
        "trng_bits_generated": ex_situ.energy_per_bit_J - transfer,
        "bits_moved": transfer,
        "digital_adds": periphery.digital_add_energy_J,
    }
    time = {
        "mvm_calls": periphery.read_time_s,
        "cell_reads": 0.0,
        "dac_conversions": 0.0,
        "adc_conversions": adc_time / n_adcs,
        "cell_writes": program_cycle / program_columns,
        "pbit_pulses": 1.0 / in_situ.throughput_bit_per_s,
        "pbit_resets": program_cycle / program_columns,
        "trng_bits_generated": 1.0 / sampling_rate,
        "bits_moved": 0.0,
        "digital_adds": periphery.digital_add_time_s / periphery.n_digital_adders,
    }
    return UnitCosts(
        energy_J=energy, time_s=time, ex_situ_design=design.name, link_rate_bit_per_s=ex_situ.throughput_bit_per_s
    )


def _as_count_dict(counts: OpCounts | Mapping[str, int], what: str = "operation counts") -> dict[str, int]:
    if isinstance(counts, OpCounts):
        return counts.to_dict()
    if not isinstance(counts, Mapping):
        raise ValueError(f"{what} must be an OpCounts or a mapping of counter names to integers, got {counts!r}")
    unknown = sorted(set(counts) - set(COUNTER_FIELDS))
    if unknown:
        raise ValueError(f"{what}: unknown counter(s) {unknown}; known: {list(COUNTER_FIELDS)}")
    result = {}
    for name in COUNTER_FIELDS:
        value = counts.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{what}: counter {name!r} must be an integer >= 0, got {value!r}")
        result[name] = value
    return result


@dataclass(frozen=True)
class PricedOps:
    """Energy and latency of a set of counted events.

    Attributes:
        energy_J: total energy.
        latency_s: total critical-path time (sequential, one tile).
        energy_breakdown_J: by counter.
        latency_breakdown_s: by counter (ex-situ bits: the slower of sampling and transfer).
        random_bits: random bits the run consumed (``pbit_pulses + trng_bits_generated``).
        counts: the priced counts.
        ex_situ_design: the design that priced ex-situ counters.
    """

    energy_J: float
    latency_s: float
    energy_breakdown_J: dict[str, float]
    latency_breakdown_s: dict[str, float]
    random_bits: int
    counts: dict[str, int]
    ex_situ_design: str

    def to_dict(self) -> dict:
        """JSON-ready dictionary (SI units)."""
        return asdict(self)


def price_op_counts(
    counts: OpCounts | Mapping[str, int], config: EnergyConfig | None = None, *, ex_situ_design: str | None = None
) -> PricedOps:
    """Price counted events into energy (J) and latency (s), with a per-counter breakdown.

    Args:
        counts: an :class:`OpCounts` or its ``to_dict()``; missing counters count as zero.
        config: circuit configuration (default: the shipped one).
        ex_situ_design: design for the ex-situ counters (default: ``config.pricing_design_name``).
    """
    config = EnergyConfig() if config is None else config
    values = _as_count_dict(counts)
    unit = unit_costs(config, ex_situ_design=ex_situ_design)
    energy = {name: values[name] * unit.energy_J[name] for name in COUNTER_FIELDS}
    latency = {name: values[name] * unit.time_s[name] for name in COUNTER_FIELDS}
    # Moved bits ride behind sampling unless the link is slower than the sampler.
    transfer_time = values["bits_moved"] / unit.link_rate_bit_per_s
    if transfer_time > latency["trng_bits_generated"]:
        latency["bits_moved"] = transfer_time - latency["trng_bits_generated"]
    return PricedOps(
        energy_J=sum(energy.values()),
        latency_s=sum(latency.values()),
        energy_breakdown_J=energy,
        latency_breakdown_s=latency,
        random_bits=values["pbit_pulses"] + values["trng_bits_generated"],
        counts=values,
        ex_situ_design=unit.ex_situ_design,
    )


@dataclass(frozen=True)
class SchemeCost:
    """One scheme's cost per generated image.

    Attributes:
        energy_per_image_J: energy.
        latency_per_image_s: critical-path time.
        random_bits_per_image: random bits consumed.
        random_bit_energy_fraction: share of the energy spent making and moving random bits.
        energy_breakdown_per_image_J: by counter.
        latency_breakdown_per_image_s: by counter.
        total: the whole run, priced.
    """

    energy_per_image_J: float
    latency_per_image_s: float
    random_bits_per_image: float
    random_bit_energy_fraction: float
    energy_breakdown_per_image_J: dict[str, float]
    latency_breakdown_per_image_s: dict[str, float]
    total: PricedOps


_RANDOM_BIT_COUNTERS = ("pbit_pulses", "pbit_resets", "trng_bits_generated", "bits_moved")


def _scheme_cost(priced: PricedOps, n_images: int) -> SchemeCost:
    random_energy = sum(priced.energy_breakdown_J[name] for name in _RANDOM_BIT_COUNTERS)
    return SchemeCost(
        energy_per_image_J=priced.energy_J / n_images,
        latency_per_image_s=priced.latency_s / n_images,
        random_bits_per_image=priced.random_bits / n_images,
        random_bit_energy_fraction=random_energy / priced.energy_J if priced.energy_J > 0 else 0.0,
        energy_breakdown_per_image_J={k: v / n_images for k, v in priced.energy_breakdown_J.items()},
        latency_breakdown_per_image_s={k: v / n_images for k, v in priced.latency_breakdown_s.items()},
        total=priced,
    )


@dataclass(frozen=True)
class EndToEndReport:
    """Energy, latency and random bits per generated image, in situ vs ex situ.

    Attributes:
        n_images: images the counted runs generated.
        ex_situ_design: the design pricing the ex-situ run's random bits.
        in_situ: in-situ run (MC-dropconnect masks from the cells' p-bits).
        ex_situ: ex-situ run (deterministic network plus TRNG noise).
        energy_ratio: ex-situ / in-situ energy per image (> 1: in situ cheaper).
        latency_ratio: ex-situ / in-situ latency per image.
        random_bits_ratio: ex-situ / in-situ random bits per image.
    """

    n_images: int
    ex_situ_design: str
    in_situ: SchemeCost
    ex_situ: SchemeCost
    energy_ratio: float
    latency_ratio: float
    random_bits_ratio: float

    def to_dict(self) -> dict:
        """JSON-ready dictionary (SI units)."""
        return asdict(self)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.inf if numerator > 0 else math.nan


def end_to_end_report(
    counts_in_situ: OpCounts | Mapping[str, int],
    counts_ex_situ: OpCounts | Mapping[str, int],
    n_images: int,
    config: EnergyConfig | None = None,
    *,
    ex_situ_design: str | None = None,
) -> EndToEndReport:
    """Price two generation runs' counters and compare them per image.

    Args:
        counts_in_situ: events of the in-situ run (``cim-emu generate``'s ``op_counts.json``).
        counts_ex_situ: events of the ex-situ run.
        n_images: images each run generated (>= 1).
        config: circuit configuration (default: the shipped one).
        ex_situ_design: design for the ex-situ random bits (default: ``config.pricing_design_name``).
    """
    if isinstance(n_images, bool) or not isinstance(n_images, int) or n_images < 1:
        raise ValueError(f"n_images must be an integer >= 1, got {n_images!r}")
    config = EnergyConfig() if config is None else config
    _as_count_dict(counts_in_situ, "in-situ counts")
    _as_count_dict(counts_ex_situ, "ex-situ counts")
    in_situ = _scheme_cost(price_op_counts(counts_in_situ, config, ex_situ_design=ex_situ_design), n_images)
    ex_situ = _scheme_cost(price_op_counts(counts_ex_situ, config, ex_situ_design=ex_situ_design), n_images)
    return EndToEndReport(
        n_images=n_images,
        ex_situ_design=ex_situ.total.ex_situ_design,
        in_situ=in_situ,
        ex_situ=ex_situ,
        energy_ratio=_ratio(ex_situ.energy_per_image_J, in_situ.energy_per_image_J),
        latency_ratio=_ratio(ex_situ.latency_per_image_s, in_situ.latency_per_image_s),
        random_bits_ratio=_ratio(ex_situ.random_bits_per_image, in_situ.random_bits_per_image),
    )


def load_op_counts_file(path: str | os.PathLike) -> tuple[OpCounts, OpCounts, int]:
    """Read ``op_counts.json`` as written by ``cim-emu generate``.

    The file holds ``{"n_images": N, "in_situ": {...}, "ex_situ": {...}}`` with the two
    ``OpCounts.to_dict()`` records.

    Returns:
        ``(in_situ_counts, ex_situ_counts, n_images)``.
    """
    path = os.fspath(path)
    with open(path, encoding="utf-8") as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object with keys n_images, in_situ, ex_situ")
    missing = [key for key in ("n_images", "in_situ", "ex_situ") if key not in data]
    if missing:
        raise ValueError(f"{path}: missing key(s) {missing}; expected n_images, in_situ, ex_situ")
    unknown = sorted(set(data) - {"n_images", "in_situ", "ex_situ"})
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {unknown}; expected n_images, in_situ, ex_situ")
    n_images = data["n_images"]
    if isinstance(n_images, bool) or not isinstance(n_images, int) or n_images < 1:
        raise ValueError(f"{path}: n_images must be an integer >= 1, got {n_images!r}")
    records = []
    for key in ("in_situ", "ex_situ"):
        records.append(OpCounts(**_as_count_dict(data[key], f"{path}: {key}")))
    return records[0], records[1], n_images


def reference_mvm_counts(config: EnergyConfig, *, in_situ: bool, n_samples: int = 1) -> OpCounts:
    """Events of T samples of one MC-dropconnect MVM on one full tile (a synthetic workload).

    Every cell needs a fresh mask bit per sample: in situ its p-bit is pulsed; ex situ the bit is
    made in the TRNG, sampled and moved to the array (applying it to the cell is not counted, as in
    Table II). Each sample drives every row, senses both junctions of every pair and converts every
    column. Used by the sweeps; real runs come from ``track_ops``.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    rows, columns = config.array.n_rows, config.array.n_columns
    cells = rows * columns
    counts = OpCounts(
        mvm_calls=n_samples,
        cell_reads=2 * cells * n_samples,
        dac_conversions=rows * n_samples,
        adc_conversions=columns * n_samples,
    )
    if in_situ:
        counts.add(pbit_pulses=cells * n_samples)
    else:
        counts.add(trng_bits_generated=cells * n_samples, bits_moved=cells * n_samples)
    return counts
