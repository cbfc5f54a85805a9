"""``cim-emu sample``: Ising / Boltzmann sampling, max-cut annealing and a denoising RBM chain on p-bit crossbars.

Thin shell over :mod:`cim_emu.sampling`: parses, builds the configs and seeds, calls the library, prints and
writes. Subcommands: ``ising``, ``maxcut``, ``graph`` (write a G-set-like random graph), ``dtm`` and ``bias``
(the hardware non-idealities against exact enumeration). Outputs written with ``--out`` are staged in a
temporary folder beside it and moved into place only when the run succeeded.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import shutil
import tempfile

from cim_emu.cli._args import integer, number
from cim_emu.cli._outputs import Staging, check_directory

_HARDWARE_HELP = ("sample in the ideal mode (exact fields, exact tanh); default: hardware mode (fields on crossbar "
                  "tiles with read noise, ADC and variation; flips by the card's P(V))")




def _common(parser: argparse.ArgumentParser, *, ideal: bool = True, out_default: str | None = None) -> None:
    parser.add_argument("--seed", type=integer(minimum=0), default=0,
                        help="root seed of every random stream (default 0)")
    if ideal:
        parser.add_argument("--ideal", action="store_true", help=_HARDWARE_HELP)
    parser.add_argument("--card", metavar="FILE", help="device card JSON (default: the shipped card)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")
    parser.add_argument("--out", metavar="DIR", default=out_default,
                        help="folder for the JSON result and the figure" + (
                            f" (default {out_default})" if out_default else " (default: write nothing)"))
    parser.add_argument("--allow-large", action="store_true", help="run work beyond the size limits")
    parser.add_argument("--threads", type=integer(minimum=1), default=1,
                        help="torch threads (default 1: the updates are many small GEMMs, faster on one thread)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sample`` command and its subcommands."""
    parser = subparsers.add_parser("sample", help="Ising sampling, max-cut and a denoising RBM chain on p-bits",
                                   description="Ising / Boltzmann sampling, max-cut annealing and a denoising RBM "
                                               "chain on p-bit crossbars (docs/sampling.md).")
    commands = parser.add_subparsers(dest="sample_command", metavar="KIND", required=True)

    ising = commands.add_parser("ising", help="sample p(m) ~ exp(-beta E(m)) of a model file",
                                description="Block Gibbs sampling of MODEL.npz (arrays J (n x n), symmetric, zero "
                                            "diagonal, and h (n)); E(m) = -1/2 m^T J m - h^T m, m in {-1, +1}. "
                                            "Reports <m_i>, <m_i m_j>, flips per second and (hardware) the energy "
                                            "per flip in situ vs ex situ.")
    ising.add_argument("--model", required=True, metavar="MODEL.npz", help="the model: arrays J and h")
    ising.add_argument("--beta", type=number(minimum=0.0), default=1.0, help="inverse temperature >= 0 (default 1)")
    ising.add_argument("--sweeps", type=integer(minimum=2), default=1000, help="sweeps per chain (default 1000)")
    ising.add_argument("--chains", type=integer(minimum=1), default=16, help="independent chains (default 16)")
    ising.add_argument("--burn-in", type=integer(minimum=0), help="sweeps discarded (default: a tenth of --sweeps)")
    ising.add_argument("--sequential", action="store_true", help="one spin at a time instead of coloured blocks")
    _common(ising)
    ising.set_defaults(func=run_ising)

    maxcut = commands.add_parser("maxcut", help="anneal a max-cut on a weighted graph file",
                                 description="Annealing (beta linear 0.1 -> 3) of the max-cut Ising model of "
                                             "EDGES.txt (G-set format: a header 'n m', then m lines 'i j w', "
                                             "1-based), beside a greedy local search from random starts. Reports "
                                             "the best cut against the sweeps and the energy per flip.")
    maxcut.add_argument("--graph", required=True, metavar="EDGES.txt", help="the graph (G-set format)")
    maxcut.add_argument("--sweeps", type=integer(minimum=1), default=300, help="annealing sweeps (default 300)")
    maxcut.add_argument("--chains", type=integer(minimum=1), default=4, help="independent annealing runs (default 4)")
    maxcut.add_argument("--restarts", type=integer(minimum=1), default=20,
                        help="random starts of the greedy baseline (default 20)")
    maxcut.add_argument("--beta-max", type=number(minimum=0.0, strict=True), default=3.0,
                        help="final beta per unit edge weight (default 3)")
    _common(maxcut)
    maxcut.set_defaults(func=run_maxcut)

    graph = commands.add_parser("graph", help="write a G-set-like random graph (rudy's G1-G10 style)",
                                description="Write an Erdos-Renyi graph in the G-set format: 800 nodes and 6 %% "
                                            "density by default, like G1-G5 (unit weights) or G6-G10 (--signed).")
    graph.add_argument("--out", required=True, metavar="EDGES.txt", help="the file to write")
    graph.add_argument("--nodes", type=integer(minimum=2), default=800, help="nodes (default 800)")
    graph.add_argument("--density", type=number(minimum=0.0, strict=True), default=0.06,
                       help="edge density (default 0.06)")
    graph.add_argument("--signed", action="store_true", help="+-1 weights instead of unit weights")
    graph.add_argument("--seed", type=integer(minimum=0), default=0, help="seed (default 0)")
    graph.add_argument("--allow-large", action="store_true", help="write graphs beyond 10000 nodes")
    graph.set_defaults(func=run_graph)

    dtm = commands.add_parser("dtm", help="a denoising chain of conditional RBMs on binarized digits",
                              description="Train (contrastive divergence, in software) a chain of conditional "
                                          "RBMs that denoises binarized 8x8 digits, sample it on p-bit crossbars "
                                          "(ideal and hardware), score the images with the metrics of cim-emu "
                                          "generate (KID, Frechet distance, precision/recall in the digit "
                                          "classifier's features) beside the latent SDE's, and write samples.")
    dtm.add_argument("--images", type=integer(minimum=8), default=500, help="images per sampler (default 500)")
    dtm.add_argument("--epochs", type=integer(minimum=1), default=30, help="training epochs per step (default 30)")
    dtm.add_argument("--sweeps", type=integer(minimum=1), default=40, help="Gibbs sweeps per reverse step (default 40)")
    dtm.add_argument("--no-sde", action="store_true", help="skip the latent SDE run beside it")
    _common(dtm, ideal=False, out_default="dtm_out")
    dtm.set_defaults(func=run_dtm)

    bias = commands.add_parser("bias", help="bias of each hardware non-ideality against exact enumeration",
                               description="Sample a random model of --spins (<= 16) spins with each non-ideality "
                                           "alone (P(V) shape, p-bit threshold variation, 4-bit couplings, read "
                                           "noise, ADC, conductance variation) and all together, from independent "
                                           "chains, and compare with exact enumeration.")
    bias.add_argument("--spins", type=integer(minimum=2), default=10, help="model size, <= 16 (default 10)")
    bias.add_argument("--density", type=number(minimum=0.0, strict=True), default=0.5,
                      help="coupling density (default 0.5)")
    bias.add_argument("--beta", type=number(minimum=0.0), default=1.0, help="inverse temperature (default 1)")
    bias.add_argument("--chains", type=integer(minimum=100), default=20000, help="independent samples (default 20000)")
    _common(bias, ideal=False)
    bias.set_defaults(func=run_bias)


