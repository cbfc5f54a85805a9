"""The layers' initialisation: nn.Linear's law, from an explicit generator or a fixed named stream."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats

from cim_emu import CrossbarLinear, MCDropConnectLinear


@pytest.mark.parametrize("layer_class", [CrossbarLinear, MCDropConnectLinear])
def test_initialisation_ignores_the_global_generator(layer_class):
    with torch.random.fork_rng():  # the global state is restored afterwards
        torch.manual_seed(1)
        first = layer_class(12, 5)
        torch.manual_seed(2)
        second = layer_class(12, 5)
    assert torch.equal(first.weight, second.weight)
    if first.bias is not None:
        assert torch.equal(first.bias, second.bias)


def test_initialisation_from_a_generator_is_reproducible_and_independent_per_seed():
    def layer(seed):
        return CrossbarLinear(12, 5, generator=torch.Generator().manual_seed(seed))

    assert torch.equal(layer(3).weight, layer(3).weight)
    assert not torch.equal(layer(3).weight, layer(4).weight)
    assert not torch.equal(layer(3).weight, CrossbarLinear(12, 5).weight)


def test_initial_weights_follow_the_uniform_law_of_nn_linear():
    in_features = 64
    layer = CrossbarLinear(in_features, 300, generator=torch.Generator().manual_seed(0))
    bound = 1 / math.sqrt(in_features)
    values = layer.weight.detach().flatten().double().numpy()
    assert abs(values).max() <= bound
    assert stats.kstest(values, stats.uniform(loc=-bound, scale=2 * bound).cdf).pvalue > 1e-3
    bias = layer.bias.detach().double().numpy()
    assert stats.kstest(bias, stats.uniform(loc=-bound, scale=2 * bound).cdf).pvalue > 1e-3


def test_a_wrong_generator_is_refused():
    with pytest.raises(ValueError, match="reset_parameters is stochastic: pass generator=torch.Generator"):
        CrossbarLinear(4, 2, generator=1234)


def test_a_copied_or_unpickled_programmed_layer_still_runs_on_its_tile_and_still_catches_edits():
    import copy
    import pickle

    from cim_emu import CrossbarLinear

    generator = torch.Generator().manual_seed(3)
    layer = CrossbarLinear(8, 4, generator=generator).program(generator=generator).eval()
    inputs = torch.randn(5, 8, generator=generator)
    def read(module):  # the same read-noise stream every time: equal conductances give equal outputs
        return module(inputs, generator=torch.Generator().manual_seed(9))

    expected = read(layer)
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert torch.equal(read(clone), expected)
        with torch.no_grad():
            clone.weight.add_(0.1)
        with pytest.raises(ValueError, match="changed since program"):
            read(clone)
