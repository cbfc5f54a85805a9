"""Randomness assessment of bitstreams: NIST SP800-22, TRNG quality metrics, plots.

Self-contained: imports nothing else of cim-emu, so it can judge any stream.

    from cim_emu.randomness import run_suite, analyse_sequences, assess_quality
    report = run_suite(bits)                 # bits: 1-D uint8 0/1; STS 2.1.2 arithmetic
    report.to_dict()                         # {"n_bits", "alpha", "tests": {...}}
"""

from cim_emu.randomness.analysis import (
    SequencesAnalysis,
    SlotAnalysis,
    analyse_sequences,
    proportion_interval,
    uniformity_p_value,
)
from cim_emu.randomness.bitio import (
    BitFileError,
    BitFormat,
    bytes_to_bits,
    parse_ascii_bits,
    read_bits,
    split_sequences,
)
from cim_emu.randomness.plots import plot_trng_summary
from cim_emu.randomness.quality import (
    TRNGQuality,
    assess_quality,
    autocorrelation,
    bias,
    default_entropy_block_bits,
    hamming_distances,
    min_entropy_mcv,
    ones_fraction,
    shannon_entropy,
)
from cim_emu.randomness.sp800_22 import (
    TEST_NAMES,
    SuiteConfig,
    SuiteReport,
    TestResult,
    run_suite,
    run_suite_many,
)

__all__ = [
    "TEST_NAMES",
    "SuiteConfig",
    "SuiteReport",
    "TestResult",
    "run_suite",
    "run_suite_many",
    "SequencesAnalysis",
    "SlotAnalysis",
    "analyse_sequences",
    "proportion_interval",
    "uniformity_p_value",
    "BitFileError",
    "BitFormat",
    "bytes_to_bits",
    "parse_ascii_bits",
    "read_bits",
    "split_sequences",
    "TRNGQuality",
    "assess_quality",
    "autocorrelation",
    "bias",
    "default_entropy_block_bits",
    "hamming_distances",
    "min_entropy_mcv",
    "ones_fraction",
    "shannon_entropy",
    "plot_trng_summary",
]
