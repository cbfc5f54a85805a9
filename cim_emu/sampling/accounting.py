"""Energy and throughput of p-bit sampling, from the op counters priced by :mod:`cim_emu.energy`.

In situ (the p-bits sit in the crossbar's cells): each update reads its block's fields on the tile (MVM, DAC,
ADC, as counted by the tiles), converts the field to a pulse amplitude in the write driver's DAC, resets the
p-bit and pulses it: the p-bit *is* the biased coin, no comparator. Counted: ``pbit_pulses``,
``pbit_resets``, ``dac_conversions`` per update.

Ex situ (Table II's other column): the same MVMs, but the coin is a comparator fed by a separate TRNG: each
update needs ``comparator_bits`` random bits made, sampled and moved from the TRNG array (priced as
``trng_bits_generated`` and ``bits_moved`` with the energy model's pricing design) and one digital compare
(priced as a digital addition). The p-bit events and the write-driver DAC are dropped.

Flips per ns is the count of spin updates over the priced critical-path latency (one tile, events not
overlapped: a lower bound on a real macro's rate, the same bound for both schemes).
"""

from __future__ import annotations

import dataclasses

from cim_emu.crossbar.counters import COUNTER_FIELDS

__all__ = ["FlipCosts", "SchemeFlipCost", "flip_costs", "ex_situ_counts"]


@dataclasses.dataclass(frozen=True)
class SchemeFlipCost:
    """One scheme's cost per spin update.

    Attributes:
        energy_per_flip_J: joules per update (``pJ_per_flip`` = 1e12 x this).
        flips_per_ns: updates per nanosecond of priced latency.
        random_bit_energy_fraction: share of the energy spent making (and moving) random bits.
        energy_breakdown_J: energy per flip by counter.
    """

    energy_per_flip_J: float
    flips_per_ns: float
    random_bit_energy_fraction: float
    energy_breakdown_J: dict

    @property
    def pJ_per_flip(self) -> float:
        return self.energy_per_flip_J * 1e12

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["pJ_per_flip"] = self.pJ_per_flip
        return data


@dataclasses.dataclass(frozen=True)
class FlipCosts:
    """In situ against ex situ for one sampling run.

    Attributes:
        n_flips: spin updates priced.
        in_situ: p-bits in the crossbar.
        ex_situ: a separate TRNG feeding a comparator.
        comparator_bits: random bits per ex-situ update.
        ex_situ_design: the energy model's design pricing the TRNG bits.
        energy_ratio: ex-situ / in-situ energy per flip (> 1: in situ cheaper).
        throughput_ratio: in-situ / ex-situ flips per ns.
    """

    n_flips: int
    in_situ: SchemeFlipCost
    ex_situ: SchemeFlipCost
    comparator_bits: int
    ex_situ_design: str
    energy_ratio: float
    throughput_ratio: float

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["in_situ"] = self.in_situ.to_dict()
        data["ex_situ"] = self.ex_situ.to_dict()
        return data


def ex_situ_counts(counts: dict, *, comparator_bits: int = 8) -> dict:
    """The ex-situ scheme's events for the same updates as the in-situ ``counts`` (see the module docstring)."""
    updates = int(counts["pbit_pulses"])
    converted = dict(counts)
    converted["pbit_pulses"] = 0
    converted["pbit_resets"] = 0
    converted["dac_conversions"] = int(counts["dac_conversions"]) - updates
    converted["trng_bits_generated"] = int(counts.get("trng_bits_generated", 0)) + comparator_bits * updates
    converted["bits_moved"] = int(counts.get("bits_moved", 0)) + comparator_bits * updates
    converted["digital_adds"] = int(counts["digital_adds"]) + updates
    return converted


def _scheme(priced, n_flips: int) -> SchemeFlipCost:
    random_names = ("pbit_pulses", "pbit_resets", "trng_bits_generated", "bits_moved")
    random_energy = sum(priced.energy_breakdown_J[name] for name in random_names)
    return SchemeFlipCost(
        energy_per_flip_J=priced.energy_J / n_flips,
        flips_per_ns=n_flips / (priced.latency_s * 1e9),
        random_bit_energy_fraction=random_energy / priced.energy_J if priced.energy_J > 0 else 0.0,
        energy_breakdown_J={name: value / n_flips for name, value in priced.energy_breakdown_J.items()},
    )


def flip_costs(counts: dict, *, comparator_bits: int = 8, energy_config=None) -> FlipCosts:
    """Price a hardware-mode run's counters per flip, in situ and ex situ.

    Args:
        counts: the run's ``op_counts`` (``SampleResult.op_counts``); must come from hardware mode.
        comparator_bits: random bits per ex-situ update (the comparator's resolution; 8 matches an 8-bit ADC).
        energy_config: a ``cim_emu.energy.EnergyConfig`` (default: the shipped one).
    """
    from cim_emu.energy import EnergyConfig, price_op_counts

    unknown = set(counts) - set(COUNTER_FIELDS)
    if unknown:
        raise ValueError(f"counts: unknown counter(s) {sorted(unknown)}")
    n_flips = int(counts.get("pbit_pulses", 0))
    if n_flips <= 0:
        raise ValueError("counts hold no p-bit pulses: energy per flip needs a hardware-mode run "
                         "(HardwareMode(); the CLI's default without --ideal)")
    if isinstance(comparator_bits, bool) or not isinstance(comparator_bits, int) or comparator_bits < 1:
        raise ValueError(f"comparator_bits: must be an integer >= 1, got {comparator_bits!r}")
    config = EnergyConfig() if energy_config is None else energy_config
    in_situ = _scheme(price_op_counts(counts, config), n_flips)
    ex_priced = price_op_counts(ex_situ_counts(counts, comparator_bits=comparator_bits), config)
    ex_situ = _scheme(ex_priced, n_flips)
    return FlipCosts(
        n_flips=n_flips,
        in_situ=in_situ,
        ex_situ=ex_situ,
        comparator_bits=comparator_bits,
        ex_situ_design=ex_priced.ex_situ_design,
        energy_ratio=ex_situ.energy_per_flip_J / in_situ.energy_per_flip_J,
        throughput_ratio=in_situ.flips_per_ns / ex_situ.flips_per_ns,
    )
