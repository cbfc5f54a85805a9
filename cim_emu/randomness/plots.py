"""Summary figure of a TRNG's bitstreams, in the spirit of the p-bit paper's Figs. 14-18.

Panels: (a) raster of the first 300 bits (Fig. 14), (b) conductance of each bit read
(Fig. 15) or, without conductances, the running fraction of ones, (c) autocorrelation
against lag (Fig. 16), (d) inter-sample Hamming distances (Fig. 17), (e) Shannon entropy
per stream (Fig. 18), (f) the SP800-22 p-values (Table I). The function takes plain
arrays, so any producer of bitstreams can use it.
"""

from __future__ import annotations

import math
import os
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cim_emu.randomness._atomic import atomic_output
from cim_emu.randomness.analysis import SequencesAnalysis
from cim_emu.randomness.quality import (
    as_streams,
    autocorrelation,
    default_entropy_block_bits,
    hamming_distances,
    shannon_entropy,
)
from cim_emu.randomness.sp800_22.suite import SuiteReport

__all__ = ["plot_trng_summary"]


def _table(
    p_values: SuiteReport | SequencesAnalysis | Mapping[str, Sequence[float]] | None, alpha: float
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the results table; the smallest p-value stands for multi-p tests."""
    rows: list[list[str]] = []
    if p_values is None:
        return [], rows
    if isinstance(p_values, SequencesAnalysis):
        for name in p_values.tests:
            slots = [slot for slot in p_values.slots_of(name) if slot.sample_size]
            if not slots:
                rows.append([name, "n/a", "n/a"])
                continue
            worst = min(slots, key=lambda slot: slot.n_passed / slot.sample_size)
            rows.append(
                [
                    name,
                    f"{worst.n_passed}/{worst.sample_size}",
                    "Pass" if p_values.test_passed(name) else "Fail",
                ]
            )
        return ["test", "min proportion", "result"], rows
    if isinstance(p_values, SuiteReport):
        for result in p_values.results:
            if not result.applicable:
                rows.append([result.name, "n/a", "Fail" if result.rejected else "n/a"])
                continue
            shown = min(result.p_values)
            prefix = "min " if len(result.p_values) > 1 else ""
            rows.append([result.name, f"{prefix}{shown:.4f}", "Pass" if result.passed else "Fail"])
        return ["test", "P-value", "result"], rows
    for name, values in p_values.items():
        values = [float(v) for v in values]
        if not values:
            rows.append([name, "n/a", "n/a"])
            continue
        shown = min(values)
        prefix = "min " if len(values) > 1 else ""
        verdict = "Pass" if shown >= alpha / len(values) else "Fail"  # the suite's Bonferroni rule
        rows.append([name, f"{prefix}{shown:.4f}", verdict])
    return ["test", "P-value", "result"], rows


def plot_trng_summary(
    bits: Any,
    path: str | os.PathLike,
    *,
    conductances_S: Any = None,
    p_values: SuiteReport | SequencesAnalysis | Mapping[str, Sequence[float]] | None = None,
    alpha: float = 0.01,
    max_lag: int = 50,
    raster_bits: int = 300,
    entropy_block_bits: int | None = None,
    n_segments: int = 16,
    title: str | None = None,
) -> pathlib.Path:
    """Draw the six-panel summary of one or more bitstreams and write it as a PNG.

    Args:
        bits: uint8 0/1 of shape (n_bits,) or (n_streams, n_bits).
        path: output PNG; written atomically (a temporary file, then renamed).
        conductances_S: optional conductance of each bit read, same shape as ``bits``,
            in siemens (plotted in microsiemens).
        p_values: for the table: a SuiteReport (p-values), a SequencesAnalysis (the
            smallest proportion passing per test), or a mapping test name -> p-values.
        alpha: significance level of the table's verdicts.
        max_lag: largest autocorrelation lag shown.
        raster_bits: bits shown in the raster (the paper shows 300).
        entropy_block_bits: block length of the second entropy estimate (None: the longest
            block with at least 20 blocks per value, see ``default_entropy_block_bits``).
        n_segments: a single stream is cut into this many segments for the Hamming
            distance panel (the distance needs at least two streams).
        title: figure title.

    Returns:
        The path written.
    """
    from matplotlib.figure import Figure  # no pyplot: no global matplotlib state

    streams = as_streams(bits)
    n_streams, n = streams.shape
    if n < 4:
        raise ValueError(f"plot_trng_summary needs streams of at least 4 bits, got {n}")
    conductances = None
    if conductances_S is not None:
        if hasattr(conductances_S, "detach"):
            conductances_S = conductances_S.detach().cpu().numpy()
        conductances = np.asarray(conductances_S, dtype=np.float64).reshape(-1, n) if np.ndim(conductances_S) else None
        if conductances is None or conductances.shape[0] != n_streams:
            raise ValueError(f"conductances_S must have the shape of bits {tuple(np.shape(bits))}")
    figure = Figure(figsize=(15, 8.5))
    axes = figure.subplots(2, 3)
    shown = min(raster_bits, n)

    # (a) Fig. 14: bit raster. One stream is folded into rows of 20 bits.
    axis = axes[0, 0]
    if n_streams == 1:
        width = 20
        rows = math.ceil(shown / width)
        raster = np.full(rows * width, np.nan)
        raster[:shown] = streams[0, :shown]
        raster = raster.reshape(rows, width)
        axis.set_xlabel("bit (within row of 20)")
        axis.set_ylabel("row")
    else:
        raster = streams[: min(n_streams, 32), :shown].astype(float)
        axis.set_xlabel("bit index")
        axis.set_ylabel("stream")
    axis.imshow(raster, cmap="gray_r", aspect="auto", interpolation="nearest", vmin=0, vmax=1)
    axis.set_title(f"(a) first {shown} bits")

    # (b) Fig. 15: conductance per read, or the running ones fraction.
    axis = axes[0, 1]
    if conductances is not None:
        axis.plot(np.arange(shown), conductances[0, :shown] * 1e6, ".", markersize=3)
        axis.set_ylabel("conductance (uS)")
        axis.set_title("(b) conductance of each bit read")
    else:
        # At ~2000 log-spaced points: plotting every bit of a long stream costs gigabytes.
        ends = np.unique(np.geomspace(1, n, 2000).astype(np.int64))
        counts = np.add.reduceat(streams[0], np.r_[0, ends[:-1]], dtype=np.int64)
        axis.semilogx(ends, np.cumsum(counts) / ends)
        axis.axhline(0.5, color="k", linewidth=0.8, linestyle="--")
        axis.set_ylabel("fraction of ones so far")
        axis.set_title("(b) running fraction of ones (stream 0)")
    axis.set_xlabel("bit index")

    # (c) Fig. 16: autocorrelation with the 95 % band of independent bits.
    axis = axes[0, 2]
    lags = min(max_lag, n - 1)
    correlation = np.atleast_2d(autocorrelation(streams, lags))
    lag_axis = np.arange(1, lags + 1)
    for row in correlation[:16]:
        axis.plot(lag_axis, row, color="0.7", linewidth=0.6)
    axis.plot(lag_axis, np.nanmean(correlation, axis=0), "o-", markersize=3, label="mean over streams")
    bound = 1.96 / math.sqrt(n)
    axis.axhspan(-bound, bound, color="tab:green", alpha=0.15, label="95 % band, independent bits")
    axis.set_xlabel("lag")
    axis.set_ylabel("autocorrelation")
    axis.set_title("(c) autocorrelation")
    axis.legend(fontsize=8)

    # (d) Fig. 17: inter-sample Hamming distance.
    axis = axes[1, 0]
    segments = streams
    note = f"{n_streams} streams"
    if n_streams == 1:
        length = n // n_segments
        if length >= 1 and n_segments >= 2:
            segments = streams[0, : length * n_segments].reshape(n_segments, length)
            note = f"{n_segments} segments of {length} bits"
    if segments.shape[0] >= 2:
        distances = hamming_distances(segments)
        axis.hist(distances, bins=min(30, max(5, distances.size // 3)), color="tab:blue", alpha=0.8)
        axis.axvline(distances.mean(), color="k", linestyle="--", label=f"mean {distances.mean():.4f}")
        axis.legend(fontsize=8)
    axis.set_xlabel("normalised Hamming distance")
    axis.set_ylabel("pairs")
    axis.set_title(f"(d) inter-sample Hamming distance ({note})")

    # (e) Fig. 18: Shannon entropy per stream.
    axis = axes[1, 1]
    per_bit = np.atleast_1d(shannon_entropy(streams, 1))
    block = default_entropy_block_bits(n) if entropy_block_bits is None else min(entropy_block_bits, n)
    per_block = np.atleast_1d(shannon_entropy(streams, block))
    index = np.arange(n_streams)
    axis.plot(index, per_bit, "o", label=f"per bit (mean {per_bit.mean():.6f})")
    axis.plot(index, per_block, "s", label=f"{block}-bit blocks (mean {per_block.mean():.6f})")
    axis.set_ylim(min(0.98, float(np.nanmin(np.concatenate([per_bit, per_block]))) - 0.005), 1.002)
    axis.set_xlabel("stream")
    axis.set_ylabel("Shannon entropy (bit per bit)")
    axis.set_title("(e) Shannon entropy")
    axis.legend(fontsize=8)

    # (f) Table I: SP800-22 p-values.
    axis = axes[1, 2]
    axis.axis("off")
    header, rows = _table(p_values, alpha)
    if rows:
        table = axis.table(
            cellText=rows,
            colLabels=header,
            colWidths=[0.55, 0.27, 0.18],
            loc="center",
            cellLoc="left",
        )
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1.0, 1.1)
        axis.set_title(f"(f) NIST SP800-22 (alpha = {alpha})")
    else:
        axis.text(0.5, 0.5, "no SP800-22 results given", ha="center", va="center")
    figure.suptitle(title or f"TRNG summary: {n_streams} stream(s) of {n} bits")
    figure.tight_layout()
    path = pathlib.Path(path)
    with atomic_output(path) as stream:
        figure.savefig(stream, format="png", dpi=110)
    return path
