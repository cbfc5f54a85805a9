"""The benchmark report: model vs Table II with errors, ratios, p-DNN and end to end, JSON-ready.

``cim-emu bench`` prints this; keys of the top level: ``in_situ``, ``ex_situ`` (one entry per
design), ``ratios``, ``table2``, ``literature``, ``pdnn``, ``reference_mvm`` and ``end_to_end``.
Generation figures are in Table II's units (bit/ns, pJ/bit, um^2); everything else is SI.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from cim_emu.energy.circuit import EnergyConfig
from cim_emu.energy.literature import (
    DESIGN_ROWS,
    LITERATURE_ROWS,
    PAPER_RATIOS,
    THIS_WORK_ROWS,
    literature_ranges,
    paper_row,
)
from cim_emu.energy.pbit_generation import GenerationComparison, GenerationResult, compare_generation
from cim_emu.energy.pdnn import PDNNCosts, pdnn_report
from cim_emu.energy.pricing import EndToEndReport, price_op_counts, reference_mvm_counts

__all__ = ["RowReproduction", "Table2Reproduction", "table2_reproduction", "bench_report", "TABLE2_TOLERANCE"]

# The acceptance tolerance on every reproduced number.
TABLE2_TOLERANCE = 0.02

_QUANTITIES = ("throughput_bit_per_ns", "energy_pJ_per_bit", "area_um2")


@dataclass(frozen=True)
class RowReproduction:
    """One scheme against its Table II row.

    Attributes:
        scheme: the model's scheme name.
        paper_label: the Table II row.
        model: the model's figures in Table II units.
        paper: the printed figures (area None where the table prints "PCB").
        relative_error: (model - paper) / paper per quantity; None where undefined (area 0 or off chip),
            in which case ``exact`` says whether model and paper agree exactly.
        exact: per quantity without a relative error, whether the values are identical.
    """

    scheme: str
    paper_label: str
    model: dict[str, float | None]
    paper: dict[str, float | None]
    relative_error: dict[str, float | None]
    exact: dict[str, bool]


@dataclass(frozen=True)
class Table2Reproduction:
    """Every "this work" row of Table II and the headline ratios, model vs paper.

    Attributes:
        rows: one per scheme that stands for a Table II row.
        throughput_ratio_error: relative error of the model's 6x.
        efficiency_ratio_error: relative error of the model's 2.19x.
        max_abs_relative_error: the largest of all those errors.
        within_tolerance: every error within :data:`TABLE2_TOLERANCE` and every exact match exact.
    """

    rows: tuple[RowReproduction, ...]
    throughput_ratio_error: float
    efficiency_ratio_error: float
    max_abs_relative_error: float
    within_tolerance: bool

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return asdict(self)


def _row_reproduction(result: GenerationResult) -> RowReproduction | None:
    label = DESIGN_ROWS.get(result.name)
    if label is None:
        return None
    row = paper_row(label)
    model = result.paper_units()
    paper = {
        "throughput_bit_per_ns": row.throughput_bit_per_ns,
        "energy_pJ_per_bit": row.energy_pJ_per_bit,
        "area_um2": row.area_um2,
    }
    errors: dict[str, float | None] = {}
    exact: dict[str, bool] = {}
    for quantity in _QUANTITIES:
        if paper[quantity] in (None, 0.0):
            errors[quantity] = None
            exact[quantity] = model[quantity] == paper[quantity]
        else:
            errors[quantity] = (model[quantity] - paper[quantity]) / paper[quantity]
    return RowReproduction(
        scheme=result.name, paper_label=label, model=model, paper=paper, relative_error=errors, exact=exact
    )


def table2_reproduction(comparison: GenerationComparison) -> Table2Reproduction:
    """Compare a :class:`GenerationComparison` with the paper's Table II and headline ratios."""
    rows = tuple(
        reproduction
        for reproduction in map(_row_reproduction, (comparison.in_situ,) + comparison.ex_situ)
        if reproduction is not None
    )
    throughput_error = comparison.throughput_ratio / PAPER_RATIOS["throughput_vs_same_technology"] - 1.0
    efficiency_error = comparison.efficiency_ratio / PAPER_RATIOS["efficiency_vs_same_technology"] - 1.0
    errors = [abs(e) for row in rows for e in row.relative_error.values() if e is not None]
    errors += [abs(throughput_error), abs(efficiency_error)]
    all_exact = all(all(row.exact.values()) for row in rows)
    return Table2Reproduction(
        rows=rows,
        throughput_ratio_error=throughput_error,
        efficiency_ratio_error=efficiency_error,
        max_abs_relative_error=max(errors),
        within_tolerance=all_exact and max(errors) <= TABLE2_TOLERANCE,
    )


