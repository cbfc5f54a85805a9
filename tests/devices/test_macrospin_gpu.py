"""The CUDA path runs the same torch code as the CPU reference: same integers, same trajectories, same statistics.

Skipped without CUDA (tests/conftest.py); unmeasured in the task that wrote it (no GPU was available).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from devices.macrospin import (
    Backend,
    MacrospinParams,
    Precision,
    SolverConfig,
    Stream,
    philox4x32_torch,
    philox_normals_torch,
    simulate_switching,
    switching_map,
)

pytestmark = pytest.mark.gpu
PARAMS = MacrospinParams()


def test_philox_integers_are_identical_on_cuda():
    index = torch.arange(100000, dtype=torch.int64) * 7919 + (1 << 33)
    cpu = philox4x32_torch((torch.tensor(5), index & 0xFFFFFFFF, index >> 32, 2), 0x1234_5678_9ABC)
    cuda = philox4x32_torch((torch.tensor(5, device="cuda"), (index & 0xFFFFFFFF).cuda(), (index >> 32).cuda(), 2),
                            0x1234_5678_9ABC)
    for a, b in zip(cpu, cuda, strict=True):
        assert torch.equal(a, b.cpu())
    normals_cpu = torch.stack(philox_normals_torch(3, index, Stream.THERMAL_FIELD, 9), 1)
    normals_cuda = torch.stack(philox_normals_torch(3, index.cuda(), Stream.THERMAL_FIELD, 9), 1)
    torch.testing.assert_close(normals_cuda.cpu(), normals_cpu, rtol=0, atol=1e-12)


@pytest.mark.parametrize("backend", [Backend.TORCH, Backend.TORCH_COMPILE])
def test_cuda_float64_trajectories_match_the_cpu_fast_path(backend):
    amplitudes = torch.linspace(0.9, 2.3, 256, dtype=torch.float64)
    cpu = simulate_switching(PARAMS, amplitudes, 700e-12, generator=torch.Generator().manual_seed(3))
    cuda = simulate_switching(PARAMS, amplitudes, 700e-12, generator=torch.Generator().manual_seed(3),
                              config=SolverConfig(backend=backend), device="cuda")
    assert cuda.backend == backend.value, cuda.note
    assert torch.equal(cpu.switched, cuda.switched.cpu())
    np.testing.assert_allclose(cpu.final_magnetisation.numpy(), cuda.final_magnetisation.cpu().numpy(), atol=1e-7)


def test_cuda_generator_and_float32_compiled_statistics():
    n = 4000
    config = SolverConfig(backend=Backend.TORCH_COMPILE, precision=Precision.FLOAT32)
    generator = torch.Generator(device="cuda").manual_seed(4)
    fast = simulate_switching(PARAMS.thermal_only(), torch.full((n,), 1.52), 700e-12, generator=generator,
                              config=config, device="cuda")
    reference = simulate_switching(PARAMS.thermal_only(), torch.full((n,), 1.52), 700e-12,
                                   generator=torch.Generator().manual_seed(5))
    p, q = float(fast.switched.double().mean()), float(reference.switched.double().mean())
    assert abs(p - q) < 3.29 * np.sqrt(p * (1 - p) / n + q * (1 - q) / n)


def test_cuda_map_is_reproducible():
    kwargs = dict(voltages_V=[1.2, 1.6], pulse_widths_s=[600e-12, 800e-12], n_trials=100, device="cuda",
                  config=SolverConfig(backend=Backend.TORCH, precision=Precision.FLOAT32))
    first = switching_map(PARAMS, generator=torch.Generator().manual_seed(6), **kwargs)
    second = switching_map(PARAMS, generator=torch.Generator().manual_seed(6), **kwargs)
    np.testing.assert_array_equal(first.n_switched, second.n_switched)
