"""Contracts of run_suite: configuration, applicability, input handling, JSON output."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from cim_emu.randomness import TEST_NAMES, SuiteConfig, SuiteReport, TestResult, run_suite
from cim_emu.randomness.sp800_22 import (
    aperiodic_templates,
    approximate_entropy,
    frequency,
    longest_run,
    non_overlapping_template,
    random_excursions,
    rank,
    universal,
)


@pytest.fixture(scope="module")
def random_bits() -> np.ndarray:
    return np.random.default_rng(5).integers(0, 2, 1_000_000, dtype=np.uint8)


def test_json_has_the_documented_shape(random_bits):
    report = run_suite(random_bits)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["n_bits"] == 1_000_000 and data["alpha"] == 0.01
    assert list(data["tests"]) == list(TEST_NAMES)
    for name, entry in data["tests"].items():
        assert isinstance(entry["passed"], bool) and isinstance(entry["applicable"], bool), name
        assert all(isinstance(p, float) for p in entry["p_values"]), name
    counts = {name: len(entry["p_values"]) for name, entry in data["tests"].items() if entry["applicable"]}
    assert counts["CumulativeSums"] == 2 and counts["Serial"] == 2
    assert counts["NonOverlappingTemplate"] == 148
    if "RandomExcursions" in counts:
        assert counts["RandomExcursions"] == 8 and counts["RandomExcursionsVariant"] == 18
    assert data["tests"]["CumulativeSums"]["labels"] == ["forward", "reverse"]


def test_non_finite_numpy_statistics_become_null_in_json():
    # numpy scalars and arrays go through .tolist(); their NaN/inf must become null like Python floats'.
    statistics = {"scalar": np.float64("nan"), "table": np.array([[1.0, np.inf]]), "plain": -math.inf}
    result = TestResult(name="Frequency", p_values=(0.5,), statistics=statistics)
    statistics = json.loads(json.dumps(result.to_dict(), allow_nan=False))["statistics"]
    assert statistics == {"scalar": None, "table": [[1.0, None]], "plain": None}


def test_labels_follow_sts_order():
    templates = aperiodic_templates(9)
    assert len(templates) == 148
    assert list(templates) == sorted(templates)  # ascending binary order, as STS's template9
    assert templates[0] == "000000001" and templates[-1] == "111111110"
    assert [len(aperiodic_templates(m)) for m in range(2, 12)] == [2, 4, 6, 12, 20, 40, 74, 148, 284, 568]
    bits = np.random.default_rng(0).integers(0, 2, 2_000_000, dtype=np.uint8)
    result = random_excursions(bits, min_cycles=0)
    assert result.labels == ("x=-4", "x=-3", "x=-2", "x=-1", "x=1", "x=2", "x=3", "x=4")


def test_short_sequences_are_not_applicable_with_reasons():
    bits = np.random.default_rng(1).integers(0, 2, 1000, dtype=np.uint8)
    report = run_suite(bits)
    for name in ("Rank", "Universal", "RandomExcursions", "RandomExcursionsVariant"):
        result = report[name]
        assert not result.applicable and result.p_values == () and result.reason, name
        assert result.passed  # no evidence against randomness: no rejection
    assert "387,840" in report["Universal"].reason
    assert "32 x 32" in report["Rank"].reason
    assert "cycles" in report["RandomExcursions"].reason
    # Tests that run below SP800-22's recommended size say so.
    assert any("recommended" in note for note in report["LinearComplexity"].notes)
    assert not report["OverlappingTemplate"].applicable  # no block of 1032 bits


def test_strict_input_sizes_turn_notes_into_not_applicable():
    bits = np.random.default_rng(2).integers(0, 2, 50_000, dtype=np.uint8)
    lenient = run_suite(bits)
    strict = run_suite(bits, config=SuiteConfig(strict_input_sizes=True))
    assert lenient["OverlappingTemplate"].applicable
    assert not strict["OverlappingTemplate"].applicable
    assert "recommended" in strict["OverlappingTemplate"].reason
    assert strict["Frequency"].p_values == lenient["Frequency"].p_values


def test_runs_pretest_failure_rejects_without_a_p_value():
    bits = np.zeros(1000, dtype=np.uint8)
    bits[:100] = 1
    report = run_suite(bits)
    runs = report["Runs"]
    assert not runs.applicable and runs.rejected and not runs.passed and runs.p_values == ()
    assert not report.passed and "Runs" in report.failed_tests
    assert runs.to_dict()["rejected"] is True


def test_bonferroni_verdict_for_several_p_values():
    # One p-value of 148 at 0.005 does not reject at alpha = 0.01 (0.005 >= 0.01/148);
    # one at 0.00005 does.
    result = TestResult(name="X", p_values=(0.005,) + (0.5,) * 147, alpha=0.01)
    assert result.passed and result.n_below_alpha == 1
    assert not TestResult(name="X", p_values=(0.00005,) + (0.5,) * 147, alpha=0.01).passed
    assert not TestResult(name="Y", p_values=(0.009,), alpha=0.01).passed


def test_config_selects_tests_and_parameters(random_bits):
    config = SuiteConfig(tests=("Serial", "Frequency"), serial_block_bits=8, alpha=0.001)
    report = run_suite(random_bits, config=config)
    assert report.names == ("Frequency", "Serial")  # STS order, not the order given
    assert report.alpha == 0.001 and all(result.alpha == 0.001 for result in report.results)
    assert (
        report["Serial"].p_values == run_suite(random_bits, config=SuiteConfig(serial_block_bits=8))["Serial"].p_values
    )
    with pytest.raises(KeyError, match="Rank"):
        report["Rank"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("alpha", 1.5, "alpha"),
        ("tests", ("Frequency", "Spectral"), "Spectral"),
        ("tests", (), "empty"),
        ("block_frequency_block_bits", 0, "block_frequency_block_bits"),
        ("longest_run_block_bits", 100, "longest_run_block_bits"),
        ("serial_block_bits", 1, "serial_block_bits"),
        ("serial_block_bits", 30, "serial_block_bits"),
        ("universal_block_bits", 17, "universal_block_bits"),
        ("non_overlapping_templates", ("0011",), "non_overlapping_template_bits"),
        ("non_overlapping_templates", ("00000000x",), "template"),
        ("random_excursions_min_cycles", -1, "random_excursions_min_cycles"),
    ],
)
def test_config_validation_names_the_parameter(field, value, message):
    with pytest.raises(ValueError, match=message):
        SuiteConfig(**{field: value})


def test_config_is_frozen():
    config = SuiteConfig()
    with pytest.raises(AttributeError):
        config.alpha = 0.05  # type: ignore[misc]


@pytest.mark.parametrize(
    ("bits", "message"),
    [
        (np.array([0, 1, 2, 1], dtype=np.uint8), r"bits\[2\] = 2"),
        (np.zeros((4, 4), dtype=np.uint8), "1-D"),
        (np.array([], dtype=np.uint8), "empty"),
        ("0101x1", r"bits\[4\]"),
        (b"\x00\x01", "bytes_to_bits"),
        (np.array([0.0, 0.5]), r"bits\[1\]"),
    ],
)
def test_bad_bits_are_refused_with_the_position(bits, message):
    with pytest.raises(ValueError, match=message):
        frequency(bits)


def test_inputs_of_any_integer_type_give_the_same_result():
    bits = np.random.default_rng(3).integers(0, 2, 5000, dtype=np.uint8)
    expected = run_suite(bits).to_dict()
    for converted in (
        bits.astype(bool),
        bits.astype(np.int64),
        bits.tolist(),
        "".join(map(str, bits.tolist())),
        torch.from_numpy(bits.astype(np.int32)),
    ):
        assert run_suite(converted).to_dict() == expected


@pytest.mark.gpu
def test_cuda_tensor_gives_the_cpu_result():
    bits = np.random.default_rng(4).integers(0, 2, 100_000, dtype=np.uint8)
    on_device = torch.from_numpy(bits).to("cuda")
    assert run_suite(on_device).to_dict() == run_suite(bits).to_dict()


def test_parameter_errors_name_the_fix():
    bits = np.random.default_rng(6).integers(0, 2, 10_000, dtype=np.uint8)
    with pytest.raises(ValueError, match="8, 128, 10000"):
        longest_run(bits, block_bits=64)
    with pytest.raises(ValueError, match="square"):
        rank(bits, n_rows=8, n_cols=60)
    with pytest.raises(ValueError, match="template_bits"):
        non_overlapping_template(bits, template_bits=4, templates=["001"])
    with pytest.raises(ValueError, match="1..16"):
        universal(bits, block_bits=20)
    with pytest.raises(ValueError, match="<= 24"):
        approximate_entropy(bits, block_bits=30)


def test_report_accessors():
    report = run_suite(np.random.default_rng(8).integers(0, 2, 200_000, dtype=np.uint8))
    assert isinstance(report, SuiteReport)
    assert report.passed == (report.failed_tests == ())
    assert report["Frequency"].min_p_value == report["Frequency"].p_values[0]
