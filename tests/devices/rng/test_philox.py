"""The one Philox4x32-10: Random123 known answers for both twins, their agreement, the key draw, Box-Muller."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch

from devices.rng import draw_key, draw_seed
from devices.rng.philox import box_muller_torch, key_words, philox4x32_torch

# Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter[4], key[2] -> result[4].
KAT_VECTORS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize(("counter", "key", "expected"), KAT_VECTORS)
def test_torch_philox_matches_random123_with_either_key_form(counter, key, expected):
    counter_tensors = tuple(torch.tensor([c], dtype=torch.int64) for c in counter)
    from_pair = philox4x32_torch(counter_tensors, key)
    from_integer = philox4x32_torch(counter_tensors, key[0] | (key[1] << 32))
    assert tuple(int(w) for w in from_pair) == expected
    assert tuple(int(w) for w in from_integer) == expected


@pytest.mark.parametrize(("counter", "key", "expected"), KAT_VECTORS)
@pytest.mark.parametrize("word_type", [np.uint32, np.uint64])
def test_numba_philox_matches_random123_for_uint32_and_uint64_words(counter, key, expected, word_type):
    from devices.rng.philox_numba import philox4x32_numba

    words = philox4x32_numba(*(word_type(c) for c in counter), *(word_type(k) for k in key))
    assert tuple(int(w) for w in words) == expected


def test_numba_and_torch_twins_give_the_same_words_on_random_counters():
    from devices.rng.philox_numba import philox4x32_numba

    counters = np.random.default_rng(5).integers(0, 2**32, size=(200, 4), dtype=np.uint64)
    key = 0x0123_4567_89AB_CDEF
    expected = torch.stack(philox4x32_torch(tuple(torch.from_numpy(counters.astype(np.int64)).T), key), 1)
    key_0, key_1 = np.uint64(key & 0xFFFFFFFF), np.uint64(key >> 32)
    got = [[int(w) for w in philox4x32_numba(*row, key_0, key_1)] for row in counters]
    assert got == expected.tolist()


def test_torch_counter_words_may_be_ints_and_broadcast():
    rows = torch.arange(3).reshape(3, 1)
    columns = torch.arange(5).reshape(1, 5)
    words = philox4x32_torch((rows, columns, 7, 0), 11)
    assert words[0].shape == (3, 5)
    single = philox4x32_torch((torch.tensor([2]), torch.tensor([4]), torch.tensor([7]), torch.tensor([0])), 11)
    assert all(int(w[2, 4]) == int(s) for w, s in zip(words, single, strict=True))
    with pytest.raises(ValueError, match="at least one counter word must be a tensor"):
        philox4x32_torch((0, 0, 0, 0), 11)


def test_key_words_split_and_validate():
    assert key_words(0x1122334455667788) == (0x55667788, 0x11223344)
    assert key_words((np.uint32(3), 4)) == (3, 4)
    for bad in (-1, 2**64, 1.5, True, (1,), (1, 2**32), (1.0, 2)):
        with pytest.raises(ValueError, match="Philox key"):
            key_words(bad)


def test_box_muller_normals_are_standard_gaussian_and_twins_agree():
    from devices.rng.philox_numba import box_muller_numba

    words = philox4x32_torch((torch.arange(40000), 0, 0, 0), 99)
    normals = torch.cat(box_muller_torch(words[0], words[1], torch.float64)
                        + box_muller_torch(words[2], words[3], torch.float64))
    assert scipy.stats.kstest(normals.numpy(), "norm").pvalue > 1e-3
    # Tail cut of the 24-bit radius: |z| <= sqrt(-2 ln 2^-25) = 5.89.
    assert float(normals.abs().max()) <= 5.8871
    for j in range(0, 40000, 997):  # the polynomial ln / sin / cos of the numba twin against libm
        numba_four = box_muller_numba(*(np.uint64(int(w[j])) for w in words))
        torch_four = [float(z[j]) for pair in (box_muller_torch(words[0], words[1], torch.float64),
                                                box_muller_torch(words[2], words[3], torch.float64)) for z in pair]
        np.testing.assert_allclose(numba_four, torch_four, rtol=0, atol=1e-12)


def test_draw_key_is_the_one_key_draw():
    assert draw_seed is draw_key
    first = draw_key(torch.Generator().manual_seed(3))
    assert first == draw_key(torch.Generator().manual_seed(3))
    assert first != draw_key(torch.Generator().manual_seed(4))
    assert 0 <= first < 2**63 - 1
    generator = torch.Generator().manual_seed(3)
    assert draw_key(generator) != draw_key(generator)  # each call advances the generator: a fresh stream
    with pytest.raises(ValueError, match="the macrospin solver is stochastic: pass generator=torch.Generator"):
        draw_key(None, "the macrospin solver")
    with pytest.raises(ValueError, match="torch.Generator"):
        draw_key(np.random.default_rng(0))


def test_old_names_still_import_and_are_the_one_implementation():
    import devices.macrospin
    import devices.macrospin.kernel_numba
    import devices.rng.philox_numba
    from cim_emu.crossbar.kernels import draw_seed as kernels_draw_seed
    from cim_emu.crossbar.kernels import philox4x32_numba
    from cim_emu.crossbar.kernels import philox4x32_torch as kernels_torch
    from cim_emu.rng import draw_key as cim_draw_key

    assert devices.macrospin.draw_key is draw_key is kernels_draw_seed is cim_draw_key
    assert devices.macrospin.philox4x32_torch is philox4x32_torch is kernels_torch
    assert devices.macrospin.box_muller_torch is box_muller_torch
    assert philox4x32_numba is devices.macrospin.kernel_numba.philox4x32_numba
    assert philox4x32_numba is devices.rng.philox_numba.philox4x32_numba
    assert devices.macrospin.kernel_numba.box_muller_numba is devices.rng.philox_numba.box_muller_numba


@pytest.mark.gpu
def test_torch_philox_on_cuda_gives_the_cpu_words():
    counters = torch.from_numpy(np.random.default_rng(6).integers(0, 2**32, size=(4, 1000), dtype=np.int64))
    key = 0x0F1E_2D3C_4B5A_6978
    on_cpu = torch.stack(philox4x32_torch(tuple(counters), key))
    on_cuda = torch.stack(philox4x32_torch(tuple(counters.cuda()), key))
    assert torch.equal(on_cuda.cpu(), on_cpu)
    for counter, key_pair, expected in KAT_VECTORS:
        words = philox4x32_torch(tuple(torch.tensor([c], device="cuda") for c in counter), key_pair)
        assert tuple(int(w) for w in words) == expected
