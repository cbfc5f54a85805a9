"""Timing helpers shared by the benchmark scripts (run as ``python benchmarks/<script>.py``, so this folder is on
``sys.path``): interleaved rounds, median of per-round ratios, and the naive MC-dropconnect baseline."""

from __future__ import annotations

import statistics
import time

import torch


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a wall-clock interval covers it (no-op on the CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def interleaved_times(contenders: dict, rounds: int, device: torch.device) -> dict:
    """Seconds per call of each contender over ``rounds`` rounds, each round timing every contender once.

    Interleaving makes load drifting on a shared machine hit all contenders alike; round 0 warms up
    (kernel compilation, caches, the CPU path probe) and is dropped.
    """
    times = {name: [] for name in contenders}
    for round_index in range(rounds + 1):
        for name, function in contenders.items():
            synchronize(device)
            start = time.perf_counter()
            function()
            synchronize(device)
            if round_index:
                times[name].append(time.perf_counter() - start)
    return times


def median_ratio(times: list[float], baseline: list[float]) -> float:
    """Median over rounds of the per-round ratio."""
    return statistics.median(t / b for t, b in zip(times, baseline, strict=True))


def naive_mc_mvm(inputs, weight, probability, generator):
    """MC-dropconnect as plain torch would write it: a uniform draw per cell and row, a compare, a masked einsum
    (rows in chunks of 16 to bound memory)."""
    outputs = []
    for start in range(0, inputs.shape[0], 16):
        chunk = inputs[start:start + 16]
        uniforms = torch.rand((chunk.shape[0], *weight.shape), generator=generator, device=inputs.device)
        outputs.append(torch.einsum("bji,ji,bi->bj", (uniforms < probability).to(inputs.dtype), weight, chunk))
    return torch.cat(outputs)
