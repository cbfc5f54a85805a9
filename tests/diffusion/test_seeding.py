"""The run's named streams: children of one root SeedStream, refused when misnamed, independent per comparison."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cim_emu.rng import SeedStream
from diffusion import STREAMS, metrics_stream, numpy_stream, stream, torch_stream


def test_streams_are_named_children_of_the_root_seed_stream():
    root = SeedStream(7)
    for name in STREAMS:
        expected = root.child(name).torch_generator().initial_seed()
        assert torch_stream(7, name).initial_seed() == expected == torch_stream(root, name).initial_seed()
        assert stream(7, name) == root.child(name)
    # Numpy streams of the same name come from the same node.
    assert np.array_equal(numpy_stream(7, "metrics").integers(0, 2**62, 8),
                          root.child("metrics").numpy_generator().integers(0, 2**62, 8))


def test_streams_differ_by_name_and_by_root_seed():
    seeds = {torch_stream(3, name).initial_seed() for name in STREAMS}
    assert len(seeds) == len(STREAMS)
    assert torch_stream(3, "sde_noise").initial_seed() != torch_stream(4, "sde_noise").initial_seed()
    first = torch.randn(4, generator=torch_stream(3, "sde_noise"))
    assert torch.equal(first, torch.randn(4, generator=torch_stream(3, "sde_noise")))


def test_each_comparison_has_its_own_metrics_stream():
    draws = {name: metrics_stream(0, name).integers(0, 2**62, 4).tolist()
             for name in ("in-situ vs ex-situ", "no-noise vs ex-situ", "in-situ vs real")}
    assert len({tuple(values) for values in draws.values()}) == 3
    # A comparison's draws depend on its name only, not on which streams were used before.
    assert metrics_stream(0, "in-situ vs ex-situ").integers(0, 2**62, 4).tolist() == draws["in-situ vs ex-situ"]
    assert (metrics_stream(0, "in-situ vs ex-situ").integers(0, 2**62, 4).tolist()
            == SeedStream(0).child("metrics").child("in-situ vs ex-situ").numpy_generator().integers(0, 2**62, 4)
            .tolist())


def test_unknown_stream_names_and_bad_seeds_are_refused():
    with pytest.raises(ValueError, match="unknown random stream 'read_nosie'"):
        torch_stream(0, "read_nosie")
    with pytest.raises(ValueError, match="seed"):
        torch_stream(-1, "read_noise")
    with pytest.raises(ValueError, match="comparison"):
        metrics_stream(0, "")
