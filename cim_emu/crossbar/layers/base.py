"""What the crossbar layers share: parameters, input flattening, the programmed tile and its state_dict.

A layer has two paths with the same forward arithmetic: the hardware-aware float path (training, or
before ``program``) and the emulated tile (after ``program``, in eval mode). ``state_dict`` holds the
weights, the programmed tile's conductances (if any) and, as extra state, the config, the device card and
the write pulse, so a loaded layer reproduces the saved one's outputs exactly.
"""

from __future__ import annotations

import math

import torch
from torch import nn

import devices
from cim_emu.crossbar.config import CrossbarConfig
from cim_emu.rng import SeedStream, require_generator

__all__ = ["AnalogLinearBase"]

# The named stream that initialises a layer built without a generator (see reset_parameters).
_DEFAULT_INIT_STREAM = "layer_init"


def _check_features(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: must be an integer >= 1, got {value!r}")
    return value


def _all_finite(inputs: torch.Tensor) -> bool:
    """True if no entry is NaN or inf: one sum (NaN and inf propagate through it, so a finite sum proves it),
    with the exact elementwise test only when the sum is not finite (NaN/inf, or a float overflow)."""
    data = inputs.detach()
    return bool(torch.isfinite(data.sum())) or bool(torch.isfinite(data).all())


class AnalogLinearBase(nn.Module):
    """Base of :class:`CrossbarLinear` and :class:`MCDropConnectLinear` (not used directly)."""

    tile: nn.Module | None

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 config: CrossbarConfig | None = None, card: devices.DeviceCard | None = None,
                 generator: torch.Generator | None = None, dtype: torch.dtype | None = None, device=None):
        super().__init__()
        self.in_features = _check_features("in_features", in_features)
        self.out_features = _check_features("out_features", out_features)
        config = CrossbarConfig() if config is None else config
        if not isinstance(config, CrossbarConfig):
            raise ValueError(f"config: expected a CrossbarConfig, got {type(config).__name__}")
        card = devices.default_card() if card is None else card
        if not isinstance(card, devices.DeviceCard):
            raise ValueError(f"card: expected a devices.DeviceCard (e.g. devices.load_card(path)), "
                             f"got {type(card).__name__}")
        self.config, self.card = config, card
        self.weight = nn.Parameter(torch.empty((out_features, in_features), dtype=dtype, device=device))
        self.bias = nn.Parameter(torch.empty(out_features, dtype=dtype, device=device)) if bias else None
        self.tile = None
        self._programmed_version: int | None = None
        self.reset_parameters(generator=generator)

    def reset_parameters(self, *, generator: torch.Generator | None = None) -> None:
        """``nn.Linear``'s initialisation law: weight and bias ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).

        Args:
            generator: the source of the initial weights (any device; drawn in float64, then cast). None: the
                fixed stream ``SeedStream(0).child("layer_init")``, so a layer built without a generator is
                still reproducible and touches no global random state; every such layer of one shape starts
                from the same weights (pass a generator for independent layers).
        """
        if generator is None:
            generator = SeedStream(0).child(_DEFAULT_INIT_STREAM).torch_generator("cpu")
        require_generator(generator, "reset_parameters")
        bound = 1.0 / math.sqrt(self.in_features)
        with torch.no_grad():
            # Same law as nn.init.kaiming_uniform_(a=sqrt(5)) + uniform_ bias, from an explicit generator.
            self.weight.copy_((torch.rand(self.weight.shape, generator=generator, dtype=torch.float64,
                                          device=generator.device) * 2 - 1) * bound)
            if self.bias is not None:
                self.bias.copy_((torch.rand(self.bias.shape, generator=generator, dtype=torch.float64,
                                            device=generator.device) * 2 - 1) * bound)
        self.tile = None

    # ---------------------------------------------------------------------------------------------- helpers
    def _flatten(self, inputs: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
        """(..., in_features) -> (rows, in_features) and the leading shape, after checking the input.

        Raises ``ValueError`` (naming the layer and the fix) for a wrong shape, a dtype or device other than the
        weights' (torch would raise a bare RuntimeError deep inside the tile), and NaN or inf entries (an input
        voltage must be finite; they would otherwise pass silently into every output of the row).
        """
        name = type(self).__name__
        if not isinstance(inputs, torch.Tensor) or inputs.dim() < 1 or inputs.shape[-1] != self.in_features:
            shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
            raise ValueError(f"input: expected shape (..., {self.in_features}) (in_features), got {shape}")
        weight = self.weight
        if inputs.dtype != weight.dtype:
            fix = f"cast the input with x.to({weight.dtype})"
            if weight.dtype == torch.float32:
                fix += " (x.float())"
            if inputs.dtype.is_floating_point:
                fix += f" or the layer with layer.to({inputs.dtype})"
            raise ValueError(f"input: {name} has {weight.dtype} weights but the input is {inputs.dtype}; {fix}")
        if inputs.device != weight.device:
            raise ValueError(f"input: {name} is on {weight.device} but the input is on {inputs.device}; move the "
                             f"input with x.to('{weight.device}') or the layer with layer.to('{inputs.device}')")
        if not _all_finite(inputs):
            raise ValueError(f"input: {name} got NaN or inf entries; inputs drive the DAC and must be finite "
                             "(check the layer or data before, e.g. a diverged training run or torch.nan_to_num)")
        return inputs.reshape(-1, self.in_features), tuple(inputs.shape[:-1])

    @property
    def programmed(self) -> bool:
        """True once :meth:`program` has built the emulated tile (eval mode then runs on it)."""
        return self.tile is not None

    def runs_on_tile(self) -> bool:
        """True when :meth:`forward` runs on the programmed tile: programmed and in eval mode.

        Raises:
            ValueError: the weights changed since :meth:`program` (the tile would be stale).
        """
        if self.tile is None or self.training:
            return False
        if self.weight._version != self._programmed_version:
            raise ValueError("weight: changed since program(); call layer.program(generator=...) again so the "
                             "tile holds the current weights")
        return True

    def _stamp(self) -> None:
        self._programmed_version = self.weight._version

    def __getstate__(self):
        # A copy or unpickled layer gets new parameter tensors with fresh version counters: record whether the
        # tile was current so the copy stays usable (copy.deepcopy, pickle, Dask workers, cim_emu.convert).
        state = self.__dict__.copy()
        state["_tile_was_current"] = self.tile is not None and self.weight._version == self._programmed_version
        return state

    def __setstate__(self, state):
        current = state.pop("_tile_was_current", False)
        super().__setstate__(state)
        if current:
            self._stamp()

    def _apply(self, fn, recurse=True):
        # Moving or casting the layer keeps a current tile current (the parameter gets a new version counter).
        current = self.tile is not None and self.weight._version == self._programmed_version
        result = super()._apply(fn, recurse)
        if current:
            self._stamp()
        return result

    def _new_tile(self) -> nn.Module:  # pragma: no cover - overridden
        raise NotImplementedError

    def _ideal_mean(self, flat: torch.Tensor) -> torch.Tensor:  # pragma: no cover - overridden
        raise NotImplementedError

    def calibrate(self, inputs: torch.Tensor) -> AnalogLinearBase:
        """Digital column calibration of the programmed tile against the layer's ideal-device arithmetic.

        Fits, per output, the gain and offset that map the tile's mean output onto the float path's mean
        output (DAC-converted inputs, quantised weights, ideal devices, no ADC rounding) over ``inputs``:
        removes the array-to-array gain spread and the mean offset of the programmed pairs. The cell-to-cell
        variation stays. Returns self.

        Args:
            inputs: (..., in_features) calibration inputs, representative of the layer's deployed inputs.
        """
        if self.tile is None:
            raise ValueError("calibrate: program the layer first (layer.program(generator=...))")
        flat, _ = self._flatten(inputs)
        with torch.no_grad():
            self.tile.calibrate(flat, self._ideal_mean(flat))
        return self

    # ---------------------------------------------------------------------------------------------- state
    def _hardware_state(self) -> dict:
        return {"config": self.config.to_dict(), "card": self.card.to_dict()}

    def _set_hardware_state(self, state: dict) -> None:
        self.config = CrossbarConfig.from_dict(state["config"])
        self.card = devices.DeviceCard.from_dict(state["card"], source="saved layer state")

    def get_extra_state(self) -> dict:
        return {**self._hardware_state(), "programmed": self.tile is not None}

    def set_extra_state(self, state: dict) -> None:
        if not isinstance(state, dict) or "config" not in state or "card" not in state:
            raise ValueError("state_dict: the layer's extra state (config, card) is missing or malformed; save "
                             "the layer with layer.state_dict()")
        self._set_hardware_state(state)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        extra = state_dict.get(prefix + "_extra_state")
        if isinstance(extra, dict):
            self.set_extra_state(extra)
        has_tile = any(key.startswith(prefix + "tile.") for key in state_dict)
        if has_tile:
            # An empty tile of the right shape receives the saved conductances (torch loads children next).
            self.tile = self._new_tile()
        elif isinstance(extra, dict) and not extra.get("programmed", False):
            self.tile = None
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        if has_tile:
            self._stamp()

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, "
                f"programmed={self.programmed}")