@contextlib.contextmanager
def _staged(out: str | None):
    """Yield a staging folder (or None without ``--out``); its files move into ``out`` only on success."""
    if out is None:
        yield None
        return
    check_directory(out, "--out")
    with Staging(out) as staging:
        staging.path("out").mkdir()
        yield staging.path("out")
        staging.publish_directory("out", out)



def _write_json(path: pathlib.Path, data) -> None:
    from devices.io import write_json  # loaded on use: --help stays free of numpy

    write_json(path, data)


def _set_threads(args) -> None:
    import torch

    torch.set_num_threads(args.threads)


def _card(args):
    from devices import default_card, load_card

    return load_card(args.card) if args.card else default_card()


def _mode(args, crossbar=None):
    from cim_emu.sampling import HardwareMode, IdealMode

    if getattr(args, "ideal", False):
        return IdealMode()
    return HardwareMode(card=_card(args)) if crossbar is None else HardwareMode(card=_card(args), crossbar=crossbar)


def _energy(counts: dict):
    from cim_emu.sampling.accounting import flip_costs

    return flip_costs(counts) if counts.get("pbit_pulses", 0) > 0 else None


def _energy_lines(costs) -> list[str]:
    if costs is None:
        return []
    return [f"energy per flip: in situ {costs.in_situ.pJ_per_flip:.4g} pJ ({costs.in_situ.flips_per_ns:.4g} "
            f"flips/ns), ex situ {costs.ex_situ.pJ_per_flip:.4g} pJ ({costs.ex_situ.flips_per_ns:.4g} flips/ns): "
            f"{costs.energy_ratio:.3g}x energy, {costs.throughput_ratio:.3g}x throughput in situ"]


