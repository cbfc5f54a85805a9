"""P-bit bitstream generation speed: devices.generate_bitstream vs a straightforward numpy baseline, same run.

    python benchmarks/bench_bitstream.py [--bits 20000000] [--repeats 5] [--device cpu|cuda]

The baseline draws one float64 uniform per bit with numpy, compares with P and (toggle mode) takes a cumulative
XOR: the same statistics without the read path. The emulator also reads every bit through the device
conductance with read noise, so the ratio measures what the full data path costs.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import devices


def _median_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bits", type=int, default=20_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    card = devices.default_card()
    probability = float(devices.switching_probability(card.p_bit, card.p_bit.write_voltage_V,
                                                      card.p_bit.pulse_width_s))
    rng = np.random.default_rng(0)

    def baseline(mode: str) -> np.ndarray:
        switched = rng.random(args.bits) < probability
        return switched if mode == "reset" else (np.cumsum(switched) & 1).astype(bool)

    print(f"bits per run: {args.bits:,}; torch threads: {torch.get_num_threads()}; device: {args.device}")
    for mode in (devices.WriteMode.RESET, devices.WriteMode.TOGGLE):
        generator = torch.Generator(device=args.device).manual_seed(0)

        def emulator(m=mode, g=generator):
            result = devices.generate_bitstream(card, args.bits, mode=m, generator=g, device_variation=False)
            if args.device == "cuda":
                torch.cuda.synchronize()
            return result

        emulator()  # warm-up
        emulator_time = _median_time(emulator, args.repeats)
        baseline_time = _median_time(lambda m=mode.value: baseline(m), args.repeats)
        print(f"{mode.value:6s}: emulator {args.bits / emulator_time / 1e6:8.1f} Mbit/s (with read path), "
              f"numpy baseline {args.bits / baseline_time / 1e6:8.1f} Mbit/s (no read path), "
              f"ratio {baseline_time / emulator_time:.2f}x")


if __name__ == "__main__":
    main()
