"""Generation speed, in situ vs ex situ, and where the time goes; optionally the full-quality acceptance run.

    python benchmarks/bench_generate.py [--n 500] [--steps 100] [--repeats 3] [--device cpu|cuda]
                                        [--threads 1] [--quality] [--out DIR]

Speed (medians over ``--repeats``, every figure measured in this run):
* images/s of the reverse SDE + VAE decoding, for in situ (p-bit noise block), ex situ (TRNG bits),
  and two baselines on the same tiles: software Gaussian increments and no increments (drift only);
* the split of the time: decoding, the increments' random bits (the noise source alone), the drift
  network's ADCs and read noise (measured by re-running with those switched off on the same tiles),
  and the remaining MVM work; and the random bits each method really draws per image.

``--quality`` adds the acceptance run: full generation (in situ, ex situ, no-noise ablation) for
``--seeds`` seeds (default 6), with metrics and the per-step calibration, written under ``--out``;
the KID seed-spread check uses seeds 0 and 1 ("two seeds each"), the precision/recall differences all.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time

import torch

from cim_emu import track_ops
from cim_emu.experiments.generation import GenerationConfig, run_generation
from diffusion import (
    GaussianIncrements,
    InSituNoiseConfig,
    InSituNoiseHead,
    Method,
    NoIncrements,
    SamplerGenerators,
    TRNGIncrements,
    load_codec,
    load_schedule,
    load_score_network,
    multi_seed_checks,
    sample_latents,
)


def _median_time(function, repeats: int, device: torch.device) -> float:
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        function()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _network(device: torch.device, **tile_changes):
    network = load_score_network(device=device)
    for layer in network.layers():
        layer.config = dataclasses.replace(layer.config, **tile_changes)
    return network.program(generator=torch.Generator(device=device).manual_seed(0))


def speed(args, device: torch.device) -> dict:
    schedule = dataclasses.replace(load_schedule(), n_steps=args.steps)
    codec = load_codec(device=device)
    network = _network(device)
    head = InSituNoiseHead(network.latent_dim, InSituNoiseConfig(bits_per_sample=args.bits)).to(device)
    head.program(generator=torch.Generator(device=device).manual_seed(1))
    head.calibrate(generator=torch.Generator(device=device).manual_seed(2))
    sources = {"in-situ": head, "ex-situ": TRNGIncrements(network.latent_dim, args.bits),
               "gaussian (software)": GaussianIncrements(network.latent_dim),
               "no-noise": NoIncrements(network.latent_dim)}

    def generators():
        return SamplerGenerators(*(torch.Generator(device=device).manual_seed(s) for s in (3, 4, 5)))

    def sample(source, net=network):
        return sample_latents(net, source, schedule, args.n, generators=generators())

    latents = sample(sources["no-noise"])
    decode_s = _median_time(lambda: codec.decode(latents.reshape(-1, *codec.latent_shape)), args.repeats, device)
    for source in sources.values():
        sample(source)  # warm-up (kernel compilation, caches)
    # Interleave the methods within every repeat: timed one after another, a slow drift of the machine's speed
    # (other jobs, clocks) would otherwise favour whichever method runs last.
    sampling_times: dict[str, list[float]] = {name: [] for name in sources}
    for _ in range(args.repeats):
        for name, source in sources.items():
            sampling_times[name].append(_median_time(lambda s=source: sample(s), 1, device))
    results = {}
    for name, source in sources.items():
        sampling_s = statistics.median(sampling_times[name])
        std = schedule.required_noise_std().tolist()
        noise_s = _median_time(
            lambda s=source, stds=std: [s.increment(args.n, v, generator=generators().noise) for v in stds],
            args.repeats, device)
        with track_ops() as counts:
            sample(source)
        results[name] = {"sampling_s": sampling_s, "noise_source_s": noise_s,
                         "images_per_s": args.n / (sampling_s + decode_s),
                         "random_bits_per_image": (counts.pbit_pulses + counts.trng_bits_generated) / args.n}
    no_adc = _network(device, adc_bits=None, adc_range_cells=None)
    no_read_noise = _network(device, read_noise=False)
    drift_s = results["no-noise"]["sampling_s"]
    drift_no_adc_s = _median_time(lambda: sample(sources["no-noise"], no_adc), args.repeats, device)
    drift_no_read_s = _median_time(lambda: sample(sources["no-noise"], no_read_noise), args.repeats, device)
    return {"decode_s": decode_s, "methods": results, "drift_network": {
        "total_s": drift_s, "adc_s": drift_s - drift_no_adc_s, "read_noise_s": drift_s - drift_no_read_s,
        "mvm_and_rest_s": drift_no_adc_s - (drift_s - drift_no_read_s)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--bits", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quality", action="store_true", help="also run the two-seed acceptance generation")
    parser.add_argument("--seeds", type=int, default=6, help="seeds of --quality (>= 2)")
    parser.add_argument("--out", default="bench-generate", help="output directory of --quality")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    figures = speed(args, device)
    print(f"{args.n} images, {args.steps} steps, {args.bits} bits per increment entry; device {device}; "
          f"torch threads {torch.get_num_threads()}")
    baseline = figures["methods"]["gaussian (software)"]["images_per_s"]
    print(f"{'method':22s} {'images/s':>9s} {'vs software noise':>18s} {'sampling s':>11s} {'noise source s':>15s} "
          f"{'random bits/image':>18s}")
    for name, row in figures["methods"].items():
        print(f"{name:22s} {row['images_per_s']:9.1f} {row['images_per_s'] / baseline:17.2f}x "
              f"{row['sampling_s']:11.3f} "
              f"{row['noise_source_s']:15.3f} {row['random_bits_per_image']:18.0f}")
    in_situ, ex_situ = figures["methods"]["in-situ"], figures["methods"]["ex-situ"]
    print(f"in-situ / ex-situ speed: {in_situ['images_per_s'] / ex_situ['images_per_s']:.2f}x "
          f"(random bits per image {in_situ['random_bits_per_image']:.0f} vs {ex_situ['random_bits_per_image']:.0f})")
    drift = figures["drift_network"]
    resolution = 0.03 * drift["total_s"]
    if drift["adc_s"] < resolution:
        print(f"ADC share below the timing resolution (measured {drift['adc_s']:+.3f} s of {drift['total_s']:.2f} s)")
    adc_below_resolution = drift["adc_s"] < resolution

    def share(seconds: float, total: float, below_resolution: bool = False) -> str:
        # A difference of two timings can come out negative or tiny: say so instead of printing "-1%".
        return f"<{resolution / total:.0%}" if below_resolution else f"{seconds / total:.0%}"

    total = ex_situ["sampling_s"] + figures["decode_s"]
    print(f"time split of ex-situ generation ({total:.2f} s): increments' RNG "
          f"{share(ex_situ['noise_source_s'], total)}, drift MVMs {share(drift['mvm_and_rest_s'], total)}, ADC "
          f"{share(drift['adc_s'], total, adc_below_resolution)}, read noise {share(drift['read_noise_s'], total)}, "
          f"decode {share(figures['decode_s'], total)}")
    total = in_situ["sampling_s"] + figures["decode_s"]
    print(f"time split of in-situ generation ({total:.2f} s): noise block (p-bit masks, its MVM and ADC) "
          f"{share(in_situ['noise_source_s'], total)}, drift MVMs {share(drift['mvm_and_rest_s'], total)}, ADC "
          f"{share(drift['adc_s'], total, adc_below_resolution)}, read noise {share(drift['read_noise_s'], total)}, "
          f"decode {share(figures['decode_s'], total)}")
    if not args.quality:
        return
    results = []
    for seed in range(args.seeds):
        config = GenerationConfig(methods=(Method.IN_SITU, Method.EX_SITU, Method.NO_NOISE), n_images=args.n,
                                  n_steps=args.steps, seed=seed, device=args.device, bits_per_sample=args.bits,
                                  umap=seed == 0)
        results.append(run_generation(config, f"{args.out}/seed{seed}"))
    for seed, result in enumerate(results):
        print(f"seed {seed}:")
        rows = list(result.references.items())
        rows += [(f"{name} vs real", m.metrics_vs_real) for name, m in result.methods.items()]
        rows += list(result.comparisons.items())
        for name, q in rows:
            print(f"  {name:30s} KID {q.kid_mean:7.4f} +- {q.kid_std:6.4f}  FD {q.frechet_distance:7.2f}  "
                  f"P {q.precision:.3f}  R {q.recall:.3f}  H {q.label_entropy_bits:.2f}")
        for name, m in result.methods.items():
            if m.trajectory is not None:
                print(f"  {name}: per-step variance ratio {min(m.trajectory.variance_ratio):.3f} .. "
                      f"{max(m.trajectory.variance_ratio):.3f}, kurtosis "
                      f"{statistics.mean(m.trajectory.excess_kurtosis):.3f}, RMS cross-correlation "
                      f"{statistics.mean(m.trajectory.rms_cross_correlation):.4f} (independent: "
                      f"{m.trajectory.rms_cross_correlation_expected:.4f})")
        for check, passed in result.checks.items():
            print(f"  [{'pass' if passed else 'FAIL'}] {check}")
    print("two seeds (KID spread):", json.dumps(multi_seed_checks(results[:2])))
    print(f"all {len(results)} seeds:", json.dumps(multi_seed_checks(results)))


if __name__ == "__main__":
    main()