def run_ising(args: argparse.Namespace) -> int:
    """``sample ising``."""
    _set_threads(args)
    from cim_emu.cli._format import print_json
    from cim_emu.cli._progress import stage_bars
    from cim_emu.sampling import GibbsSampler, UpdateOrder, load_model_npz
    from cim_emu.sampling.model import MAX_MODEL_SPINS
    from cim_emu.sampling.plots import plot_ising

    burn_in = args.sweeps // 10 if args.burn_in is None else args.burn_in
    if burn_in >= args.sweeps:
        raise ValueError(f"--burn-in {burn_in}: must be below --sweeps {args.sweeps}")
    with _staged(args.out) as staging:
        model = load_model_npz(args.model, max_spins=10**9 if args.allow_large else MAX_MODEL_SPINS)
        order = UpdateOrder.SEQUENTIAL if args.sequential else UpdateOrder.BLOCK
        from cim_emu.rng import SeedStream

        stream = SeedStream(args.seed)
        sampler = GibbsSampler(model, mode=_mode(args), order=order, seed=stream.child("hardware"))
        with stage_bars(unit="sweep", disable=None) as progress:
            result = sampler.run(args.beta, n_sweeps=args.sweeps, n_chains=args.chains, burn_in=burn_in,
                                 seed=stream.child("run"), allow_large=args.allow_large, progress=progress)
        costs = _energy(result.op_counts)
        data = {
            "n_spins": model.n_spins,
            "n_samples": result.n_samples,
            "mean_spin": result.mean_spin.tolist(),
            "pair_correlation": result.pair_correlation.tolist(),
            "flips_per_s": result.flips_per_s,
            "mode": "ideal" if args.ideal else "hardware",
            "order": order.value,
            "beta": args.beta,
            "sweeps": args.sweeps,
            "burn_in": burn_in,
            "chains": args.chains,
            "n_blocks": result.n_blocks,
            "seed": args.seed,
            "energy": None if costs is None else costs.to_dict(),
        }
        if staging is not None:
            _write_json(staging / "ising.json", data)
            figure = plot_ising(result.mean_spin.numpy(), result.pair_correlation.numpy(),
                                title=f"{os.path.basename(args.model)}, beta {args.beta:g}, {data['mode']}")
            figure.savefig(staging / "ising.png", dpi=120)
    if args.json:
        print_json(data)
    else:
        print(f"{model.n_spins} spins, {result.n_blocks} blocks per sweep, {result.n_samples} samples "
              f"({data['mode']} mode): {result.flips_per_s:.4g} flips/s emulated")
        print(f"mean |<m_i>| {float(result.mean_spin.abs().mean()):.4f}, energy per spin "
              f"{float(model.energy(result.final_spins.double()).mean()) / model.n_spins:.4f}")
        for line in _energy_lines(costs):
            print(line)
        if args.out:
            print(f"wrote {os.path.join(args.out, 'ising.json')} and ising.png")
    return 0


def run_maxcut(args: argparse.Namespace) -> int:
    """``sample maxcut``."""
    _set_threads(args)
    import numpy as np

    from cim_emu.cli._format import print_json
    from cim_emu.cli._progress import stage_bars
    from cim_emu.crossbar.config import CrossbarConfig
    from cim_emu.rng import SeedStream
    from cim_emu.sampling import LinearBeta
    from cim_emu.sampling.maxcut import MAX_GRAPH_NODES, anneal_maxcut, greedy_local_search, read_graph
    from cim_emu.sampling.plots import plot_maxcut

    with _staged(args.out) as staging:
        graph = read_graph(args.graph, max_nodes=10**9 if args.allow_large else MAX_GRAPH_NODES)
        stream = SeedStream(args.seed)
        # +-1 edge weights are exact ternary cells; an ADC step of half a cell keeps integer fields exact.
        integer_weights = bool(np.all(np.abs(graph.weights) == 1))
        crossbar = CrossbarConfig(weight_bits=1 if integer_weights else 4, adc_range_cells=63.5)
        with stage_bars(unit="sweep", disable=None) as progress:
            result = anneal_maxcut(graph, n_sweeps=args.sweeps, n_chains=args.chains, seed=stream.child("anneal"),
                                   schedule=LinearBeta(0.1, args.beta_max), mode=_mode(args, crossbar),
                                   progress=progress)
        greedy_cut, _ = greedy_local_search(graph, n_restarts=args.restarts,
                                            generator=stream.child("greedy").numpy_generator())
        costs = _energy(result.op_counts)
        data = {
            "n_nodes": graph.n_nodes,
            "n_edges": int(len(graph.weights)),
            "best_cut": result.best_cut,
            "greedy_cut": greedy_cut,
            "best_cut_per_sweep": result.best_cut_per_sweep.tolist(),
            "sweeps": args.sweeps,
            "chains": args.chains,
            "greedy_restarts": args.restarts,
            "n_colours": result.n_colours,
            "flips_per_s": result.n_flips / result.wall_s if result.wall_s > 0 else None,
            "mode": "ideal" if args.ideal else "hardware",
            "seed": args.seed,
            "energy": None if costs is None else costs.to_dict(),
        }
        if staging is not None:
            _write_json(staging / "maxcut.json", data)
            figure = plot_maxcut(result.best_cut_per_sweep, greedy_cut, label=f"p-bit annealing ({data['mode']})")
            figure.savefig(staging / "maxcut.png", dpi=120)
    if args.json:
        print_json(data)
    else:
        print(f"{graph.n_nodes} nodes, {len(graph.weights)} edges, {result.n_colours} colours: best cut "
              f"{result.best_cut:g} after {args.sweeps} sweeps x {args.chains} chains ({data['mode']}); greedy local "
              f"search {greedy_cut:g} (best of {args.restarts})")
        for line in _energy_lines(costs):
            print(line)
        if args.out:
            print(f"wrote {os.path.join(args.out, 'maxcut.json')} and maxcut.png")
    return 0


