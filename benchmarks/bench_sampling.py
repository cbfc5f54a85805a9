"""P-bit Gibbs sampling speed (flips per second) against thrml (JAX on the CPU) on the same models, same run.

    python benchmarks/bench_sampling.py [--sweeps 200] [--rounds 5] [--chains 1 32] [--quick]

Models: a G-set-like sparse graph (800 nodes, 6 % density, +-1 couplings: the max-cut model) and a dense
bipartite 1024-spin model (512 + 512, every cross pair coupled: an RBM's layer structure, two colours), plus,
for cim-emu only, a fully connected 1024-spin model (1024 colours, i.e. sequential Gibbs). Both samplers run
coloured block Gibbs on one thread; a flip is one spin update. Each round times cim-emu ideal, cim-emu hardware
(fields on crossbar tiles, card P(V)) and thrml in turn; ratios are medians over rounds of the per-round
ratios. Before timing, marginals and correlations of the two ideal samplers are cross-checked on a 14-spin
model against exact enumeration (errors in standard errors of independent chains).

thrml is optional (``pip install -e ".[compare]"``); without it only cim-emu's figures print.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

# One thread for XLA too: set before jax is imported.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from cim_emu.crossbar.config import CrossbarConfig  # noqa: E402
from cim_emu.sampling import (  # noqa: E402
    GibbsSampler,
    HardwareMode,
    IdealMode,
    IsingModel,
    UpdateOrder,
    boltzmann_distribution,
    colour_blocks,
    moments,
)
from cim_emu.sampling.maxcut import random_gset_graph  # noqa: E402


def _models(quick: bool) -> dict[str, IsingModel]:
    rng = np.random.default_rng(0)
    sparse = random_gset_graph(800, density=0.06, signed=True, generator=rng).to_ising()
    half = 256 if quick else 512
    cross = rng.normal(0.0, 1.0 / np.sqrt(half), (half, half))
    couplings = np.zeros((2 * half, 2 * half))
    couplings[:half, half:] = cross
    couplings[half:, :half] = cross.T
    bipartite = IsingModel(torch.from_numpy(couplings), torch.from_numpy(rng.normal(0, 0.1, 2 * half)))
    models = {"sparse G-set-like 800": sparse, f"dense bipartite {2 * half}": bipartite}
    if not quick:
        models["dense all-to-all 1024 (sequential)"] = IsingModel.random(1024, generator=rng)
    return models


class ThrmlSampler:
    """One thrml program for a model: block Gibbs over the same colouring, jitted, vmapped over chains."""

    def __init__(self, model: IsingModel, beta: float, n_chains: int, n_sweeps: int):
        import jax
        import jax.numpy as jnp
        from thrml import Block, SamplingSchedule, SpinNode, sample_states
        from thrml.models import IsingEBM, IsingSamplingProgram, hinton_init

        nodes = [SpinNode() for _ in range(model.n_spins)]
        upper = torch.triu(model.J, 1)
        pairs = torch.nonzero(upper).tolist()
        edges = [(nodes[i], nodes[j]) for i, j in pairs]
        weights = jnp.asarray(np.array([float(upper[i, j]) for i, j in pairs], dtype=np.float32))
        ebm = IsingEBM(nodes, edges, jnp.asarray(model.h.numpy().astype(np.float32)), weights,
                       jnp.asarray(beta, dtype=jnp.float32))
        self.blocks = [Block([nodes[i] for i in block]) for block in colour_blocks(model)]
        program = IsingSamplingProgram(ebm, self.blocks, clamped_blocks=[])
        schedule = SamplingSchedule(n_warmup=0, n_samples=n_sweeps, steps_per_sample=1)
        keys = jax.random.split(jax.random.key(0), n_chains)
        self.order = [i for block in colour_blocks(model) for i in block]
        self.nodes = nodes

        def one_chain(key):
            init_key, run_key = jax.random.split(key)
            init = hinton_init(init_key, ebm, self.blocks, ())
            return sample_states(run_key, program, schedule, init, [], [Block(nodes)])

        self.run = jax.jit(jax.vmap(one_chain))
        self.keys = keys
        self.flips = n_chains * n_sweeps * model.n_spins

    def __call__(self):
        result = self.run(self.keys)
        result[0].block_until_ready()
        return result


def _cross_check(n_chains: int = 20000) -> None:
    """Both ideal samplers against exact enumeration on a 14-spin model: independent chains, 40 sweeps."""
    model = IsingModel.random(14, density=0.4, generator=np.random.default_rng(3))
    exact = moments(boltzmann_distribution(model, 1.0), 14)
    ours = GibbsSampler(model).run(1.0, n_sweeps=40, n_chains=n_chains, seed=1, correlations=False)
    spins = {"cim-emu": ours.final_spins.double()}
    try:
        sampler = ThrmlSampler(model, 1.0, n_chains, 40)
        samples = np.asarray(sampler()[0])[:, -1, :]     # (chains, nodes) booleans of the last sweep
        spins["thrml"] = torch.from_numpy(2.0 * samples - 1.0)
    except ImportError:
        pass
    error = torch.sqrt((1 - exact.mean_spin ** 2) / n_chains)
    for name, values in spins.items():
        mean = values.mean(0)
        correlation = values.T @ values / n_chains
        z = float(((mean - exact.mean_spin).abs() / error).max())
        corr_error = float((correlation - exact.pair_correlation).abs().max())
        print(f"cross-check {name:8s}: max |<m_i> - exact| = {z:.2f} standard errors, max |<m_i m_j> - exact| = "
              f"{corr_error:.4f} (1/sqrt(N) = {1 / np.sqrt(n_chains):.4f})")
    if len(spins) == 2:
        difference = float((spins["cim-emu"].mean(0) - spins["thrml"].mean(0)).abs().max())
        print(f"cross-check cim-emu vs thrml: max |d<m_i>| = {difference:.4f} "
              f"({difference / float(error.max()) / np.sqrt(2):.2f} standard errors of the difference)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sweeps", type=int, default=200, help="sweeps per timed run")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median of ratios)")
    parser.add_argument("--chains", type=int, nargs="+", default=[1, 32], help="chain counts to time")
    parser.add_argument("--beta", type=float, default=0.5)
    parser.add_argument("--quick", action="store_true", help="smaller models, fewer sweeps (a smoke run)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"torch threads {torch.get_num_threads()}")
    try:
        import jax
        import thrml

        print(f"thrml {thrml.__version__}, jax {jax.__version__} on {jax.devices()[0].platform}, one XLA thread")
        have_thrml = True
    except ImportError:
        print("thrml not installed (pip install -e '.[compare]'): cim-emu figures only")
        have_thrml = False
    sweeps = 20 if args.quick else args.sweeps
    _cross_check(4000 if args.quick else 20000)
    for name, model in _models(args.quick).items():
        sequential = "sequential" in name
        for chains in args.chains:
            run_sweeps = max(2, sweeps // 20) if sequential else sweeps
            ideal = GibbsSampler(model, mode=IdealMode(), order=UpdateOrder.BLOCK)
            hardware = GibbsSampler(model, mode=HardwareMode(crossbar=CrossbarConfig(weight_bits=4)),
                                    order=UpdateOrder.BLOCK)
            flips = chains * run_sweeps * model.n_spins
            hardware_sweeps = max(2, run_sweeps // 10)

            def run_ideal(s=ideal, c=chains, n=run_sweeps):
                s.run(args.beta, n_sweeps=n, n_chains=c, seed=0, correlations=False, allow_large=True)

            def run_hardware(s=hardware, c=chains, n=hardware_sweeps):
                s.run(args.beta, n_sweeps=n, n_chains=c, seed=0, correlations=False, allow_large=True)

            thrml_sampler = None
            if have_thrml and not sequential:
                thrml_sampler = ThrmlSampler(model, args.beta, chains, run_sweeps)
                thrml_sampler()          # compile (not timed)
            run_ideal()
            run_hardware()
            rates = {"ideal": [], "hardware": [], "thrml": []}
            for _ in range(args.rounds):
                start = time.perf_counter()
                run_ideal()
                rates["ideal"].append(flips / (time.perf_counter() - start))
                start = time.perf_counter()
                run_hardware()
                rates["hardware"].append(chains * hardware_sweeps * model.n_spins / (time.perf_counter() - start))
                if thrml_sampler is not None:
                    start = time.perf_counter()
                    thrml_sampler()
                    rates["thrml"].append(flips / (time.perf_counter() - start))
            line = (f"{name:36s} chains {chains:3d} ({ideal.n_blocks} colours): ideal "
                    f"{statistics.median(rates['ideal']):.3g} flips/s, hardware "
                    f"{statistics.median(rates['hardware']):.3g} flips/s")
            if rates["thrml"]:
                ratio = statistics.median(i / t for i, t in zip(rates["ideal"], rates["thrml"], strict=True))
                hw_ratio = statistics.median(h / t for h, t in zip(rates["hardware"], rates["thrml"], strict=True))
                line += (f", thrml {statistics.median(rates['thrml']):.3g} flips/s; ideal/thrml {ratio:.2f}x, "
                         f"hardware/thrml {hw_ratio:.2f}x")
            print(line, flush=True)


if __name__ == "__main__":
    main()
