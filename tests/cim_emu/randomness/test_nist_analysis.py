"""STS's final analysis over K sequences: proportions, uniformity, STS's integer quirks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from cim_emu.randomness import (
    SuiteReport,
    TestResult,
    analyse_sequences,
    proportion_interval,
    run_suite_many,
    uniformity_p_value,
)


def report_with(p_values_by_test: dict[str, tuple[float, ...] | str], *, corrected: bool = False) -> SuiteReport:
    """A SuiteReport from given p-values; "n/a" and "rejected" make not-applicable results."""
    results = []
    for name, values in p_values_by_test.items():
        if values == "n/a":
            results.append(TestResult(name=name, applicable=False, reason="too few cycles"))
        elif values == "rejected":
            results.append(TestResult(name=name, applicable=False, rejected=True, reason="pre-test"))
        else:
            results.append(TestResult(name=name, p_values=tuple(values)))
    return SuiteReport(n_bits=1000, alpha=0.01, corrected=corrected, results=tuple(results))


def test_proportion_interval_is_three_sigma_of_the_binomial():
    low, high = proportion_interval(0.01, 100)
    assert (low, high) == pytest.approx((0.99 - 3 * math.sqrt(0.0099 / 100), 0.99 + 3 * math.sqrt(0.0099 / 100)))
    assert low == pytest.approx(0.96015, abs=1e-5)  # the document's example, sec. 4.2.1


def test_uniformity_p_value_is_the_chi_square_of_ten_bins():
    values = np.linspace(0.005, 0.995, 100)  # ten per bin
    p_value, counts = uniformity_p_value(values, sts=False)
    assert counts == (10,) * 10 and p_value == pytest.approx(1.0)
    skewed = np.r_[np.full(50, 0.05), np.linspace(0.1, 0.99, 50)]
    p_value, counts = uniformity_p_value(skewed, sts=False)
    expected = stats.chisquare(counts).pvalue
    assert p_value == pytest.approx(expected, rel=1e-10)
    assert uniformity_p_value([1.0], sts=False)[1][9] == 1  # p = 1 lands in the last bin


def test_sts_divides_the_expected_bin_count_in_integers():
    values = np.linspace(0.0, 0.999, 25)
    sts_p, counts = uniformity_p_value(values, sts=True)
    exact_p, _ = uniformity_p_value(values, sts=False)
    chi_sts = sum((c - 2) ** 2 / 2 for c in counts)  # STS: expCount = 25 / 10 = 2
    assert sts_p == pytest.approx(stats.chi2.sf(chi_sts, 9), rel=1e-10)
    assert exact_p == pytest.approx(stats.chisquare(counts).pvalue, rel=1e-10)
    assert uniformity_p_value(values[:9], sts=True)[0] is None  # fewer than 10: STS prints ----
    assert uniformity_p_value(values[:9], sts=False)[0] is None


def test_sts_thresholds_are_truncated_to_integers():
    # K = 100: the lower bound is 96.015 passes; STS stores int(96.015) = 96.
    reports = [report_with({"Frequency": (0.5,)}) for _ in range(96)]
    reports += [report_with({"Frequency": (0.001,)}) for _ in range(4)]
    sts_slot = analyse_sequences(reports).slots[0]
    exact_slot = analyse_sequences(reports, corrected=True).slots[0]
    assert sts_slot.n_passed == exact_slot.n_passed == 96
    assert sts_slot.proportion_ok and not exact_slot.proportion_ok


def test_sts_reads_p_values_printed_to_six_digits():
    # STS prints p with %f and reads it back into a float: 0.0100004 becomes 0.010000,
    # whose float32 value 0.00999999977 is below alpha = 0.01: a failure for STS.
    reports = [report_with({"Frequency": (0.0100004,)}) for _ in range(20)]
    assert analyse_sequences(reports).slots[0].n_passed == 0
    assert analyse_sequences(reports, corrected=True).slots[0].n_passed == 20
    reports = [report_with({"Frequency": (0.0100006,)}) for _ in range(20)]  # prints 0.010001
    assert analyse_sequences(reports).slots[0].n_passed == 20


def test_sample_sizes_skip_tests_that_did_not_apply():
    reports = [report_with({"Runs": (0.3,), "RandomExcursions": ((i + 0.5) / 60,) * 8}) for i in range(60)]
    reports += [report_with({"Runs": "rejected", "RandomExcursions": "n/a"}) for _ in range(40)]
    analysis = analyse_sequences(reports)
    runs = analysis.slots_of("Runs")[0]
    assert runs.sample_size == 100 and runs.n_passed == 60  # a failed pre-test is STS's p = 0
    assert runs.bin_counts[0] == 40
    excursions = analysis.slots_of("RandomExcursions")
    assert len(excursions) == 8 and all(slot.sample_size == 60 for slot in excursions)
    assert not analysis.test_passed("Runs")  # 60 of 100 pass
    assert analysis.test_passed("RandomExcursions")  # 59 of 60 pass, p-values uniform
    json.dumps(analysis.to_dict())


def test_labels_and_all_not_applicable():
    reports = [report_with({"RandomExcursionsVariant": "n/a"}) for _ in range(5)]
    slot = analyse_sequences(reports).slots[0]
    assert slot.sample_size == 0 and slot.proportion is None and slot.passed


def test_reports_must_agree():
    with pytest.raises(ValueError, match="ran tests"):
        analyse_sequences([report_with({"Frequency": (0.5,)}), report_with({"Runs": (0.5,)})])
    with pytest.raises(ValueError, match="at least one"):
        analyse_sequences([])
    with pytest.raises(ValueError, match="number of p-values"):
        analyse_sequences([report_with({"Serial": (0.5, 0.5)}), report_with({"Serial": (0.5,)})])


def test_uniform_generator_passes_the_final_analysis():
    # 60 sequences of 20,000 bits: every slot's proportion and uniformity are judged;
    # a slot flags with probability ~0.003 (proportion) + 1e-4 (uniformity), and the
    # eleven tests that run at this length have 20 slots: expect none, allow one.
    generator = np.random.default_rng(9)
    sequences = generator.integers(0, 2, (60, 20_000), dtype=np.uint8)
    from cim_emu.randomness import SuiteConfig

    config = SuiteConfig(
        tests=("Frequency", "BlockFrequency", "CumulativeSums", "Runs", "LongestRun", "FFT", "Serial"),
        serial_block_bits=8,
    )
    analysis = analyse_sequences(run_suite_many(sequences, config=config))
    assert analysis.n_sequences == 60 and analysis.n_bits == 20_000
    assert sum(not slot.passed for slot in analysis.slots) <= 1
    assert all(slot.uniformity_p_value is not None for slot in analysis.slots)
