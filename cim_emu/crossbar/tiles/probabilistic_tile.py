"""The MC-dropconnect tile: every ternary weight on a probabilistic differential pair (data-bit + p-bit).

The signal chain and the read-noise model are in :mod:`cim_emu.crossbar.tiles.base`; the masks come from the
exact per-cell kernel :mod:`cim_emu.crossbar.kernels.masked_mvm`, the rest of the MVM (the dropped-state
Kirchhoff sums, the variance, the readout) from the tile's backend (:mod:`cim_emu.crossbar.kernels.backend`).
A forward pass derives its own streams (masks, read noise) from the generator given to it, so changing the
number of read-noise draws never changes the masks, and vice versa.
"""

from __future__ import annotations

import torch

import devices
from cim_emu.crossbar.config import CrossbarConfig, ReadNoiseModel, WritePulse
from cim_emu.crossbar.counters import record
from cim_emu.crossbar.ir_drop import checked_first_order_conductance
from cim_emu.crossbar.kernels.masked_mvm import (
    default_backend,
    keep_masks,
    keep_thresholds,
    masked_mvm,
    threshold_probabilities,
)
from cim_emu.crossbar.mapping import check_weight, quantize_weights
from cim_emu.crossbar.tiles.base import TileBase, check_inputs, derived_generator
from cim_emu.rng import draw_seed, require_generator

__all__ = ["ProbabilisticTile"]


