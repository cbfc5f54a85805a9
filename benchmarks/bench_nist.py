"""Benchmark of the SP800-22 suite: per-test and total medians on 1 Mbit, speed-up over
the spec-literal oracle measured in the same run, the whole ``cim-emu nist`` process on 1 Mbit
against a bare interpreter importing numpy (interleaved fresh processes), and time and peak
memory at 10 and 100 Mbit.

    python benchmarks/bench_nist.py              # everything (about 2 minutes)
    python benchmarks/bench_nist.py --quick      # no 100 Mbit run, 3 repeats
    python benchmarks/bench_nist.py --isa avx2   # numpy's AVX-512 kernels off, as on an AVX2-only CPU

Targets: the suite on 1 Mbit in <= 0.9 s (issue 3); ``cim-emu nist`` on 1 Mbit as a whole
process in <= 0.6 s, >= 3x NIST's sts-2.1.2 at -O2, which takes about 1.77 s there (issue 11).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cim_emu.randomness import run_suite  # noqa: E402
from cim_emu.randomness import sp800_22 as fast  # noqa: E402
from cim_emu.randomness.sp800_22.non_overlapping_template import sts_template_selection  # noqa: E402
from tests.cim_emu.randomness import nist_reference as oracle  # noqa: E402

TARGET_S = 0.9
PROCESS_TARGET_S = 0.6
# numpy's x86-64-v4 (AVX-512) dispatch targets; what is left is AVX2 (x86-64-v3), as on an AVX2-only CPU.
_NUMPY_AVX2 = "X86_V4 AVX512_ICL AVX512_SPR"
STS_C_CPU_S = 1.8
STS_PROCESS_S = 1.77


def fast_tests() -> dict:
    return {
        "Frequency": fast.frequency,
        "BlockFrequency": fast.block_frequency,
        "CumulativeSums": fast.cumulative_sums,
        "Runs": fast.runs,
        "LongestRun": fast.longest_run,
        "Rank": fast.rank,
        "FFT": fast.dft,
        "NonOverlappingTemplate": fast.non_overlapping_template,
        "OverlappingTemplate": fast.overlapping_template,
        "Universal": fast.universal,
        "ApproximateEntropy": fast.approximate_entropy,
        "RandomExcursions": fast.random_excursions,
        "RandomExcursionsVariant": fast.random_excursions_variant,
        "Serial": fast.serial,
        "LinearComplexity": fast.linear_complexity,
    }


def oracle_tests(n: int) -> dict:
    templates = list(sts_template_selection(9))
    block_bits = fast.universal(np.zeros(n, dtype=np.uint8)).statistics.get("L", 7)
    return {
        "Frequency": oracle.frequency,
        "BlockFrequency": oracle.block_frequency,
        "CumulativeSums": oracle.cumulative_sums,
        "Runs": oracle.runs,
        "LongestRun": oracle.longest_run,
        "Rank": oracle.rank,
        "FFT": oracle.dft,
        "NonOverlappingTemplate": lambda bits: oracle.non_overlapping_template(bits, templates),
        "OverlappingTemplate": oracle.overlapping_template,
        "Universal": lambda bits: oracle.universal(bits, block_bits),
        "ApproximateEntropy": oracle.approximate_entropy,
        "RandomExcursions": oracle.random_excursions,
        "RandomExcursionsVariant": oracle.random_excursions_variant,
        "Serial": oracle.serial,
        "LinearComplexity": oracle.linear_complexity,
    }


def _numpy_dispatch() -> str:
    """numpy's SIMD dispatch targets in use here (numpy >= 2 exposes them; older numpy: "unknown")."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:
        return "unknown"
    disabled = os.environ.get("NPY_DISABLE_CPU_FEATURES", "").split()
    used = [name for name in __cpu_dispatch__ if __cpu_features__.get(name) and name not in disabled]
    return ", ".join(used) or "baseline only"


