"""Put a user's torch model on crossbars: ``convert``, ``program``, ``calibrate`` and the generator scope.

``convert(model)`` returns a deep copy in which every ``nn.Linear`` becomes a :class:`CrossbarLinear` (or an
:class:`MCDropConnectLinear`) and every ``nn.Conv2d`` a :class:`CrossbarConv2d` (or an
:class:`MCDropConnectConv2d`) with the same weights; everything else (activations, pooling, normalisation,
the model's own ``forward``) is kept. The copy trains on the layers' hardware-aware float path;
``program(model, generator=g)`` writes every layer onto emulated tiles (device variation drawn once) and
draws the threshold offsets of every :class:`PBitActivation`; ``calibrate(model, batches)`` fits the tiles'
digital column gains layer by layer on representative inputs. In eval mode a programmed model runs on
the tiles.

A user's ``forward`` calls its layers without a generator. Stochastic layers (read noise, dropconnect
masks, p-bits) take theirs from :func:`generator_scope`: ``with generator_scope(g): model(x)``. The
converted layers (and every ``PBitActivation`` of the model) get a forward pre-hook that passes the
scope's generator when the call gives none; outside a scope a stochastic layer refuses to run, as it
does when called directly. The calls draw from the one generator in the order the model makes them, so
the same seed gives the same outputs.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator

import torch
from torch import nn

import devices
from cim_emu.crossbar.config import CrossbarConfig, WritePulse
from cim_emu.crossbar.layers.base import AnalogLinearBase
from cim_emu.crossbar.layers.conv import CrossbarConv2d, MCDropConnectConv2d, _CrossbarConvBase
from cim_emu.crossbar.layers.linear import CrossbarLinear
from cim_emu.crossbar.layers.mc_dropconnect import MCDropConnectLinear
from cim_emu.crossbar.layers.pbit import PBitActivation
from cim_emu.crossbar.mapping import check_weight
from cim_emu.rng import derived_generator, require_generator

__all__ = ["ConversionReport", "convert", "program", "calibrate", "generator_scope", "crossbar_layers",
           "attach_generator_scope"]

_SCOPE: contextvars.ContextVar[torch.Generator | None] = contextvars.ContextVar("cim_emu_generator_scope",
                                                                               default=None)
_STOCHASTIC_TYPES = (AnalogLinearBase, _CrossbarConvBase, PBitActivation)


@contextlib.contextmanager
def generator_scope(generator: torch.Generator) -> Iterator[torch.Generator]:
    """Give the converted layers of any model run inside the ``with`` block their source of randomness.

    Args:
        generator: a ``torch.Generator`` (e.g. ``SeedStream(seed).child("inference").torch_generator()``).
    """
    require_generator(generator, "generator_scope")
    token = _SCOPE.set(generator)
    try:
        yield generator
    finally:
        _SCOPE.reset(token)


def _inject_generator(module: nn.Module, args: tuple, kwargs: dict):
    """Forward pre-hook: pass the scope's generator to a crossbar layer called without one."""
    scoped = _SCOPE.get()
    if scoped is None or kwargs.get("generator") is not None:
        return None
    return args, {**kwargs, "generator": scoped}


def _attach_hook(module: nn.Module) -> None:
    if not getattr(module, "_cim_emu_scope_hook", False):
        module.register_forward_pre_hook(_inject_generator, with_kwargs=True)
        module._cim_emu_scope_hook = True


def attach_generator_scope(model: nn.Module) -> nn.Module:
    """Let every crossbar layer and ``PBitActivation`` of ``model`` take its generator from
    :func:`generator_scope` (``convert`` does this for the models it returns); returns ``model``."""
    for _, module in crossbar_layers(model):
        _attach_hook(module)
    return model


@dataclasses.dataclass(frozen=True)
class ConversionReport:
    """What :func:`convert` did.

    Attributes:
        converted: (qualified name, new layer type) of every converted layer, in module order.
        unsupported: (qualified name, type, reason) of every module with its own parameters that was left
            digital (normalisation, embeddings, 1-D/3-D or grouped convolutions, ...).
    """

    converted: tuple[tuple[str, str], ...]
    unsupported: tuple[tuple[str, str, str], ...]

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return {"converted": [list(item) for item in self.converted],
                "unsupported": [list(item) for item in self.unsupported]}


def _use_mc(mc_dropconnect, name: str) -> bool:
    if isinstance(mc_dropconnect, bool):
        return mc_dropconnect
    try:
        chosen = mc_dropconnect(name)
    except Exception as error:  # noqa: BLE001 - the user's predicate; its failure is reported by module name
        raise ValueError(f"mc_dropconnect: the predicate raised {type(error).__name__}: {error} for module "
                         f"{name!r}; it must return True or False for every qualified module name") from error
    if not isinstance(chosen, bool):
        raise ValueError(f"mc_dropconnect: the predicate returned {chosen!r} for module {name!r}; "
                         "it must return True or False")
    return chosen


