"""Gibbs sampling of an Ising model with p-bits: ideal (exact tanh) or on crossbar tiles (hardware).

One sweep updates every spin once, block by block (:mod:`cim_emu.sampling.colouring`): for each block the
fields are computed (exactly, or on the block's tile with read noise and ADC), each spin's probability of
+1 follows (sigmoid(2 beta I), or the card's P(V) through :class:`~cim_emu.sampling.pbit_law.PBitArray`) and
one uniform draw per spin decides. ``UpdateOrder.SEQUENTIAL`` makes every spin its own block (systematic
scan); ``UpdateOrder.BLOCK`` updates the independent sets of the colouring in parallel. Both are exact
Gibbs samplers in ideal mode. Many independent chains run side by side (one GEMM row each).

Randomness: one root :class:`~cim_emu.rng.SeedStream`; named children for the initial state
("initial"), the tiles' programming variation ("programming"), the p-bit thresholds ("pbit_thresholds"),
the update draws ("updates") and the read noise ("read_noise"), so changing one never shifts another.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Callable

import numpy as np
import torch

import devices
from cim_emu.crossbar.config import CrossbarConfig
from cim_emu.crossbar.counters import record, track_ops
from cim_emu.rng import SeedStream, as_seed_stream
from cim_emu.sampling.colouring import check_blocks, colour_blocks, sequential_blocks
from cim_emu.sampling.fields import IdealFields, TileFields
from cim_emu.sampling.kernels import BATCHED_CHAINS
from cim_emu.sampling.model import IsingModel
from cim_emu.sampling.pbit_law import PBitArray, PBitUpdateLaw
from cim_emu.sampling.schedules import as_schedule

__all__ = ["UpdateOrder", "IdealMode", "HardwareMode", "SampleResult", "GibbsSampler", "sample_ising",
           "MAX_WORK"]

#: Largest sweeps x chains x spins^2 multiply-adds run without ``allow_large=True`` (~1 min on one core).
MAX_WORK = 2 * 10**11


class UpdateOrder(enum.Enum):
    """Which spins are updated together."""

    SEQUENTIAL = "sequential"
    BLOCK = "block"


@dataclasses.dataclass(frozen=True, kw_only=True)
class IdealMode:
    """Exact fields and the exact Gibbs conditional (1 + tanh(beta I)) / 2: no hardware."""


def _default_sampling_crossbar() -> CrossbarConfig:
    # 4-bit couplings (bit-sliced pairs), 8-bit DAC (+-1 spins are exact codes) and ADC, read noise, variation.
    return CrossbarConfig(weight_bits=4, adc_range_cells=32.0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class HardwareMode:
    """Fields on crossbar tiles, flips by the card's switching law.

    Attributes:
        crossbar: the tiles' hardware (quantisation, DAC, ADC, read noise, variation).
        law: the field-to-pulse map and the p-bits' variation and trimming.
        card: the device card (None: the shipped default).
        calibrate: fit each tile's digital column gain and offset after programming (``CrossbarTile.calibrate``).
    """

    crossbar: CrossbarConfig = dataclasses.field(default_factory=_default_sampling_crossbar)
    law: PBitUpdateLaw = dataclasses.field(default_factory=PBitUpdateLaw)
    card: devices.DeviceCard | None = None
    calibrate: bool = True

    def __post_init__(self):
        if not isinstance(self.calibrate, bool):
            raise ValueError(f"HardwareMode.calibrate: must be True or False, got {self.calibrate!r}")
        if not isinstance(self.crossbar, CrossbarConfig):
            raise ValueError(f"HardwareMode.crossbar: expected a CrossbarConfig, got {type(self.crossbar).__name__}")
        if not isinstance(self.law, PBitUpdateLaw):
            raise ValueError(f"HardwareMode.law: expected a PBitUpdateLaw, got {type(self.law).__name__}")

    def resolved_card(self) -> devices.DeviceCard:
        return devices.default_card() if self.card is None else self.card


@dataclasses.dataclass(frozen=True)
class SampleResult:
    """What a sampling run produced.

    Attributes:
        mean_spin: (n,) float64 <m_i> over kept sweeps and chains.
        pair_correlation: (n, n) float64 <m_i m_j> (ones on the diagonal); None if not accumulated.
        samples: (n_kept, n_chains, n) int8 kept states, or None if not kept.
        final_spins: (n_chains, n) int8 state after the last sweep.
        energies: (n_sweeps, n_chains) float64 energy after each sweep, or None.
        best_energy: (n_chains,) lowest energy seen per chain (None without energies).
        best_spins: (n_chains, n) int8 state of ``best_energy`` (None without energies).
        betas: (n_sweeps,) the schedule.
        n_samples: kept states (kept sweeps x chains).
        n_flips: spin updates made (p-bit pulses in hardware).
        wall_s: emulation wall time of the sweeps (s), programming excluded.
        n_blocks: update blocks per sweep.
        op_counts: hardware events of the sweeps (``cim_emu.track_ops`` fields).
    """

    mean_spin: torch.Tensor
    pair_correlation: torch.Tensor | None
    samples: torch.Tensor | None
    final_spins: torch.Tensor
    energies: torch.Tensor | None
    best_energy: torch.Tensor | None
    best_spins: torch.Tensor | None
    betas: torch.Tensor
    n_samples: int
    n_flips: int
    wall_s: float
    n_blocks: int
    op_counts: dict

    @property
    def flips_per_s(self) -> float:
        """Emulated spin updates per second of wall time."""
        return self.n_flips / self.wall_s if self.wall_s > 0 else float("inf")


class GibbsSampler:
    """A model prepared for sampling: blocks ordered, fields backend built, p-bits drawn.

    Args:
        model: the Ising model.
        mode: :class:`IdealMode` (default) or :class:`HardwareMode`.
        order: sequential or coloured-block updates.
        seed: root seed or :class:`~cim_emu.rng.SeedStream` of the hardware draws (programming, thresholds).
        blocks: explicit update blocks (independent sets) in sweep order; overrides ``order``.
        clamped: spins never updated (conditioning inputs: their values come from ``initial`` and drive the
            others' fields through J, e.g. a conditional RBM's x_t); they need explicit ``blocks``.
    """

    def __init__(self, model: IsingModel, *, mode: IdealMode | HardwareMode | None = None,
                 order: UpdateOrder = UpdateOrder.BLOCK, seed: int | SeedStream = 0,
                 blocks: list | None = None, clamped: list | np.ndarray | None = None, compiled: bool = True):
        if not isinstance(model, IsingModel):
            raise ValueError(f"model: expected an IsingModel, got {type(model).__name__}")
        mode = IdealMode() if mode is None else mode
        if not isinstance(mode, (IdealMode, HardwareMode)):
            raise ValueError(f"mode: expected IdealMode() or HardwareMode(...), got {mode!r}")
        if not isinstance(order, UpdateOrder):
            raise ValueError(f"order: expected an UpdateOrder, got {order!r}")
        stream = as_seed_stream(seed)
        clamped = np.zeros(0, dtype=np.int64) if clamped is None else np.asarray(clamped, dtype=np.int64)
        if blocks is None:
            if clamped.size:
                raise ValueError("clamped: give the update blocks of the free spins explicitly (blocks=...)")
            blocks = colour_blocks(model) if order is UpdateOrder.BLOCK else sequential_blocks(model.n_spins)
        blocks = [np.asarray(block, dtype=np.int64) for block in blocks]
        check_blocks(model, blocks, clamped)
        self.model, self.mode, self.blocks, self.clamped = model, mode, blocks, clamped
        # Permute so that every block is a contiguous range: slices instead of gathers in the hot loop; the
        # clamped spins go last and are never written.
        self.permutation = torch.from_numpy(np.concatenate(blocks + [clamped]))
        self.inverse_permutation = torch.argsort(self.permutation)
        sizes = [len(block) for block in blocks]
        stops = np.cumsum(sizes).tolist()
        self.ranges = list(zip([0] + stops[:-1], stops, strict=True))
        couplings = model.J[self.permutation][:, self.permutation]
        fields = model.h[self.permutation]
        self.kernel = None
        if isinstance(mode, IdealMode):
            self.fields = IdealFields(couplings, fields, self.ranges)
            self.pbits = None
            if compiled:
                from cim_emu.sampling.kernels import CSRCouplings

                self.kernel = (CSRCouplings(couplings), fields.to(torch.float64).numpy().copy())
        else:
            card = mode.resolved_card()
            self.fields = TileFields(couplings, fields, self.ranges, config=mode.crossbar, card=card,
                                     stream=stream.child("programming"), calibrate=mode.calibrate)
            generator = stream.child("pbit_thresholds").torch_generator() if mode.law.device_variation else None
            self.pbits = PBitArray.draw(mode.law, card, model.n_spins, generator=generator)

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def sweep(self, spins: torch.Tensor, beta: float, *, update_generator: torch.Generator,
              noise_generator: torch.Generator | None) -> None:
        """One sweep in place on permuted spins (chains, n) of the fields' dtype."""
        n_chains = spins.shape[0]
        for block, (start, stop) in enumerate(self.ranges):
            local = self.fields(block, spins, noise_generator)
            if self.pbits is None:
                up = torch.sigmoid(local.mul_(2.0 * beta))
            else:
                up = self.pbits.up_probability(slice(start, stop), local, beta)
                size = n_chains * (stop - start)
                # Reset, then one write pulse through the write-voltage DAC, per p-bit.
                record(pbit_pulses=size, pbit_resets=size, dac_conversions=size)
            draws = torch.rand(up.shape, generator=update_generator, dtype=up.dtype)
            spins[:, start:stop] = torch.where(draws < up, 1.0, -1.0).to(spins.dtype)

    def _kernel_sweeps(self, spins: torch.Tensor, betas: torch.Tensor, generator: torch.Generator,
                       n_free: int, counted: np.ndarray, sums: torch.Tensor) -> None:
        """Compiled ideal sweeps in place on float64 permuted spins (chains, n); counted states summed."""
        from cim_emu.sampling.kernels import gibbs_sweeps

        couplings, fields = self.kernel
        # float32 uniforms: probabilities resolved to 2^-24, far below any sampling error; half the draw cost.
        uniforms = torch.rand((len(betas), spins.shape[0], n_free), generator=generator, dtype=torch.float32)
        gibbs_sweeps(couplings, fields, spins.numpy(), uniforms.numpy(), betas.numpy(), n_free, counted,
                     sums.numpy())

    def run(self, beta_or_schedule, *, n_sweeps: int, seed: int | SeedStream, n_chains: int = 1,
            burn_in: int = 0, thin: int = 1, initial: torch.Tensor | None = None, keep_samples: bool = False,
            correlations: bool = True, energies: bool = False, allow_large: bool = False,
            progress: Callable[[str, int, int], None] | None = None) -> SampleResult:
        """Run ``n_sweeps`` sweeps of ``n_chains`` independent chains.

        Args:
            beta_or_schedule: a beta (constant) or a schedule (:mod:`cim_emu.sampling.schedules`).
            n_sweeps: sweeps per chain (>= 1).
            seed: root seed or stream of the run's draws (initial state, updates, read noise).
            n_chains: independent chains run side by side.
            burn_in: first sweeps not counted in the moments or samples.
            thin: count every ``thin``-th sweep after burn-in.
            initial: (n_chains, n) starting spins in {-1, +1}; None draws them uniformly.
            keep_samples: keep every counted state (int8).
            correlations: accumulate <m_i m_j> (one (n, n) GEMM per counted sweep).
            energies: record every chain's energy after each sweep and its best state.
            allow_large: run beyond ``MAX_WORK`` multiply-adds.
            progress: ``progress(stage, done, total)`` callback (the CLI draws a bar).
        """
        n = self.model.n_spins
        for name, value, minimum in (("n_sweeps", n_sweeps, 1), ("n_chains", n_chains, 1), ("burn_in", burn_in, 0),
                                     ("thin", thin, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name}: must be an integer >= {minimum}, got {value!r}")
        if burn_in >= n_sweeps:
            raise ValueError(f"burn_in ({burn_in}) must be below n_sweeps ({n_sweeps}): nothing would be counted")
        # n + 64: a sweep also costs per-update overhead, so tiny models are not unbounded either.
        work = n_sweeps * n_chains * n * (n + 64)
        if work > MAX_WORK and not allow_large:
            raise ValueError(f"{n_sweeps} sweeps x {n_chains} chains x {n} spins = {work:.3g} multiply-adds "
                             f"(with overhead) exceeds {MAX_WORK:.0e}; pass allow_large=True (CLI: --allow-large) "
                             "to run it")
        betas = as_schedule(beta_or_schedule).betas(n_sweeps)
        stream = as_seed_stream(seed)
        dtype = self.fields.dtype
        if initial is None:
            if self.clamped.size:
                raise ValueError("initial: a sampler with clamped spins needs initial states holding their values")
            generator = stream.child("initial").torch_generator()
            spins = torch.randint(0, 2, (n_chains, n), generator=generator).mul_(2).sub_(1).to(dtype)
        else:
            initial = torch.as_tensor(initial)
            if tuple(initial.shape) != (n_chains, n) or not bool(((initial == 1) | (initial == -1)).all()):
                raise ValueError(f"initial: expected ({n_chains}, {n}) spins in {{-1, +1}}, got shape "
                                 f"{tuple(initial.shape)}")
            spins = initial.to(dtype)[:, self.permutation].clone()
        # Mostly-full couplings, many chains and large blocks: the torch GEMM per block beats the kernels (~2x at
        # 32-128 chains on a dense bipartite 1024-spin model); otherwise (sparse, few chains, or small blocks whose
        # per-call overhead dominates) the compiled kernels win.
        gemm_wins = (self.kernel is not None and self.kernel[0].dense is not None and n_chains >= BATCHED_CHAINS
                     and n >= 32 * self.n_blocks)
        use_kernel = self.kernel is not None and not gemm_wins
        if use_kernel:
            spins = spins.to(torch.float64)
        update_generator = stream.child("updates").torch_generator()
        noise_generator = stream.child("read_noise").torch_generator()
        counted = [sweep for sweep in range(burn_in, n_sweeps) if (sweep - burn_in) % thin == 0]
        counted_set = set(counted)
        sum_spins = torch.zeros(n, dtype=torch.float64)
        sum_pairs = torch.zeros((n, n), dtype=torch.float64) if correlations else None
        kept = [] if keep_samples else None
        energy_trace = torch.empty((n_sweeps, n_chains), dtype=torch.float64) if energies else None
        best_energy = torch.full((n_chains,), float("inf"), dtype=torch.float64) if energies else None
        best_spins = spins.to(torch.int8).clone() if energies else None
        permuted_model = None
        if energies:
            permuted_model = (self.model.J[self.permutation][:, self.permutation].to(spins.dtype),
                              self.model.h[self.permutation].to(spins.dtype))
        n_free = n - int(self.clamped.size)
        sweep = 0
        start = time.perf_counter()
        with track_ops() as counts:
            while sweep < n_sweeps:
                if not use_kernel:
                    self.sweep(spins, float(betas[sweep]), update_generator=update_generator,
                               noise_generator=noise_generator)
                else:
                    # Sweeps that need nothing but the mean run in one kernel call (up to ~1M draws at a time);
                    # the kernel adds their states to the running sum itself.
                    per_sweep = energies or correlations or keep_samples
                    stop = sweep + 1
                    limit = min(n_sweeps, sweep + max(1, (1 << 20) // (n_chains * max(n_free, 1))))
                    while stop < limit and not (per_sweep and (stop - 1) in counted_set):
                        stop += 1
                    flags = np.array([s in counted_set for s in range(sweep, stop)])
                    self._kernel_sweeps(spins, betas[sweep:stop], update_generator, n_free, flags, sum_spins)
                    sweep = stop - 1
                if sweep in counted_set:
                    if not use_kernel:
                        sum_spins += spins.sum(dim=0, dtype=torch.float64)
                    if correlations:
                        sum_pairs += (spins.T @ spins).to(torch.float64)
                    if keep_samples:
                        kept.append(spins.to(torch.int8))
                if energies:
                    couplings, fields = permuted_model
                    energy = (-0.5 * ((spins @ couplings) * spins).sum(dim=1) - spins @ fields).to(torch.float64)
                    energy_trace[sweep] = energy
                    better = energy < best_energy
                    best_energy = torch.where(better, energy, best_energy)
                    best_spins[better] = spins[better].to(torch.int8)
                if progress is not None:
                    progress("sweeps", sweep + 1, n_sweeps)
                sweep += 1
        wall = time.perf_counter() - start
        n_counted = len(counted) * n_chains
        order = self.inverse_permutation
        mean = (sum_spins / n_counted)[order]
        pairs = None if sum_pairs is None else (sum_pairs / n_counted)[order][:, order]
        return SampleResult(
            mean_spin=mean,
            pair_correlation=pairs,
            samples=None if kept is None else torch.stack(kept)[:, :, order],
            final_spins=spins.to(torch.int8)[:, order],
            energies=energy_trace,
            best_energy=best_energy,
            best_spins=None if best_spins is None else best_spins[:, order],
            betas=betas,
            n_samples=n_counted,
            n_flips=n_sweeps * n_chains * (n - int(self.clamped.size)),
            wall_s=wall,
            n_blocks=self.n_blocks,
            op_counts=counts.to_dict(),
        )


def sample_ising(model: IsingModel, beta_or_schedule, *, n_sweeps: int, seed: int | SeedStream,
                 mode: IdealMode | HardwareMode | None = None, order: UpdateOrder = UpdateOrder.BLOCK,
                 **run_options) -> SampleResult:
    """Prepare a :class:`GibbsSampler` and run it (hardware draws from ``seed``'s child "hardware").

    See :meth:`GibbsSampler.run` for ``run_options`` (n_chains, burn_in, thin, initial, ...).
    """
    stream = as_seed_stream(seed)
    sampler = GibbsSampler(model, mode=mode, order=order, seed=stream.child("hardware"))
    return sampler.run(beta_or_schedule, n_sweeps=n_sweeps, seed=stream.child("run"), **run_options)
