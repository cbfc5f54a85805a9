"""Crossbar MVM speed: exact MC-dropconnect MVM and the deterministic tile, against baselines in the same run.

    python benchmarks/bench_mvm.py [--size 1024] [--rows 64] [--batch 256] [--repeats 5] [--device cpu|cuda]
                                   [--threads N] [--isa native|avx2] [--only mc|tile]

1. MC-dropconnect (size x size layer, ``rows`` input rows, a fresh Bernoulli(P) mask per cell and row, one
   sample): naive torch (uniform draw, compare, masked einsum; rows in chunks of 16 to bound memory) vs the
   ``masked_mvm`` kernel vs ``MCDropConnectLinear`` programmed and in eval mode, end to end (DAC, masks, the
   dropped-state sums, read noise, ADC) vs a dense fp32 GEMM of the same shape.
2. Deterministic tile with read noise, 8-bit DAC and ADC (batch ``batch``) through
   ``CrossbarLinear(...).program(...).eval()`` vs ``torch.nn.functional.linear`` of the same shape: one physical
   array of size x size, and the default 256 x 256 arrays (partial sums converted per array and added digitally).

Contenders are timed in interleaved rounds (each round times each once; round 0 warms up and is dropped) and
every ratio is the median of the per-round ratios, so load drifting on a shared machine hits both sides alike.

``--isa avx2`` re-runs this script as an AVX2-only CPU would run it: ``ATEN_CPU_CAPABILITY=avx2`` (torch's
kernels), ``ONEDNN_MAX_CPU_ISA=AVX2`` (oneDNN's), ``NUMBA_CPU_NAME=haswell`` (numba's code generation) and
oneDNN switched off (``torch.backends.mkldnn``), because torch routes ``torch._int_mm`` and bfloat16 GEMMs to
oneDNN by the CPU's own AVX-512 VNNI/BF16 flags, which the variables do not mask; without those routes torch
runs the same fallback loops an AVX2 CPU runs (``_int_mm`` 45-320x, bfloat16 30-150x a float32 GEMM here).
The CPU path the tiles take (``CIM_EMU_CPU_PATH``, or the probe) is printed with the CPU capability.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

import torch
from _timing import interleaved_times, median_ratio, naive_mc_mvm

_AVX2_ENVIRONMENT = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "NUMBA_CPU_NAME": "haswell"}
_EMULATION_FLAG = "CIM_EMU_BENCH_AVX2_EMULATION"





def bench_mc(size: int, rows: int, repeats: int, device: torch.device) -> None:
    from cim_emu import MCDropConnectLinear, keep_thresholds, masked_mvm

    generator = torch.Generator(device=device).manual_seed(0)
    inputs = torch.randn(rows, size, generator=generator, device=device)
    weight = torch.randn(size, size, generator=generator, device=device)
    probability = torch.full((size, size), 0.5, device=device)
    thresholds = keep_thresholds(probability.double())
    layer = MCDropConnectLinear(size, size, generator=generator, device=device)
    layer.program(generator=generator).eval()
    layer_generator = torch.Generator(device=device).manual_seed(3)
    cell_samples = rows * size * size
    seeds = iter(range(10 ** 6))
    times = interleaved_times({
        "naive": lambda: naive_mc_mvm(inputs, weight, probability, generator),
        "kernel": lambda: masked_mvm(inputs, weight, thresholds, seed=next(seeds)),
        "layer": lambda: layer(inputs, generator=layer_generator),
        "dense": lambda: inputs @ weight.T,
    }, repeats, device)
    naive = statistics.median(times["naive"])
    print(f"  MC-dropconnect {size}x{size}, {rows} rows, one sample (medians of {repeats} interleaved rounds):")
    print(f"    naive torch              {cell_samples / naive / 1e9:8.3f} G cell-samples/s  ({naive * 1e3:8.2f} ms)")
    for name, label in (("kernel", "masked_mvm kernel"), ("layer", "MCDropConnectLinear, eval")):
        elapsed = statistics.median(times[name])
        print(f"    {label:<24} {cell_samples / elapsed / 1e9:8.3f} G cell-samples/s  ({elapsed * 1e3:8.2f} ms)  "
              f"{median_ratio(times['naive'], times[name]):6.1f}x naive")
    dense = statistics.median(times["dense"])
    print(f"    dense GEMM               {cell_samples / dense / 1e9:8.3f} G MAC/s             "
          f"({dense * 1e3:8.2f} ms)  {median_ratio(times['layer'], times['dense']):6.1f}x faster than the layer")


def bench_tile(size: int, batch: int, repeats: int, device: torch.device) -> None:
    from cim_emu import CrossbarConfig, CrossbarLinear

    generator = torch.Generator(device=device).manual_seed(1)
    weight = torch.randn(size, size, generator=generator, device=device)
    inputs = torch.randn(batch, size, generator=generator, device=device)
    noise = torch.Generator(device=device).manual_seed(2)
    contenders = {"F.linear": lambda: torch.nn.functional.linear(inputs, weight)}
    # The float32 path's floor: an exact per-read noise variance sum_i v_i^2 Var_ic is a GEMM of its own
    # (Var is full rank), so the Kirchhoff GEMM plus the variance GEMM, before any DAC, noise or ADC work.
    conductances = weight.T.contiguous().abs()
    variances = conductances.square()
    contenders["floor: 2 float32 GEMMs"] = lambda: (inputs @ conductances, inputs.square() @ variances)
    for label, rows, cols in (("one array", size, size), ("256x256 arrays", 256, 256)):
        layer = CrossbarLinear(size, size, bias=False, config=CrossbarConfig(array_rows=rows, array_cols=cols),
                               device=device)
        with torch.no_grad():
            layer.weight.copy_(weight)
        layer.program(generator=generator).eval()
        contenders[f"CrossbarLinear, {label}"] = lambda layer=layer: layer(inputs, generator=noise)
    times = interleaved_times(contenders, max(repeats, 21), device)
    print(f"  deterministic tile {size}x{size}, batch {batch} (read noise, 8-bit DAC and ADC), eval mode:")
    baseline = times["F.linear"]
    print(f"    F.linear                          {statistics.median(baseline) * 1e3:8.2f} ms")
    for name, elapsed in list(times.items())[1:]:
        print(f"    {name:<33} {statistics.median(elapsed) * 1e3:8.2f} ms  "
              f"{median_ratio(elapsed, baseline):5.2f}x F.linear (median of per-round ratios)")


def _emulate_avx2(argv: list[str]) -> None:
    """Re-run this script in a child process set up as an AVX2-only CPU."""
    environment = {**os.environ, **_AVX2_ENVIRONMENT, _EMULATION_FLAG: "1"}
    forwarded = [argument for argument in argv if argument not in ("--isa", "avx2", "--isa=avx2")]
    sys.exit(subprocess.call([sys.executable, __file__, *forwarded], env=environment))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--rows", type=int, default=64, help="input rows of the MC-dropconnect MVM")
    parser.add_argument("--batch", type=int, default=256, help="batch of the deterministic tile")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch (and kernel) threads; default: 1, then all")
    parser.add_argument("--isa", choices=("native", "avx2"), default="native",
                        help="avx2: run as an AVX2-only CPU would (see above)")
    parser.add_argument("--only", choices=("mc", "tile"), default=None, help="run one of the two benchmarks")
    args = parser.parse_args()
    if args.isa == "avx2" and not os.environ.get(_EMULATION_FLAG):
        _emulate_avx2(sys.argv[1:])
    if os.environ.get(_EMULATION_FLAG):
        torch.backends.mkldnn.enabled = False
    from cim_emu.crossbar.kernels.dispatch import cpu_path_report

    device = torch.device(args.device)
    emulated = " (AVX2 emulation: " + ", ".join(f"{k}={v}" for k, v in _AVX2_ENVIRONMENT.items()) + \
        ", oneDNN off)" if os.environ.get(_EMULATION_FLAG) else ""
    print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}{emulated}")
    all_threads = torch.get_num_threads()
    for threads in ([args.threads] if args.threads else sorted({1, all_threads})):
        torch.set_num_threads(threads)
        print(f"device {device}, {threads} thread(s); {cpu_path_report().summary()}")
        if args.only in (None, "mc"):
            bench_mc(args.size, args.rows, args.repeats, device)
        if args.only in (None, "tile"):
            bench_tile(args.size, args.batch, args.repeats, device)


if __name__ == "__main__":
    main()
