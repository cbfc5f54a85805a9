"""Contracts of the solver: reproducibility, batching, decisions, devices, errors, backends."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from devices.macrospin import (
    Backend,
    DeviceVariation,
    MacrospinParams,
    Precision,
    SolverConfig,
    TrapezoidPulse,
    nominal_devices,
    sample_devices,
    simulate_switching,
    switching_map,
    trace_magnetisation,
)

PARAMS = MacrospinParams()
AMPLITUDES = torch.linspace(0.9, 2.3, 64, dtype=torch.float64)


def _run(seed=0, **kwargs):
    return simulate_switching(PARAMS, AMPLITUDES, 700e-12, generator=torch.Generator().manual_seed(seed), **kwargs)


def test_same_seed_same_bits_other_seed_other_bits():
    first, second, other = _run(0), _run(0), _run(1)
    assert torch.equal(first.final_magnetisation, second.final_magnetisation)
    assert not torch.equal(first.final_magnetisation, other.final_magnetisation)
    assert first.backend == "numba" and first.note == ""


def test_the_numba_backend_keeps_the_torch_thread_count_and_its_results():
    # numba's OpenMP layer shares the runtime with torch: the solver must leave torch's count as it was,
    # and per-trial arithmetic makes the bits independent of the thread count.
    previous = torch.get_num_threads()
    try:
        outcomes = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            outcomes.append(_run(0))
            assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(previous)
    assert torch.equal(outcomes[0].final_magnetisation, outcomes[1].final_magnetisation)


def test_chunking_does_not_change_the_result():
    # Counter-based noise: the random numbers belong to (trial, step), not to a kernel call.
    reference = _run(0)
    rechunked = _run(0, config=SolverConfig(steps_per_chunk=37))
    # Identical arithmetic per step; only the step at which the early stop is checked differs, and a
    # trapped trial does not change hemisphere afterwards.
    assert torch.equal(reference.switched, rechunked.switched)


def test_maps_do_not_depend_on_the_batch_size():
    kwargs = dict(voltages_V=[1.2, 1.5, 1.8], pulse_widths_s=[500e-12, 700e-12], n_trials=40)
    whole = switching_map(PARAMS, generator=torch.Generator().manual_seed(5), **kwargs)
    pieces = switching_map(PARAMS, generator=torch.Generator().manual_seed(5), max_batch_trials=50, **kwargs)
    np.testing.assert_array_equal(whole.n_switched, pieces.n_switched)
    assert whole.n_switched.shape == (1, 3, 2)


def test_decisions_are_final():
    # Trials are decided once 10 k_B T below the saddle; relaxing until 40 k_B T below changes none of them.
    usual = _run(2)
    deeper = _run(2, config=SolverConfig(decision_margin_kT=40.0, relax_time_s=20e-9))
    assert not bool(usual.undecided.any())
    assert torch.equal(usual.switched, deeper.switched)
    assert deeper.simulated_time_s > usual.simulated_time_s


def test_torch_backends_match_numba():
    numba_outcome = _run(3)
    torch_outcome = _run(3, config=SolverConfig(backend=Backend.TORCH))
    assert torch_outcome.backend == "torch"
    assert torch.equal(numba_outcome.switched, torch_outcome.switched)
    np.testing.assert_allclose(numba_outcome.final_magnetisation.numpy(),
                               torch_outcome.final_magnetisation.numpy(), atol=1e-8)


def test_float32_torch_path_reproduces_the_float64_statistics():
    n = 600
    config32 = SolverConfig(backend=Backend.TORCH, precision=Precision.FLOAT32)
    single = simulate_switching(PARAMS.thermal_only(), torch.full((n,), 1.52), 700e-12,
                                generator=torch.Generator().manual_seed(4), config=config32)
    double = simulate_switching(PARAMS.thermal_only(), torch.full((n,), 1.52), 700e-12,
                                generator=torch.Generator().manual_seed(4))
    p32, p64 = float(single.switched.double().mean()), float(double.switched.double().mean())
    # Same noise, different rounding: most trials agree, and the fractions agree within binomial error.
    assert float((single.switched == double.switched).double().mean()) > 0.9
    assert abs(p32 - p64) < 3.29 * np.sqrt(2 * p64 * (1 - p64) / n)


def test_device_variation_is_reproducible_and_log_normal():
    variation = DeviceVariation(anisotropy_log_std=0.02, vcma_log_std=0.05, bias_field_log_std=0.03)
    sample = sample_devices(PARAMS, variation, 4000, generator=torch.Generator().manual_seed(6))
    again = sample_devices(PARAMS, variation, 4000, generator=torch.Generator().manual_seed(6))
    assert torch.equal(sample.vcma_T_per_V, again.vcma_T_per_V)
    log_ratio = torch.log(sample.vcma_T_per_V / PARAMS.vcma_field_per_volt_T_per_V)
    assert abs(float(log_ratio.mean())) < 5 * 0.05 / np.sqrt(4000)
    assert float(log_ratio.std()) == pytest.approx(0.05, rel=5 / np.sqrt(2 * 4000))
    assert torch.equal(sample.damping, torch.full((4000,), PARAMS.damping, dtype=torch.float64))
    none = sample_devices(PARAMS, DeviceVariation(), 3, generator=torch.Generator().manual_seed(6))
    assert torch.equal(none.bias_field_T, nominal_devices(PARAMS, 3).bias_field_T)


def test_devices_shift_the_switching_curve():
    # A device with 10 % more VCMA efficiency switches at lower voltage: more switched trials.
    devices = nominal_devices(PARAMS.thermal_only(), 2)
    devices = type(devices)(devices.params, devices.interfacial_anisotropy_field_T,
                            devices.vcma_T_per_V * torch.tensor([1.0, 1.1], dtype=torch.float64),
                            devices.bias_field_T, devices.damping)
    n = 400
    outcome = simulate_switching(PARAMS.thermal_only(), 1.45, 700e-12, generator=torch.Generator().manual_seed(7),
                                 devices=devices, device_index=torch.arange(2 * n) // n)
    weak, strong = outcome.switched.reshape(2, n).double().mean(1)
    assert strong > weak + 0.3


def test_trace_records_voltage_and_unit_magnetisation():
    pulse = TrapezoidPulse(rise_time_s=100e-12, fall_time_s=100e-12)
    config = SolverConfig(thermalise_time_s=0.5e-9)
    trace = trace_magnetisation(PARAMS, [1.5, 2.0], 700e-12, generator=torch.Generator().manual_seed(8),
                                record_interval_s=10e-12, pulse=pulse, config=config, duration_s=3e-9)
    assert trace.magnetisation.shape == (301, 2, 3) and trace.voltage_V.shape == (301, 2)
    torch.testing.assert_close(trace.magnetisation.norm(dim=-1), torch.ones(301, 2, dtype=torch.float64))
    # Half maximum 50 ps after the start of the rise, and the width between half maxima is 700 ps.
    half_rise = int(round((0.5e-9 + 50e-12) / 10e-12))
    peak = trace.voltage_V.max(dim=0).values  # the jittered amplitude of each pulse
    torch.testing.assert_close(trace.voltage_V[half_rise], 0.5 * peak)
    above_half = (trace.voltage_V[:, 0] >= 0.5 * trace.voltage_V[:, 0].max()).sum()
    assert int(above_half) in (70, 71)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(amplitude_V=[1.0, 2.0], pulse_width_s=[1e-9, 2e-9, 3e-9]), "disagree"),
        (dict(amplitude_V=1.0, pulse_width_s=-1e-9), "pulse_width_s"),
        (dict(amplitude_V=float("nan"), pulse_width_s=1e-9), "finite"),
        (dict(amplitude_V=[1.0, 1.0], pulse_width_s=1e-9, device_index=[0, 3]), "device_index"),
    ],
)
def test_bad_inputs_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate_switching(PARAMS, generator=torch.Generator().manual_seed(0), **kwargs)


def test_a_generator_is_required():
    with pytest.raises(ValueError, match="generator"):
        simulate_switching(PARAMS, 1.5, 7e-10, generator=None)


@pytest.mark.slow
def test_torch_compile_on_cpu_matches_numba():
    # The CUDA fast path is torch.compile of advance_torch; on the CPU the same compilation (C++ backend)
    # must reproduce the numba trajectories (minutes of compile time, hence slow).
    compiled = _run(9, config=SolverConfig(backend=Backend.TORCH_COMPILE))
    reference = _run(9)
    assert compiled.backend == "torch-compile", compiled.note
    assert torch.equal(compiled.switched, reference.switched)
    np.testing.assert_allclose(compiled.final_magnetisation.numpy(), reference.final_magnetisation.numpy(), atol=1e-8)