def run_graph(args: argparse.Namespace) -> int:
    """``sample graph``."""
    from cim_emu.rng import SeedStream
    from cim_emu.sampling.maxcut import MAX_GRAPH_NODES, random_gset_graph, write_graph

    if args.nodes > MAX_GRAPH_NODES and not args.allow_large:
        raise ValueError(f"--nodes {args.nodes}: above {MAX_GRAPH_NODES}; pass --allow-large")
    if args.density > 1:
        raise ValueError(f"--density {args.density}: must be <= 1")
    if os.path.isdir(args.out):
        raise ValueError(f"--out {args.out}: is a folder; give a file name")
    graph = random_gset_graph(args.nodes, density=args.density, signed=args.signed,
                              generator=SeedStream(args.seed).child("graph").numpy_generator())
    write_graph(args.out, graph)
    print(f"wrote {args.out}: {graph.n_nodes} nodes, {len(graph.weights)} edges")
    return 0


def run_bias(args: argparse.Namespace) -> int:
    """``sample bias``."""
    _set_threads(args)
    from cim_emu.cli._format import print_json, table
    from cim_emu.rng import SeedStream
    from cim_emu.sampling import IsingModel, nonideality_bias
    from cim_emu.sampling.pbit_law import law_deviation
    from cim_emu.sampling.plots import plot_bias

    if args.spins > 16:
        raise ValueError(f"--spins {args.spins}: exact enumeration is limited to 16 spins here")
    if args.density > 1:
        raise ValueError(f"--density {args.density}: must be <= 1")
    with _staged(args.out) as staging:
        stream = SeedStream(args.seed)
        model = IsingModel.random(args.spins, density=args.density, generator=stream.child("model").numpy_generator())
        rows = nonideality_bias(model, args.beta, seed=stream.child("bias"), n_chains=args.chains)
        deviation = law_deviation(_card(args))
        data = {"n_spins": args.spins, "beta": args.beta, "n_samples": args.chains,
                "law_deviation": deviation.to_dict(), "rows": [row.to_dict() for row in rows]}
        if staging is not None:
            _write_json(staging / "bias.json", data)
            plot_bias(rows, title=f"{args.spins} spins, beta {args.beta:g}, {args.chains} independent samples"
                      ).savefig(staging / "bias.png", dpi=120)
    if args.json:
        print_json(data)
    else:
        print(table([[row.name, f"{row.max_mean_error:.4f}", f"{row.max_correlation_error:.4f}",
                      f"{row.kl_nats:.5f}"] for row in rows],
                    ["configuration", "max |d<m>|", "max |d<mm>|", "KL (nats)"]))
        print(f"P(V) vs tanh: max |dP| {deviation.max_abs_difference:.4f} at beta I = "
              f"{deviation.argmax_beta_field:.2f}; floor {deviation.floor_probability:.2g}, ceiling "
              f"{deviation.ceiling_probability:.6f}")
    return 0


