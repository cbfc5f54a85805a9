"""IsingModel: validation of J and h, energies, the .npz format, colouring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cim_emu.sampling import IsingModel, check_blocks, colour_blocks, greedy_colouring, load_model_npz
from cim_emu.sampling.exact import all_states


def test_energy_matches_the_definition():
    model = IsingModel.random(5, generator=np.random.default_rng(0))
    spins = all_states(5)
    expected = torch.stack([-0.5 * s @ model.J @ s - model.h @ s for s in spins])
    assert torch.allclose(model.energy(spins), expected, atol=1e-12)
    # The local field is the energy change of flipping a spin: E(-m_i) - E(m_i) = 2 m_i I_i.
    flipped = spins.clone()
    flipped[:, 2] *= -1
    assert torch.allclose(model.energy(flipped) - model.energy(spins),
                          2 * spins[:, 2] * model.local_fields(spins)[:, 2], atol=1e-12)


@pytest.mark.parametrize("couplings, fields, message", [
    (np.zeros((2, 3)), np.zeros(2), "square"),
    (np.array([[0.0, 1.0], [2.0, 0.0]]), np.zeros(2), "not symmetric"),
    (np.array([[1.0, 0.0], [0.0, 0.0]]), np.zeros(2), "diagonal"),
    (np.array([[0.0, np.nan], [np.nan, 0.0]]), np.zeros(2), "finite"),
    (np.zeros((2, 2)), np.array([0.0, np.inf]), "finite"),
    (np.zeros((2, 2)), np.zeros(3), "h: expected shape"),
])
def test_bad_models_are_refused(couplings, fields, message):
    with pytest.raises(ValueError, match=message):
        IsingModel(torch.from_numpy(couplings), torch.from_numpy(fields))


def test_npz_round_trip_and_errors(tmp_path):
    model = IsingModel.random(4, generator=np.random.default_rng(1))
    path = tmp_path / "model.npz"
    model.save_npz(path)
    loaded = load_model_npz(path)
    assert torch.equal(loaded.J, model.J) and torch.equal(loaded.h, model.h)
    np.savez(tmp_path / "missing.npz", J=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"missing\.npz: missing array\(s\) \['h'\]"):
        load_model_npz(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="junk.npz: not a readable"):
        load_model_npz(tmp_path / "junk.npz")
    with pytest.raises(ValueError, match=r"more than 3 spins; pass --allow-large"):
        load_model_npz(path, max_spins=3)
    np.savez(tmp_path / "diag.npz", J=np.eye(2), h=np.zeros(2))
    with pytest.raises(ValueError, match=r"diag\.npz: J: diagonal entry \(0, 0\)"):
        load_model_npz(tmp_path / "diag.npz")


@pytest.mark.parametrize("density", [0.1, 0.5, 1.0])
def test_colouring_gives_independent_sets(density):
    model = IsingModel.random(40, density=density, generator=np.random.default_rng(2))
    colours = greedy_colouring(model)
    coupled = (model.J != 0).numpy()
    assert not np.any(coupled & (colours[:, None] == colours[None, :]))
    max_degree = int(coupled.sum(axis=1).max())
    assert colours.max() + 1 <= max_degree + 1
    blocks = colour_blocks(model)
    check_blocks(model, blocks)
    assert sorted(np.concatenate(blocks).tolist()) == list(range(40))


def test_check_blocks_refuses_coupled_spins():
    model = IsingModel.random(4, generator=np.random.default_rng(3))
    with pytest.raises(ValueError, match="are coupled"):
        check_blocks(model, [np.arange(4)])
    with pytest.raises(ValueError, match="updated 0 times"):
        check_blocks(model, [np.array([0]), np.array([1]), np.array([2])])