def _scheme_entry(result: GenerationResult) -> dict:
    return {
        "name": result.name,
        **result.paper_units(),
        "location": result.location,
        "cycle_time_ns": result.cycle_time_s * 1e9,
        "bits_per_cycle": result.bits_per_cycle,
        "limited_by": result.limited_by,
        "energy_breakdown_pJ_per_bit": {k: v * 1e12 for k, v in result.energy_breakdown_J.items()},
        "area_breakdown_um2": {k: v * 1e12 for k, v in result.area_breakdown_m2.items()},
    }


def bench_report(
    config: EnergyConfig | None = None,
    *,
    end_to_end: EndToEndReport | None = None,
    pdnn_costs: PDNNCosts | None = None,
) -> dict:
    """Everything ``cim-emu bench`` reports, as a JSON-ready dictionary.

    Args:
        config: circuit configuration (default: the shipped one, which reproduces Table II).
        end_to_end: priced counters of real generation runs, if any.
        pdnn_costs: unit energies of the p-DNN framework (default: Table 1).
    """
    config = EnergyConfig() if config is None else config
    comparison = compare_generation(config)
    reproduction = table2_reproduction(comparison)
    in_situ_units = comparison.in_situ.paper_units()
    reference = {}
    in_situ_mvm = price_op_counts(reference_mvm_counts(config, in_situ=True), config)
    for design in config.ex_situ_designs:
        ex_situ_mvm = price_op_counts(reference_mvm_counts(config, in_situ=False), config, ex_situ_design=design.name)
        reference[design.name] = {
            "energy_J": ex_situ_mvm.energy_J,
            "latency_s": ex_situ_mvm.latency_s,
            "energy_ratio_vs_in_situ": ex_situ_mvm.energy_J / in_situ_mvm.energy_J,
            "latency_ratio_vs_in_situ": ex_situ_mvm.latency_s / in_situ_mvm.latency_s,
        }
    return {
        "in_situ": _scheme_entry(comparison.in_situ),
        "ex_situ": [_scheme_entry(result) for result in comparison.ex_situ],
        "ratios": {
            "throughput": comparison.throughput_ratio,
            "efficiency": comparison.efficiency_ratio,
            "reference_design": comparison.reference_design,
            "paper": {
                "throughput": PAPER_RATIOS["throughput_vs_same_technology"],
                "efficiency": PAPER_RATIOS["efficiency_vs_same_technology"],
            },
            "throughput_vs_each": comparison.throughput_ratios,
            "efficiency_vs_each": comparison.efficiency_ratios,
        },
        "table2": {**reproduction.to_dict(), "tolerance": TABLE2_TOLERANCE},
        "literature": {
            "note": "quoted from the paper's Table II, not model output",
            "this_work_rows": [row.to_dict() for row in THIS_WORK_ROWS],
            "rows": [row.to_dict() for row in LITERATURE_ROWS],
            "in_situ_vs_all": literature_ranges(
                in_situ_units["throughput_bit_per_ns"], in_situ_units["energy_pJ_per_bit"]
            ),
        },
        "pdnn": pdnn_report(pdnn_costs).to_dict(),
        "reference_mvm": {
            "note": (
                "synthetic workload: one MC-dropconnect MVM on a full tile, a fresh mask bit per cell; "
                "not a generation run"
            ),
            "in_situ": {"energy_J": in_situ_mvm.energy_J, "latency_s": in_situ_mvm.latency_s},
            "ex_situ": reference,
        },
        "end_to_end": (
            {"available": True, **end_to_end.to_dict()}
            if end_to_end is not None
            else {
                "available": False,
                "note": "needs a `cim-emu generate` run: pass --counts <generate output>/op_counts.json",
            }
        ),
    }