def run_dtm(args: argparse.Namespace) -> int:
    """``sample dtm``."""
    _set_threads(args)
    import numpy as np

    from cim_emu.cli._format import print_json
    from cim_emu.cli._progress import stage_bars
    from cim_emu.crossbar.config import CrossbarConfig
    from cim_emu.rng import SeedStream
    from cim_emu.sampling import HardwareMode, IdealMode
    from cim_emu.sampling.dtm import DTMConfig, binarize_digits, sample_chain, train_chain
    from cim_emu.sampling.plots import plot_digit_grid
    from diffusion import load_digits_split
    from diffusion.metrics import compare_features
    from diffusion.pretrained import load_classifier

    config = DTMConfig(n_epochs=args.epochs, n_sweeps=args.sweeps)
    stream = SeedStream(args.seed)
    with _staged(args.out) as staging:
        card = _card(args)
        split = load_digits_split()
        classifier = load_classifier()
        reference = classifier.features(split.test_images)
        metrics_generator = stream.child("metrics").numpy_generator()

        def score(images):
            images = images.reshape(-1, 1, 8, 8).to(torch_float)
            return compare_features(classifier.features(images), reference, generator=metrics_generator,
                                    candidate_labels=classifier.predict(images)).to_dict()

        import torch

        torch_float = torch.float32
        modes = {"dtm ideal": IdealMode(),
                 "dtm hardware": HardwareMode(card=card, crossbar=CrossbarConfig(weight_bits=6, adc_range_cells=32.0))}
        with stage_bars(unit="epoch", disable=None) as progress:
            chain = train_chain(binarize_digits(split.train_images, config.threshold), config,
                                seed=stream.child("dtm"), progress=progress)
            samples = {name: sample_chain(chain, args.images, seed=stream.child("sampling"), mode=mode,
                                          progress=progress) for name, mode in modes.items()}
        real = split.train_images[:args.images]
        metrics = {"binarized real vs real": score((binarize_digits(real, config.threshold) + 1) / 2)}
        metrics.update({f"{name} vs real": score(result.images) for name, result in samples.items()})
        sde = None
        if not args.no_sde:
            from diffusion import GenerationConfig, Method, run_generation

            sde_config = GenerationConfig(methods=(Method.IN_SITU,), n_images=args.images, seed=args.seed,
                                          umap=False)
            sde_dir = (staging if staging is not None else pathlib.Path(tempfile.mkdtemp())) / "sde"
            try:
                sde = run_generation(sde_config, sde_dir)
            finally:
                if staging is None:
                    shutil.rmtree(sde_dir.parent, ignore_errors=True)
            for name, method in sde.methods.items():
                metrics[f"latent SDE {name} vs real"] = method.metrics_vs_real.to_dict()
        energy = {name: (None if _energy(result.op_counts) is None else _energy(result.op_counts).to_dict())
                  for name, result in samples.items()}
        data = {
            "config": {"flip_probabilities": list(config.flip_probabilities), "n_hidden": config.n_hidden,
                       "n_epochs": config.n_epochs, "cd_steps": config.cd_steps, "n_sweeps": config.n_sweeps,
                       "n_images": args.images, "seed": args.seed},
            "training_s": chain.training_s,
            "metrics": metrics,
            "flips_per_s": {name: result.n_flips / result.wall_s for name, result in samples.items()},
            "energy": energy,
        }
        if staging is not None:
            _write_json(staging / "dtm.json", data)
            grids = {"real (binarized)": ((binarize_digits(real[:10], config.threshold) + 1) / 2).numpy()}
            grids.update({name: result.images[:10].numpy() for name, result in samples.items()})
            plot_digit_grid(grids).savefig(staging / "dtm_samples.png", dpi=120)
            first = samples["dtm hardware"].trajectory
            trajectory = {f"t = {len(first) - 1 - k}": first[k].numpy() for k in range(len(first))}
            plot_digit_grid(trajectory).savefig(staging / "dtm_trajectory.png", dpi=120)
            np.save(staging / "dtm_hardware_images.npy", samples["dtm hardware"].images.numpy())
    if args.json:
        print_json(data)
    else:
        print(f"trained {config.n_steps} conditional RBMs in {chain.training_s:.1f} s")
        print(f"{'comparison':34s} {'KID':>8s} {'FD':>8s} {'prec':>6s} {'recall':>6s}")
        for name, values in metrics.items():
            print(f"{name:34s} {values['kid_mean']:8.4f} {values['frechet_distance']:8.2f} "
                  f"{values['precision']:6.3f} {values['recall']:6.3f}")
        for name, costs in energy.items():
            if costs is not None:
                print(f"{name}: {costs['in_situ']['pJ_per_flip']:.4g} pJ/flip in situ, "
                      f"{costs['ex_situ']['pJ_per_flip']:.4g} pJ/flip ex situ")
        if args.out:
            print(f"wrote {args.out}")
    return 0
