"""Switching-probability maps P(V, t_pulse) from the sLLG solver, in the ``switching.csv`` schema.

A map is a full grid of pulse amplitudes x pulse widths x devices, ``n_trials`` pulses per cell
and device. Every pulse is an independent trial (reset-then-write: each starts from the
thermalised +z state), so a cell's count is Binomial(n_trials, P). The grid is simulated in
batches of at most ``max_batch_trials``; the global trial index, not the batch, selects the
random numbers, so the batch size changes speed only.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from devices.io import atomic_write
from devices.macrospin.noise import draw_key
from devices.macrospin.params import MacrospinParams
from devices.macrospin.pulse import TrapezoidPulse
from devices.macrospin.solver import DeviceSample, SolverConfig, nominal_devices, simulate_switching

__all__ = [
    "SWITCHING_CSV_COLUMNS",
    "SwitchingMap",
    "switching_map",
    "write_switching_csv",
    "crossing_voltages",
    "peak_pulse_width_s",
    "jitter_average",
    "plot_switching_map",
]

SWITCHING_CSV_COLUMNS = ("device_id", "array_id", "voltage_V", "pulse_width_s", "n_trials", "n_switched")


@dataclass(frozen=True)
class SwitchingMap:
    """Counts of switched trials on a (device, voltage, width) grid.

    Attributes:
        voltages_V: pulse amplitudes (V).
        pulse_widths_s: pulse widths, FWHM (s).
        n_trials: pulses per (device, voltage, width) cell.
        n_switched: int64 array (n_devices, n_voltages, n_widths).
        n_undecided: int64 array, same shape: trials not yet trapped when the wait ran out.
        backend: solver backend that ran; note: fallback notes (empty if none).
    """

    voltages_V: tuple[float, ...]
    pulse_widths_s: tuple[float, ...]
    n_trials: int
    n_switched: np.ndarray
    n_undecided: np.ndarray
    backend: str
    note: str = ""

    @property
    def n_devices(self) -> int:
        return int(self.n_switched.shape[0])

    @property
    def probability(self) -> np.ndarray:
        """Switching fraction per cell, shape (n_devices, n_voltages, n_widths)."""
        return self.n_switched / self.n_trials

    @property
    def standard_error(self) -> np.ndarray:
        """Binomial standard error sqrt(p (1 - p) / n) of each fraction."""
        p = self.probability
        return np.sqrt(p * (1 - p) / self.n_trials)

    def rows(self, *, array_id: int = 0, first_device_id: int = 0) -> list[dict]:
        """Rows in the ``switching.csv`` schema (one per device, voltage and width)."""
        out = []
        for d in range(self.n_devices):
            for v, voltage in enumerate(self.voltages_V):
                for w, width in enumerate(self.pulse_widths_s):
                    out.append({
                        "device_id": first_device_id + d,
                        "array_id": array_id,
                        "voltage_V": voltage,
                        "pulse_width_s": width,
                        "n_trials": self.n_trials,
                        "n_switched": int(self.n_switched[d, v, w]),
                    })
        return out

    def to_json_dict(self) -> dict:
        """JSON-ready summary (lists instead of arrays)."""
        return {
            "voltages_V": list(self.voltages_V),
            "pulse_widths_s": list(self.pulse_widths_s),
            "n_trials": self.n_trials,
            "n_switched": self.n_switched.tolist(),
            "n_undecided": self.n_undecided.tolist(),
            "backend": self.backend,
            "note": self.note,
        }


def _check_grid(name: str, values: Sequence[float], *, positive: bool) -> tuple[float, ...]:
    grid = tuple(float(v) for v in values)
    if not grid:
        raise ValueError(f"switching_map: {name} is empty; give at least one value")
    for value in grid:
        if not math.isfinite(value) or (positive and value <= 0):
            raise ValueError(f"switching_map: {name} contains {value!r}; expected finite values"
                             + (" > 0" if positive else ""))
    return grid


def switching_map(
    params: MacrospinParams,
    voltages_V: Sequence[float],
    pulse_widths_s: Sequence[float],
    n_trials: int,
    *,
    generator: torch.Generator,
    pulse: TrapezoidPulse | None = None,
    devices: DeviceSample | None = None,
    config: SolverConfig | None = None,
    device: torch.device | str = "cpu",
    max_batch_trials: int = 1 << 17,
    progress: Callable[[int, int], None] | None = None,
) -> SwitchingMap:
    """Simulate ``n_trials`` pulses per (device, voltage, width) and count the switched ones.

    Args:
        params: nominal device parameters.
        voltages_V: pulse amplitudes (V); negative ones raise the anisotropy (no switching).
        pulse_widths_s: pulse widths (FWHM, s), > 0.
        n_trials: pulses per cell and device.
        generator: explicit ``torch.Generator`` (one Philox key is drawn).
        pulse: rise/fall times.
        devices: device sample (:func:`sample_devices`), default one nominal device.
        config: solver settings.
        device: "cpu" or "cuda".
        max_batch_trials: largest batch simulated at once (memory/speed only).
        progress: called as ``progress(done_trials, total_trials)`` after each batch.

    Returns:
        :class:`SwitchingMap`.
    """
    pulse = pulse or TrapezoidPulse()
    config = config or SolverConfig()
    voltages = _check_grid("voltages_V", voltages_V, positive=False)
    widths = _check_grid("pulse_widths_s", pulse_widths_s, positive=True)
    if not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"switching_map: n_trials={n_trials!r} must be an integer >= 1")
    if max_batch_trials < 1:
        raise ValueError(f"switching_map: max_batch_trials={max_batch_trials} must be >= 1")
    devices = devices if devices is not None else nominal_devices(params)
    key = draw_key(generator)
    n_devices, n_voltages, n_widths = devices.n_devices, len(voltages), len(widths)
    # Trial order (width, device, voltage, trial): a batch then holds few distinct widths, so
    # batches of short pulses stop early instead of waiting for the longest pulse of the map.
    shape = (n_widths, n_devices, n_voltages, n_trials)
    total = math.prod(shape)
    switched = torch.zeros(total, dtype=torch.bool)
    undecided = torch.zeros(total, dtype=torch.bool)
    voltage_table = torch.tensor(voltages, dtype=torch.float64)
    width_table = torch.tensor(widths, dtype=torch.float64)
    backends, notes = set(), set()
    for start in range(0, total, max_batch_trials):
        index = torch.arange(start, min(total, start + max_batch_trials), dtype=torch.int64)
        width_index = index // (n_devices * n_voltages * n_trials)
        device_index = (index // (n_voltages * n_trials)) % n_devices
        voltage_index = (index // n_trials) % n_voltages
        outcome = simulate_switching(
            params, voltage_table[voltage_index], width_table[width_index], generator=generator, pulse=pulse,
            devices=devices, device_index=device_index, config=config, device=device,
            trial_index=index, key=key,
        )
        switched[index] = outcome.switched.cpu()
        undecided[index] = outcome.undecided.cpu()
        backends.add(outcome.backend)
        if outcome.note:
            notes.add(outcome.note)
        if progress is not None:
            progress(int(index[-1]) + 1, total)
    # (width, device, voltage, trial) -> counts (device, voltage, width)
    counts = switched.reshape(shape).sum(dim=-1).permute(1, 2, 0).numpy().astype(np.int64)
    open_counts = undecided.reshape(shape).sum(dim=-1).permute(1, 2, 0).numpy().astype(np.int64)
    return SwitchingMap(
        voltages_V=voltages,
        pulse_widths_s=widths,
        n_trials=n_trials,
        n_switched=counts,
        n_undecided=open_counts,
        backend="+".join(sorted(backends)),
        note="; ".join(sorted(notes)),
    )


def write_switching_csv(
    switching: SwitchingMap, path: str | os.PathLike, *, array_id: int = 0, first_device_id: int = 0
) -> None:
    """Write the map in the ``switching.csv`` schema (atomically; widths in seconds, volts)."""
    with atomic_write(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SWITCHING_CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in switching.rows(array_id=array_id, first_device_id=first_device_id):
            writer.writerow({**row, "voltage_V": repr(row["voltage_V"]),
                             "pulse_width_s": repr(row["pulse_width_s"])})


def crossing_voltages(
    voltages_V: Sequence[float], probability: Sequence[float], levels: Sequence[float] = (0.1, 0.5, 0.9)
) -> tuple[float, ...]:
    """Voltages where P first rises through each level (linear interpolation).

    nan where the grid does not bracket the crossing (P never reaches the level, or already exceeds it
    at the lowest voltage).

    Used to quote V50 and the 10-90 % window of a P(V) curve at fixed width.
    """
    v = np.asarray(voltages_V, dtype=float)
    p = np.asarray(probability, dtype=float)
    if v.shape != p.shape or v.ndim != 1 or v.size < 2 or np.any(np.diff(v) <= 0):
        raise ValueError("crossing_voltages: need matching 1-D arrays with strictly increasing voltages")
    out = []
    for level in levels:
        above = np.nonzero(p >= level)[0]
        if above.size == 0 or above[0] == 0:
            out.append(float("nan"))
            continue
        i = above[0]
        fraction = (level - p[i - 1]) / (p[i] - p[i - 1])
        out.append(float(v[i - 1] + fraction * (v[i] - v[i - 1])))
    return tuple(out)


def peak_pulse_width_s(pulse_widths_s: Sequence[float], probability: Sequence[float], *, half_span: int = 2) -> float:
    """Pulse width of the maximum of a P(t) curve: vertex of a parabola through the highest point and
    ``half_span`` neighbours on each side (a noise-tolerant estimate of the paper's "first peak" when the
    grid covers only the first maximum)."""
    widths = np.asarray(pulse_widths_s, dtype=float)
    p = np.asarray(probability, dtype=float)
    if widths.shape != p.shape or widths.ndim != 1 or widths.size < 3 or np.any(np.diff(widths) <= 0):
        raise ValueError("peak_pulse_width_s: need >= 3 strictly increasing widths with one probability each")
    top = int(np.argmax(p))
    low, high = max(0, top - half_span), min(widths.size, top + half_span + 1)
    if high - low < 3:
        return float(widths[top])
    curvature, slope, _ = np.polyfit(widths[low:high], p[low:high], 2)
    if curvature >= 0:
        return float(widths[top])
    return float(np.clip(-slope / (2 * curvature), widths[low], widths[high - 1]))


def jitter_average(
    thermal: SwitchingMap, voltages_V: Sequence[float], pulse_jitter_V: float, *, device: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """P(V, t) of the jittered device from a thermal-only map: the Gaussian average over the amplitude.

    Because the per-pulse jitter shifts the effective amplitude of the whole pulse, it changes both
    whether precession engages *and* its frequency, so P(V, t) = E_delta[P_thermal(V + delta, t)],
    delta ~ N(0, pulse_jitter_V^2), exactly (docs/macrospin.md shows the sLLG map agreeing with it).
    One thermal-only sweep thus gives the map for any jitter.

    Args:
        thermal: map of the thermal-only device (``params.thermal_only()``) on a voltage grid that
            covers every requested V +- 4 jitter sigmas (strictly increasing voltages).
        voltages_V: amplitudes at which to evaluate (V).
        pulse_jitter_V: jitter standard deviation (V), > 0.
        device: which device of the map.

    Returns:
        (probability, variance), each (n_voltages, n_widths): the average and its variance from the
        binomial errors of the thermal map (for goodness-of-fit tests).
    """
    grid = np.asarray(thermal.voltages_V, dtype=float)
    targets = np.asarray(voltages_V, dtype=float).reshape(-1)
    if grid.size < 3 or np.any(np.diff(grid) <= 0):
        raise ValueError("jitter_average: the thermal map needs >= 3 strictly increasing voltages")
    if not pulse_jitter_V > 0:
        raise ValueError(f"jitter_average: pulse_jitter_V={pulse_jitter_V} must be > 0")
    low, high = targets.min() - 4 * pulse_jitter_V, targets.max() + 4 * pulse_jitter_V
    if grid[0] > low or grid[-1] < high:
        raise ValueError(f"jitter_average: the thermal map covers {grid[0]:.3g}..{grid[-1]:.3g} V; "
                         f"these voltages need {low:.3g}..{high:.3g} V (V +- 4 sigma)")
    from scipy.stats import norm

    # Trapezoid weights of the Gaussian on the (possibly uneven) grid, normalised to one.
    spacing = np.gradient(grid)
    weights = norm.pdf(grid[None, :], targets[:, None], pulse_jitter_V) * spacing[None, :]
    weights /= weights.sum(axis=1, keepdims=True)
    p = thermal.probability[device]
    return weights @ p, (weights**2) @ (p * (1 - p) / thermal.n_trials)


def plot_switching_map(switching: SwitchingMap, path: str | os.PathLike, *, title: str = "") -> None:
    """PNG: P vs amplitude for each width, and P vs width for each amplitude (device mean, error bars)."""
    from matplotlib.figure import Figure  # no pyplot: no global matplotlib state

    probability = switching.probability.mean(axis=0)
    error = np.sqrt(probability * (1 - probability) / (switching.n_trials * switching.n_devices))
    voltages = np.asarray(switching.voltages_V)
    widths_ps = np.asarray(switching.pulse_widths_s) * 1e12
    figure = Figure(figsize=(11, 4.2))
    left, right = figure.subplots(1, 2)
    for w, width in enumerate(widths_ps):
        left.errorbar(voltages, probability[:, w], error[:, w], marker="o", ms=3, capsize=2, label=f"{width:.0f} ps")
    left.set_xlabel("pulse amplitude (V)")
    left.set_ylabel("switching probability")
    left.set_ylim(-0.03, 1.03)
    left.legend(fontsize=7, ncol=2)
    for v, voltage in enumerate(voltages):
        right.errorbar(widths_ps, probability[v], error[v], marker="o", ms=3, capsize=2, label=f"{voltage:.2f} V")
    right.set_xlabel("pulse width, FWHM (ps)")
    right.set_ylim(-0.03, 1.03)
    right.legend(fontsize=7, ncol=2)
    figure.suptitle(title or f"sLLG switching map ({switching.n_trials} trials per point)")
    figure.tight_layout()
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=120)
