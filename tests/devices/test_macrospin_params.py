"""Parameters of the macrospin model: demagnetising factors, derived fields, validation."""

from __future__ import annotations

import math

import pytest

from devices.macrospin import (
    BOLTZMANN_J_PER_K,
    MU_0,
    DeviceVariation,
    MacrospinParams,
    SolverConfig,
    TrapezoidPulse,
    cylinder_demagnetising_factors,
)


def test_demagnetising_factors_match_reference_values_and_limits():
    # Magnetometric N_z of a cylinder of length/diameter 1 is 0.3116 (Joseph 1966, Chen et al. 1991 table).
    n_x, n_y, n_z = cylinder_demagnetising_factors(diameter_m=1.0, thickness_m=1.0)
    assert n_z == pytest.approx(0.3116, abs=2e-4)
    assert n_x == n_y and n_x + n_y + n_z == pytest.approx(1.0, abs=1e-12)
    # Thin-film limit N_z -> 1 - (2/pi) (t/D) ln(...) -> 1, long-rod limit -> 0.
    assert cylinder_demagnetising_factors(1.0, 1e-4)[2] == pytest.approx(1.0, abs=1e-3)
    assert cylinder_demagnetising_factors(1.0, 100.0)[2] < 0.01
    assert 0.94 < cylinder_demagnetising_factors(60e-9, 1.1e-9)[2] < 0.95


def test_vcma_slope_follows_from_coefficient_and_thicknesses():
    params = MacrospinParams(vcma_coefficient_J_per_V_m=69e-15, barrier_thickness_m=1.4e-9,
                             free_layer_thickness_m=1.1e-9, saturation_magnetisation_A_per_m=1e6)
    # kappa = 2 xi / (M_s t_FL t_MgO) = 0.0896 T/V for the numbers.
    assert params.vcma_field_per_volt_T_per_V == pytest.approx(2 * 69e-15 / (1e6 * 1.1e-9 * 1.4e-9), rel=1e-12)
    assert params.vcma_field_per_volt_T_per_V == pytest.approx(0.0896, abs=1e-4)
    assert params.effective_anisotropy_field_at(1.0) == pytest.approx(
        params.effective_anisotropy_field_T - params.vcma_field_per_volt_T_per_V, rel=1e-12)


def test_effective_anisotropy_is_interface_minus_shape_and_round_trips():
    params = MacrospinParams.from_effective_anisotropy(effective_anisotropy_field_T=0.18)
    n_x, _, n_z = params.demagnetising_factors
    shape = MU_0 * params.saturation_magnetisation_A_per_m * (n_z - n_x)
    assert params.effective_anisotropy_field_T == pytest.approx(0.18, rel=1e-12)
    assert params.interfacial_anisotropy_field_T == pytest.approx(0.18 + shape, rel=1e-12)
    # A thicker free layer has less interface anisotropy per volume: B_k0 falls (what-if physics).
    thicker = params.replace(free_layer_thickness_m=1.15e-9)
    assert thicker.effective_anisotropy_field_T < params.effective_anisotropy_field_T


def test_thermal_stability_and_noise_variance_formulas():
    params = MacrospinParams()
    moment = params.saturation_magnetisation_A_per_m * math.pi * 30e-9**2 * 1.1e-9
    delta_0 = moment * params.effective_anisotropy_field_T / (2 * BOLTZMANN_J_PER_K * 300.0)
    assert params.thermal_stability == pytest.approx(delta_0 * (1 - params.equilibrium_tilt) ** 2, rel=1e-9)
    variance = 2 * params.damping * BOLTZMANN_J_PER_K * 300.0 / (params.gyromagnetic_ratio_rad_per_s_T * moment)
    assert params.thermal_field_variance_T2_s == pytest.approx(variance, rel=1e-9)
    assert params.replace(temperature_K=0.0).thermal_stability == math.inf


def test_default_set_is_the_documented_operating_point():
    params = MacrospinParams()
    summary = params.summary()
    # First peak ~ pi / (gamma B_x) ~ 700 ps; the zero-temperature band starts just below 1.5 V.
    assert 690e-12 < summary["precession_half_period_s"] < 730e-12
    assert 1.4 < summary["switching_band_lower_V"] < 1.55 < 2.5 < summary["switching_band_upper_V"]
    assert params.pulse_jitter_V > 0.2 and params.thermal_only().pulse_jitter_V == 0.0
    assert params.thermal_stability > 30


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"damping": 0.0}, "damping"),
        ({"damping": 1.5}, "damping"),
        ({"temperature_K": -1.0}, "temperature_K"),
        ({"free_layer_diameter_m": float("nan")}, "free_layer_diameter_m"),
        ({"bias_field_T": 0.5}, "bias_field_T"),
        ({"pulse_jitter_V": -0.1}, "pulse_jitter_V"),
        ({"free_layer_thickness_m": 1e-7}, "free_layer_thickness_m"),
    ],
)
def test_bad_parameters_are_rejected_with_the_field_named(change, named):
    with pytest.raises(ValueError, match=named):
        MacrospinParams().replace(**change)


def test_other_configs_validate():
    with pytest.raises(ValueError, match="anisotropy_log_std"):
        DeviceVariation(anisotropy_log_std=-0.1)
    with pytest.raises(ValueError, match="rise_time_s"):
        TrapezoidPulse(rise_time_s=-1e-12)
    with pytest.raises(ValueError, match="time_step_s"):
        SolverConfig(time_step_s=1e-10)
    with pytest.raises(ValueError, match="steps_per_chunk"):
        SolverConfig(steps_per_chunk=0)


def test_trapezoid_envelope_half_maximum_width_and_edges():
    pulse = TrapezoidPulse(rise_time_s=100e-12, fall_time_s=60e-12)
    start, width = 1e-9, 700e-12
    # Half maximum at start + rise/2 and 700 ps later; zero before the start and after the fall.
    assert float(pulse.envelope(start + 50e-12, start, width)) == pytest.approx(0.5)
    assert float(pulse.envelope(start + 50e-12 + width, start, width)) == pytest.approx(0.5)
    assert float(pulse.envelope(start - 1e-12, start, width)) == 0.0
    assert float(pulse.envelope(start + 150e-12, start, width)) == 1.0
    assert float(pulse.envelope(pulse.end_time_s(start, width) + 1e-15, start, width)) == 0.0
    # Instantaneous edges: a rectangle of exactly the width.
    rectangle = TrapezoidPulse()
    assert float(rectangle.envelope(start + 1e-15, start, width)) == 1.0
    assert float(rectangle.envelope(start + width + 1e-15, start, width)) == 0.0
