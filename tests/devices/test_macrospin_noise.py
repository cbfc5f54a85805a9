"""The solver's counter-based noise: agreement of the backends, Gaussian law (Philox itself: tests/devices/rng)."""

from __future__ import annotations

import numpy as np
import scipy.stats
import torch

from devices.macrospin import Stream, philox_normals_torch


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
