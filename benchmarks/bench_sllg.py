"""Throughput of the macrospin sLLG solver: plain numpy baseline vs the fast paths, in one run.

    python benchmarks/bench_sllg.py [--trials N] [--steps S] [--repeats R] [--compile] [--cuda-trials N]

Prints trial-steps per second (median of R repeats) of
  * ``numpy``: devices.macrospin.heun_steps_numpy, the plain (n, 3)-array implementation (baseline);
  * ``numba``: the fused CPU kernel (threads = cores), raw chunk throughput and end-to-end
    ``simulate_switching`` (thermalise + pulse + relax with early stop, all overheads included);
  * ``torch``: eager torch on the CPU (same code as the CUDA path);
  * ``torch-compile`` on the CPU with ``--compile`` (minutes of compilation, measured after warm-up);
  * CUDA, when available: eager torch and torch.compile (float32, in-kernel Philox), with
    ``--cuda-trials`` trials (default 2^22).
and each as a ratio to the numpy baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time

import numpy as np
import torch


def _median_rate(function, trial_steps: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return trial_steps / statistics.median(times)


def _cuda_sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1 << 17, help="trials of the CPU fast paths")
    parser.add_argument("--numpy-trials", type=int, default=1 << 14, help="trials of the numpy baseline")
    parser.add_argument("--steps", type=int, default=200, help="Heun steps per measurement")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile on the CPU")
    parser.add_argument("--cuda-trials", type=int, default=1 << 22)
    args = parser.parse_args()

    import numba

    from devices.macrospin import (
        Backend,
        MacrospinParams,
        SolverConfig,
        TrialTensors,
        advance_torch,
        heun_steps_numpy,
        simulate_switching,
    )
    from devices.macrospin.kernel_numba import advance_numba

    params = MacrospinParams()
    dt = 1e-12
    steps = args.steps
    h = params.equilibrium_tilt
    demag_x, demag_y, demag_z = params.demagnetising_field_coefficients_T
    sigma = math.sqrt(params.thermal_field_variance_T2_s / dt)
    # Every trial is mid-pulse (start 0, width 1 us): the full step with pulse envelope and VCMA.
    pulse_args = (0.0, 1e30, 1e30)

    def trials_for(n: int, device: str, dtype: torch.dtype) -> TrialTensors:
        def full(value):
            return torch.full((n,), float(value), dtype=dtype, device=device)

        return TrialTensors(
            anisotropy_at_zero_V_T=full(params.interfacial_anisotropy_field_T - demag_z),
            vcma_T_per_V=full(params.vcma_field_per_volt_T_per_V), bias_T=full(params.bias_field_T),
            damping=full(params.damping), gamma_prime=full(params.gyromagnetic_ratio_rad_per_s_T / (1 + 0.02**2)),
            thermal_sigma_T=full(sigma), amplitude_V=torch.linspace(1.0, 2.0, n, dtype=dtype, device=device),
            fall_half_time_s=full(1e-6), trial_index=torch.arange(n, device=device),
        )

    def start_state(n: int, device: str, dtype: torch.dtype):
        return (torch.full((n,), h, dtype=dtype, device=device), torch.zeros(n, dtype=dtype, device=device),
                torch.full((n,), math.sqrt(1 - h * h), dtype=dtype, device=device))

    results: list[tuple[str, float]] = []
    n_numpy = args.numpy_trials
    rng = np.random.default_rng(0)
    m0 = np.tile([h, 0.0, math.sqrt(1 - h * h)], (n_numpy, 1))
    amplitude = np.linspace(1.0, 2.0, n_numpy)
    baseline = _median_rate(
        lambda: heun_steps_numpy(m0, params, n_steps=steps, time_step_s=dt, rng=rng, amplitude_V=amplitude,
                                 pulse_width_s=1e-6),
        n_numpy * steps, args.repeats,
    )
    results.append(("numpy (plain, float64)", baseline))

    n = args.trials
    trials = trials_for(n, "cpu", torch.float64)
    arrays = [t.numpy() for t in trials[:-1]]
    index = trials.trial_index.numpy()
    state = [s.numpy().copy() for s in start_state(n, "cpu", torch.float64)]
    advance_numba(*state, *arrays, index, 0, 1, dt, 1, demag_x, demag_y, *pulse_args)  # compile / load cache
    rate = _median_rate(lambda: advance_numba(*state, *arrays, index, 0, steps, dt, 1, demag_x, demag_y, *pulse_args),
                        n * steps, args.repeats)
    results.append((f"numba kernel ({numba.get_num_threads()} threads, float64)", rate))

    # End to end: a P(V) batch at 700 ps with thermalisation, relaxation, early stop and decisions.
    amplitudes = torch.linspace(0.6, 2.4, n, dtype=torch.float64)
    outcome = simulate_switching(params, amplitudes, 7e-10, generator=torch.Generator().manual_seed(0))

    def end_to_end():
        simulate_switching(params, amplitudes, 7e-10, generator=torch.Generator().manual_seed(0))

    rate = _median_rate(end_to_end, n * outcome.n_steps, max(1, args.repeats // 2))
    results.append((f"numba simulate_switching end to end ({outcome.n_steps} steps)", rate))

    torch.set_num_threads(os.cpu_count() or 1)
    n_torch = n_numpy
    torch_trials = trials_for(n_torch, "cpu", torch.float32)
    torch_state = start_state(n_torch, "cpu", torch.float32)
    eager_steps = max(10, steps // 4)
    rate = _median_rate(lambda: advance_torch(*torch_state, torch_trials, torch.tensor(0), eager_steps, dt, 1,
                                              demag_x, demag_y, *pulse_args),
                        n_torch * eager_steps, args.repeats)
    results.append((f"torch eager CPU ({torch.get_num_threads()} threads, float32)", rate))

    if args.compile:
        config = SolverConfig(backend=Backend.TORCH_COMPILE)
        unroll = config.compiled_steps

        def chunk(mx, my, mz, trial_tensors, first):
            return advance_torch(mx, my, mz, trial_tensors, first, unroll, dt, 1, demag_x, demag_y, *pulse_args)

        compiled = torch.compile(chunk, fullgraph=True, dynamic=False)
        big = trials_for(n, "cpu", torch.float32)
        state32 = start_state(n, "cpu", torch.float32)
        compiled(*state32, big, torch.tensor(0))  # compile

        def run_compiled():
            s = state32
            for k in range(0, steps, unroll):
                s = compiled(*s, big, torch.tensor(k))

        rate = _median_rate(run_compiled, n * steps, args.repeats)
        results.append(("torch.compile CPU (float32)", rate))

    if torch.cuda.is_available():
        n_cuda = args.cuda_trials
        cuda_trials = trials_for(n_cuda, "cuda", torch.float32)
        cuda_state = start_state(n_cuda, "cuda", torch.float32)
        unroll = SolverConfig().compiled_steps

        def chunk(mx, my, mz, trial_tensors, first):
            return advance_torch(mx, my, mz, trial_tensors, first, unroll, dt, 1, demag_x, demag_y, *pulse_args)

        def eager():
            advance_torch(*cuda_state, cuda_trials, torch.tensor(0, device="cuda"), 10, dt, 1, demag_x, demag_y,
                          *pulse_args)
            _cuda_sync()

        eager()
        results.append(("torch eager CUDA (float32)", _median_rate(eager, n_cuda * 10, args.repeats)))
        compiled = torch.compile(chunk, fullgraph=True, dynamic=False)
        firsts = [torch.tensor(k, device="cuda") for k in range(0, steps, unroll)]
        compiled(*cuda_state, cuda_trials, firsts[0])

        def run_compiled():
            s = cuda_state
            for first in firsts:
                s = compiled(*s, cuda_trials, first)
            _cuda_sync()

        results.append((f"torch.compile CUDA (float32, {unroll} steps fused)",
                        _median_rate(run_compiled, n_cuda * len(firsts) * unroll, args.repeats)))

    print(f"sLLG throughput on {platform.machine()} with {os.cpu_count()} CPU cores"
          + (f" and {torch.cuda.get_device_name()}" if torch.cuda.is_available() else " (no CUDA)")
          + f"; medians of {args.repeats} repeats")
    width = max(len(name) for name, _ in results)
    print(f"{'path'.ljust(width)}  {'trial-steps/s':>14}  {'ns/trial-step':>13}  {'x numpy':>8}")
    for name, rate in results:
        print(f"{name.ljust(width)}  {rate:14.3e}  {1e9 / rate:13.2f}  {rate / baseline:8.1f}")


if __name__ == "__main__":
    main()
