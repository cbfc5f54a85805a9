"""The Triton Philox4x32-10 twin: Random123 known answers and agreement with the torch twin."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

from cim_emu.crossbar.kernels.triton import philox_words  # noqa: E402
from devices.rng.philox import philox4x32_torch  # noqa: E402
from tests.devices.rng.test_philox import KAT_VECTORS  # noqa: E402  (Random123's known answers)

pytestmark = pytest.mark.triton



@pytest.mark.parametrize(("counter", "key", "expected"), KAT_VECTORS)
def test_triton_philox_matches_random123(counter, key, expected, device):
    words = philox_words(torch.tensor(counter, dtype=torch.int64, device=device)[:, None], key)
    assert tuple(int(word) for word in words[:, 0]) == expected


@pytest.mark.parametrize("key", [(0, 0), (1, 1), (0x7FFFFFFF, 0x80000000), (0xFFFFFFFF, 0x12345678)])
def test_triton_and_torch_twins_agree_on_random_counters(key, device):
    # Keys 0 and 1 and words past 2^31 are where triton's integer specialisation and signedness could bite.
    generator = torch.Generator().manual_seed(17)
    counter = torch.randint(0, 2**32, (4, 300), generator=generator, dtype=torch.int64).to(device)
    expected = torch.stack(philox4x32_torch(tuple(counter), key))
    assert torch.equal(philox_words(counter, key), expected)


def test_philox_words_rejects_bad_counters_and_keys(device):
    with pytest.raises(ValueError, match="counter"):
        philox_words(torch.zeros((3, 2), dtype=torch.int64, device=device), (0, 0))
    with pytest.raises(ValueError, match="2\\^32"):
        philox_words(torch.full((4, 2), 2**32, dtype=torch.int64, device=device), (0, 0))
    with pytest.raises(ValueError, match="key"):
        philox_words(torch.zeros((4, 2), dtype=torch.int64, device=device), (2**32, 0))


def test_cpu_tensors_outside_the_interpreter_are_refused_with_the_fix(monkeypatch):
    import cim_emu.crossbar.kernels.triton.philox as philox_module

    monkeypatch.setattr(philox_module, "INTERPRETED", False)
    with pytest.raises(ValueError, match="TRITON_INTERPRET=1"):
        philox_words(torch.zeros((4, 2), dtype=torch.int64), (0, 0))
    from cim_emu.crossbar.kernels.triton import masked_mvm_triton

    with pytest.raises(ValueError, match="CUDA tensors"):
        masked_mvm_triton(torch.zeros((1, 4)), torch.zeros((2, 4)), torch.zeros((2, 4), dtype=torch.int32), seed=1)
