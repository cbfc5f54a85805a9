"""Shared fixtures: one torch thread, seeded generators, the gpu marker."""

from __future__ import annotations

import numpy as np
import pytest
import torch

# Two busy CI cores with two OpenMP threads each run ~10x slower than one thread.
torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs CUDA (torch.cuda.is_available() is False)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture
def torch_generator() -> torch.Generator:
    """A CPU torch generator with a fixed seed."""
    return torch.Generator().manual_seed(20241123)


@pytest.fixture
def numpy_generator() -> np.random.Generator:
    """A numpy generator with a fixed seed."""
    return np.random.default_rng(20241123)
