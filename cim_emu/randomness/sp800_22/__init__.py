"""The fifteen statistical tests of NIST SP800-22 rev1a, with STS 2.1.2's arithmetic by default.

One module per test; :func:`run_suite` runs them all. Every test takes a 1-D sequence of
0/1 and returns a :class:`TestResult`; ``corrected=True`` switches to the corrected
arithmetic documented in docs/randomness.md.
"""

from cim_emu.randomness.sp800_22.approximate_entropy import approximate_entropy
from cim_emu.randomness.sp800_22.block_frequency import block_frequency
from cim_emu.randomness.sp800_22.cumulative_sums import cumulative_sums
from cim_emu.randomness.sp800_22.dft import dft
from cim_emu.randomness.sp800_22.frequency import frequency
from cim_emu.randomness.sp800_22.linear_complexity import linear_complexity, linear_complexity_of
from cim_emu.randomness.sp800_22.longest_run import longest_run
from cim_emu.randomness.sp800_22.non_overlapping_template import non_overlapping_template
from cim_emu.randomness.sp800_22.overlapping_template import overlapping_template
from cim_emu.randomness.sp800_22.random_excursions import random_excursions
from cim_emu.randomness.sp800_22.random_excursions_variant import random_excursions_variant
from cim_emu.randomness.sp800_22.rank import rank
from cim_emu.randomness.sp800_22.result import TestResult
from cim_emu.randomness.sp800_22.runs import runs
from cim_emu.randomness.sp800_22.serial import serial
from cim_emu.randomness.sp800_22.suite import TEST_NAMES, SuiteConfig, SuiteReport, run_suite, run_suite_many
from cim_emu.randomness.sp800_22.templates import aperiodic_templates
from cim_emu.randomness.sp800_22.universal import universal

__all__ = [
    "TEST_NAMES",
    "SuiteConfig",
    "SuiteReport",
    "TestResult",
    "run_suite",
    "run_suite_many",
    "frequency",
    "block_frequency",
    "cumulative_sums",
    "runs",
    "longest_run",
    "rank",
    "dft",
    "non_overlapping_template",
    "overlapping_template",
    "universal",
    "approximate_entropy",
    "random_excursions",
    "random_excursions_variant",
    "serial",
    "linear_complexity",
    "linear_complexity_of",
    "aperiodic_templates",
]
