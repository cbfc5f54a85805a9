"""``MCDropConnectLinear``: a linear layer on probabilistic differential pairs (in-situ p-bits).

Every MVM drops each weight independently: weight (j, i) is kept with its p-bit's switching probability
P_ji at the layer's write pulse (``WritePulse``), fresh for every input row and every sample. This is the
MC-dropconnect Bayesian layer of the paper, its randomness made in the cells themselves.

Before ``program`` every cell has the nominal probability of the median p-bit; ``program`` draws each
p-bit's threshold offset (the array variation of the paper's Fig. 13) and the data-bit conductances, and
from then on ``keep_probabilities`` are the deployed per-cell values, in the float path too (so the layer
can be fine-tuned against the probabilities its hardware really has). Training uses the same masks,
quantisers, row blocks and ADC grid as the tile, gradients straight through the rounding; masks are
regenerated exactly in the backward pass.
"""

from __future__ import annotations

import torch

import devices
from cim_emu.crossbar.config import CrossbarConfig, WritePulse
from cim_emu.crossbar.converters import adc_quantize, dac_quantize, input_scale
from cim_emu.crossbar.counters import record
from cim_emu.crossbar.kernels.masked_mvm import draw_seed, keep_thresholds, masked_mvm, threshold_probabilities
from cim_emu.crossbar.layers.base import AnalogLinearBase
from cim_emu.crossbar.layout import TileLayout
from cim_emu.crossbar.mapping import check_weight, quantize_weights
from cim_emu.crossbar.tiles.tile import ProbabilisticTile
from cim_emu.rng import require_generator

__all__ = ["MCDropConnectLinear"]


def _check_samples(n_samples) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples: must be an integer >= 1 (MC samples per input row), got {n_samples!r}")
    return n_samples


