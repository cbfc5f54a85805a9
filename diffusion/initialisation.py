"""Seeded parameter initialisation, so that training is reproducible without global seeding.

torch and diffusers initialise modules from the global generator. Instead of seeding it, every
model of this package is re-initialised after construction from an explicit ``torch.Generator``
with the same law torch uses for ``nn.Linear`` / ``nn.Conv2d`` (uniform in +-1/sqrt(fan_in) for
weights and biases) and the identity for normalisation layers.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["initialise_parameters"]


@torch.no_grad()
def initialise_parameters(module: nn.Module, *, generator: torch.Generator) -> nn.Module:
    """Redraw every parameter of ``module`` from ``generator`` (in place); returns the module.

    Matrices and convolution kernels (``ndim >= 2``) and the bias next to them get
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)); one-dimensional ``weight`` parameters (norm scales) become
    ones, other one-dimensional parameters without a matrix sibling become zeros. Parameters are
    visited in registration order, so the result depends only on the architecture and the seed.
    """
    for submodule in module.modules():
        own = dict(submodule.named_parameters(recurse=False))
        weight = own.get("weight")
        fan_in = None
        if weight is not None and weight.ndim >= 2:
            fan_in = weight[0].numel()
        for name, parameter in own.items():
            if parameter.ndim >= 2:
                bound = 1.0 / math.sqrt(parameter[0].numel())
                _uniform_(parameter, bound, generator)
            elif fan_in is not None and name == "bias":
                _uniform_(parameter, 1.0 / math.sqrt(fan_in), generator)
            elif name == "weight":
                parameter.fill_(1.0)
            else:
                parameter.zero_()
    return module


def _uniform_(parameter: torch.Tensor, bound: float, generator: torch.Generator) -> None:
    # Draw on the generator's device, then copy: works for CPU generators and CUDA parameters alike.
    values = torch.rand(parameter.shape, generator=generator, device=generator.device, dtype=torch.float32)
    parameter.copy_((values * 2.0 - 1.0) * bound)
