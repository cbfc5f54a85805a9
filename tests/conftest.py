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


#: The seed contract (scikit-learn's): a property that must hold for every one of these root seeds.
CONTRACT_SEEDS = tuple(range(100))


@pytest.fixture
def contract_streams():
    """One root :class:`cim_emu.rng.SeedStream` per contract seed 0-99, for statistical properties that must
    hold whatever the seed. Tolerances must then allow for 100 tries (e.g. 5 standard errors: a false failure
    has probability about 100 x 5.7e-7 over the whole contract)."""
    from cim_emu.rng import SeedStream

    return [SeedStream(seed) for seed in CONTRACT_SEEDS]


@pytest.fixture
def torch_generator() -> torch.Generator:
    """A CPU torch generator with a fixed seed."""
    return torch.Generator().manual_seed(20241123)


@pytest.fixture
def numpy_generator() -> np.random.Generator:
    """A numpy generator with a fixed seed."""
    return np.random.default_rng(20241123)
