"""Converted networks: CrossbarConv2d vs F.conv2d, and a converted CNN's images/s vs the float model.

    python benchmarks/bench_convert.py [--batch 4] [--images 256] [--rounds 11] [--threads 1] [--isa native|avx2]
        [--only conv|cnn]

1. A 32x32x64 -> 64, 3x3 (padding 1) convolution, batch ``batch``: ``F.conv2d`` against ``CrossbarConv2d``
   (default ``CrossbarConfig()``: ternary weights, 8-bit DAC and ADC, 256x256 arrays) in its deterministic
   modes: the hardware-aware float path (training / unprogrammed), the programmed tile without read noise, and
   the programmed tile with read noise. Ratios are medians of per-round ratios over interleaved rounds.
2. The digits CNN of ``cim-emu classify`` (float sigmoid activations) on ``images`` 8x8 images: the float
   torch model against the same model converted (``CLASSIFY_CONFIG``: 4-bit weights) and programmed, read
   noise on; images per second and the ratio.

Prints ``torch.backends.cpu.get_cpu_capability()``, the thread count and the tiles' CPU path
(:func:`cim_emu.crossbar.kernels.dispatch.cpu_path_report`).

``--isa avx2`` re-runs the script as an AVX2-only CPU would run it: ``ATEN_CPU_CAPABILITY=avx2``,
``ONEDNN_MAX_CPU_ISA=AVX2``, ``MKL_ENABLE_INSTRUCTIONS=AVX2``, ``NUMBA_CPU_NAME=haswell`` and
``CIM_EMU_CPU_PATH=float32`` (an AVX2 CPU's probe picks the float32 path: its ``_int_mm`` is a slow loop, see
``docs/cpu-paths.md``). oneDNN stays on: an AVX2 machine runs ``F.conv2d`` on oneDNN's AVX2 convolution, and
switching oneDNN off would slow the baseline (flattering the ratio); the float32 path does not use oneDNN.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from cim_emu import CrossbarConfig, CrossbarConv2d, convert, generator_scope, program

_AVX2_ENVIRONMENT = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
                     "NUMBA_CPU_NAME": "haswell", "CIM_EMU_CPU_PATH": "float32"}
_EMULATION_FLAG = "CIM_EMU_BENCH_AVX2_EMULATION"


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
        "F.unfold alone": lambda: F.unfold(inputs, 3, padding=1),
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
    parser.add_argument("--isa", choices=("native", "avx2"), default="native",
                        help="avx2: run as an AVX2-only CPU would (see above)")
    parser.add_argument("--only", choices=("conv", "cnn"), default=None, help="run one of the two benchmarks")
    args = parser.parse_args()
    if args.isa == "avx2" and not os.environ.get(_EMULATION_FLAG):
        environment = {**os.environ, **_AVX2_ENVIRONMENT, _EMULATION_FLAG: "1"}
        forwarded = [argument for argument in sys.argv[1:] if argument not in ("--isa", "avx2", "--isa=avx2")]
        sys.exit(subprocess.call([sys.executable, __file__, *forwarded], env=environment))
    from cim_emu.crossbar.kernels.dispatch import cpu_path_report

    torch.set_num_threads(args.threads)
    emulated = " (AVX2 emulation: " + ", ".join(f"{k}={v}" for k, v in _AVX2_ENVIRONMENT.items()) + ")" \
        if os.environ.get(_EMULATION_FLAG) else ""
    print(f"cpu capability {torch.backends.cpu.get_cpu_capability()}{emulated}, {args.threads} thread(s)")
    print(cpu_path_report().summary())
    if args.only in (None, "conv"):
        bench_conv(args.batch, args.rounds)
    if args.only in (None, "cnn"):
        bench_cnn(args.images, args.rounds)


if __name__ == "__main__":
    main()
