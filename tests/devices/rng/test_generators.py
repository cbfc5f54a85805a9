"""The one generator check, and child streams drawn from a caller's generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from devices.rng import derived_generator, require_generator


def test_require_generator_returns_the_generator_of_the_right_kind():
    torch_generator = torch.Generator().manual_seed(0)
    numpy_generator = np.random.default_rng(0)
    assert require_generator(torch_generator, "x") is torch_generator
    assert require_generator(numpy_generator, "x", kind="numpy") is numpy_generator


@pytest.mark.parametrize(("generator", "kind", "message"), [
    (None, "torch", r"the solver is stochastic: pass generator=torch.Generator\(device\).manual_seed\(seed\)"),
    (np.random.default_rng(0), "torch", "got Generator"),
    (torch.Generator(), "numpy", r"pass generator=numpy.random.default_rng\(seed\)"),
    (0, "numpy", "SeedStream; got int"),
])
def test_require_generator_refuses_a_missing_or_wrong_generator_with_the_fix(generator, kind, message):
    with pytest.raises(ValueError, match=message):
        require_generator(generator, "the solver", kind=kind)
    with pytest.raises(ValueError, match="kind must be 'torch' or 'numpy'"):
        require_generator(torch.Generator(), "x", kind="jax")


def test_derived_generator_is_a_reproducible_independent_child():
    parent = torch.Generator().manual_seed(7)
    child = derived_generator(parent)
    after_child = torch.rand(4, generator=parent)
    # Using the child (any amount) never changes what the parent draws next.
    parent_again = torch.Generator().manual_seed(7)
    child_again = derived_generator(parent_again)
    torch.rand(1000, generator=child_again)
    assert torch.equal(torch.rand(4, generator=parent_again), after_child)
    assert torch.equal(torch.rand(8, generator=child), torch.rand(8, generator=derived_generator(
        torch.Generator().manual_seed(7))))
    assert child.device == torch.device("cpu")
    with pytest.raises(ValueError, match="generate_bitstream is stochastic"):
        derived_generator(None, what="generate_bitstream")
