"""GPU speed of the CUDA paths (fused Triton kernels where triton is installed), each against a baseline
measured in the same run.

    python benchmarks/bench_gpu.py [--sizes 1024 4096] [--rows 64] [--batch 256] [--repeats 7]
                                   [--images 256] [--steps 100] [--sllg-trials 4194304] [--cpu-sllg-trials 65536]
                                   [--skip generation sllg]

1. MC-dropconnect MVM of a size x size layer, ``rows`` input rows, a fresh Bernoulli(P) mask per cell and
   row: the emulator's ``masked_mvm`` (its CUDA default: the Triton kernel, masks in registers; torch ops
   without triton) against the naive torch version (``torch.rand`` masks, compare, masked einsum; rows in
   chunks of 16 to bound memory), and a dense GEMM of the same shape for scale. Target: >= 10x naive. Also
   a training step (forward and backward) of both.
2. Deterministic tile (read noise, 8-bit DAC and ADC, batch ``batch``; one physical array, and the default
   256 x 256 arrays) against ``F.linear`` of the same shape. Target: <= 2x ``F.linear``.
3. Generation: images/s of the reverse SDE plus VAE decoding with the in-situ p-bit noise block and with
   the ex-situ TRNG increments (the baseline of the same run).
4. sLLG: trial-steps/s of ``devices.macrospin.simulate_switching`` end to end (float32) on the GPU, and the
   CPU numba kernel's end-to-end rate in the same run. Target: >= 1e10 trial-steps/s on an H100-class GPU.

Timings are medians of interleaved rounds (each round times every contender once, after a warm-up round
that compiles the kernels); speed-ups are medians of the per-round ratios. Exits with status 1 and a
message when there is no CUDA device.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys

import torch
from _timing import interleaved_times, median_ratio, naive_mc_mvm


def bench_mc(size: int, rows: int, repeats: int, device: torch.device) -> None:
    from cim_emu.crossbar.kernels.masked_mvm import default_backend, keep_thresholds, masked_mvm

    generator = torch.Generator(device=device).manual_seed(0)
    inputs = torch.randn(rows, size, generator=generator, device=device)
    weight = torch.randn(size, size, generator=generator, device=device)
    probability = torch.full((size, size), 0.5, device=device)
    thresholds = keep_thresholds(probability.double())
    seeds = iter(range(10 ** 6))
    times = interleaved_times({
        "naive": lambda: naive_mc_mvm(inputs, weight, probability, generator),
        "emulator": lambda: masked_mvm(inputs, weight, thresholds, seed=next(seeds)),
        "dense": lambda: inputs @ weight.T,
    }, repeats, device)
    cell_samples = rows * size * size
    naive, fused, dense = (statistics.median(times[name]) for name in ("naive", "emulator", "dense"))
    speedup = median_ratio(times["naive"], times["emulator"])
    print(f"  MC-dropconnect MVM {size}x{size}, {rows} rows, path {default_backend(device).value} "
          f"(medians of {repeats} interleaved rounds):")
    print(f"    naive torch  {cell_samples / naive / 1e9:9.2f} G cell-samples/s  ({naive * 1e3:8.3f} ms)")
    print(f"    emulator     {cell_samples / fused / 1e9:9.2f} G cell-samples/s  ({fused * 1e3:8.3f} ms)  "
          f"{speedup:6.1f}x naive (target >= 10x: {'met' if speedup >= 10 else 'NOT met'})")
    print(f"    dense GEMM   {cell_samples / dense / 1e9:9.2f} G MAC/s             ({dense * 1e3:8.3f} ms)  "
          f"{median_ratio(times['emulator'], times['dense']):6.1f}x faster than the emulator")
    # Training: forward and backward (the emulator replays its masks; naive torch keeps them for autograd).
    trained_inputs, trained_weight = inputs.clone().requires_grad_(), weight.clone().requires_grad_()

    def train_step(function):
        function().sum().backward()
        trained_inputs.grad = trained_weight.grad = None

    times = interleaved_times({
        "naive": lambda: train_step(lambda: naive_mc_mvm(trained_inputs, trained_weight, probability, generator)),
        "emulator": lambda: train_step(lambda: masked_mvm(trained_inputs, trained_weight, thresholds,
                                                           seed=next(seeds))),
    }, repeats, device)
    naive, fused = (statistics.median(times[name]) for name in ("naive", "emulator"))
    print(f"    training step (forward + backward): naive {naive * 1e3:8.3f} ms, emulator {fused * 1e3:8.3f} ms, "
          f"{median_ratio(times['naive'], times['emulator']):6.1f}x naive")


def bench_tile(size: int, batch: int, repeats: int, device: torch.device) -> None:
    import devices
    from cim_emu import CrossbarConfig, CrossbarTile
    from cim_emu.crossbar.kernels.backend import select_backend

    card = devices.default_card()
    generator = torch.Generator(device=device).manual_seed(1)
    weight = torch.randn(size, size, generator=generator, device=device)
    inputs = torch.randn(batch, size, generator=generator, device=device)
    noise = torch.Generator(device=device).manual_seed(2)
    contenders = {"F.linear": lambda: torch.nn.functional.linear(inputs, weight)}
    config = None
    for label, rows, cols in (("one array", size, size), ("256x256 arrays", 256, 256)):
        config = CrossbarConfig(array_rows=rows, array_cols=cols)
        tile = CrossbarTile.program(weight, config=config, card=card, generator=generator)
        contenders[f"tile, {label}"] = lambda tile=tile: tile(inputs, generator=noise)
    times = interleaved_times(contenders, max(repeats, 21), device)
    print(f"  deterministic tile {size}x{size}, batch {batch} (read noise, 8-bit DAC and ADC; backend "
          f"{select_backend(device, weight.dtype, config.dac_bits).name}):")
    baseline = times["F.linear"]
    print(f"    F.linear                 {statistics.median(baseline) * 1e3:8.3f} ms")
    for name, elapsed in list(times.items())[1:]:
        ratio = median_ratio(elapsed, baseline)
        print(f"    {name:<24} {statistics.median(elapsed) * 1e3:8.3f} ms  {ratio:6.2f}x F.linear "
              f"(target <= 2x: {'met' if ratio <= 2 else 'NOT met'})")


def bench_generation(n_images: int, n_steps: int, repeats: int, device: torch.device) -> None:
    from diffusion import (
        InSituNoiseConfig,
        InSituNoiseHead,
        SamplerGenerators,
        TRNGIncrements,
        load_codec,
        load_schedule,
        load_score_network,
        sample_latents,
    )

    schedule = dataclasses.replace(load_schedule(), n_steps=n_steps)
    codec = load_codec(device=device)
    network = load_score_network(device=device).program(generator=torch.Generator(device=device).manual_seed(0))
    head = InSituNoiseHead(network.latent_dim, InSituNoiseConfig()).to(device)
    head.program(generator=torch.Generator(device=device).manual_seed(1))
    head.calibrate(generator=torch.Generator(device=device).manual_seed(2))
    sources = {"ex situ (TRNG)": TRNGIncrements(network.latent_dim, InSituNoiseConfig().bits_per_sample),
               "in situ (p-bits)": head}

    def generate(source):
        generators = SamplerGenerators(*(torch.Generator(device=device).manual_seed(s) for s in (3, 4, 5)))
        latents = sample_latents(network, source, schedule, n_images, generators=generators)
        return codec.decode(latents.reshape(-1, *codec.latent_shape))

    times = interleaved_times({name: (lambda source=source: generate(source)) for name, source in sources.items()},
                               repeats, device)
    baseline = times["ex situ (TRNG)"]
    print(f"  generation, {n_images} images, {n_steps} steps (sampling + decoding):")
    for name, elapsed in times.items():
        print(f"    {name:<18} {n_images / statistics.median(elapsed):9.1f} images/s  "
              f"{median_ratio(baseline, elapsed):5.2f}x the ex-situ speed")


def bench_sllg(n_trials: int, n_cpu_trials: int, repeats: int, device: torch.device) -> None:
    from devices.macrospin import MacrospinParams, Precision, SolverConfig, simulate_switching

    params = MacrospinParams()
    width_s = 7e-10

    def run(n: int, device: str, config: SolverConfig):
        amplitudes = torch.linspace(0.6, 2.4, n, dtype=torch.float64)
        generator = torch.Generator(device=device).manual_seed(0)
        return simulate_switching(params, amplitudes, width_s, generator=generator, config=config, device=device)

    gpu_config = SolverConfig(precision=Precision.FLOAT32)
    cpu_config = SolverConfig()
    outcome = run(n_trials, device.type, gpu_config)     # warm-up: torch.compile
    cpu_outcome = run(n_cpu_trials, "cpu", cpu_config)   # warm-up: numba cache
    times = interleaved_times({"gpu": lambda: run(n_trials, device.type, gpu_config),
                                "cpu": lambda: run(n_cpu_trials, "cpu", cpu_config)}, repeats, device)
    gpu_rate = n_trials * outcome.n_steps / statistics.median(times["gpu"])
    cpu_rate = n_cpu_trials * cpu_outcome.n_steps / statistics.median(times["cpu"])
    print(f"  sLLG simulate_switching end to end ({width_s * 1e12:.0f} ps pulses):")
    print(f"    CPU {cpu_outcome.backend:<28} {cpu_rate:10.3g} trial-steps/s ({n_cpu_trials} trials, "
          f"{torch.get_num_threads()} threads)")
    print(f"    GPU {outcome.backend:<28} {gpu_rate:10.3g} trial-steps/s ({n_trials} trials)  "
          f"{gpu_rate / cpu_rate:7.1f}x the CPU (target >= 1e10 on H100-class: "
          f"{'met' if gpu_rate >= 1e10 else 'NOT met'})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--rows", type=int, default=64, help="input rows of the MC-dropconnect MVM")
    parser.add_argument("--batch", type=int, default=256, help="batch of the deterministic tile")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--images", type=int, default=256, help="images per generation call")
    parser.add_argument("--steps", type=int, default=100, help="reverse-SDE steps of the generation")
    parser.add_argument("--sllg-trials", type=int, default=1 << 22)
    parser.add_argument("--cpu-sllg-trials", type=int, default=1 << 16)
    parser.add_argument("--skip", nargs="*", default=[], choices=["mc", "tile", "generation", "sllg"])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                        help="cpu: a smoke run of the script itself on small sizes (its figures mean nothing)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("bench_gpu: no CUDA device (torch.cuda.is_available() is False); run it on a machine with an NVIDIA "
              "GPU and a CUDA build of torch (GPU speed not measured)", file=sys.stderr)
        return 1
    from cim_emu.crossbar.kernels.triton import triton_available

    triton_version = "not installed: torch fallback"
    if triton_available():
        import triton

        triton_version = triton.__version__
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu (smoke run)"
    print(f"device {name}, torch {torch.__version__}, triton {triton_version}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}")
    for size in args.sizes:
        if "mc" not in args.skip:
            bench_mc(size, args.rows, args.repeats, device)
        if "tile" not in args.skip:
            bench_tile(size, args.batch, args.repeats, device)
    if "generation" not in args.skip:
        bench_generation(args.images, args.steps, max(3, args.repeats // 2), device)
    if "sllg" not in args.skip:
        bench_sllg(args.sllg_trials, args.cpu_sllg_trials, max(3, args.repeats // 2), device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