def _torch_capability() -> str:
    """torch.backends.cpu.get_cpu_capability(), printed by every benchmark (imported here, after no timing)."""
    try:
        import torch
    except ImportError:
        return "(torch not installed)"
    return torch.backends.cpu.get_cpu_capability()


def median_seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu_seconds(function) -> float:
    start = time.process_time()
    function()
    return time.process_time() - start


_CHILD = textwrap.dedent(
    """
    import resource, sys, time
    start = time.perf_counter()
    import numpy as np
    sys.path.insert(0, {root!r})
    from cim_emu.randomness import run_suite
    imported = time.perf_counter() - start
    n = {n}
    bits = np.random.Generator(np.random.PCG64(1)).integers(0, 2, n, dtype=np.uint8)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    cpu = time.process_time()
    report = run_suite(bits)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    applicable = sum(r.applicable for r in report.results)
    print(f"{{imported:.3f}} {{elapsed:.3f}} {{cpu:.3f}} {{before:.0f}} {{peak:.0f}} {{applicable}}")
    """
)


def run_child(n: int) -> tuple[float, float, float, float, float, int, float]:
    """(import s, suite s, suite cpu s, RSS before MiB, peak RSS MiB, applicable, process wall s)."""
    start = time.perf_counter()
    output = subprocess.run(
        [sys.executable, "-c", _CHILD.format(root=str(ROOT), n=n)], check=True, capture_output=True, text=True
    ).stdout.split()
    wall = time.perf_counter() - start
    imported, elapsed, cpu, before, peak = (float(x) for x in output[:5])
    return imported, elapsed, cpu, before, peak, int(output[5]), wall