def _conv_padding(name: str, conv: nn.Conv2d) -> tuple[int, int] | None:
    """Integer padding of a Conv2d, or None if it cannot run on the tiles (the reason is reported)."""
    if isinstance(conv.padding, str):
        if conv.padding == "valid":
            return (0, 0)
        total = [d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size, strict=False)]
        if any(t % 2 for t in total):
            return None
        return (total[0] // 2, total[1] // 2)
    return tuple(conv.padding)


def _check_parameters(name: str, module: nn.Module) -> None:
    check_weight(module.weight.reshape(module.weight.shape[0], -1), name=f"{name}.weight")
    if module.bias is not None:
        check_weight(module.bias.reshape(1, -1), name=f"{name}.bias")


def _new_layer(name: str, module: nn.Module, mc: bool, config: CrossbarConfig | None,
               card: devices.DeviceCard | None, pulse: WritePulse | None) -> nn.Module:
    weight = module.weight.detach()
    options = dict(config=config, card=card, dtype=weight.dtype, device=weight.device)
    if mc:
        options["pulse"] = pulse
    try:
        if isinstance(module, nn.Linear):
            layer_class = MCDropConnectLinear if mc else CrossbarLinear
            layer = layer_class(module.in_features, module.out_features, module.bias is not None, **options)
            target = layer.weight
        else:
            layer_class = MCDropConnectConv2d if mc else CrossbarConv2d
            layer = layer_class(module.in_channels, module.out_channels, module.kernel_size, module.stride,
                                _conv_padding(name, module), module.dilation, 1, module.bias is not None, **options)
            target = layer.linear.weight
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from error
    with torch.no_grad():
        target.copy_(weight.reshape(target.shape))
        if module.bias is not None:
            layer.bias.copy_(module.bias.detach())
    layer.train(module.training)
    return layer


def _unsupported_reason(module: nn.Module) -> str | None:
    if isinstance(module, nn.Conv2d):
        if module.groups != 1:
            return f"groups={module.groups} (only groups=1 runs on tiles)"
        if module.padding_mode != "zeros":
            return f"padding_mode={module.padding_mode!r} (only zero padding runs on tiles)"
        if _conv_padding("", module) is None:
            return f"padding={module.padding!r} with an even dilated kernel (asymmetric padding)"
    return None


def convert(model: nn.Module, *, config: CrossbarConfig | None = None, card: devices.DeviceCard | None = None,
            mc_dropconnect: bool | Callable[[str], bool] = False, pulse: WritePulse | None = None,
            report: bool = False):
    """A copy of ``model`` with every ``nn.Linear`` and ``nn.Conv2d`` on crossbar tiles, same weights.

    Args:
        model: any ``nn.Module``; it is not modified.
        config: tile hardware of every converted layer (default ``CrossbarConfig()``; MC-dropconnect layers
            need ``weight_bits=1``).
        card: device card (default ``devices.default_card()``).
        mc_dropconnect: True (every layer), False (none), or a predicate on the qualified module name
            (``lambda name: name.startswith("classifier")``) choosing the layers that get in-situ dropconnect.
        pulse: write pulse of the MC-dropconnect layers (default: the card's operating point, P = 0.5; e.g.
            ``WritePulse.for_keep_probability(card, 0.8)``).
        report: also return a :class:`ConversionReport`.

    Returns:
        The converted copy (in the training mode of the original), or ``(copy, report)``. Not yet
        programmed: call :func:`program` before eval-mode inference on the tiles.

    Raises:
        ValueError: ``model`` has no convertible layer, a predicate raises or returns a non-bool, a weight
            or bias holds NaN/inf, or a config does not suit a layer (each naming the module or parameter).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if not (isinstance(mc_dropconnect, bool) or callable(mc_dropconnect)):
        raise ValueError(f"mc_dropconnect: expected True, False or a predicate on the module name, "
                         f"got {mc_dropconnect!r}")
    converted_model = copy.deepcopy(model)
    converted: list[tuple[str, str]] = []
    unsupported: list[tuple[str, str, str]] = []
    skip_inside: set[str] = set()
    replacements: list[tuple[str, nn.Module]] = []
    for name, module in converted_model.named_modules():
        if any(name.startswith(prefix + ".") for prefix in skip_inside):
            continue
        if isinstance(module, _STOCHASTIC_TYPES):
            # Already a crossbar layer or a p-bit neuron: untouched, but reachable by the generator scope.
            _attach_hook(module)
            skip_inside.add(name)
            continue
        if type(module) in (nn.Linear, nn.Conv2d) or isinstance(module, (nn.Linear, nn.Conv2d)):
            reason = _unsupported_reason(module)
            if reason is not None:
                unsupported.append((name, type(module).__name__, reason))
                continue
            _check_parameters(name, module)
            layer = _new_layer(name, module, _use_mc(mc_dropconnect, name), config, card, pulse)
            _attach_hook(layer)
            replacements.append((name, layer))
            converted.append((name, type(layer).__name__))
            skip_inside.add(name)
        elif any(True for _ in module.parameters(recurse=False)):
            unsupported.append((name, type(module).__name__, "no crossbar equivalent; left digital"))
    if not replacements:
        found = sorted({type(m).__name__ for m in converted_model.modules()})
        raise ValueError(f"model: no nn.Linear or nn.Conv2d to convert (found {', '.join(found)}); convert "
                         "works on models built from torch.nn.Linear / torch.nn.Conv2d layers")
    for name, layer in replacements:
        if name == "":
            raise ValueError("model: is itself an nn.Linear/nn.Conv2d; wrap it (nn.Sequential(layer)) or build "
                             "cim_emu.CrossbarLinear / CrossbarConv2d directly")
        parent_name, _, attribute = name.rpartition(".")
        setattr(converted_model.get_submodule(parent_name), attribute, layer)
    if report:
        return converted_model, ConversionReport(tuple(converted), tuple(unsupported))
    return converted_model


def crossbar_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(qualified name, layer) of every crossbar layer and p-bit neuron, outermost only (a conv layer, not
    its inner linear layer), in module order."""
    found: list[tuple[str, nn.Module]] = []
    for name, module in model.named_modules():
        if isinstance(module, _STOCHASTIC_TYPES) and not any(
                name.startswith(outer + ".") for outer, _ in found if outer):
            found.append((name, module))
    return found


def program(model: nn.Module, *, generator: torch.Generator | None) -> nn.Module:
    """Program every crossbar layer of ``model`` and draw its p-bit neurons' variation; returns ``model``.

    Each layer draws from its own generator, seeded from ``generator`` in module order, so adding noise
    draws in one layer never changes another's variation.

    Args:
        model: a model returned by :func:`convert` (or any model holding crossbar layers).
        generator: source of the device-to-device variation; may be None only if no layer draws any
            (``config.device_variation=False`` and no ``PBitActivation``).
    """
    layers = crossbar_layers(model)
    if not layers:
        raise ValueError("model: holds no crossbar layer; convert it first (cim_emu.convert(model))")
    for name, layer in layers:
        layer_generator = None if generator is None else derived_generator(generator, what="program")
        try:
            layer.program(generator=layer_generator)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from error
    return model


def _as_batches(batches) -> list[torch.Tensor]:
    items = [batches] if isinstance(batches, torch.Tensor) else list(batches) if isinstance(batches, Iterable) \
        else None
    if not items:
        raise ValueError("batches: expected a tensor or a non-empty iterable of input tensors (or (inputs, "
                         "targets) pairs) representative of the deployed inputs")
    tensors = []
    for index, item in enumerate(items):
        tensor = item[0] if isinstance(item, (tuple, list)) else item
        if not isinstance(tensor, torch.Tensor) or not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"batches[{index}]: expected a finite input tensor, got "
                             f"{type(tensor).__name__ if not isinstance(tensor, torch.Tensor) else 'NaN/inf'}")
        tensors.append(tensor)
    return tensors


