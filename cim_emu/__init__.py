"""Crossbars, stochastic layers, energy model, randomness suite and the CLI of cim-emu."""

from cim_emu.counters import COUNTER_FIELDS, OpCounts, record, track_ops
from cim_emu.randomness import (
    BitFormat,
    SequencesAnalysis,
    SuiteConfig,
    SuiteReport,
    TestResult,
    TRNGQuality,
    analyse_sequences,
    assess_quality,
    plot_trng_summary,
    read_bits,
    run_suite,
    run_suite_many,
)

__all__ = [
    "COUNTER_FIELDS",
    "OpCounts",
    "record",
    "track_ops",
    "BitFormat",
    "SequencesAnalysis",
    "SuiteConfig",
    "SuiteReport",
    "TestResult",
    "TRNGQuality",
    "analyse_sequences",
    "assess_quality",
    "plot_trng_summary",
    "read_bits",
    "run_suite",
    "run_suite_many",
]
