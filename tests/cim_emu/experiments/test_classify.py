"""The digits classification experiment: metrics, op counting, energy, shipped weights, CLI."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from cim_emu.cli import main
from cim_emu.crossbar.config import CrossbarConfig
from cim_emu.energy.pdnn import ActivationKind, NetworkSize, network_inference_energy
from cim_emu.experiments import classify
from cim_emu.experiments.train_classify import TrainingConfig, train_classify


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_expected_calibration_error_by_hand():
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    labels = np.array([0, 1, 1, 0])
    ece, bins = classify.expected_calibration_error(probabilities, labels, n_bins=2)
    # Bin [0.5, 1): all four, confidence 0.75, accuracy 3/4 -> ECE 0.
    assert ece == pytest.approx(0.0, abs=1e-12) and bins["count"] == [0, 4]
    ece, bins = classify.expected_calibration_error(probabilities, labels, n_bins=10)
    # Bins 0.6 (acc 1), 0.7 (acc 1), 0.8 (acc 0), 0.9 (acc 1): |1-.6| + |1-.7| + |0-.8| + |1-.9| over 4.
    assert ece == pytest.approx((0.4 + 0.3 + 0.8 + 0.1) / 4)
    assert bins["count"][8] == 1 and bins["accuracy"][8] == 0.0


def test_auroc_matches_sklearn_and_the_extremes():
    from sklearn.metrics import roc_auc_score

    generator = np.random.default_rng(0)
    inside, outside = generator.normal(0, 1, 200), generator.normal(0.7, 1, 150).round(1)
    expected = roc_auc_score(np.r_[np.zeros(200), np.ones(150)], np.r_[inside, outside])
    assert classify.auroc(inside, outside) == pytest.approx(expected, abs=1e-12) and 0.6 < expected < 0.8
    assert classify.auroc(np.zeros(5), np.ones(5)) == 1.0 and classify.auroc(np.ones(5), np.zeros(5)) == 0.0
    assert classify.auroc(np.ones(5), np.ones(5)) == 0.5


def _deployed_pbit_cnn():
    network = classify.initialise(classify.build_network("cnn", "pbit"), generator=_generator(0))
    deployed = classify.convert(network, config=CrossbarConfig(weight_bits=2))
    classify.program(deployed, generator=_generator(1))
    return deployed.eval()


def test_measured_ops_share_the_first_layer_and_match_pbit_pulses():
    ops = classify.measure_ops(_deployed_pbit_cnn(), torch.rand(1, 1, 8, 8, generator=_generator(2)),
                               generator=_generator(3))
    pixels = 8 * 8
    assert ops.n_weights == 8 * 9 + 16 * 72 + 10 * 256
    # conv1 runs once per image; conv2 and the classifier once per sample.
    assert ops.shared_compute_ops == 8 * 9 * pixels
    assert ops.sample_compute_ops == 16 * 72 * pixels + 10 * 256
    # Every neuron output is a p-bit sample: the layers' own pulse counters agree with the activations.
    assert ops.sample_activations == (8 + 16) * pixels == ops.sample_pbit_pulses
    assert ops.shared_activations == 0


def test_energy_is_eq4_when_nothing_is_shared():
    ops = classify.MeasuredOps(n_weights=1000, shared_compute_ops=0, sample_compute_ops=5000, shared_activations=0,
                               sample_activations=300, sample_pbit_pulses=300)
    for pbit, bits, kind in ((True, 1, ActivationKind.PBIT), (False, 4, ActivationKind.DETERMINISTIC)):
        expected = network_inference_energy(NetworkSize(1000, 5000, 300), bits_weight=4, bits_activation=bits,
                                            n_samples=7, kind=kind).total_J
        assert classify.inference_energy_J(ops, bits_weight=4, bits_activation=bits, n_samples=7,
                                           pbit=pbit) == pytest.approx(expected, rel=1e-12)


def test_sample_average_probabilities_shapes_and_bad_samples():
    deployed = _deployed_pbit_cnn()
    images = torch.rand(3, 1, 8, 8, generator=_generator(4))
    probabilities = classify.sample_average_probabilities(deployed, images, n_samples=5, generator=_generator(5))
    assert probabilities.shape == (5, 3, 10)
    torch.testing.assert_close(probabilities.sum(dim=-1), torch.ones(5, 3))
    with pytest.raises(ValueError, match="samples"):
        classify.sample_average_probabilities(deployed, images, n_samples=0, generator=_generator(5))
    with pytest.raises(ValueError, match="samples"):
        classify.ClassifyConfig(n_samples=0)
    with pytest.raises(ValueError, match="activations"):
        classify.ClassifyConfig(activations=("int5",))


def test_shipped_weights_run_on_the_tiles():
    config = classify.ClassifyConfig(model="mlp", activations=("float", "int2", "pbit"), n_samples=4,
                                     curve_samples=(1, 2, 4, 8), mc_samples=4)
    result = classify.run_classify(config)
    data = result.to_dict()
    for key in ("accuracy", "accuracy_vs_samples", "energy_per_inference_J", "ece", "ood_auroc"):
        assert key in data
    assert set(data["accuracy"]) == {"float", "int2", "pbit_T1", "pbit_T2", "pbit_T5", "pbit_T10"}
    assert data["accuracy_vs_samples"]["T"] == [1, 2, 4, 8] and len(data["accuracy_vs_samples"]["accuracy"]) == 4
    # A trained digit network on 4-bit crossbars is far above chance (0.1).
    assert data["accuracy"]["float"] > 0.85 and data["accuracy"]["pbit_T10"] > 0.8
    # One sample of a p-bit network costs less than the 32-bit activation network (Eq. 4).
    pbit_one = [p for p in result.energy_points if p.variant == "pbit_T10" and p.n_samples == 1][0]
    assert pbit_one.energy_per_inference_J < data["energy_per_inference_J"]["float"]
    assert 0 <= data["ece"] <= 1 and 0 <= data["ood_auroc"] <= 1
    json.dumps(data)


def test_sample_aware_training_is_seeded_and_learns():
    from cim_emu.experiments.train_classify import train_network
    from cim_emu.rng import SeedStream

    data = classify.load_digits_split(0)
    states = []
    for _ in range(2):
        network = classify.initialise(classify.build_network("mlp", "pbit"), generator=_generator(0))
        train_network(network, data, n_samples=2, n_epochs=2, batch_size=64, learning_rate=1e-2,
                      stream=SeedStream(1))
        states.append(network.state_dict())
    for key, value in states[0].items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, states[1][key]), key
    probabilities = classify.sample_average_probabilities(network, data.test_images, n_samples=8,
                                                          generator=_generator(2)).mean(dim=0)
    # Two epochs take the p-bit MLP far above chance (0.1).
    assert float((probabilities.argmax(dim=1) == data.test_labels).float().mean()) > 0.5


@pytest.mark.slow
def test_regenerating_the_weights_is_seeded_and_learns():
    config = TrainingConfig(models=("mlp",), n_epochs=2, mc_epochs=1, mc_samples=1)
    first, second = train_classify(config), train_classify(config)
    for variant, state in first["models"]["mlp"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, second["models"]["mlp"][variant][key]), (variant, key)
    result = classify.run_classify(classify.ClassifyConfig(model="mlp", activations=("float",), uncertainty=False),
                                   weights=first)
    assert result.accuracy["float"] > 0.5


def test_cli_json_figures_and_bad_input(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["classify", "--model", "mlp", "--activations", "float,int1", "--no-uncertainty", "--out", str(out),
                 "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["accuracy"]) == {"float", "int1"} and data["accuracy_vs_samples"] == {"T": [], "accuracy": []}
    assert sorted(os.listdir(out)) == ["accuracy_vs_samples.png", "classify.json", "energy_vs_accuracy.png"]
    for argv, fragment in ((["--samples", "0"], "--samples"), (["--activations", "int9"], "--activations"),
                           (["--samples", "1000"], "--allow-large"),
                           (["--weights", str(tmp_path / "missing.pt")], "classify --train"),
                           (["--out", str(tmp_path / "out" / "classify.json")], "not a directory")):
        code = main(["classify", "--model", "mlp", *argv])
        error = capsys.readouterr().err
        assert code == 2 and fragment in error and len(error.strip().splitlines()) == 1, (argv, error)
