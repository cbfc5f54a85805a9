"""Run all fifteen SP800-22 tests on a sequence: configuration and report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cim_emu.randomness.sp800_22._common import check_alpha, check_positive_int
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22.approximate_entropy import approximate_entropy
from cim_emu.randomness.sp800_22.block_frequency import block_frequency
from cim_emu.randomness.sp800_22.cumulative_sums import cumulative_sums
from cim_emu.randomness.sp800_22.dft import dft
from cim_emu.randomness.sp800_22.frequency import frequency
from cim_emu.randomness.sp800_22.linear_complexity import linear_complexity
from cim_emu.randomness.sp800_22.longest_run import SUPPORTED_BLOCK_BITS, longest_run
from cim_emu.randomness.sp800_22.non_overlapping_template import non_overlapping_template
from cim_emu.randomness.sp800_22.overlapping_template import overlapping_template
from cim_emu.randomness.sp800_22.random_excursions import random_excursions
from cim_emu.randomness.sp800_22.random_excursions_variant import random_excursions_variant
from cim_emu.randomness.sp800_22.rank import rank
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult
from cim_emu.randomness.sp800_22.runs import runs
from cim_emu.randomness.sp800_22.serial import serial
from cim_emu.randomness.sp800_22.templates import template_value
from cim_emu.randomness.sp800_22.universal import universal

__all__ = ["TEST_NAMES", "SuiteConfig", "SuiteReport", "run_suite", "run_suite_many"]

# The order of STS's final analysis report and of the JSON output.
TEST_NAMES = (
    "Frequency",
    "BlockFrequency",
    "CumulativeSums",
    "Runs",
    "LongestRun",
    "Rank",
    "FFT",
    "NonOverlappingTemplate",
    "OverlappingTemplate",
    "Universal",
    "ApproximateEntropy",
    "RandomExcursions",
    "RandomExcursionsVariant",
    "Serial",
    "LinearComplexity",
)


@dataclass(frozen=True, kw_only=True)
class SuiteConfig:
    """Parameters of the suite; the defaults are those of STS 2.1.2.

    Attributes:
        alpha: significance level of every pass/fail verdict.
        tests: which tests to run (names from ``TEST_NAMES``), reported in STS order.
        block_frequency_block_bits: M of the block frequency test.
        longest_run_block_bits: M of the longest-run test (8, 128 or 10^4); None: from n.
        rank_rows, rank_cols: matrix shape of the rank test.
        non_overlapping_template_bits: m of the non-overlapping template test.
        non_overlapping_n_blocks: N of the non-overlapping template test.
        non_overlapping_templates: the templates; None: the aperiodic ones (STS's set).
        overlapping_template_bits: m of the overlapping template test (template: m ones).
        overlapping_block_bits: M of the overlapping template test.
        overlapping_n_classes: K of the overlapping template test.
        universal_block_bits: L of Maurer's test; None: from n as STS.
        universal_init_blocks: Q of Maurer's test; None: 10 * 2**L.
        approximate_entropy_block_bits: m of the approximate entropy test.
        serial_block_bits: m of the serial test.
        linear_complexity_block_bits: M of the linear complexity test.
        random_excursions_min_cycles: fewest cycles for both excursion tests; None:
            max(0.005 sqrt(n), 500) as STS.
        strict_input_sizes: report tests as not applicable when n or their parameters
            are outside SP800-22's recommendations (STS runs them anyway, and so does
            this suite by default, with a note in the result).
    """

    alpha: float = DEFAULT_ALPHA
    tests: tuple[str, ...] = TEST_NAMES
    block_frequency_block_bits: int = 128
    longest_run_block_bits: int | None = None
    rank_rows: int = 32
    rank_cols: int = 32
    non_overlapping_template_bits: int = 9
    non_overlapping_n_blocks: int = 8
    non_overlapping_templates: tuple[str, ...] | None = None
    overlapping_template_bits: int = 9
    overlapping_block_bits: int = 1032
    overlapping_n_classes: int = 5
    universal_block_bits: int | None = None
    universal_init_blocks: int | None = None
    approximate_entropy_block_bits: int = 10
    serial_block_bits: int = 16
    linear_complexity_block_bits: int = 500
    random_excursions_min_cycles: float | None = None
    strict_input_sizes: bool = False

    def __post_init__(self) -> None:
        check_alpha(self.alpha)
        tests = tuple(self.tests)
        unknown = [name for name in tests if name not in TEST_NAMES]
        if unknown:
            raise ValueError(f"SuiteConfig.tests: unknown test(s) {unknown}; choose from {list(TEST_NAMES)}")
        if not tests:
            raise ValueError("SuiteConfig.tests is empty; leave it at the default to run all fifteen tests")
        object.__setattr__(self, "tests", tests)
        for name in (
            "block_frequency_block_bits",
            "non_overlapping_n_blocks",
            "overlapping_block_bits",
            "overlapping_n_classes",
            "linear_complexity_block_bits",
            "overlapping_template_bits",
            "approximate_entropy_block_bits",
        ):
            check_positive_int(f"SuiteConfig.{name}", getattr(self, name))
        for name in ("rank_rows", "rank_cols", "non_overlapping_template_bits", "serial_block_bits"):
            check_positive_int(f"SuiteConfig.{name}", getattr(self, name), 2)
        if self.longest_run_block_bits is not None and self.longest_run_block_bits not in SUPPORTED_BLOCK_BITS:
            raise ValueError(
                f"SuiteConfig.longest_run_block_bits must be None or one of {SUPPORTED_BLOCK_BITS}, "
                f"got {self.longest_run_block_bits}"
            )
        if self.universal_block_bits is not None and not 1 <= self.universal_block_bits <= 16:
            raise ValueError(f"SuiteConfig.universal_block_bits must be None or 1..16, got {self.universal_block_bits}")
        if self.universal_init_blocks is not None:
            check_positive_int("SuiteConfig.universal_init_blocks", self.universal_init_blocks)
        for name in ("serial_block_bits", "approximate_entropy_block_bits", "non_overlapping_template_bits"):
            if getattr(self, name) > 24:
                raise ValueError(f"SuiteConfig.{name} must be <= 24 (2**m counters), got {getattr(self, name)}")
        if self.non_overlapping_templates is not None:
            templates = tuple(self.non_overlapping_templates)
            if not templates:
                raise ValueError("SuiteConfig.non_overlapping_templates is empty; use None for the aperiodic set")
            for template in templates:
                template_value(template)
                if len(template) != self.non_overlapping_template_bits:
                    raise ValueError(
                        f"SuiteConfig.non_overlapping_templates: {template!r} is not "
                        f"non_overlapping_template_bits = {self.non_overlapping_template_bits} bits long"
                    )
            object.__setattr__(self, "non_overlapping_templates", templates)
        if self.random_excursions_min_cycles is not None and self.random_excursions_min_cycles < 0:
            raise ValueError(
                "SuiteConfig.random_excursions_min_cycles must be >= 0 or None, "
                f"got {self.random_excursions_min_cycles}"
            )


@dataclass(frozen=True, kw_only=True)
class SuiteReport:
    """Results of the suite on one sequence.

    Attributes:
        n_bits: sequence length n.
        alpha: significance level.
        corrected: whether the corrected arithmetic was used.
        results: one TestResult per test run, in STS order.
    """

    n_bits: int
    alpha: float
    corrected: bool
    results: tuple[TestResult, ...] = field(default_factory=tuple)

    def __getitem__(self, name: str) -> TestResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no result for test {name!r}; the report holds {[r.name for r in self.results]}")

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the tests run, in STS order."""
        return tuple(result.name for result in self.results)

    @property
    def passed(self) -> bool:
        """True when no test rejects the sequence (not-applicable tests do not reject)."""
        return all(result.passed for result in self.results)

    @property
    def failed_tests(self) -> tuple[str, ...]:
        """Names of the tests that reject the sequence."""
        return tuple(result.name for result in self.results if not result.passed)

    def to_dict(self) -> dict[str, Any]:
        """``{"n_bits", "alpha", "corrected", "passed", "tests": {name: {...}}}``, JSON-ready."""
        return {
            "n_bits": self.n_bits,
            "alpha": self.alpha,
            "corrected": self.corrected,
            "passed": self.passed,
            "tests": {result.name: result.to_dict() for result in self.results},
        }


