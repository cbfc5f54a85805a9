"""Named seed streams: a child depends only on the root seed and its path; children are independent."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch

from devices.rng import SeedStream, as_seed_stream


def test_a_child_depends_only_on_the_root_seed_and_its_path():
    root = SeedStream(5)
    assert root.child("a").child("b").integer() == SeedStream(5).child("a").child("b").integer()
    assert root.child("a").integer() != root.child("b").integer()
    assert root.child("a").integer() != SeedStream(6).child("a").integer()
    assert root.index(0).integer() != root.child("a").integer()
    assert [s.integer() for s in root.spawn(3)] == [root.index(k).integer() for k in range(3)]
    assert str(root.child("sllg").index(2)) == "5/sllg/2"
    assert as_seed_stream(5) == root and as_seed_stream(root) is root


def test_derived_generators_are_seeded_from_the_stream():
    stream = SeedStream(11).child("read_noise")
    assert torch.equal(torch.rand(5, generator=stream.torch_generator()),
                       torch.rand(5, generator=stream.torch_generator("cpu")))
    np.testing.assert_array_equal(stream.numpy_generator().random(5), stream.numpy_generator().random(5))
    assert 0 <= stream.integer(63) < 2**63 and 0 <= stream.integer(1) <= 1
    assert stream.integer(64) >> 1 == stream.integer(63)  # the top bits of one word


def test_sibling_streams_are_uncorrelated():
    root = SeedStream(0)
    draws = np.stack([root.child(name).numpy_generator().standard_normal(20000) for name in ("a", "b", "c")])
    limit = 5 / np.sqrt(draws.shape[1])  # |r| of independent streams: 5 standard errors
    assert np.max(np.abs(np.corrcoef(draws) - np.eye(3))) < limit
    seeds = [root.index(k).integer(32) for k in range(2000)]
    assert len(set(seeds)) == len(seeds)
    assert scipy.stats.kstest(np.array(seeds) / 2**32, "uniform").pvalue > 1e-3


@pytest.mark.parametrize(("build", "message"), [
    (lambda: SeedStream(-1), "seed must be an integer >= 0"),
    (lambda: SeedStream(1.5), "seed must be an integer >= 0"),
    (lambda: SeedStream(True), "seed must be an integer >= 0"),
    (lambda: SeedStream(0).child(""), "a random stream name must be a non-empty string"),
    (lambda: SeedStream(0).index(-1), "a stream index must be an integer >= 0"),
    (lambda: SeedStream(0).integer(65), "bits must be in 1..64"),
])
def test_bad_seeds_and_names_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_importing_the_rng_package_loads_neither_torch_nor_numba():
    import subprocess
    import sys

    code = ("import sys, devices.rng, cim_emu.rng; from devices.rng import SeedStream, require_generator; "
            "assert not {'torch', 'numba'} & set(sys.modules), sorted({'torch', 'numba'} & set(sys.modules))")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