def whole_process_times(n: int, repeats: int) -> dict[str, list[float]]:
    """Wall times of fresh processes, interleaved: ``cim-emu nist`` on n bits (a raw-bytes file, as the
    console script runs it) and a bare interpreter that imports numpy (the floor under any numpy tool)."""
    commands = {
        "cim-emu nist": [sys.executable, "-c", "import sys; from cim_emu.cli import main; sys.exit(main())",
                         "nist", "--format", "bytes"],
        "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
    }
    times = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "bits.bin"
        np.random.Generator(np.random.PCG64(1)).integers(0, 256, n // 8, dtype=np.uint8).tofile(path)
        commands["cim-emu nist"].append(str(path))
        for round_ in range(repeats + 1):
            for name, command in commands.items():
                start = time.perf_counter()
                code = subprocess.run(command, capture_output=True, cwd=ROOT).returncode
                if code not in (0, 1):
                    raise RuntimeError(f"{command} exited with {code}")
                if round_:                                    # round 0 warms the file cache
                    times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="repeats per median (default 7)")
    parser.add_argument("--quick", action="store_true", help="3 repeats, no 100 Mbit run")
    parser.add_argument("--oracle-repeats", type=int, default=1, help="repeats of the slow oracle (default 1)")
    parser.add_argument("--isa", choices=("native", "avx2"), default="native",
                        help="avx2: re-run with numpy's AVX-512 dispatch off (NPY_DISABLE_CPU_FEATURES), children too")
    args = parser.parse_args()
    if args.isa == "avx2" and os.environ.get("NPY_DISABLE_CPU_FEATURES") != _NUMPY_AVX2:
        # torch's variable too, so the capability printed is the one emulated (the suite itself uses no torch).
        environment = {**os.environ, "NPY_DISABLE_CPU_FEATURES": _NUMPY_AVX2, "ATEN_CPU_CAPABILITY": "avx2"}
        sys.exit(subprocess.run([sys.executable, *sys.argv], env=environment).returncode)
    repeats = 3 if args.quick else args.repeats
    n = 1_000_000
    bits = np.random.Generator(np.random.PCG64(20240607)).integers(0, 2, n, dtype=np.uint8)
    print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}, numpy {np.__version__}; numpy SIMD "
          f"dispatch: {_numpy_dispatch()} (NPY_DISABLE_CPU_FEATURES="
          f"{os.environ.get('NPY_DISABLE_CPU_FEATURES', '')!r}); torch CPU capability {_torch_capability()} "
          "(the suite itself loads no torch)")
    print(f"input: {n} bits from PCG64 (seed 20240607); medians of {repeats} runs\n")

    run_suite(bits)  # warm-up
    fast_times = {name: median_seconds(lambda f=f: f(bits), repeats) for name, f in fast_tests().items()}
    suite_time = median_seconds(lambda: run_suite(bits), repeats)
    suite_cpu = statistics.median(cpu_seconds(lambda: run_suite(bits)) for _ in range(repeats))
    oracle_times = {
        name: median_seconds(lambda f=f: f(bits), args.oracle_repeats) for name, f in oracle_tests(n).items()
    }

    print(f"{'test':<26}{'suite (ms)':>12}{'oracle (ms)':>14}{'speed-up':>10}")
    for name, seconds in fast_times.items():
        reference = oracle_times[name]
        print(f"{name:<26}{seconds * 1e3:>12.2f}{reference * 1e3:>14.1f}{reference / seconds:>9.0f}x")
    oracle_total = sum(oracle_times.values())
    print(f"{'sum of standalone tests':<26}{sum(fast_times.values()) * 1e3:>12.1f}{oracle_total * 1e3:>14.1f}")
    print(
        f"\nrun_suite on 1 Mbit (shared counts): median {suite_time:.3f} s wall, {suite_cpu:.3f} s CPU"
        f"\n  target <= {TARGET_S} s: {'met' if suite_time <= TARGET_S else 'MISSED'} "
        f"({TARGET_S / suite_time:.1f}x margin); sts-2.1.2 -O2 ~{STS_C_CPU_S} s CPU "
        f"(ratio {STS_C_CPU_S / suite_cpu:.1f}x, quoted not measured here)"
        f"\n  speed-up over the spec-literal oracle: {oracle_total / suite_time:.0f}x"
    )

    times = whole_process_times(n, max(repeats, 7))
    process = statistics.median(times["cim-emu nist"])
    floor = statistics.median(times["python -c 'import numpy'"])
    ratios = [a / b for a, b in zip(times["cim-emu nist"], times["python -c 'import numpy'"])]
    print(
        f"\nwhole process, 1 Mbit (fresh interpreters, medians of {len(ratios)} interleaved rounds):"
        f"\n  cim-emu nist --format bytes FILE   {process:.3f} s   (target <= {PROCESS_TARGET_S} s: "
        f"{'met' if process <= PROCESS_TARGET_S else 'MISSED'}; sts-2.1.2 -O2 {STS_PROCESS_S} s quoted: "
        f"{STS_PROCESS_S / process:.1f}x)"
        f"\n  python -c 'import numpy'           {floor:.3f} s   (nist = {statistics.median(ratios):.2f}x this floor)"
    )

    sizes = [10_000_000] if args.quick else [10_000_000, 100_000_000]
    print("\nscaling (fresh process; RSS includes the interpreter and the bits):")
    header = ("n bits", "wall (s)", "CPU (s)", "CPU s/Mbit", "RSS before", "peak RSS", "extra B/bit")
    print("{:>12}{:>10}{:>9}{:>12}{:>12}{:>10}{:>13}".format(*header))
    for size in [n, *sizes]:
        _, elapsed, cpu, before, peak, applicable, _ = run_child(size)
        extra = (peak - before) * 2**20 / size
        print(
            f"{size:>12}{elapsed:>10.2f}{cpu:>9.2f}{cpu / (size / 1e6):>12.3f}"
            f"{before:>8.0f} MiB{peak:>6.0f} MiB{extra:>13.1f}   ({applicable} of 15 tests applicable)"
        )


if __name__ == "__main__":
    main()
