"""Sampling on p-bit crossbars: Ising / Boltzmann models, Gibbs samplers (ideal and hardware), annealing,
exact enumeration, max-cut and a denoising chain of conditional RBMs (DTM).

See ``docs/sampling.md``.
"""

from cim_emu.sampling.colouring import check_blocks, colour_blocks, greedy_colouring, sequential_blocks
from cim_emu.sampling.exact import (
    MAX_EXACT_SPINS,
    Moments,
    all_states,
    boltzmann_distribution,
    evolve_distribution,
    kl_divergence,
    moments,
    state_indices,
    stationary_distribution,
)
from cim_emu.sampling.gibbs import (
    MAX_WORK,
    GibbsSampler,
    HardwareMode,
    IdealMode,
    SampleResult,
    UpdateOrder,
    sample_ising,
)
from cim_emu.sampling.model import IsingModel, check_beta, load_model_npz
from cim_emu.sampling.pbit_law import (
    MINIMAX_PROBIT_GAIN,
    LawDeviation,
    PBitArray,
    PBitUpdateLaw,
    ideal_up_probability,
    law_deviation,
)
from cim_emu.sampling.pbit_update import (
    CardLaw,
    gibbs_update,
    gibbs_update_torch,
    up_probability_torch,
    update_uniforms,
)
from cim_emu.sampling.schedules import ConstantBeta, GeometricBeta, LinearBeta, as_schedule
from cim_emu.sampling.validation import (
    NONIDEALITY_MODES,
    BiasRow,
    ChiSquareResult,
    chi_square_test,
    independent_samples,
    nonideality_bias,
)

__all__ = [
    "IsingModel", "load_model_npz", "check_beta",
    "greedy_colouring", "colour_blocks", "sequential_blocks", "check_blocks",
    "MAX_EXACT_SPINS", "Moments", "all_states", "boltzmann_distribution", "evolve_distribution", "kl_divergence",
    "moments", "state_indices", "stationary_distribution",
    "MAX_WORK", "GibbsSampler", "HardwareMode", "IdealMode", "SampleResult", "UpdateOrder", "sample_ising",
    "MINIMAX_PROBIT_GAIN", "LawDeviation", "PBitArray", "PBitUpdateLaw", "ideal_up_probability", "law_deviation",
    "CardLaw", "gibbs_update", "gibbs_update_torch", "up_probability_torch", "update_uniforms",
    "ConstantBeta", "GeometricBeta", "LinearBeta", "as_schedule",
    "NONIDEALITY_MODES", "BiasRow", "ChiSquareResult", "chi_square_test", "independent_samples", "nonideality_bias",
]
