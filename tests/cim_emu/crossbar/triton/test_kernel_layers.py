"""MC-dropconnect through the public layer on the Triton backend (what CUDA tensors run): the same outputs and
gradients as on the CPU kernel for the same generator, because the masks are the same."""

from __future__ import annotations

import copy
import importlib

import pytest
import torch

pytest.importorskip("triton")

from cim_emu import CrossbarConfig, MCDropConnectLinear  # noqa: E402
from cim_emu.crossbar.kernels.masked_mvm import MaskBackend  # noqa: E402

pytestmark = pytest.mark.triton

# The module, not the function of the same name that the kernels package re-exports.
masked_mvm_module = importlib.import_module("cim_emu.crossbar.kernels.masked_mvm")


def test_layer_outputs_and_gradients_match_the_cpu_kernel(device, monkeypatch):
    # Three 16-row arrays (row blocks). No ADC: its rounding turns the float-rounding differences of the two
    # summation orders into whole ADC steps at exact ties, which DAC-quantised inputs make frequent.
    config = CrossbarConfig(weight_bits=1, array_rows=16, array_cols=16, adc_bits=None, adc_range_cells=None)
    layer = MCDropConnectLinear(40, 7, config=config, generator=torch.Generator().manual_seed(0))
    inputs = torch.randn((3, 40), generator=torch.Generator().manual_seed(1))
    expected = layer(inputs, generator=torch.Generator().manual_seed(5), n_samples=2)
    expected.square().sum().backward()
    moved = copy.deepcopy(layer).to(device)
    moved.zero_grad()
    if device == "cpu":
        # CPU tensors default to the numba kernel; the interpreter runs the Triton one on them instead.
        monkeypatch.setattr(masked_mvm_module, "default_backend", lambda _device: MaskBackend.TRITON)
    got = moved(inputs.to(device), generator=torch.Generator().manual_seed(5), n_samples=2)
    got.square().sum().backward()
    assert got.shape == expected.shape == (2, 3, 7)
    assert torch.allclose(got.detach().cpu(), expected.detach(), rtol=1e-5, atol=1e-5)
    assert torch.allclose(moved.weight.grad.cpu(), layer.weight.grad, rtol=1e-4, atol=1e-4)