class MCDropConnectLinear(AnalogLinearBase):
    """Linear layer with in-situ MC-dropconnect: one p-bit per ternary weight.

    Args:
        in_features: inputs.
        out_features: outputs.
        bias: add a digital (never dropped) bias.
        pulse: write pulse of every sample (default: the card's operating point, P = 0.5).
        config: tile hardware; ``weight_bits`` must be 1 (default ``CrossbarConfig()``).
        card: device card (default ``devices.default_card()``).
        generator: optional source for the initial weights.
        dtype, device: of the parameters.

    Shapes: ``forward(x, generator=g)`` maps (..., in) -> (..., out); with ``n_samples=T`` it returns
    (T, ..., out), sample t computed with its own masks.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, pulse: WritePulse | None = None,
                 config: CrossbarConfig | None = None, card: devices.DeviceCard | None = None,
                 generator: torch.Generator | None = None, dtype: torch.dtype | None = None, device=None):
        super().__init__(in_features, out_features, bias, config=config, card=card, generator=generator,
                         dtype=dtype, device=device)
        if self.config.weight_bits != 1:
            raise ValueError(f"config.weight_bits: a probabilistic differential pair holds one ternary weight; use "
                             f"CrossbarConfig(weight_bits=1) (got {self.config.weight_bits!r})")
        self.pulse = WritePulse.from_card(self.card) if pulse is None else pulse
        if not isinstance(self.pulse, WritePulse):
            raise ValueError(f"pulse: expected a WritePulse(voltage_V=..., pulse_width_s=...), got {pulse!r}")
        self._check_nominal_probability()

    # ---------------------------------------------------------------------------------------------- probabilities
    def _check_nominal_probability(self) -> None:
        probability = self.nominal_keep_probability
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"pulse: the card's p-bit model gives P = {probability} at {self.pulse}; "
                             "probabilities must lie in [0, 1] (check the card's p_bit section)")

    @property
    def nominal_keep_probability(self) -> float:
        """Keep probability of the median p-bit at the write pulse."""
        return float(devices.switching_probability(self.card.p_bit, self.pulse.voltage_V, self.pulse.pulse_width_s))

    @property
    def keep_probabilities(self) -> torch.Tensor:
        """(out, in) float64 keep probability of every cell: deployed (per-cell variation) once programmed,
        else the nominal value everywhere."""
        if self.tile is not None:
            return self.tile.keep_probabilities
        return torch.full((self.out_features, self.in_features), self.nominal_keep_probability, dtype=torch.float64,
                          device=self.weight.device)

    def _thresholds(self) -> torch.Tensor:
        return keep_thresholds(self.keep_probabilities)

    # ---------------------------------------------------------------------------------------------- tile
    def _new_tile(self) -> ProbabilisticTile:
        return ProbabilisticTile(self.in_features, self.out_features, config=self.config, card=self.card,
                                 pulse=self.pulse, dtype=self.weight.dtype, device=self.weight.device)

    def program(self, *, generator: torch.Generator | None) -> MCDropConnectLinear:
        """Write the data-bits of the current weights and draw device and p-bit variation; returns self."""
        self.tile = ProbabilisticTile.program(self.weight, config=self.config, card=self.card, pulse=self.pulse,
                                              generator=generator)
        self._stamp()
        return self

    def _hardware_state(self) -> dict:
        return {**super()._hardware_state(), "pulse": {"voltage_V": self.pulse.voltage_V,
                                                       "pulse_width_s": self.pulse.pulse_width_s}}

    def _set_hardware_state(self, state: dict) -> None:
        super()._set_hardware_state(state)
        if "pulse" in state:
            self.pulse = WritePulse(**state["pulse"])

    # ---------------------------------------------------------------------------------------------- forward
    def forward(self, inputs: torch.Tensor, *, generator: torch.Generator | None = None, n_samples: int | None = None
                ) -> torch.Tensor:
        """MC-dropconnect forward pass.

        Args:
            inputs: (..., in_features).
            generator: source of the masks (and of the read noise on a tile); required.
            n_samples: MC samples per input row; None = one, without the leading sample dimension.

        Returns:
            (..., out_features), or (n_samples, ..., out_features).
        """
        require_generator(generator, "generator: MCDropConnectLinear")
        samples = 1 if n_samples is None else _check_samples(n_samples)
        flat, leading = self._flatten(inputs)
        if self.runs_on_tile():
            outputs = self.tile(flat, generator=generator, n_samples=samples)
        else:
            outputs = self._hardware_aware(flat, generator, samples)
        if self.bias is not None:
            outputs = outputs + self.bias
            record(digital_adds=outputs.shape[0] * self.out_features)
        if n_samples is None:
            return outputs.reshape(*leading, self.out_features)
        return outputs.reshape(samples, *leading, self.out_features)

    def _ideal_mean(self, flat: torch.Tensor) -> torch.Tensor:
        """(P * W_q) x_q with the current keep probabilities, digital units, no bias; differentiable like the
        training path (straight-through rounding)."""
        scale = input_scale(flat, self.config.input_range)
        normalized = dac_quantize(flat / scale, self.config.dac_bits, straight_through=True)
        codes, weight_scale, _ = quantize_weights(self.weight, 1, straight_through=True)
        keep = threshold_probabilities(self._thresholds()).to(flat.dtype)
        return (normalized @ (keep * codes).T) * scale * weight_scale

    def _hardware_aware(self, flat: torch.Tensor, generator: torch.Generator, n_samples: int) -> torch.Tensor:
        """The tile's arithmetic with ideal devices: same masks law, DAC, ternary codes, row blocks and ADC."""
        config = self.config
        check_weight(self.weight)
        layout = TileLayout.of(self.in_features, self.out_features, config)
        scale = input_scale(flat, config.input_range)
        normalized = dac_quantize(flat / scale, config.dac_bits, straight_through=True)
        codes, weight_scale, _ = quantize_weights(self.weight, 1, straight_through=True)
        partial = masked_mvm(normalized, codes, self._thresholds(), seed=draw_seed(generator), n_samples=n_samples,
                             block_rows=layout.block_rows)
        sums = adc_quantize(partial, config.adc_bits, config.adc_range_cells, straight_through=True).sum(dim=1)
        n_rows = flat.shape[0] * n_samples
        layout.record_mvms(n_rows, 2 * self.out_features * self.in_features)
        pulsed = int(torch.count_nonzero(codes.detach()))
        record(pbit_pulses=n_rows * pulsed, pbit_resets=n_rows * pulsed)
        return sums * scale.repeat(n_samples, 1) * weight_scale

    def expected_output(self, inputs: torch.Tensor) -> torch.Tensor:
        """Exact mean of the output over the masks (and read noise): (P * W) x + b with the deployed P.

        On a programmed tile in eval mode this is the mean of the pre-ADC analog result with the programmed
        conductances (no gradient); otherwise that of the float path, ``(P * W_q) x_q + b`` with the quantised
        weights and DAC-converted inputs, differentiable like the training path (e.g. to train a zero-mean
        noise layer). The ADC's rounding (at most half a step per row block) is not included.

        Args:
            inputs: (..., in_features).

        Returns:
            (..., out_features).
        """
        flat, leading = self._flatten(inputs)
        outputs = self.tile.expected_output(flat) if self.runs_on_tile() else self._ideal_mean(flat)
        if self.bias is not None:
            outputs = outputs + self.bias
        return outputs.reshape(*leading, self.out_features)
