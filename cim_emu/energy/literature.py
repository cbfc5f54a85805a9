"""Table II of Xiao et al. (IEDM): the paper's own rows and the cited literature, as published.

These are *quoted numbers*, not model output. The model (:mod:`cim_emu.energy.pbit_generation`)
is compared against :data:`THIS_WORK_ROWS`; :data:`LITERATURE_ROWS` places the results among
other p-bit / TRNG works. The plain-text extraction of the table is partly garbled: two rows
repeat the numbers of other rows; they are kept with ``garbled=True`` and a note, and left out
of the ranges computed by :func:`literature_ranges`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = [
    "Table2Row",
    "THIS_WORK_ROWS",
    "LITERATURE_ROWS",
    "PAPER_RATIOS",
    "DESIGN_ROWS",
    "paper_row",
    "literature_ranges",
]

_PAPER = "Xiao et al., IEDM, 'In-memory neural SDEs ... in-situ p-bit ... VCMA MTJs', Table II"


@dataclass(frozen=True)
class Table2Row:
    """One row of Table II, in the table's units.

    Attributes:
        label: short name.
        work: the citing string as printed ("This work", "JSSC '24 [8]", ...).
        reference: the full reference from the paper's bibliography, where it names one.
        device: p-bit device technology.
        location: where the p-bits sit relative to compute ("in-situ" / "ex-situ").
        added_area: as printed: an area in um^2, "0", "PCB", "Array" or "FPGA".
        area_um2: the added area as a number when the table prints one, else None.
        throughput_bit_per_ns: as printed (higher is better).
        energy_pJ_per_bit: as printed (lower is better).
        garbled: True where the extraction visibly duplicates another row's numbers.
        note: what is uncertain about the row.
    """

    label: str
    work: str
    reference: str
    device: str
    location: str
    added_area: str
    area_um2: float | None
    throughput_bit_per_ns: float
    energy_pJ_per_bit: float
    garbled: bool = False
    note: str = ""

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return asdict(self)


THIS_WORK_ROWS: tuple[Table2Row, ...] = (
    Table2Row(
        label="in situ",
        work="This work",
        reference=_PAPER,
        device="VCMA-MTJ",
        location="in-situ",
        added_area="0",
        area_um2=0.0,
        throughput_bit_per_ns=29.8,
        energy_pJ_per_bit=0.089,
    ),
    Table2Row(
        label="ex situ, 609.8 um^2",
        work="This work",
        reference=_PAPER,
        device="VCMA-MTJ",
        location="ex-situ",
        added_area="609.8 um^2",
        area_um2=609.8,
        throughput_bit_per_ns=4.97,
        energy_pJ_per_bit=0.196,
    ),
    Table2Row(
        label="ex situ, 2254 um^2",
        work="This work",
        reference=_PAPER,
        device="VCMA-MTJ",
        location="ex-situ",
        added_area="2254 um^2",
        area_um2=2254.0,
        throughput_bit_per_ns=10.0,
        energy_pJ_per_bit=0.121,
    ),
    Table2Row(
        label="ex situ, PCB",
        work="This work",
        reference=_PAPER,
        device="VCMA-MTJ",
        location="ex-situ",
        added_area="PCB",
        area_um2=None,
        throughput_bit_per_ns=5e-4,
        energy_pJ_per_bit=16800.0,
    ),
)

LITERATURE_ROWS: tuple[Table2Row, ...] = (
    Table2Row(
        label="JSSC'24 CMOS",
        work="JSSC '24 [8]",
        reference="J. Kim et al., IEEE JSSC, 2024",
        device="CMOS",
        location="ex-situ",
        added_area="PCB",
        area_um2=None,
        throughput_bit_per_ns=3.2e-5,
        energy_pJ_per_bit=10000.0,
    ),
    Table2Row(
        label="IEDM'23 IMA-sMTJ",
        work="IEDM '23 [4]",
        reference="N. S. Singh et al., IEDM 2023 (feedforward stochastic NNs with fast MTJ p-bits)",
        device="IMA-sMTJ",
        location="ex-situ",
        added_area="PCB",
        area_um2=None,
        throughput_bit_per_ns=10.0,
        energy_pJ_per_bit=10.0,
        note="location column empty in the extraction; ex-situ assumed from the row grouping",
    ),
    Table2Row(
        label="NC'24 PMA-sMTJ",
        work="NC'24 PMA [9]",
        reference="N. Singh et al., Nature Communications, 2024",
        device="PMA-sMTJ",
        location="ex-situ",
        added_area="Array",
        area_um2=None,
        throughput_bit_per_ns=1.1e-3,
        energy_pJ_per_bit=3.51,
    ),
    Table2Row(
        label="NC'24 IMA-sMTJ",
        work="NC'24 IMA [9]",
        reference="N. Singh et al., Nature Communications, 2024",
        device="IMA-sMTJ",
        location="ex-situ",
        added_area="PCB",
        area_um2=None,
        throughput_bit_per_ns=10.0,
        energy_pJ_per_bit=10.0,
        garbled=True,
        note="numbers identical to the IEDM'23 row; likely an extraction duplicate",
    ),
    Table2Row(
        label="IEDM'19 RRAM",
        work="IEDM '19 [10]",
        reference="B. Lin et al., IEDM 2019",
        device="RRAM",
        location="ex-situ",
        added_area="Array",
        area_um2=None,
        throughput_bit_per_ns=1.1e-3,
        energy_pJ_per_bit=3.51,
        garbled=True,
        note="numbers identical to the NC'24 PMA-sMTJ row; likely an extraction duplicate",
    ),
    Table2Row(
        label="TCAS II'24 CMOS",
        work="TCAS II '24 [11]",
        reference="F. Frustaci et al., IEEE TCAS II, 2023",
        device="CMOS",
        location="ex-situ",
        added_area="FPGA",
        area_um2=None,
        throughput_bit_per_ns=0.3,
        energy_pJ_per_bit=400.0,
        note="the table prints '24, the bibliography 2023",
    ),
)

# Which "this work" row each default ex-situ design of cim_emu.energy.circuit stands for.
DESIGN_ROWS: dict[str, str] = {
    "in_situ": "in situ",
    "ex_situ_central": "ex situ, 609.8 um^2",
    "ex_situ_distributed": "ex situ, 2254 um^2",
    "ex_situ_pcb": "ex situ, PCB",
}


def paper_row(label: str) -> Table2Row:
    """The "this work" row with this label (see :data:`DESIGN_ROWS`)."""
    for row in THIS_WORK_ROWS:
        if row.label == label:
            return row
    raise ValueError(f"no Table II row {label!r}; known: {[row.label for row in THIS_WORK_ROWS]}")


# The paper's headline ratios (abstract and Sec. IV), as printed.
PAPER_RATIOS: dict[str, float] = {
    "throughput_vs_same_technology": 6.0,  # 29.8 / 4.97
    "efficiency_vs_same_technology": 2.19,  # 0.196 / 0.089 (= 2.20 from the table's digits)
    "throughput_vs_best_cmos": 3.0,  # 29.8 / 10
    "efficiency_vs_best_cmos": 1.36,  # 0.121 / 0.089
}


def literature_ranges(throughput_bit_per_ns: float, energy_pJ_per_bit: float) -> dict[str, float]:
    """How a design compares with every other row of Table II (garbled rows left out).

    Args:
        throughput_bit_per_ns: the design's throughput.
        energy_pJ_per_bit: the design's energy per bit.

    Returns:
        ``min/max_throughput_gain`` (its throughput over theirs) and ``min/max_efficiency_gain``
        (their energy over its), over the other "this work" rows and the literature rows. The paper
        quotes 3 to 1e6 and 1.36 to 1.9e5 for its in-situ row.
    """
    others = [row for row in THIS_WORK_ROWS + LITERATURE_ROWS if not row.garbled and row.location != "in-situ"]
    throughput_gains = [throughput_bit_per_ns / row.throughput_bit_per_ns for row in others]
    efficiency_gains = [row.energy_pJ_per_bit / energy_pJ_per_bit for row in others]
    return {
        "min_throughput_gain": min(throughput_gains),
        "max_throughput_gain": max(throughput_gains),
        "min_efficiency_gain": min(efficiency_gains),
        "max_efficiency_gain": max(efficiency_gains),
    }