def _capture_input(store: list, module: nn.Module, args: tuple) -> None:
    store.append(args[0].detach())


def calibrate(model: nn.Module, batches, *, generator: torch.Generator | None = None) -> nn.Module:
    """Calibrate every programmed crossbar layer, layer by layer, on the inputs it sees; returns ``model``.

    Layer k is calibrated on the inputs it receives when ``batches`` run through the model with layers
    0..k-1 already calibrated (eval mode, on the tiles), so each layer corrects for what reaches it.

    Args:
        model: a converted, programmed model.
        batches: a tensor, or an iterable of input tensors or (inputs, targets) pairs.
        generator: source of randomness for the passes (read noise, masks, p-bits); required when the model
            is stochastic.
    """
    inputs = _as_batches(batches)
    layers = [(name, layer) for name, layer in crossbar_layers(model) if not isinstance(layer, PBitActivation)]
    if not layers:
        raise ValueError("model: holds no crossbar layer; convert it first (cim_emu.convert(model))")
    for name, layer in layers:
        if not layer.programmed:
            raise ValueError(f"{name}: not programmed; call cim_emu.program(model, generator=...) before calibrate")
    was_training = model.training
    model.eval()
    scope = generator_scope(generator) if generator is not None else contextlib.nullcontext()
    try:
        with torch.no_grad(), scope:
            for _, layer in layers:
                seen: list[torch.Tensor] = []
                handle = layer.register_forward_pre_hook(functools.partial(_capture_input, seen))
                try:
                    for batch in inputs:
                        model(batch)
                finally:
                    handle.remove()
                layer.calibrate(torch.cat(seen))
    finally:
        model.train(was_training)
    return model
