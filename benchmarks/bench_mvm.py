"""Crossbar MVM speed: exact MC-dropconnect MVM and the deterministic tile, against baselines in the same run.

    python benchmarks/bench_mvm.py [--size 1024] [--rows 64] [--batch 256] [--repeats 5] [--device cpu|cuda]

1. MC-dropconnect MVM (size x size layer, ``rows`` input rows, a fresh Bernoulli(P) mask per cell and row):
   naive torch (uniform draw, compare, masked einsum; rows in chunks of 16 to bound memory) vs the emulator's
   ``masked_mvm`` (fused Philox kernel on CPU, chunked native-RNG path elsewhere) vs a dense fp32 GEMM of
   the same shape. Figures in cell-samples per second (rows x size^2 per call), medians of ``repeats``
   interleaved rounds; speed-ups are medians of the per-round ratios.
2. Deterministic tile with read noise, 8-bit DAC and ADC (batch ``batch``) vs ``torch.nn.functional.linear``
   of the same shape: one physical array of size x size, and the default 256 x 256 arrays (partial sums
   converted per array and added digitally). Timed in interleaved rounds (at least 21); the ratio is the
   median of the per-round ratios.

Run once with one thread and once with every thread, unless ``--threads`` is given.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import devices
from cim_emu import CrossbarConfig, CrossbarTile, keep_thresholds, masked_mvm


def _interleaved_times(contenders: dict, rounds: int, device: torch.device) -> dict:
    """Seconds per call of each contender over ``rounds`` rounds, each round timing every contender once.

    Interleaving makes load drifting on a shared machine hit all contenders alike; round 0 warms up
    (kernel compilation, caches) and is dropped.
    """
    times = {name: [] for name in contenders}
    for round_index in range(rounds + 1):
        for name, function in contenders.items():
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            function()
            if device.type == "cuda":
                torch.cuda.synchronize()
            if round_index:
                times[name].append(time.perf_counter() - start)
    return times


def _median_ratio(times: list[float], baseline: list[float]) -> float:
    """Median over rounds of the per-round ratio."""
    return statistics.median(t / b for t, b in zip(times, baseline, strict=True))


def _naive_mc_mvm(inputs, weight, probability, generator):
    outputs = []
    for start in range(0, inputs.shape[0], 16):
        chunk = inputs[start:start + 16]
        uniforms = torch.rand((chunk.shape[0], *weight.shape), generator=generator, device=inputs.device)
        outputs.append(torch.einsum("bji,ji,bi->bj", (uniforms < probability).to(inputs.dtype), weight, chunk))
    return torch.cat(outputs)


def bench_mc(size: int, rows: int, repeats: int, device: torch.device) -> None:
    generator = torch.Generator(device=device).manual_seed(0)
    inputs = torch.randn(rows, size, generator=generator, device=device)
    weight = torch.randn(size, size, generator=generator, device=device)
    probability = torch.full((size, size), 0.5, device=device)
    thresholds = keep_thresholds(probability.double())
    cell_samples = rows * size * size
    seeds = iter(range(10 ** 6))
    times = _interleaved_times({
        "naive": lambda: _naive_mc_mvm(inputs, weight, probability, generator),
        "emulator": lambda: masked_mvm(inputs, weight, thresholds, seed=next(seeds)),
        "dense": lambda: inputs @ weight.T,
    }, repeats, device)
    naive, fused, dense = (statistics.median(times[name]) for name in ("naive", "emulator", "dense"))
    print(f"  MC-dropconnect MVM {size}x{size}, {rows} rows (medians of {repeats} interleaved rounds):")
    print(f"    naive torch    {cell_samples / naive / 1e9:8.3f} G cell-samples/s  ({naive * 1e3:8.2f} ms)")
    print(f"    emulator       {cell_samples / fused / 1e9:8.3f} G cell-samples/s  ({fused * 1e3:8.2f} ms)  "
          f"{_median_ratio(times['naive'], times['emulator']):6.1f}x naive")
    print(f"    dense GEMM     {cell_samples / dense / 1e9:8.3f} G MAC/s             ({dense * 1e3:8.2f} ms)  "
          f"{_median_ratio(times['emulator'], times['dense']):6.1f}x faster than the emulator, "
          f"{_median_ratio(times['naive'], times['dense']):7.1f}x than naive")


def bench_tile(size: int, batch: int, repeats: int, device: torch.device) -> None:
    card = devices.default_card()
    generator = torch.Generator(device=device).manual_seed(1)
    weight = torch.randn(size, size, generator=generator, device=device)
    inputs = torch.randn(batch, size, generator=generator, device=device)
    noise = torch.Generator(device=device).manual_seed(2)
    contenders = {"F.linear": lambda: torch.nn.functional.linear(inputs, weight)}
    for label, rows, cols in (("one array", size, size), ("256x256 arrays", 256, 256)):
        config = CrossbarConfig(array_rows=rows, array_cols=cols)
        tile = CrossbarTile.program(weight, config=config, card=card, generator=generator)
        contenders[f"tile, {label}"] = lambda tile=tile: tile(inputs, generator=noise)
    times = _interleaved_times(contenders, max(repeats, 21), device)
    print(f"  deterministic tile {size}x{size}, batch {batch} (read noise, 8-bit DAC and ADC):")
    baseline = times["F.linear"]
    print(f"    F.linear                      {statistics.median(baseline) * 1e3:8.2f} ms")
    for name, elapsed in list(times.items())[1:]:
        print(f"    {name:<29} {statistics.median(elapsed) * 1e3:8.2f} ms  "
              f"{_median_ratio(elapsed, baseline):5.2f}x F.linear (median of per-round ratios)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--rows", type=int, default=64, help="input rows of the MC-dropconnect MVM")
    parser.add_argument("--batch", type=int, default=256, help="batch of the deterministic tile")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch (and kernel) threads; default: 1, then all")
    args = parser.parse_args()
    device = torch.device(args.device)
    all_threads = torch.get_num_threads()
    for threads in ([args.threads] if args.threads else sorted({1, all_threads})):
        torch.set_num_threads(threads)
        print(f"device {device}, {threads} thread(s)")
        bench_mc(args.size, args.rows, args.repeats, device)
        bench_tile(args.size, args.batch, args.repeats, device)


if __name__ == "__main__":
    main()
