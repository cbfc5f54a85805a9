"""The counter-based p-bit Gibbs update (torch reference): its stream, its laws and its flip frequencies."""

from __future__ import annotations

import pytest
import torch

import devices
from cim_emu.sampling.pbit_law import PBitArray, PBitUpdateLaw, ideal_up_probability
from cim_emu.sampling.pbit_update import (
    CardLaw,
    gibbs_update,
    gibbs_update_torch,
    up_probability_torch,
    update_uniforms,
)
from devices.rng.philox import philox4x32_torch


def _array(n_spins: int) -> PBitArray:
    return PBitArray.draw(PBitUpdateLaw(trim=False), devices.default_card(), n_spins,
                          generator=torch.Generator().manual_seed(5))


def test_uniforms_are_word_zero_of_the_sweep_chain_spin_counter():
    key = 0x0123456789ABCDEF
    got = update_uniforms(key, 7, 3, 5, chain_offset=2, spin_offset=40)
    for chain in range(3):
        for spin in range(5):
            counter = (torch.tensor(7), torch.tensor(2 + chain), torch.tensor(40 + spin), torch.tensor(0))
            word = int(philox4x32_torch(counter, key)[0])
            assert float(got[chain, spin]) == (word >> 8) / 2**24
    assert bool(((got >= 0) & (got < 1)).all())


def test_blocks_and_chain_slices_see_the_same_stream():
    # The result depends on (sweep, chain, spin) only: splitting the spins into blocks or the chains into batches
    # with the matching offsets gives the same spins.
    generator = torch.Generator().manual_seed(1)
    fields = torch.randn((6, 20), generator=generator, dtype=torch.float64)
    key = devices.rng.draw_key(generator)
    whole = gibbs_update_torch(fields, 0.8, key=key, sweep=3)
    left = gibbs_update_torch(fields[:, :7], 0.8, key=key, sweep=3)
    right = gibbs_update_torch(fields[:, 7:], 0.8, key=key, sweep=3, spin_offset=7)
    assert torch.equal(whole, torch.cat([left, right], dim=1))
    assert torch.equal(whole[4:], gibbs_update_torch(fields[4:], 0.8, key=key, sweep=3, chain_offset=4))
    assert not torch.equal(whole, gibbs_update_torch(fields, 0.8, key=key, sweep=4))
    assert set(whole.unique().tolist()) <= {-1.0, 1.0} and whole.dtype == torch.float64


def test_card_law_is_the_pbit_arrays_law():
    array = _array(30)
    fields = torch.linspace(-4.0, 4.0, 3 * 12, dtype=torch.float64).reshape(3, 12)
    law = CardLaw.from_array(array, 10, 22)
    assert torch.equal(up_probability_torch(fields, 0.9, law), array.up_probability(slice(10, 22), fields, 0.9))
    assert torch.equal(up_probability_torch(fields, 0.9), ideal_up_probability(fields, 0.9))


@pytest.mark.parametrize("card", [False, True])
def test_flip_frequency_matches_the_law(card):
    # 4000 chains x 16 spins with fields spread over the law's range, one sweep each: every spin's up-frequency
    # lies within 5 standard errors of its p (fixed key).
    n_chains, n_spins, beta = 4000, 16, 0.75
    column_fields = torch.linspace(-3.0, 3.0, n_spins, dtype=torch.float64)
    fields = column_fields.expand(n_chains, n_spins).contiguous()
    law = CardLaw.from_array(_array(n_spins)) if card else None
    spins = gibbs_update_torch(fields, beta, key=0xDEADBEEF12345, sweep=0, law=law)
    frequency = (spins == 1).to(torch.float64).mean(dim=0)
    p = up_probability_torch(column_fields[None, :], beta, law)[0]
    standard_error = torch.sqrt(p * (1 - p) / n_chains).clamp_min(1.0 / n_chains)
    assert bool(((frequency - p).abs() <= 5 * standard_error).all()), (frequency - p) / standard_error


def test_bad_input_is_refused_with_the_fix():
    fields = torch.zeros((2, 3))
    with pytest.raises(ValueError, match="NaN or inf"):
        gibbs_update_torch(torch.tensor([[0.0, float("nan")]]), 1.0, key=1, sweep=0)
    with pytest.raises(ValueError, match="beta"):
        gibbs_update_torch(fields, -1.0, key=1, sweep=0)
    with pytest.raises(ValueError, match="sweep"):
        gibbs_update_torch(fields, 1.0, key=1, sweep=2**32)
    with pytest.raises(ValueError, match="Philox key"):
        gibbs_update_torch(fields, 1.0, key=-3, sweep=0)
    with pytest.raises(ValueError, match="CardLaw.from_array"):
        gibbs_update_torch(fields, 1.0, key=1, sweep=0, law=CardLaw.from_array(_array(5)))
    with pytest.raises(ValueError, match="chains, k"):
        gibbs_update_torch(torch.zeros(3), 1.0, key=1, sweep=0)
    with pytest.raises(ValueError, match="within 2"):
        gibbs_update_torch(fields, 1.0, key=1, sweep=0, spin_offset=2**32 - 2)


def test_dispatch_runs_the_torch_reference_off_cuda():
    fields = torch.randn((3, 9), generator=torch.Generator().manual_seed(2))
    law = CardLaw.from_array(_array(9))
    assert torch.equal(gibbs_update(fields, 1.1, key=77, sweep=2, law=law),
                       gibbs_update_torch(fields, 1.1, key=77, sweep=2, law=law))
