"""Data-versus-fit figures of a calibration fit (analogues of the paper's Figs. 7-9 and 11-13)."""

from __future__ import annotations

import dataclasses
import os
import pathlib

import numpy as np
import torch

from devices.fit.directory import CalibrationFit
from devices.io import atomic_write
from devices.mtj import tmr_at_bias
from devices.pair import pair_state_statistics
from devices.pbit import switching_probability

__all__ = ["plot_calibration", "voltage_sweep_points"]


def _figure(*grid: int, figsize: tuple[float, float]):
    """A ``(figure, axes)`` pair built without pyplot (no global matplotlib state)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    return figure, figure.subplots(*grid)


def _save(figure, path: pathlib.Path) -> pathlib.Path:
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=130, bbox_inches="tight")
    return path


def _wilson(k: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """Wilson 95 % interval of binomial proportions (error-bar lengths below and above)."""
    p = k / n
    centre = (p + z ** 2 / (2 * n)) / (1 + z ** 2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2)) / (1 + z ** 2 / n)
    return np.clip(p - (centre - half), 0, None), np.clip(centre + half - p, 0, None)


def voltage_sweep_points(fit: CalibrationFit) -> tuple[np.ndarray, float]:
    """Which rows of the (aggregated) switching table the Figs. 12-13 panels plot, and at which width.

    Only the voltage sweep at its own width: the points of pulse-width sweeps at other widths would show up as
    vertical stripes on the voltage axis.
    """
    table = fit.tables["switching.csv"]
    width = fit.fits["switching.csv"].details.get("voltage_sweep_width_s") or fit.card.p_bit.pulse_width_s
    return np.isclose(table["pulse_width_s"], width, rtol=1e-6, atol=0.0), width  # atol 0: widths are ~1e-9


def plot_calibration(fit: CalibrationFit, out_dir: str | os.PathLike) -> list[pathlib.Path]:
    """Write one PNG per figure that the present files support; returns their paths."""
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if "resistance.csv" in fit.tables:
        written += _resistance_figures(fit, out)
    if "tmr_bias.csv" in fit.tables:
        written.append(_tmr_bias_figure(fit, out))
    if "pair_conductance.csv" in fit.tables:
        written.append(_pair_figure(fit, out))
    if "switching.csv" in fit.tables:
        written += _switching_figures(fit, out)
    if "bitstream.txt" in fit.tables:
        written.append(_bitstream_figure(fit, out))
    return written


def _resistance_figures(fit, out):
    table = fit.tables["resistance.csv"]
    arrays = sorted(set(table["array_id"]))
    tmr_figure, tmr_axis = _figure(figsize=(5, 3.5))
    resistance_figure, resistance_axis = _figure(figsize=(6, 3.5))
    for array in arrays:
        in_array = table["array_id"] == array
        per_device = {}
        for device, state, resistance in zip(table["device_id"][in_array], table["state"][in_array],
                                             table["resistance_ohm"][in_array], strict=True):
            per_device.setdefault(device, {}).setdefault(state, []).append(resistance)
        tmr = [np.mean(s["AP"]) / np.mean(s["P"]) - 1 for s in per_device.values() if "P" in s and "AP" in s]
        tmr_axis.hist(np.array(tmr) * 100, bins=25, histtype="step", label=array)
        for state, style in (("P", "-"), ("AP", "--")):
            values = table["resistance_ohm"][in_array & (table["state"] == state)] / 1e3
            resistance_axis.hist(values, bins=40, histtype="step", linestyle=style, label=f"{array} {state}")
    tmr_axis.axvline(tmr_at_bias(fit.card.data_bit, fit.card.data_bit.read_voltage_V) * 100, color="k",
                     linestyle=":", label="fitted mean")
    tmr_axis.set(xlabel=f"TMR at {fit.card.data_bit.read_voltage_V * 1e3:.0f} mV (%)", ylabel="devices",
                 title="TMR per array (Fig. 7)")
    tmr_axis.legend(fontsize=7)
    resistance_axis.set(xlabel="resistance (kOhm)", ylabel="reads", title="Resistance per array (Fig. 8)")
    resistance_axis.legend(fontsize=6, ncol=2)
    return [_save(tmr_figure, out / "fig07_tmr_per_array.png"),
            _save(resistance_figure, out / "fig08_resistance_per_array.png")]


def _tmr_bias_figure(fit, out):
    table = fit.tables["tmr_bias.csv"]
    details = fit.fits["tmr_bias.csv"].details["device_tmr0"]
    half_bias = fit.fits["tmr_bias.csv"].estimates["data_bit.tmr_half_bias_V"].value
    figure, axis = _figure(figsize=(5, 3.5))
    grid = np.linspace(table["bias_V"].min(), table["bias_V"].max(), 200)
    for device in sorted(details):
        chosen = table["device_id"] == device
        tmr = table["resistance_ap_ohm"][chosen] / table["resistance_p_ohm"][chosen] - 1
        line = axis.plot(table["bias_V"][chosen], tmr * 100, "o", markersize=3, label=device)[0]
        axis.plot(grid, 100 * details[device] / (1 + (grid / half_bias) ** 2), color=line.get_color(), lw=0.8)
    axis.set(xlabel="bias (V)", ylabel="TMR (%)", title=f"TMR bias dependence, V_h = {half_bias * 1e3:.0f} mV")
    axis.legend(fontsize=6)
    return _save(figure, out / "tmr_bias.png")


def _pair_figure(fit, out):
    table = fit.tables["pair_conductance.csv"]
    estimates = fit.fits["pair_conductance.csv"].estimates
    figure, axis = _figure(figsize=(5.5, 3.5))
    for state in ("-1", "0", "+1"):
        values = table["conductance_S"][table["state"] == state] * 1e6
        axis.hist(values, bins=30, density=True, alpha=0.5, label=f"state {state}")
        mean, std = estimates[f"state_{state}_mean_S"].value * 1e6, estimates[f"state_{state}_std_S"].value * 1e6
        grid = np.linspace(mean - 4 * std, mean + 4 * std, 100)
        axis.plot(grid, np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi)), "k", lw=0.8)
    margin = estimates["pair_margin_sigma"]
    model = pair_state_statistics(fit.card.data_bit).margin_sigma
    axis.set(xlabel="G+ - G- (uS)", ylabel="density",
             title=f"Pair states (Fig. 9): margin {margin.value:.1f} +- {margin.standard_error:.1f} sigma "
                   f"(model {model:.1f})")
    axis.legend(fontsize=7)
    return _save(figure, out / "fig09_pair_states.png")


def _switching_figures(fit, out):
    table = fit.tables["switching.csv"]
    devices_fit = fit.fits["switching.csv"].details["devices"]
    pbit = fit.card.p_bit
    written = []
    standalone = sorted(d for d, info in devices_fit.items() if info["array_id"] == "standalone")
    others = sorted(d for d in devices_fit if d not in standalone)
    at_sweep_width, sweep_width = voltage_sweep_points(fit)

    def device_params(device):
        return dataclasses.replace(pbit, v50_V=devices_fit[device]["v50_V"])

    # Fig. 11: pulse-width sweeps.
    figure, axis = _figure(figsize=(6, 3.5))
    for device in standalone or others[:1]:
        chosen = table["device_id"] == device
        for voltage in np.unique(table["voltage_V"][chosen]):
            sweep = chosen & (table["voltage_V"] == voltage)
            if np.unique(table["pulse_width_s"][sweep]).size < 5:
                continue
            order = np.argsort(table["pulse_width_s"][sweep])
            width = table["pulse_width_s"][sweep][order]
            n, k = table["n_trials"][sweep][order], table["n_switched"][sweep][order]
            line = axis.errorbar(width * 1e9, k / n, yerr=_wilson(k, n), fmt="o", markersize=2, lw=0.6,
                                 label=f"{device} {voltage:.1f} V")
            grid = torch.linspace(float(width.min()), float(width.max()), 400, dtype=torch.float64)
            axis.plot(grid * 1e9, switching_probability(device_params(device), voltage, grid), lw=0.8,
                      color=line[0].get_color())
    axis.axvline(pbit.pulse_width_s * 1e9, color="k", linestyle=":", lw=0.8)
    axis.set(xlabel="pulse width (ns)", ylabel="switching probability", title="P vs pulse width (Fig. 11)")
    axis.legend(fontsize=6, ncol=2)
    written.append(_save(figure, out / "fig11_pulse_width.png"))

    # Fig. 12: voltage sweep of standalone devices at the width of the sweep.
    for name, group, title in (("fig12_voltage_standalone.png", standalone, "standalone devices (Fig. 12)"),
                               ("fig13_voltage_array.png", others, "array devices (Fig. 13)")):
        if not group:
            continue
        figure, axis = _figure(figsize=(5.5, 3.5))
        swept = table["voltage_V"][at_sweep_width]
        grid = torch.linspace(float(swept.min()), float(swept.max()), 300, dtype=torch.float64)
        for device in group:
            chosen = (table["device_id"] == device) & at_sweep_width
            if not chosen.any():
                continue
            n, k = table["n_trials"][chosen], table["n_switched"][chosen]
            if len(group) <= 8:
                line = axis.errorbar(table["voltage_V"][chosen], k / n, yerr=_wilson(k, n), fmt="o", markersize=2,
                                     lw=0.6, label=device)
                axis.plot(grid, switching_probability(device_params(device), grid, sweep_width), lw=0.8,
                          color=line[0].get_color())
            else:
                axis.plot(table["voltage_V"][chosen], k / n, color="0.6", lw=0.6)
        population = switching_probability(pbit, grid, sweep_width, v50_offset_V=0.0)
        axis.plot(grid, population, color="red", lw=1.6, label="median device (fit)")
        axis.axhline(0.5, color="k", linestyle=":", lw=0.6)
        axis.set(xlabel="pulse amplitude (V)", ylabel="switching probability",
                 title=f"P vs voltage at {sweep_width * 1e12:.0f} ps, {title}")
        axis.legend(fontsize=6)
        written.append(_save(figure, out / name))
    return written


def _bitstream_figure(fit, out):
    bits = np.asarray(fit.tables["bitstream.txt"], dtype=np.float64)
    figure, (raster, running) = _figure(2, 1, figsize=(6, 3.8))
    shown = np.full(300, np.nan)
    shown[:min(bits.size, 300)] = bits[:300]
    raster.imshow(shown.reshape(10, 30), cmap="gray_r", aspect="auto")
    raster.set(title="first 300 bits (Fig. 14)", xticks=[], yticks=[])
    positions = np.arange(1, bits.size + 1)
    running.semilogx(positions, np.cumsum(bits) / positions, lw=0.8)
    running.axhline(0.5, color="k", linestyle=":", lw=0.6)
    running.set(xlabel="bits", ylabel="running mean", ylim=(0.3, 0.7))
    return _save(figure, out / "bitstream.png")
