"""The CUDA tile backend (Triton readout) against the CPU tile backend: same generator, same outputs."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

from cim_emu.crossbar.kernels.backend import FloatBackend, ReadoutSpec  # noqa: E402
from cim_emu.crossbar.kernels.triton import cuda_tile_backend  # noqa: E402
from cim_emu.crossbar.kernels.triton.backend import TritonTileBackend  # noqa: E402

pytestmark = pytest.mark.triton


@pytest.mark.parametrize("spec", [ReadoutSpec(full_scale_A=2e-5, step_A=2e-5 / 127, unit_A=1e-6),
                                  ReadoutSpec(full_scale_A=None, step_A=None, unit_A=1e-6)])
def test_triton_readout_equals_the_cpu_backend_for_the_same_generator(spec, device):
    generator = torch.Generator().manual_seed(8)
    currents = 1e-5 * torch.randn((2, 6, 40), generator=generator, dtype=torch.float64)
    variance = 1e-13 * torch.rand((2, 3, 40), generator=generator, dtype=torch.float64)
    expected = FloatBackend("float").read_out(currents.clone(), variance, spec, torch.Generator().manual_seed(4))
    got = TritonTileBackend("float").read_out(currents.to(device), variance.to(device), spec,
                                              torch.Generator(device=device).manual_seed(4))
    # The key is one draw from the generator: equal generators give the same stream on both backends.
    assert torch.allclose(got.cpu(), expected, rtol=0, atol=1e-9)


def test_noiseless_readout_and_the_factory(device, monkeypatch):
    import cim_emu.crossbar.kernels.triton as triton_kernels

    spec = ReadoutSpec(full_scale_A=1.0, step_A=0.25, unit_A=0.5)
    currents = torch.tensor([[[0.1, 0.4, 2.0]], [[0.3, -0.2, 0.0]]], dtype=torch.float32, device=device)
    got = TritonTileBackend().read_out(currents, None, spec, None)
    assert got.cpu().tolist() == [[0.5, 0.5, 2.0]]   # (0.0 + 0.25) / 0.5, (0.5 - 0.25) / 0.5, (1.0 + 0.0) / 0.5
    monkeypatch.setattr(triton_kernels, "triton_available", lambda: True)
    assert isinstance(cuda_tile_backend(torch.float32), TritonTileBackend)
    assert cuda_tile_backend(torch.float64).variance_method == "float"
