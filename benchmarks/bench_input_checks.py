"""Cost of the crossbar layers' input checks (issue 16): NaN/inf, dtype and device of every input.

    python benchmarks/bench_input_checks.py [--size 1024] [--batch 256] [--rounds 41] [--threads 1]

Times ``CrossbarLinear(size, size).program(...).eval()`` forward passes (read noise, 8-bit DAC and ADC) with the
checks and with them switched off (the layer's input flattening without the checks), in interleaved rounds, and
prints the median of the per-round ratios, with the check alone (the summed-first finite test and the plain
``torch.isfinite(x).all()`` it replaces) in milliseconds and the CPU capability.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _timing import interleaved_times, median_ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="in and out features of the layer")
    parser.add_argument("--batch", type=int, default=256, help="input rows")
    parser.add_argument("--rounds", type=int, default=41, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from cim_emu import CrossbarLinear
    from cim_emu.crossbar.layers import base

    print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{args.threads} thread(s)")
    generator = torch.Generator().manual_seed(0)
    layer = CrossbarLinear(args.size, args.size, bias=False, generator=generator)
    layer.program(generator=generator).eval()
    inputs = torch.randn(args.batch, args.size, generator=generator)
    noise = torch.Generator().manual_seed(1)
    checked = base.AnalogLinearBase._flatten

    def unchecked(self, x):
        return x.reshape(-1, self.in_features), tuple(x.shape[:-1])

    def forward(flatten):
        def call():
            base.AnalogLinearBase._flatten = flatten
            try:
                layer(inputs, generator=noise)
            finally:
                base.AnalogLinearBase._flatten = checked
        return call

    times = interleaved_times({"checked": forward(checked), "unchecked": forward(unchecked)}, args.rounds,
                              torch.device("cpu"))
    print(f"  CrossbarLinear {args.size}x{args.size}, batch {args.batch}, eval: "
          f"{statistics.median(times['unchecked']) * 1e3:.2f} ms without checks, "
          f"{median_ratio(times['checked'], times['unchecked']):.3f}x with them (median of {args.rounds} "
          "interleaved per-round ratios)")
    for name, check in (("summed-first finite test (the layers')", lambda: base._all_finite(inputs)),
                        ("torch.isfinite(x).all()", lambda: bool(torch.isfinite(inputs).all()))):
        samples = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            check()
            samples.append(time.perf_counter() - start)
        print(f"  {name}: {statistics.median(samples) * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
