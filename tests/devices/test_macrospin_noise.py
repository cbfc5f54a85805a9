"""Counter-based noise: Philox known answers, agreement of the backends, Gaussian law."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch

from devices.macrospin import Stream, draw_key, philox4x32_torch, philox_normals_torch

# Random123 kat_vectors, "philox4x32 10": counter (4 words), key (2 words) -> output (4 words).
KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize(("counter", "key", "expected"), KNOWN_ANSWERS)
def test_philox_torch_known_answers(counter, key, expected):
    words = philox4x32_torch(tuple(torch.tensor([c]) for c in counter), key[0] | (key[1] << 32))
    assert tuple(int(w) for w in words) == expected


@pytest.mark.parametrize(("counter", "key", "expected"), KNOWN_ANSWERS)
def test_philox_numba_known_answers(counter, key, expected):
    from devices.macrospin.kernel_numba import philox4x32_numba

    words = philox4x32_numba(*(np.uint64(c) for c in counter), np.uint64(key[0]), np.uint64(key[1]))
    assert tuple(int(w) for w in words) == expected


def test_numba_and_torch_normals_agree():
    from devices.macrospin.kernel_numba import normals_numba

    index = np.arange(20000, dtype=np.int64) * 7919 + (1 << 33)  # also exercises the high counter word
    key = 0x1234_5678_9ABC_DEF
    numba_normals = normals_numba(17, index, int(Stream.PULSE_JITTER), key)
    torch_normals = torch.stack(philox_normals_torch(17, torch.from_numpy(index), Stream.PULSE_JITTER, key), 1)
    # Same integers; only the ln/sin/cos implementations differ (polynomials vs libm).
    np.testing.assert_allclose(numba_normals, torch_normals.numpy(), rtol=0, atol=1e-12)


def test_normals_are_standard_gaussian_and_streams_independent():
    index = torch.arange(50000)
    thermal = torch.stack(philox_normals_torch(3, index, Stream.THERMAL_FIELD, 99), 1)
    initial = torch.stack(philox_normals_torch(3, index, Stream.INITIAL_STATE, 99), 1)
    next_step = torch.stack(philox_normals_torch(4, index, Stream.THERMAL_FIELD, 99), 1)
    for column in range(4):
        assert scipy.stats.kstest(thermal[:, column].numpy(), "norm").pvalue > 1e-3
    # Correlations between components, streams and steps vanish: |r| < 5 / sqrt(n).
    limit = 5 / np.sqrt(index.numel())
    matrix = np.corrcoef(torch.cat([thermal, initial, next_step], 1).numpy().T)
    assert np.max(np.abs(matrix - np.eye(12))) < limit


def test_key_comes_from_the_generator_only():
    assert draw_key(torch.Generator().manual_seed(3)) == draw_key(torch.Generator().manual_seed(3))
    assert draw_key(torch.Generator().manual_seed(3)) != draw_key(torch.Generator().manual_seed(4))
    with pytest.raises(ValueError, match="torch.Generator"):
        draw_key(None)
