"""The Triton p-bit Gibbs update against the torch reference: bit-identical spins for the same key and sweep."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

import devices  # noqa: E402
from cim_emu.sampling.pbit_law import PBitArray, PBitUpdateLaw  # noqa: E402
from cim_emu.sampling.pbit_update import CardLaw, gibbs_update_torch  # noqa: E402
from cim_emu.sampling.triton_gibbs import gibbs_update_triton  # noqa: E402

pytestmark = pytest.mark.triton


def _fields(n_chains, n_spins, dtype):
    # Fields over the whole law (saturated tails included), so the ceilings and floors are exercised too.
    generator = torch.Generator().manual_seed(17)
    return (3.0 * torch.randn((n_chains, n_spins), generator=generator, dtype=torch.float64)).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("card", "trim"), [(False, True), (True, True), (True, False)])
def test_spins_match_the_torch_reference(dtype, card, trim, device):
    # 9 x 61 = 549 updates: two full programs of 256 and a short one; offsets into a larger run's chains/spins.
    fields = _fields(9, 61, dtype)
    law = None
    if card:
        array = PBitArray.draw(PBitUpdateLaw(trim=trim), devices.default_card(), 100,
                               generator=torch.Generator().manual_seed(3))
        law = CardLaw.from_array(array, 30, 91)
    key = devices.rng.draw_key(torch.Generator().manual_seed(8))
    for sweep, beta in ((0, 0.5), (2**32 - 1, 1.3)):
        expected = gibbs_update_torch(fields, beta, key=key, sweep=sweep, chain_offset=5, spin_offset=30, law=law)
        device_law = None if law is None else CardLaw.from_array(array, 30, 91, device=device)
        got = gibbs_update_triton(fields.to(device), beta, key=key, sweep=sweep, chain_offset=5, spin_offset=30,
                                  law=device_law)
        assert got.dtype == dtype and got.shape == fields.shape
        assert torch.equal(got.cpu(), expected)
        # Both outcomes occur (the test is not passing on an all-equal block).
        assert 0 < int((expected == 1).sum()) < expected.numel()


def test_empty_and_bad_input(device):
    assert gibbs_update_triton(torch.zeros((0, 4), device=device), 1.0, key=1, sweep=0).shape == (0, 4)
    with pytest.raises(ValueError, match="NaN or inf"):
        gibbs_update_triton(torch.full((2, 2), float("inf"), device=device), 1.0, key=1, sweep=0)


def test_cuda_dispatch_takes_the_kernel(monkeypatch, device):
    # gibbs_update sends CUDA tensors to the kernel: pretend the interpreter's CPU is a CUDA device with triton.
    from cim_emu.crossbar.kernels import triton as triton_package
    from cim_emu.sampling import triton_gibbs as gibbs_module
    from cim_emu.sampling.pbit_update import gibbs_update

    calls = []
    kernel = gibbs_module.gibbs_update_triton

    def counting(*args, **kwargs):
        calls.append(1)
        return kernel(*args, **kwargs)

    monkeypatch.setattr(triton_package, "use_triton", lambda device: True)
    monkeypatch.setattr(gibbs_module, "gibbs_update_triton", counting)
    fields = _fields(4, 10, torch.float32)
    got = gibbs_update(fields.to(device), 0.9, key=5, sweep=1)
    assert calls == [1]
    assert torch.equal(got.cpu(), gibbs_update_torch(fields, 0.9, key=5, sweep=1))


def test_cpu_tensors_are_refused_outside_the_interpreter(monkeypatch):
    from cim_emu.crossbar.kernels.triton import philox

    monkeypatch.setattr(philox, "INTERPRETED", False)
    with pytest.raises(ValueError, match="TRITON_INTERPRET=1"):
        gibbs_update_triton(torch.zeros((2, 2)), 1.0, key=1, sweep=0)


_COMPILE = """
import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from cim_emu.sampling import triton_gibbs as gibbs
types = dict(n_elements="i64", n_spins="i32", sweep="i32", chain_offset="i32", spin_offset="i32", key_0="i32",
             key_1="i32", params_ptr="*fp64", centre_ptr="*fp64", offset_ptr="*fp64")
for capability in (80, 90):
    for pointer in ("*fp32", "*fp64", "*bf16"):
        for card in (False, True):
            constants = dict(CARD=card, BLOCK=gibbs._BLOCK)
            given = {**types, "fields_ptr": pointer, "out_ptr": pointer}
            signature = {n: "constexpr" if n in constants else given[n] for n in gibbs._gibbs_kernel.arg_names}
            triton.compile(ASTSource(fn=gibbs._gibbs_kernel, signature=signature, constexprs=constants),
                           target=GPUTarget("cuda", capability, 32))
print("compiled")
"""


@pytest.mark.slow
def test_kernel_compiles_for_ampere_and_hopper():
    # The interpreter runs numpy, not Triton's lowering: compile for sm_80 and sm_90 in a process without it.
    import os
    import subprocess
    import sys

    environment = {name: value for name, value in os.environ.items() if name != "TRITON_INTERPRET"}
    result = subprocess.run([sys.executable, "-c", _COMPILE], env=environment, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0 and "compiled" in result.stdout, result.stderr[-2000:]
