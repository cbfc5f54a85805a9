"""``cim-emu generate``: latent-diffusion digits with the reverse SDE on emulated crossbars.

Thin shell over :func:`cim_emu.experiments.generation.run_generation`: parses, builds the config, shows
progress bars, prints a summary table. Writes into ``--out``: ``<method>_images.npy``, ``<method>_grid.png``,
``real_grid.png``, ``metrics.json``, ``calibration.png``, ``umap.png`` and ``op_counts.json``.
"""

from __future__ import annotations

import argparse

_METHODS = {"in-situ": ("in-situ",), "ex-situ": ("ex-situ",), "both": ("in-situ", "ex-situ")}
# GenerationConfig field -> the flag that sets it, so that a rejected value is reported by its flag.
_FLAGS = {"n_images": "--n", "n_steps": "--steps", "seed": "--seed", "device": "--device",
          "bits_per_sample": "--bits"}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate", help="generate digits in situ (p-bit MC-dropconnect) or ex situ (TRNG) on emulated tiles",
        description="Latent diffusion: the reverse VP SDE runs on emulated VCMA-MTJ crossbars, its noise made "
                    "in situ by the p-bits of the output tile or ex situ by a separate TRNG; a VAE decodes. "
                    "Writes images, grids, metrics.json (KID, Frechet distance, precision/recall in a locally "
                    "trained digit classifier's feature space: not Inception FID), the UMAP figure and "
                    "op_counts.json.")
    parser.add_argument("--method", choices=sorted(_METHODS), default="both", help="noise source (default: both)")
    parser.add_argument("--n", type=int, default=500, help="images per method (default 500)")
    parser.add_argument("--steps", type=int, default=100, help="reverse Euler-Maruyama steps (default 100)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--seed", type=int, default=0, help="root seed of every random stream (default 0)")
    parser.add_argument("--bits", type=int, default=16,
                        help="random bits per increment entry, in situ and ex situ alike (default 16)")
    parser.add_argument("--ablation", action="store_true", help="also run the drift-only (no-noise) ablation")
    parser.add_argument("--no-umap", action="store_true", help="skip the UMAP figure (saves ~20 s of numba compile)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if an acceptance check of this run fails (per-step variance within 10 %%, "
                             "in-situ vs ex-situ KID consistent with 0, the ablation worse on recall)")
    parser.add_argument("--allow-large", action="store_true",
                        help="run beyond the sane sizes (65536 images per method, 2e6 image steps = --n x --steps x "
                             "methods, 2^24 noise bits per read = max(--n, 131072 in situ) x --bits); refused without")
    parser.add_argument("--out", required=True, help="output directory")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cim_emu.cli import CommandFailed
    from cim_emu.cli._outputs import check_directory
    from cim_emu.cli._progress import stage_bars
    from cim_emu.experiments.generation import GenerationConfig, run_generation
    from diffusion.model import Method

    methods = tuple(Method(name) for name in _METHODS[args.method])
    if args.ablation:
        methods += (Method.NO_NOISE,)
    try:
        config = GenerationConfig(methods=methods, n_images=args.n, n_steps=args.steps, seed=args.seed,
                                  device=args.device, bits_per_sample=args.bits, umap=not args.no_umap)
    except ValueError as error:
        flag = next((flag for field, flag in _FLAGS.items() if field in str(error)), None)
        if flag is None:
            raise
        raise ValueError(f"{flag}: {error}") from None
    # Before any work: the size of the run, then the output path.
    if not args.allow_large:
        problems = config.size().beyond()
        if problems:
            raise ValueError(f"--n {args.n} --steps {args.steps} --bits {args.bits} ({len(methods)} method(s)): "
                             f"{'; '.join(problems)}; pass --allow-large if the machine can take it")
    check_directory(args.out, "--out")
    with stage_bars() as progress:
        result = run_generation(config, args.out, progress=progress, allow_large=args.allow_large)
    rows = [(name, metrics) for name, metrics in result.references.items()]
    rows += [(f"{name} vs real", method.metrics_vs_real) for name, method in result.methods.items()]
    rows += list(result.comparisons.items())
    print(f"{'comparison':32s} {'KID (mean +- std)':>20s} {'FD':>8s} {'prec':>6s} {'recall':>6s} {'H bits':>6s}")
    for name, metrics in rows:
        entropy = "" if metrics.label_entropy_bits is None else f"{metrics.label_entropy_bits:6.2f}"
        print(f"{name:32s} {metrics.kid_mean:9.4f} +- {metrics.kid_std:7.4f} {metrics.frechet_distance:8.2f} "
              f"{metrics.precision:6.3f} {metrics.recall:6.3f} {entropy:>6s}")
    for name, method in result.methods.items():
        variance = ("" if method.trajectory is None else
                    f", per-step variance ratio within {method.trajectory.max_relative_variance_error:.1%} of 1")
        print(f"{name}: {method.images_per_second:.0f} images/s (sampling {method.sampling_s:.2f} s, "
              f"decoding {method.decoding_s:.2f} s){variance}")
    for check, passed in result.checks.items():
        print(f"[{'pass' if passed else 'FAIL'}] {check}")
    print(f"wrote {result.out_dir}")
    if args.check and not all(result.checks.values()):
        raise CommandFailed("an acceptance check failed (see metrics.json)")
    return 0
