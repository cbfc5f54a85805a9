"""IR drop on the row and column wires of a crossbar array: first-order model and exact nodal reference.

Geometry of one physical array (``rows`` word lines x ``n_columns`` bit lines): each row is driven from
its column-0 end; each column is sensed at its last-row end by a virtual-ground sense amplifier; every
cell pitch of wire has resistance r. Cell (i, j) with conductance g_ij connects row node R_ij to column
node C_ij.

First order (one perturbative step about the ideal currents I0_ij = g_ij v_i):
    R_ij = v_i - r * sum_l I0_il (min(j, l) + 1)          (row segment k carries the cells k.. of row i)
    C_ij = r * sum_m I0_mj (rows - max(i, m))              (column segment k carries the cells ..k of column j)
    I_out_j = sum_i g_ij (R_ij - C_ij) = sum_i v_i G_eff_ij
with the input-independent effective conductance
    G_eff = G - r G o (G @ Cw) - r G o (Dw @ G),  Cw_lj = min(j, l) + 1,  Dw_mi = rows - max(i, m)
(o: element-wise product). The MVM therefore stays one GEMM; the model is accurate while the relative
correction (~ r g n^2 / 2 for n cells on a line) is small, and :func:`solve_crossbar_currents` (the full
linear circuit) is the reference it is tested against.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import torch

__all__ = ["first_order_conductance", "solve_crossbar_currents", "max_relative_ir_correction",
           "MAX_FIRST_ORDER_CORRECTION", "checked_first_order_conductance"]

MAX_FIRST_ORDER_CORRECTION = 0.25   # beyond this the neglected second-order terms exceed ~6 % of a cell current


def _row_weights(n_columns: int, dtype, device) -> torch.Tensor:
    index = torch.arange(n_columns, device=device)
    return (torch.minimum(index[:, None], index[None, :]) + 1).to(dtype)


def _column_weights(rows: int, dtype, device) -> torch.Tensor:
    index = torch.arange(rows, device=device)
    return (rows - torch.maximum(index[:, None], index[None, :])).to(dtype)


def first_order_conductance(conductance_S: torch.Tensor, wire_resistance_ohm: float) -> torch.Tensor:
    """Effective conductances (siemens) after first-order IR drop.

    Args:
        conductance_S: (..., rows, n_columns) cell conductances of physical arrays (leading dims batch
            independent arrays).
        wire_resistance_ohm: wire resistance per cell pitch (ohm), rows and columns alike.

    Returns:
        (..., rows, n_columns) ``G_eff`` such that column currents are ``v @ G_eff`` (amperes for volts).
    """
    if wire_resistance_ohm == 0:
        return conductance_S.clone()
    rows, n_columns = conductance_S.shape[-2:]
    conductance = conductance_S.to(torch.float64)
    row_drop = conductance @ _row_weights(n_columns, torch.float64, conductance.device)
    column_drop = _column_weights(rows, torch.float64, conductance.device) @ conductance
    effective = conductance - wire_resistance_ohm * conductance * (row_drop + column_drop)
    return effective.to(conductance_S.dtype)


def max_relative_ir_correction(conductance_S: torch.Tensor, effective_S: torch.Tensor) -> float:
    """Largest |G - G_eff| / G over the cells: how far the first-order model is pushed (keep << 1)."""
    return float(((conductance_S - effective_S).abs() / conductance_S.clamp_min(1e-30)).max())


def solve_crossbar_currents(conductance_S: np.ndarray, voltages_V: np.ndarray,
                            wire_resistance_ohm: float) -> np.ndarray:
    """Exact column currents (amperes) of one array with resistive wires: the full nodal analysis.

    Args:
        conductance_S: (rows, n_columns) cell conductances.
        voltages_V: (rows,) row driver voltages.
        wire_resistance_ohm: wire resistance per cell pitch (> 0).

    Returns:
        (n_columns,) currents into the virtual-ground sense amplifiers.
    """
    if wire_resistance_ohm <= 0:
        raise ValueError("wire_resistance_ohm: the nodal solve needs a resistance > 0; without wires the "
                         "currents are voltages_V @ conductance_S")
    conductance = np.asarray(conductance_S, dtype=np.float64)
    voltages = np.asarray(voltages_V, dtype=np.float64)
    rows, n_columns = conductance.shape
    wire = 1.0 / wire_resistance_ohm
    n_nodes = rows * n_columns

    def row_node(i, j):
        return i * n_columns + j

    def column_node(i, j):
        return n_nodes + i * n_columns + j

    entries: list[tuple[int, int, float]] = []
    rhs = np.zeros(2 * n_nodes)

    def couple(a: int, b: int, g: float) -> None:
        entries.extend(((a, a, g), (b, b, g), (a, b, -g), (b, a, -g)))

    for i in range(rows):
        for j in range(n_columns):
            couple(row_node(i, j), column_node(i, j), conductance[i, j])
            if j + 1 < n_columns:
                couple(row_node(i, j), row_node(i, j + 1), wire)
            if i + 1 < rows:
                couple(column_node(i, j), column_node(i + 1, j), wire)
        # Row driver at the column-0 end: a wire segment to a fixed voltage.
        entries.append((row_node(i, 0), row_node(i, 0), wire))
        rhs[row_node(i, 0)] += wire * voltages[i]
    for j in range(n_columns):
        # Sense amplifier at the last-row end: a wire segment to virtual ground.
        entries.append((column_node(rows - 1, j), column_node(rows - 1, j), wire))
    index_a, index_b, values = zip(*entries, strict=True)
    matrix = scipy.sparse.csr_matrix((values, (index_a, index_b)), shape=(2 * n_nodes, 2 * n_nodes))
    potentials = scipy.sparse.linalg.spsolve(matrix.tocsc(), rhs)
    return np.array([potentials[column_node(rows - 1, j)] * wire for j in range(n_columns)])


def checked_first_order_conductance(conductance_S: torch.Tensor, wire_resistance_ohm: float) -> torch.Tensor:
    """:func:`first_order_conductance`, refusing arrays where the first-order model is out of its validity range.

    Raises:
        ValueError: the largest relative correction exceeds :data:`MAX_FIRST_ORDER_CORRECTION`.
    """
    effective = first_order_conductance(conductance_S, wire_resistance_ohm)
    correction = max_relative_ir_correction(conductance_S, effective)
    if correction > MAX_FIRST_ORDER_CORRECTION:
        raise ValueError(f"wire_resistance_per_cell_ohm: IR drop removes up to {correction:.0%} of a cell's current "
                         f"here, beyond the first-order model's range ({MAX_FIRST_ORDER_CORRECTION:.0%}); use smaller "
                         "arrays (array_rows, array_cols) or a lower wire resistance")
    return effective
