"""Converted networks: CrossbarConv2d vs F.conv2d, and a converted CNN's images/s vs the float model.

    python benchmarks/bench_convert.py [--batch 4] [--images 256] [--rounds 11] [--threads 1]

1. A 32x32x64 -> 64, 3x3 (padding 1) convolution, batch ``batch``: ``F.conv2d`` against ``CrossbarConv2d``
   (default ``CrossbarConfig()``: ternary weights, 8-bit DAC and ADC, 256x256 arrays) in its deterministic
   modes: the hardware-aware float path (training / unprogrammed), the programmed tile without read noise, and
   the programmed tile with read noise. Ratios are medians of per-round ratios over interleaved rounds.
2. The digits CNN of ``cim-emu classify`` (float sigmoid activations) on ``images`` 8x8 images: the float
   torch model against the same model converted (``CLASSIFY_CONFIG``: 4-bit weights) and programmed, read
   noise on; images per second and the ratio.

Prints ``torch.backends.cpu.get_cpu_capability()`` and the thread count.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from cim_emu import CrossbarConfig, CrossbarConv2d, convert, generator_scope, program


def _interleaved(contenders: dict, rounds: int) -> dict:
    """Seconds per call of each contender, one call each per round; round 0 (warm-up) is dropped."""
    times = {name: [] for name in contenders}
    for round_index in range(rounds + 1):
        for name, function in contenders.items():
            start = time.perf_counter()
            function()
            if round_index:
                times[name].append(time.perf_counter() - start)
    return times


def _ratio(times: list[float], baseline: list[float]) -> float:
    return statistics.median(t / b for t, b in zip(times, baseline, strict=True))


def bench_conv(batch: int, rounds: int) -> None:
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(batch, 64, 32, 32, generator=generator)
    noise = torch.Generator().manual_seed(1)
    float_path = CrossbarConv2d(64, 64, 3, padding=1, generator=generator).eval()
    quiet = CrossbarConv2d(64, 64, 3, padding=1, config=CrossbarConfig(read_noise=False), generator=generator)
    quiet.program(generator=generator).eval()
    noisy = CrossbarConv2d(64, 64, 3, padding=1, generator=generator).program(generator=generator).eval()
    weight, bias = noisy.weight.detach().clone(), noisy.bias.detach().clone()
    contenders = {
        "F.conv2d": lambda: F.conv2d(inputs, weight, bias, padding=1),
        "float path (unprogrammed)": lambda: float_path(inputs),
        "tile, no read noise": lambda: quiet(inputs),
        "tile, read noise": lambda: noisy(inputs, generator=noise),
    }
    with torch.no_grad():
        times = _interleaved(contenders, rounds)
    baseline = times["F.conv2d"]
    print(f"  CrossbarConv2d 32x32x64 -> 64, 3x3, batch {batch} (medians of {rounds} interleaved rounds):")
    for name, elapsed in times.items():
        ratio = "" if name == "F.conv2d" else f"  {_ratio(elapsed, baseline):6.2f}x F.conv2d"
        print(f"    {name:<28} {statistics.median(elapsed) * 1e3:9.2f} ms{ratio}")


def bench_cnn(n_images: int, rounds: int) -> None:
    from cim_emu.experiments.classify import CLASSIFY_CONFIG, build_network, initialise

    generator = torch.Generator().manual_seed(2)
    network = initialise(build_network("cnn", "float"), generator=generator).eval()
    converted = program(convert(network, config=CLASSIFY_CONFIG), generator=generator).eval()
    images = torch.rand(n_images, 1, 8, 8, generator=generator)
    noise = torch.Generator().manual_seed(3)

    def on_tiles():
        with generator_scope(noise):
            converted(images)

    with torch.no_grad():
        times = _interleaved({"float model": lambda: network(images), "converted, on tiles": on_tiles}, rounds)
    print(f"  digits CNN (conv-conv-pool-fc), {n_images} images per call:")
    for name, elapsed in times.items():
        print(f"    {name:<28} {n_images / statistics.median(elapsed):12.0f} images/s")
    print(f"    converted / float time: {_ratio(times['converted, on tiles'], times['float model']):.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=4, help="images of the 32x32x64 convolution")
    parser.add_argument("--images", type=int, default=256, help="images per call of the digits CNN")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"cpu capability {torch.backends.cpu.get_cpu_capability()}, {args.threads} thread(s)")
    bench_conv(args.batch, args.rounds)
    bench_cnn(args.images, args.rounds)


if __name__ == "__main__":
    main()