def _runners(config: SuiteConfig) -> dict[str, Callable[..., TestResult]]:
    """Each test bound to its parameters from the config."""
    return {
        "Frequency": lambda s, **kw: frequency(s, **kw),
        "BlockFrequency": lambda s, **kw: block_frequency(s, block_bits=config.block_frequency_block_bits, **kw),
        "CumulativeSums": lambda s, **kw: cumulative_sums(s, **kw),
        "Runs": lambda s, **kw: runs(s, **kw),
        "LongestRun": lambda s, **kw: longest_run(s, block_bits=config.longest_run_block_bits, **kw),
        "Rank": lambda s, **kw: rank(s, n_rows=config.rank_rows, n_cols=config.rank_cols, **kw),
        "FFT": lambda s, **kw: dft(s, **kw),
        "NonOverlappingTemplate": lambda s, **kw: non_overlapping_template(
            s,
            template_bits=config.non_overlapping_template_bits,
            n_blocks=config.non_overlapping_n_blocks,
            templates=config.non_overlapping_templates,
            **kw,
        ),
        "OverlappingTemplate": lambda s, **kw: overlapping_template(
            s,
            template_bits=config.overlapping_template_bits,
            block_bits=config.overlapping_block_bits,
            n_classes=config.overlapping_n_classes,
            **kw,
        ),
        "Universal": lambda s, **kw: universal(
            s, block_bits=config.universal_block_bits, init_blocks=config.universal_init_blocks, **kw
        ),
        "ApproximateEntropy": lambda s, **kw: approximate_entropy(
            s, block_bits=config.approximate_entropy_block_bits, **kw
        ),
        "RandomExcursions": lambda s, **kw: random_excursions(s, min_cycles=config.random_excursions_min_cycles, **kw),
        "RandomExcursionsVariant": lambda s, **kw: random_excursions_variant(
            s, min_cycles=config.random_excursions_min_cycles, **kw
        ),
        "Serial": lambda s, **kw: serial(s, block_bits=config.serial_block_bits, **kw),
        "LinearComplexity": lambda s, **kw: linear_complexity(s, block_bits=config.linear_complexity_block_bits, **kw),
    }


