"""The seed contract: MC-dropconnect masks keep each cell at its probability for every root seed 0-99."""

from __future__ import annotations

import math

import torch

from cim_emu.crossbar.kernels import keep_masks, keep_thresholds


def test_mask_keep_rate_holds_for_every_contract_seed(contract_streams):
    # Two cell populations (P = 0.5 and a skewed 0.2) so a stream that ignored the threshold would fail.
    probabilities = torch.full((32, 64), 0.5, dtype=torch.float64)
    probabilities[:, 32:] = 0.2
    thresholds = keep_thresholds(probabilities)
    n_rows = 8
    n_per_half = n_rows * 32 * 32
    for stream in contract_streams:
        seed = stream.child("masks").integer(63)
        masks = keep_masks(thresholds, seed, n_rows)
        for columns, p in ((slice(0, 32), 0.5), (slice(32, 64), 0.2)):
            rate = masks[:, :, columns].double().mean().item()
            standard_error = math.sqrt(p * (1 - p) / n_per_half)
            assert abs(rate - p) < 5 * standard_error, (str(stream), p, rate)


def test_contract_streams_are_distinct_and_reproducible(contract_streams):
    seeds = [stream.child("masks").integer(63) for stream in contract_streams]
    assert len(set(seeds)) == len(seeds)
    assert seeds == [type(stream)(stream.seed).child("masks").integer(63) for stream in contract_streams]
