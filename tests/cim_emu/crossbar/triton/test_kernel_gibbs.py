"""The Triton p-bit Gibbs update against the torch reference: bit-identical spins for the same key and sweep."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

import devices  # noqa: E402
from cim_emu.crossbar.kernels.triton import gibbs_update_triton  # noqa: E402
from cim_emu.sampling.pbit_law import PBitArray, PBitUpdateLaw  # noqa: E402
from cim_emu.sampling.pbit_update import CardLaw, gibbs_update_torch  # noqa: E402

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