class ProbabilisticTile(TileBase):
    """A programmed MC-dropconnect tile: every ternary weight on a probabilistic differential pair.

    Cell (j, i) pairs a data-bit D (parallel for a positive weight, antiparallel otherwise) with a p-bit B.
    Before every MVM each p-bit of a non-zero weight is reset to D's state (the pair reads ~0: dropped) and
    then receives the write pulse, which switches it with its own probability P_ji (its v50 offset
    included): switched, the pair reads +-(G_P - G_AP) and the weight is kept (``devices.pair``). Zero
    weights are never pulsed. Masks are independent per cell, input row and sample
    (:mod:`cim_emu.crossbar.kernels.masked_mvm`).

    Persistent buffers: ``data_S``, ``pbit_parallel_S``, ``pbit_antiparallel_S`` (out, in) conductances,
    ``v50_offsets_V`` (out, in), ``keep_probabilities`` (out, in), ``codes`` (out, in) int8 and
    ``weight_scale`` (out,).

    With IR drop on, the p-bit's conductance in the IR-drop solution is its mean over the mask (a mean-field
    approximation); the ``COLUMN`` read-noise variance likewise averages the p-bit state. ``PER_CELL`` read
    noise draws the actual states and is exact.
    """

    def __init__(self, in_features: int, out_features: int, *, config: CrossbarConfig, card: devices.DeviceCard,
                 pulse: WritePulse, dtype: torch.dtype = torch.float32, device=None):
        if config.weight_bits != 1:
            raise ValueError(f"config.weight_bits: a probabilistic differential pair holds one ternary weight; "
                             f"set weight_bits=1 (got {config.weight_bits!r})")
        super().__init__(in_features, out_features, 1, config, card)
        self.pulse = pulse
        shape = (out_features, in_features)
        for name in ("data_S", "pbit_parallel_S", "pbit_antiparallel_S", "v50_offsets_V"):
            self.register_buffer(name, torch.zeros(shape, dtype=dtype, device=device))
        self.register_buffer("keep_probabilities", torch.zeros(shape, dtype=torch.float64, device=device))
        self.register_buffer("codes", torch.zeros(shape, dtype=torch.int8, device=device))
        self.register_buffer("weight_scale", torch.ones(out_features, dtype=dtype, device=device))
        self._register_calibration(out_features, dtype, device)
        for name in ("dropped_S", "kept_minus_dropped_S", "variance_S2", "thresholds", "kept_pbit_S",
                     "dropped_pbit_S", "data_effective_S"):
            self.register_buffer(name, None, persistent=False)

    @classmethod
    def program(cls, weight: torch.Tensor, *, config: CrossbarConfig, card: devices.DeviceCard, pulse: WritePulse,
                generator: torch.Generator | None) -> ProbabilisticTile:
        """Write the data-bits of ternary ``weight`` and draw conductance and p-bit threshold variation.

        Args:
            weight: (out, in) float weights (quantised to ternary with a per-output scale).
            config: tile hardware (``weight_bits`` must be 1).
            card: device card.
            pulse: the write pulse every sample applies to the p-bits.
            generator: source of the programming variation (None only without device variation).
        """
        if weight.dim() != 2:
            raise ValueError(f"weight: expected a 2-D (out_features, in_features) matrix, got {tuple(weight.shape)}")
        check_weight(weight)
        out_features, in_features = weight.shape
        tile = cls(in_features, out_features, config=config, card=card, pulse=pulse, dtype=weight.dtype,
                   device=weight.device)
        codes, scale, _ = quantize_weights(weight.detach(), 1)
        data_parallel = codes > 0
        g_p, g_ap = tile.conductance_parallel_S, tile.conductance_antiparallel_S
        shape = (out_features, in_features)
        if config.device_variation:
            generator = require_generator(generator, "programming with device_variation=True")
            # Separate streams: the number of conductance draws never shifts the p-bit thresholds.
            conductance_generator = derived_generator(generator, generator.device)
            threshold_generator = derived_generator(generator, generator.device)
            array_index = tile.layout.array_index(device=generator.device)[0].expand((2,) + shape)
            drawn = devices.sample_device_conductances(card.data_bit, (2,) + shape, generator=conductance_generator,
                                                       array_index=array_index, read_voltage_V=tile.full_scale_V,
                                                       dtype=torch.float64)
            data = drawn.select(torch.stack([data_parallel.to(generator.device)] * 2))[0]
            pbit_parallel, pbit_antiparallel = drawn.parallel_S[1], drawn.antiparallel_S[1]
            offsets = devices.sample_v50_offsets(card.p_bit, shape, generator=threshold_generator,
                                                 dtype=torch.float64)
        else:
            data = torch.tensor([g_ap, g_p], dtype=torch.float64, device=weight.device)[data_parallel.long()]
            pbit_parallel = torch.full(shape, g_p, dtype=torch.float64)
            pbit_antiparallel = torch.full(shape, g_ap, dtype=torch.float64)
            offsets = torch.zeros(shape, dtype=torch.float64)
        keep = devices.switching_probability(card.p_bit, pulse.voltage_V, pulse.pulse_width_s,
                                             v50_offset_V=offsets)
        device = weight.device
        tile.data_S.copy_(data.to(device))
        tile.pbit_parallel_S.copy_(pbit_parallel.to(device))
        tile.pbit_antiparallel_S.copy_(pbit_antiparallel.to(device))
        tile.v50_offsets_V.copy_(offsets.to(device))
        tile.keep_probabilities.copy_(keep.to(device))
        tile.codes.copy_(codes.to(torch.int8))
        tile.weight_scale.copy_(scale)
        tile._refresh()
        record(cell_writes=out_features * in_features)
        return tile

    def _refresh(self) -> None:
        dtype = self.data_S.dtype
        data_parallel = self.codes > 0
        nonzero = self.codes != 0
        # p-bits pulsed (and reset) per MVM row, for the counters: fixed once programmed, so counted here
        # rather than with a device-to-host sync in every forward.
        self._n_pulsed = int(torch.count_nonzero(nonzero))
        probabilities = torch.where(nonzero, self.keep_probabilities, torch.zeros_like(self.keep_probabilities))
        self.thresholds = keep_thresholds(probabilities)
        keep = threshold_probabilities(self.thresholds)
        data = self.data_S.to(torch.float64)
        pbit_p, pbit_ap = self.pbit_parallel_S.to(torch.float64), self.pbit_antiparallel_S.to(torch.float64)
        # Reset puts B in D's state; a switch puts it in the other one.
        kept_pbit = torch.where(data_parallel, pbit_ap, pbit_p)
        dropped_pbit = torch.where(data_parallel, pbit_p, pbit_ap)
        if self.config.ir_drop:
            mean_pbit = keep * kept_pbit + (1 - keep) * dropped_pbit
            physical = self.layout.physical_arrays(data[None], mean_pbit[None], fill_S=self.conductance_antiparallel_S)
            data_effective, pbit_effective = self.layout.from_physical(
                checked_first_order_conductance(physical, self.config.wire_resistance_per_cell_ohm))
            pbit_factor = pbit_effective[0] / mean_pbit
            data, kept_pbit, dropped_pbit = data_effective[0], kept_pbit * pbit_factor, dropped_pbit * pbit_factor
        mean = self.read_mean_factor
        dropped = (data - dropped_pbit) * mean
        kept_minus_dropped = torch.where(nonzero, (dropped_pbit - kept_pbit) * mean, torch.zeros_like(data))
        variance = self.read_variance_factor * (data.square() + keep * kept_pbit.square()
                                                + (1 - keep) * dropped_pbit.square())
        self.dropped_S = self.layout.to_blocks(dropped).to(dtype)
        self.kept_minus_dropped_S = kept_minus_dropped.to(dtype)
        self.variance_S2 = self.layout.to_blocks(variance).to(dtype)
        self.data_effective_S, self.kept_pbit_S, self.dropped_pbit_S = data.to(dtype), kept_pbit.to(dtype), \
            dropped_pbit.to(dtype)
        self._plan = None

    def _mean_blocks(self) -> torch.Tensor:
        return self.dropped_S

    def _variance_blocks(self) -> torch.Tensor:
        return self.variance_S2

    @property
    def deployed_keep_probabilities(self) -> torch.Tensor:
        """(out, in) float64: the keep probability each cell realises (t / 2^32 of its threshold; 0 for zero
        weights, which are never pulsed)."""
        return threshold_probabilities(self.thresholds)

    @torch.no_grad()
    def forward(self, inputs: torch.Tensor, *, generator: torch.Generator, n_samples: int = 1) -> torch.Tensor:
        """MC-dropconnect MVMs: fresh p-bit pulses for every input row and sample.

        Args:
            inputs: (batch, in_features) digital inputs.
            generator: source of the masks and the read noise (required).
            n_samples: samples per input row.

        Returns:
            (n_samples * batch, out_features), sample-major, digital outputs without bias.
        """
        check_inputs(inputs, self.in_features)
        generator = require_generator(generator, "an MC-dropconnect tile")
        layout, config = self.layout, self.config
        batch = inputs.shape[0]
        inputs = inputs.to(self.dropped_S.dtype)
        dac_inputs, volts, scale = self._dac_inputs(inputs)
        mask_seed = draw_seed(generator)
        noise_generator = derived_generator(generator, inputs.device) if config.read_noise else None
        n_rows = batch * n_samples
        if config.read_noise and config.read_noise_model is ReadNoiseModel.PER_CELL:
            currents = self._per_cell_currents(volts, n_rows, layout.out_features,
                                               self._noisy_differences(volts, mask_seed, n_rows, noise_generator))
            digitized = self._read_out(currents, None, None)
        else:
            backend, prepared = self._execution(inputs)
            masked = masked_mvm(volts, self.kept_minus_dropped_S, self.thresholds, seed=mask_seed,
                                n_samples=n_samples, block_rows=layout.block_rows)
            currents = masked.transpose(0, 1) + backend.currents(prepared, dac_inputs).repeat(1, n_samples, 1)
            variance = backend.variance(prepared, dac_inputs) if config.read_noise else None
            digitized = self._read_out(currents, variance, noise_generator, backend)
        outputs = self._calibrated(digitized * scale.repeat(n_samples, 1) * self.weight_scale)
        layout.record_mvms(n_rows, 2 * layout.out_features * layout.in_features)
        record(pbit_pulses=n_rows * self._n_pulsed, pbit_resets=n_rows * self._n_pulsed)
        return outputs

    @torch.no_grad()
    def expected_output(self, inputs: torch.Tensor) -> torch.Tensor:
        """Exact mean over masks and read noise of the pre-ADC output, in digital units (no bias).

        Args:
            inputs: (batch, in_features).

        Returns:
            (batch, out_features), calibration applied. The ADC's rounding adds at most half a step per row
            block to the mean.
        """
        check_inputs(inputs, self.in_features)
        inputs = inputs.to(self.dropped_S.dtype)
        volts, scale = self._convert_inputs(inputs)
        keep = self.deployed_keep_probabilities.to(volts.dtype)
        mean_cells = self.dropped_S + self.layout.to_blocks(keep * self.kept_minus_dropped_S)
        currents = torch.bmm(self.layout.inputs_to_blocks(volts), mean_cells).sum(dim=0)
        return self._calibrated(currents / self.unit_current_A * scale * self.weight_scale)

    def _noisy_differences(self, volts: torch.Tensor, mask_seed: int, n_rows: int, generator: torch.Generator):
        """Per-cell reference: the same masks as the fast path, every device read with its own lognormal noise."""
        masks = keep_masks(self.thresholds, mask_seed, n_rows, backend=default_backend(volts.device)).to(volts.device)

        def draw(start: int, stop: int) -> torch.Tensor:
            pbit = torch.where(masks[start:stop], self.kept_pbit_S, self.dropped_pbit_S)
            data = devices.apply_read_noise(self.card.data_bit, self.data_effective_S.expand(pbit.shape),
                                            generator=generator)
            # Zero weights: D and B stay antiparallel (never pulsed), whatever the mask stream says.
            return data - devices.apply_read_noise(self.card.data_bit, pbit, generator=generator)

        return draw
