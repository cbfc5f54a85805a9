"""Synthetic calibration measurements drawn from a stated ground-truth device card.

There are no public raw measurements of the paper's devices, so the shipped CSVs are synthetic stand-ins
shaped to its reported statistics. This module draws them with realistic measurement statistics: binomial
switching counts, lognormal device-to-device and array-to-array resistance spreads, TMR spread, and
cycle-to-cycle read noise on every resistance read. ``python -m calibration_data.regenerate`` rewrites the
shipped files from ``calibration_data/truth.json``.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import pathlib

import numpy as np
import torch

import devices

__all__ = ["MeasurementDesign", "synthesize"]


def _grid(start: float, stop: float, step: float) -> tuple[float, ...]:
    return tuple(float(x) for x in np.round(np.arange(start, stop + step / 2, step), 12))


@dataclasses.dataclass(frozen=True, kw_only=True)
class MeasurementDesign:
    """What was "measured": devices, sweeps and trial counts (defaults follow the paper's Figs. 7-13, 18).

    Attributes:
        n_standalone_devices: standalone devices with voltage and pulse-width sweeps (Figs. 11, 12).
        standalone_voltages_V: voltage sweep at the operating pulse width.
        standalone_widths_s: pulse-width sweep.
        width_sweep_voltages_V: amplitudes of the pulse-width sweeps (two pin down the frequency's bias slope).
        standalone_trials: pulses per standalone point.
        n_arrays: integrated arrays (Figs. 7, 8, 13).
        array_switching_devices: devices per array with a voltage sweep (Fig. 13).
        array_voltages_V: their voltage sweep at the operating pulse width.
        array_trials: pulses per array point.
        resistance_devices_per_array: devices per array read in both states (Figs. 7, 8).
        resistance_reads: reads per device and state (gives the read noise).
        n_tmr_devices: standalone devices with a bias sweep.
        tmr_biases_V: bias sweep.
        n_pairs: differential pairs, each read in the three states, in one array (Fig. 9).
        bitstream_bits: bits of the shipped bitstream (one median device, reset mode, at its 50 % point).
    """

    n_standalone_devices: int = 4
    standalone_voltages_V: tuple[float, ...] = _grid(0.2, 3.0, 0.1)
    standalone_widths_s: tuple[float, ...] = tuple(float(w) for w in np.round(np.linspace(50e-12, 5e-9, 67), 15))
    width_sweep_voltages_V: tuple[float, ...] = (1.5, 2.0)
    standalone_trials: int = 1000
    n_arrays: int = 4
    array_switching_devices: int = 8
    array_voltages_V: tuple[float, ...] = _grid(0.5, 2.5, 0.1)
    array_trials: int = 200
    resistance_devices_per_array: int = 64
    resistance_reads: int = 3
    n_tmr_devices: int = 6
    tmr_biases_V: tuple[float, ...] = _grid(-0.5, 0.5, 0.05)
    n_pairs: int = 200
    bitstream_bits: int = 1 << 20


def _write_csv(path: pathlib.Path, header: list[str], rows: list[list]) -> None:
    with devices.atomic_write(path, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _torch_generator(seed_sequence: np.random.SeedSequence) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed_sequence.generate_state(1, dtype=np.uint64)[0] >> 1))


def _switching(card, design, seeds, path):
    rng = np.random.default_rng(seeds[0])
    generator = _torch_generator(seeds[1])
    pbit = card.p_bit
    rows = []
    n_devices = design.n_standalone_devices + design.n_arrays * design.array_switching_devices
    offsets = devices.sample_v50_offsets(pbit, n_devices, generator=generator, dtype=torch.float64)
    index = 0
    for number in range(design.n_standalone_devices):
        device_id, offset = f"S{number + 1}", offsets[index]
        index += 1
        sweeps = [(v, pbit.pulse_width_s) for v in design.standalone_voltages_V]
        sweeps += [(v, w) for v in design.width_sweep_voltages_V for w in design.standalone_widths_s]
        for voltage, width in sweeps:
            probability = float(devices.switching_probability(pbit, voltage, width, v50_offset_V=offset))
            rows.append([device_id, "standalone", voltage, f"{width:.6g}", design.standalone_trials,
                         int(rng.binomial(design.standalone_trials, probability))])
    for array in range(design.n_arrays):
        for number in range(design.array_switching_devices):
            device_id, offset = f"A{array + 1}-D{number + 1:02d}", offsets[index]
            index += 1
            for voltage in design.array_voltages_V:
                probability = float(devices.switching_probability(pbit, voltage, pbit.pulse_width_s,
                                                                  v50_offset_V=offset))
                rows.append([device_id, f"A{array + 1}", voltage, f"{pbit.pulse_width_s:.6g}", design.array_trials,
                             int(rng.binomial(design.array_trials, probability))])
    _write_csv(path, ["device_id", "array_id", "voltage_V", "pulse_width_s", "n_trials", "n_switched"], rows)


def _resistance(card, design, seeds, path):
    generator, noise = _torch_generator(seeds[0]), _torch_generator(seeds[1])
    data = card.data_bit
    n = design.resistance_devices_per_array
    array_index = torch.arange(design.n_arrays).repeat_interleave(n)
    levels = devices.sample_device_conductances(data, array_index.numel(), generator=generator,
                                                array_index=array_index, dtype=torch.float64)
    rows = []
    for state, conductance in (("P", levels.parallel_S), ("AP", levels.antiparallel_S)):
        for read in range(design.resistance_reads):
            del read
            measured = devices.apply_read_noise(data, conductance, generator=noise)
            for position in range(array_index.numel()):
                array = int(array_index[position])
                rows.append([f"A{array + 1}", f"A{array + 1}-R{position % n + 1:03d}", state, data.read_voltage_V,
                             f"{1.0 / float(measured[position]):.6f}"])
    rows.sort(key=lambda row: (row[0], row[1], row[2] != "P"))
    _write_csv(path, ["array_id", "device_id", "state", "read_voltage_V", "resistance_ohm"], rows)


def _tmr_bias(card, design, seeds, path):
    generator, noise = _torch_generator(seeds[0]), _torch_generator(seeds[1])
    data = card.data_bit
    rows = []
    levels = devices.sample_device_conductances(data, design.n_tmr_devices, generator=generator,
                                                dtype=torch.float64)
    # Each device's TMR at the read voltage, rescaled to every bias by the bias law.
    tmr_read = devices.tmr_at_bias(data, data.read_voltage_V)
    device_tmr_read = levels.parallel_S / levels.antiparallel_S - 1
    for number in range(design.n_tmr_devices):
        g_p = levels.parallel_S[number].expand(len(design.tmr_biases_V))
        biases = torch.tensor(design.tmr_biases_V, dtype=torch.float64)
        tmr = device_tmr_read[number] * devices.tmr_at_bias(data, biases) / tmr_read
        g_ap = g_p / (1 + tmr)
        read_p = devices.apply_read_noise(data, g_p, generator=noise)
        read_ap = devices.apply_read_noise(data, g_ap, generator=noise)
        for position, bias in enumerate(design.tmr_biases_V):
            rows.append([f"T{number + 1}", bias, f"{1 / float(read_p[position]):.6f}",
                         f"{1 / float(read_ap[position]):.6f}"])
    _write_csv(path, ["device_id", "bias_V", "resistance_p_ohm", "resistance_ap_ohm"], rows)


def _pair_conductance(card, design, seeds, path):
    generator, noise = _torch_generator(seeds[0]), _torch_generator(seeds[1])
    data = card.data_bit
    pairs = devices.sample_device_conductances(data, (2, design.n_pairs), generator=generator, dtype=torch.float64)
    rows = []
    for state in (1, 0, -1):
        plus = pairs.parallel_S[0] if state == 1 else pairs.antiparallel_S[0]
        minus = pairs.parallel_S[1] if state == -1 else pairs.antiparallel_S[1]
        read = (devices.apply_read_noise(data, plus, generator=noise)
                - devices.apply_read_noise(data, minus, generator=noise))
        rows += [[f"Q{number + 1:03d}", f"{state:+d}" if state else "0", f"{float(read[number]):.6e}"]
                 for number in range(design.n_pairs)]
    _write_csv(path, ["pair_id", "state", "conductance_S"], rows)


def _bitstream(card, design, seeds, path):
    generator = _torch_generator(seeds[0])
    # The TRNG device is biased at its own 50 % point (the paper's configuration step).
    voltage = devices.voltage_at_probability(card.p_bit, 0.5)
    result = devices.generate_bitstream(card, design.bitstream_bits, mode=devices.WriteMode.RESET,
                                        generator=generator, voltage_V=voltage, device_variation=False)
    text = "".join("01"[b] for b in result.bits[0].tolist())
    with devices.atomic_write(path) as handle:
        for start in range(0, len(text), 64):
            handle.write(text[start:start + 64] + "\n")


def synthesize(truth: devices.DeviceCard, out_dir: str | os.PathLike, *, seed: int,
               design: MeasurementDesign = MeasurementDesign(), files: tuple[str, ...] | None = None) -> None:
    """Write synthetic calibration files drawn from ``truth`` into ``out_dir``.

    Args:
        truth: the ground-truth card.
        out_dir: output directory (created).
        seed: root seed; each file gets its own independent streams (SeedSequence.spawn).
        design: what is measured.
        files: subset of file names to write (default: all five).
    """
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writers = {"switching.csv": _switching, "resistance.csv": _resistance, "tmr_bias.csv": _tmr_bias,
               "pair_conductance.csv": _pair_conductance, "bitstream.txt": _bitstream}
    streams = dict(zip(writers, np.random.SeedSequence(seed).spawn(len(writers)), strict=True))
    for name in files or tuple(writers):
        if name not in writers:
            raise ValueError(f"files: unknown calibration file {name!r}; known: {sorted(writers)}")
        writers[name](truth, design, streams[name].spawn(2), out / name)