def run_suite(bits: Any, *, config: SuiteConfig | None = None, corrected: bool = False) -> SuiteReport:
    """Run the configured SP800-22 tests on one sequence.

    Args:
        bits: 1-D sequence of 0/1 (numpy array, list, torch tensor, '0'/'1' string), length n.
        config: parameters; None means STS 2.1.2's defaults.
        corrected: use the corrected arithmetic where STS departs from the document
            (see docs/randomness.md); the default reproduces STS 2.1.2's p-values.

    Returns:
        A SuiteReport with one TestResult per test.
    """
    config = SuiteConfig() if config is None else config
    sequence = PreparedBits.of(bits)
    selected = set(config.tests)
    # Count the longest serial patterns first: the shorter serial and approximate-entropy
    # counts are then marginals of it instead of further passes over the sequence.
    wanted = []
    if "Serial" in selected:
        wanted.append(config.serial_block_bits)
    if "ApproximateEntropy" in selected:
        wanted.append(config.approximate_entropy_block_bits + 1)
    if wanted:
        sequence.circular_counts(max(wanted))
    runners = _runners(config)
    options = {"alpha": config.alpha, "corrected": corrected, "strict_input_size": config.strict_input_sizes}
    results = tuple(runners[name](sequence, **options) for name in TEST_NAMES if name in selected)
    return SuiteReport(n_bits=sequence.n, alpha=config.alpha, corrected=corrected, results=results)


def run_suite_many(
    sequences: Iterable[Any],
    *,
    config: SuiteConfig | None = None,
    corrected: bool = False,
    on_sequence_done: Callable[[int], None] | None = None,
) -> tuple[SuiteReport, ...]:
    """Run the suite on each of K sequences (e.g. the rows of a (K, n) bit array).

    Args:
        sequences: iterable of 1-D bit sequences.
        config, corrected: as for :func:`run_suite`.
        on_sequence_done: called with the index of each finished sequence (progress bars).

    Returns:
        One SuiteReport per sequence; feed them to ``analyse_sequences``.
    """
    reports = []
    for index, sequence in enumerate(sequences):
        reports.append(run_suite(sequence, config=config, corrected=corrected))
        if on_sequence_done is not None:
            on_sequence_done(index)
    return tuple(reports)
