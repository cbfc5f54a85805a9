"""The time loop: thermalise, pulse, relax and decide, for a whole batch of trials at once.

Timeline of every trial (t = 0 at the start of the simulation):

1. t = 0: the magnetisation starts in the +z well, drawn from the harmonic (Gaussian)
   approximation of the Boltzmann law around the tilted rest state
   m_0 = (h, 0, sqrt(1 - h^2)), h = B_x / B_k0 (stream INITIAL_STATE);
2. 0 <= t < ``thermalise_time_s``: sLLG at V = 0, which removes what the harmonic start gets wrong
   (the anharmonic part of the well) -- the stationary law of the scheme is what remains;
3. the write pulse (``pulse.TrapezoidPulse``), amplitude and width per trial, plus the trial's
   per-pulse jitter ``pulse_jitter_V`` (stream PULSE_JITTER);
4. relaxation at V = 0 until every trial is *trapped*: its energy is at least
   ``decision_margin_kT`` k_B T below the saddle point that separates the two wells (the in-plane
   point m = +x), so a later return over the barrier is practically impossible
   (probability ~ exp(-margin)); at most ``relax_time_s`` after the last pulse ends;
5. decision: switched iff m_z < 0. Trials still above the trapping energy at the end are decided
   the same way and counted as ``undecided``.

All backends advance the same equation with the same counter-based noise (``noise.py``):
numba on the CPU (fast path), eager torch (any device; the reference of the torch code), and
``torch.compile`` of the same torch code (the CUDA fast path; falls back to eager on failure, and
says so in ``SwitchingOutcome.note``).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from devices.macrospin.kernel import TrialTensors, advance_torch, reduced_energy_T
from devices.macrospin.noise import Stream, draw_key, philox_normals_torch
from devices.macrospin.params import BOLTZMANN_J_PER_K, DeviceVariation, MacrospinParams
from devices.macrospin.pulse import TrapezoidPulse
from devices.rng import require_generator

__all__ = [
    "Backend",
    "Precision",
    "SolverConfig",
    "DeviceSample",
    "SwitchingOutcome",
    "Trajectory",
    "nominal_devices",
    "sample_devices",
    "simulate_switching",
    "trace_magnetisation",
    "thermal_states",
]


class Backend(enum.Enum):
    """Which implementation advances the batch."""

    AUTO = "auto"  # numba on CPU (torch if numba is unusable), torch-compile on CUDA
    NUMBA = "numba"  # CPU only: compiled, threaded, vectorised (float64)
    TORCH = "torch"  # eager torch on any device
    TORCH_COMPILE = "torch-compile"  # torch.compile of the torch code; falls back to eager


class Precision(enum.Enum):
    """Floating-point precision of the torch backends (the numba kernel always uses float64)."""

    FLOAT64 = "float64"
    FLOAT32 = "float32"

    @property
    def dtype(self) -> torch.dtype:
        return torch.float64 if self is Precision.FLOAT64 else torch.float32


@dataclass(frozen=True, kw_only=True)
class SolverConfig:
    """Numerical settings of the sLLG solver.

    Attributes:
        time_step_s: Heun step dt (s). 1 ps resolves the precession (gamma B dt ~ 0.03 rad at
            0.2 T) and is converged to within binomial errors (tested by halving it).
        thermalise_time_s: time at V = 0 before the pulse (s), see the module docstring.
        relax_time_s: longest wait after the last pulse ends before deciding (s).
        decision_margin_kT: depth below the saddle energy, in k_B T, that counts as trapped.
        steps_per_chunk: steps per kernel call between trapping checks.
        backend: :class:`Backend`.
        precision: :class:`Precision` of the torch backends.
        compiled_steps: steps unrolled into one ``torch.compile``-d call (TORCH_COMPILE only).
    """

    time_step_s: float = 1e-12
    thermalise_time_s: float = 1e-9
    relax_time_s: float = 6e-9
    decision_margin_kT: float = 10.0
    steps_per_chunk: int = 100
    backend: Backend = Backend.AUTO
    precision: Precision = Precision.FLOAT64
    compiled_steps: int = 4

    def __post_init__(self) -> None:
        for name in ("time_step_s", "thermalise_time_s", "relax_time_s", "decision_margin_kT"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"SolverConfig.{name}={value!r} must be a finite number >= 0")
        if not 0 < self.time_step_s <= 1e-11:
            raise ValueError(
                f"SolverConfig.time_step_s={self.time_step_s} must be in (0, 1e-11] s; "
                "the precession at ~0.2 T needs steps of ~1 ps"
            )
        for name in ("steps_per_chunk", "compiled_steps"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"SolverConfig.{name}={value!r} must be an integer >= 1")
        if not isinstance(self.backend, Backend):
            raise ValueError(f"SolverConfig.backend={self.backend!r} must be a Backend (e.g. Backend.AUTO)")
        if not isinstance(self.precision, Precision):
            raise ValueError(f"SolverConfig.precision={self.precision!r} must be a Precision")


@dataclass(frozen=True)
class DeviceSample:
    """Per-device parameters (float64 tensors of shape (n_devices,)) for one nominal device type.

    Attributes:
        params: the nominal parameters (geometry, M_s, temperature, jitter are shared).
        interfacial_anisotropy_field_T: B_i0 per device (T).
        vcma_T_per_V: kappa per device (T/V).
        bias_field_T: B_x per device (T).
        damping: alpha per device.
    """

    params: MacrospinParams
    interfacial_anisotropy_field_T: torch.Tensor
    vcma_T_per_V: torch.Tensor
    bias_field_T: torch.Tensor
    damping: torch.Tensor

    @property
    def n_devices(self) -> int:
        return int(self.interfacial_anisotropy_field_T.shape[0])

    @property
    def effective_anisotropy_field_T(self) -> torch.Tensor:
        """B_k0 per device (T)."""
        return self.interfacial_anisotropy_field_T - self.params.shape_anisotropy_field_T

    def to(self, device: torch.device | str) -> DeviceSample:
        """The same sample with its tensors on ``device``."""
        return DeviceSample(
            self.params,
            *(t.to(device) for t in (
                self.interfacial_anisotropy_field_T, self.vcma_T_per_V, self.bias_field_T, self.damping
            )),
        )


def nominal_devices(params: MacrospinParams, n_devices: int = 1) -> DeviceSample:
    """``n_devices`` identical devices with the nominal parameters."""
    def full(value: float) -> torch.Tensor:
        return torch.full((n_devices,), float(value), dtype=torch.float64)

    return DeviceSample(
        params,
        full(params.interfacial_anisotropy_field_T),
        full(params.vcma_field_per_volt_T_per_V),
        full(params.bias_field_T),
        full(params.damping),
    )


def sample_devices(
    params: MacrospinParams, variation: DeviceVariation, n_devices: int, *, generator: torch.Generator
) -> DeviceSample:
    """Draw ``n_devices`` devices with log-normal device-to-device spread (stream DEVICE_VARIATION).

    Device d's factors are exp(sigma_k z_k) with (z_0..z_3) the four Philox normals of counter
    (0, d, 0, DEVICE_VARIATION): anisotropy, VCMA, bias field, damping. A device whose draw
    leaves it without two stable states (B_k0 <= B_x) raises ``ValueError``.
    """
    if not isinstance(n_devices, int) or n_devices < 1:
        raise ValueError(f"sample_devices: n_devices={n_devices!r} must be an integer >= 1")
    key = draw_key(generator)
    normals = philox_normals_torch(0, torch.arange(n_devices, dtype=torch.int64), Stream.DEVICE_VARIATION, key)
    nominal = nominal_devices(params, n_devices)
    sigmas = (
        variation.anisotropy_log_std, variation.vcma_log_std, variation.bias_field_log_std, variation.damping_log_std
    )
    values = [
        tensor * torch.exp(sigma * normal)
        for tensor, sigma, normal in zip(
            (nominal.interfacial_anisotropy_field_T, nominal.vcma_T_per_V, nominal.bias_field_T, nominal.damping),
            sigmas,
            normals,
            strict=True,
        )
    ]
    sample = DeviceSample(params, *values)
    unstable = sample.effective_anisotropy_field_T <= sample.bias_field_T
    if bool(unstable.any()) or bool((sample.damping >= 1).any()):
        raise ValueError(
            "sample_devices: the variation drew a device without two stable states (B_k0 <= B_x) or with "
            "damping >= 1; reduce DeviceVariation.anisotropy_log_std / bias_field_log_std / damping_log_std"
        )
    return sample


@dataclass(frozen=True)
class SwitchingOutcome:
    """What became of every trial (tensors on the simulation's device).

    Attributes:
        switched: bool (n_trials,), True where the layer ended in the -z well.
        undecided: bool (n_trials,), True where it was not yet trapped when the wait ran out.
        final_magnetisation: float64 (n_trials, 3).
        simulated_time_s: time at the decision (s).
        n_steps: Heun steps taken.
        backend: the backend that ran (after any fallback), a :class:`Backend` value string.
        note: empty, or why a requested backend was replaced.
    """

    switched: torch.Tensor
    undecided: torch.Tensor
    final_magnetisation: torch.Tensor
    simulated_time_s: float
    n_steps: int
    backend: str
    note: str = ""


@dataclass(frozen=True)
class Trajectory:
    """Recorded magnetisation of a (small) batch of trials.

    Attributes:
        time_s: float64 (n_records,), record times (s).
        voltage_V: float64 (n_records, n_trials), pulse voltage at those times (V).
        magnetisation: float64 (n_records, n_trials, 3).
        pulse_start_s: start of the rising edge (s).
        backend: backend that ran; note: as in :class:`SwitchingOutcome`.
    """

    time_s: torch.Tensor
    voltage_V: torch.Tensor
    magnetisation: torch.Tensor
    pulse_start_s: float
    backend: str
    note: str = ""


# ---------------------------------------------------------------------------------------------
# Batch preparation


@dataclass(frozen=True)
class _Batch:
    trials: TrialTensors
    initial: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    saddle_energy_T: torch.Tensor
    trap_depth_T: torch.Tensor
    fall_end_s: torch.Tensor
    rise_half_time_s: float
    demag_x_T: float
    demag_y_T: float


def _as_trial_vector(name: str, value, n_trials: int | None, device: torch.device) -> torch.Tensor:
    tensor = torch.as_tensor(value, dtype=torch.float64).to(device).reshape(-1)
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} must be finite; got {value!r}")
    if n_trials is not None and tensor.numel() not in (1, n_trials):
        raise ValueError(f"{name} has {tensor.numel()} values; expected 1 or n_trials={n_trials}")
    return tensor


def _prepare_batch(
    params: MacrospinParams,
    amplitude_V,
    pulse_width_s,
    *,
    pulse: TrapezoidPulse,
    devices: DeviceSample | None,
    device_index,
    trial_index: torch.Tensor,
    config: SolverConfig,
    key: int,
    device: torch.device,
    dtype: torch.dtype,
    normals_of=philox_normals_torch,
) -> _Batch:
    n_trials = int(trial_index.numel())
    amplitude = _as_trial_vector("amplitude_V", amplitude_V, n_trials, device).expand(n_trials)
    width = _as_trial_vector("pulse_width_s", pulse_width_s, n_trials, device).expand(n_trials)
    if bool((width < 0).any()):
        raise ValueError("pulse_width_s must be >= 0 seconds")
    if devices is None:
        devices = nominal_devices(params)
    if devices.params != params:
        raise ValueError("devices were sampled for other MacrospinParams than the ones passed")
    devices = devices.to(device)
    if device_index is None:
        if devices.n_devices != 1:
            raise ValueError(f"device_index is required with {devices.n_devices} devices")
        index = torch.zeros(n_trials, dtype=torch.int64, device=device)
    else:
        index = torch.as_tensor(device_index, dtype=torch.int64).to(device).reshape(-1).expand(n_trials)
        if bool((index < 0).any()) or bool((index >= devices.n_devices).any()):
            raise ValueError(f"device_index must lie in [0, {devices.n_devices})")

    demag_x, demag_y, demag_z = params.demagnetising_field_coefficients_T
    interface = devices.interfacial_anisotropy_field_T[index]
    kappa = devices.vcma_T_per_V[index]
    bias = devices.bias_field_T[index]
    damping = devices.damping[index]
    gamma = params.gyromagnetic_ratio_rad_per_s_T
    moment = params.magnetic_moment_A_m2
    thermal_energy_J = BOLTZMANN_J_PER_K * params.temperature_K
    sigma = torch.sqrt(2 * damping * thermal_energy_J / (gamma * moment * config.time_step_s))

    # Per-pulse jitter of the effective amplitude (stream PULSE_JITTER, first normal).
    jitter = normals_of(0, trial_index, Stream.PULSE_JITTER, key)[0] * params.pulse_jitter_V
    rise_half_time_s = config.thermalise_time_s + pulse.rise_time_s / 2

    # Harmonic Boltzmann start around the tilted rest state (stream INITIAL_STATE).
    effective = interface - demag_z + demag_x
    tilt = bias / effective
    normals = normals_of(0, trial_index, Stream.INITIAL_STATE, key)
    polar_std = torch.sqrt(thermal_energy_J / (moment * effective * (1 - tilt**2)))
    azimuth_std = torch.sqrt(thermal_energy_J / (moment * effective))
    cos_tilt = torch.sqrt(1 - tilt**2)
    polar = normals[0] * polar_std
    azimuth = normals[1] * azimuth_std
    # m = m_0 + polar e_theta + azimuth e_phi, e_theta = (cos theta_0, 0, -sin theta_0), e_phi = y.
    mx = tilt + polar * cos_tilt
    my = azimuth
    mz = cos_tilt - polar * tilt
    norm = torch.sqrt(mx**2 + my**2 + mz**2)

    trials = TrialTensors(
        anisotropy_at_zero_V_T=(interface - demag_z).to(dtype),
        vcma_T_per_V=kappa.to(dtype),
        bias_T=bias.to(dtype),
        damping=damping.to(dtype),
        gamma_prime=(gamma / (1 + damping**2)).to(dtype),
        thermal_sigma_T=sigma.to(dtype),
        amplitude_V=(amplitude + jitter).to(dtype),
        fall_half_time_s=(rise_half_time_s + width).to(dtype),
        trial_index=trial_index,
    )
    return _Batch(
        trials=trials,
        initial=((mx / norm).to(dtype), (my / norm).to(dtype), (mz / norm).to(dtype)),
        saddle_energy_T=0.5 * demag_x - bias,
        trap_depth_T=torch.full_like(bias, config.decision_margin_kT * thermal_energy_J / moment),
        fall_end_s=rise_half_time_s + width + pulse.fall_time_s / 2,
        rise_half_time_s=rise_half_time_s,
        demag_x_T=demag_x,
        demag_y_T=demag_y,
    )


# ---------------------------------------------------------------------------------------------
# Backends

_Advance = Callable[[tuple[torch.Tensor, torch.Tensor, torch.Tensor], int, int], tuple]


def _numba_normals(step_index, trial_index, stream, key):
    # The Philox normals of noise.philox_normals_torch, computed by the compiled twin (same integers,
    # floats equal to ~1e-13): eager int64 torch is slow for large batches.
    from devices.macrospin.kernel_numba import normals_numba

    table = torch.from_numpy(normals_numba(int(step_index), trial_index.cpu().numpy(), int(stream), key))
    return tuple(table[:, column].to(trial_index.device) for column in range(4))


def _numba_advance(batch: _Batch, config: SolverConfig, key: int, pulse: TrapezoidPulse):
    from devices._numba_threads import run_numba_kernel
    from devices.macrospin.kernel_numba import advance_numba, trapped_numba

    arrays = [t.detach().to("cpu", torch.float64).contiguous().numpy() for t in batch.trials[:-1]]
    trial_index = batch.trials.trial_index.to("cpu").contiguous().numpy()
    saddle = batch.saddle_energy_T.to("cpu", torch.float64).contiguous().numpy()
    depth = batch.trap_depth_T.to("cpu", torch.float64).contiguous().numpy()
    owned: list = []

    def advance(state, first_step: int, n_steps: int):
        # The state arrays are owned here and updated in place: no copies (and no torch work, which
        # would compete with numba's spinning OpenMP threads) between kernel calls.
        if not owned or any(s is not o for s, o in zip(state, owned[0], strict=True)):
            arrays_state = [s.detach().to("cpu", torch.float64).contiguous().clone() for s in state]
            owned[:] = [tuple(arrays_state)]
        mx, my, mz = owned[0]
        run_numba_kernel(
            advance_numba,
            mx.numpy(), my.numpy(), mz.numpy(), *arrays, trial_index,
            first_step, n_steps, config.time_step_s, key,
            batch.demag_x_T, batch.demag_y_T, batch.rise_half_time_s,
            pulse.rise_slope_per_s, pulse.fall_slope_per_s,
        )
        return owned[0]

    def trapped(state) -> torch.Tensor:
        mx, my, mz = (s.to("cpu", torch.float64).contiguous().numpy() for s in state)
        return torch.from_numpy(trapped_numba(mx, my, mz, arrays[0], arrays[2], batch.demag_x_T, batch.demag_y_T,
                                              saddle, depth))

    return advance, trapped


def _torch_advance(batch: _Batch, config: SolverConfig, key: int, pulse: TrapezoidPulse):
    device = batch.trials.bias_T.device

    def advance(state, first_step: int, n_steps: int):
        return advance_torch(
            *state, batch.trials, torch.tensor(first_step, dtype=torch.int64, device=device), n_steps,
            config.time_step_s, key, batch.demag_x_T, batch.demag_y_T, batch.rise_half_time_s,
            pulse.rise_slope_per_s, pulse.fall_slope_per_s,
        )

    return advance


def _compiled_advance(
    batch: _Batch, config: SolverConfig, key: int, pulse: TrapezoidPulse, notes: list[str]
) -> _Advance:
    eager = _torch_advance(batch, config, key, pulse)
    device = batch.trials.bias_T.device
    unroll = config.compiled_steps
    constants = (
        config.time_step_s, key, batch.demag_x_T, batch.demag_y_T, batch.rise_half_time_s,
        pulse.rise_slope_per_s, pulse.fall_slope_per_s,
    )

    def chunk(mx, my, mz, trials, first_step):
        return advance_torch(mx, my, mz, trials, first_step, unroll, *constants)

    try:
        compiled = torch.compile(chunk, fullgraph=True, dynamic=False)
    except Exception as error:  # torch.compile missing or refusing on this platform
        notes.append(f"torch.compile unavailable ({type(error).__name__}: {error}); ran eager torch")
        return eager
    state_of_compiler = {"working": True}

    def advance(state, first_step: int, n_steps: int):
        step = first_step
        while state_of_compiler["working"] and step + unroll <= first_step + n_steps:
            try:
                state = compiled(*state, batch.trials, torch.tensor(step, dtype=torch.int64, device=device))
            except Exception as error:  # compiler/toolchain failure at first call: fall back, say so
                state_of_compiler["working"] = False
                notes.append(f"torch.compile failed ({type(error).__name__}: {str(error)[:200]}); ran eager torch")
                break
            step += unroll
        remaining = first_step + n_steps - step
        if remaining:
            state = eager(state, step, remaining)
        return state

    return advance


def _resolve_backend(requested: Backend, device: torch.device) -> tuple[Backend, str]:
    """The backend that will run, and a note when the requested one cannot."""
    backend = requested
    if backend is Backend.AUTO:
        backend = Backend.NUMBA if device.type == "cpu" else Backend.TORCH_COMPILE
    if backend is Backend.NUMBA and device.type != "cpu":
        raise ValueError(f"Backend.NUMBA runs on the CPU only, not on {device}: use Backend.TORCH_COMPILE")
    if backend is Backend.NUMBA:
        try:
            import devices.macrospin.kernel_numba  # noqa: F401  (compiles lazily; import errors show here)
        except ImportError as error:
            if requested is Backend.NUMBA:
                raise
            return Backend.TORCH, f"numba unavailable ({error}); ran eager torch"
    return backend, ""


def _build_backend(backend: Backend, batch: _Batch, config: SolverConfig, key: int, pulse: TrapezoidPulse,
                   notes: list[str]):
    device = batch.trials.bias_T.device
    if backend is Backend.NUMBA:
        return _numba_advance(batch, config, key, pulse)

    def trapped(state) -> torch.Tensor:
        return _trapped(state, batch, device)

    if backend is Backend.TORCH_COMPILE:
        return _compiled_advance(batch, config, key, pulse, notes), trapped
    return _torch_advance(batch, config, key, pulse), trapped


def _resolve_backend_label(label: str, note: str) -> str:
    # A torch.compile failure at run time leaves a note; report the backend that actually ran.
    return Backend.TORCH.value if "ran eager torch" in note else label


# ---------------------------------------------------------------------------------------------
# Public entry points


def _check_generator(generator) -> None:
    require_generator(generator, "the macrospin solver")


def _run(
    params, amplitude_V, pulse_width_s, *, key, trial_index, pulse, devices, device_index, config, device,
    record_every_steps: int | None = None, duration_s: float | None = None, stop_when_trapped: bool = True,
):
    device = torch.device(device)
    backend, note = _resolve_backend(config.backend, device)
    notes = [note] if note else []
    dtype = torch.float64 if backend is Backend.NUMBA else config.precision.dtype
    batch = _prepare_batch(
        params, amplitude_V, pulse_width_s, pulse=pulse, devices=devices, device_index=device_index,
        trial_index=trial_index, config=config, key=key, device=device, dtype=dtype,
        normals_of=_numba_normals if backend is Backend.NUMBA else philox_normals_torch,
    )
    advance, trapped = _build_backend(backend, batch, config, key, pulse, notes)
    label = backend.value
    dt = config.time_step_s
    last_pulse_end_s = float(batch.fall_end_s.max())
    stop_s = duration_s if duration_s is not None else last_pulse_end_s + config.relax_time_s
    total_steps = max(1, math.ceil(stop_s / dt - 1e-9))
    chunk = record_every_steps or config.steps_per_chunk
    state = batch.initial
    records = [torch.stack([s.to(torch.float64) for s in state], dim=-1).cpu()] if record_every_steps else None
    step = 0
    while step < total_steps:
        n_steps = min(chunk, total_steps - step)
        state = advance(state, step, n_steps)
        step += n_steps
        if records is not None:
            records.append(torch.stack([s.to(device=device, dtype=torch.float64) for s in state], dim=-1).cpu())
        elif stop_when_trapped and step * dt >= last_pulse_end_s and bool(trapped(state).all()):
            break
    # The compiled backend appends its fallback note to the list it was given.
    full_note = "; ".join(n for n in notes if n)
    return state, batch, step, records, _resolve_backend_label(label, full_note), full_note, trapped


def _trapped(state, batch: _Batch, device: torch.device) -> torch.Tensor:
    mx, my, mz = (s.to(device=device, dtype=torch.float64) for s in state)
    anisotropy = batch.trials.anisotropy_at_zero_V_T.to(torch.float64)
    energy = reduced_energy_T(mx, my, mz, anisotropy, batch.trials.bias_T.to(torch.float64),
                              batch.demag_x_T, batch.demag_y_T)
    return energy < batch.saddle_energy_T - batch.trap_depth_T


def simulate_switching(
    params: MacrospinParams,
    amplitude_V,
    pulse_width_s,
    *,
    generator: torch.Generator,
    pulse: TrapezoidPulse | None = None,
    devices: DeviceSample | None = None,
    device_index=None,
    config: SolverConfig | None = None,
    device: torch.device | str = "cpu",
    trial_index: torch.Tensor | None = None,
    key: int | None = None,
) -> SwitchingOutcome:
    """Apply one write pulse to each trial and report which ones switched.

    Args:
        params: the device (nominal parameters).
        amplitude_V: pulse amplitude per trial (V), 1-D tensor/sequence of n_trials values (or one).
        pulse_width_s: pulse width (FWHM) per trial (s), n_trials values or one.
        generator: explicit ``torch.Generator``; one 63-bit Philox key is drawn from it.
        pulse: rise and fall times.
        devices: per-device parameters (:func:`sample_devices`); None = the nominal device.
        device_index: int64 per trial, the row of ``devices`` it uses (needed with > 1 device).
        config: numerical settings.
        device: where to run ("cpu" or "cuda").
        trial_index: global indices of these trials in the Philox counters (default 0..n-1); used by
            sweeps to split a large batch without changing its random numbers.
        key: Philox key to reuse instead of drawing one (with ``trial_index``, for split batches).

    Returns:
        :class:`SwitchingOutcome`.
    """
    _check_generator(generator)
    pulse = pulse or TrapezoidPulse()
    config = config or SolverConfig()
    if key is None:
        key = draw_key(generator)
    n_trials = _infer_n_trials(amplitude_V, pulse_width_s, device_index, trial_index)
    if trial_index is None:
        trial_index = torch.arange(n_trials, dtype=torch.int64)
    trial_index = torch.as_tensor(trial_index, dtype=torch.int64).to(device)
    state, batch, steps, _, label, note, trapped_of = _run(
        params, amplitude_V, pulse_width_s, key=key, trial_index=trial_index, pulse=pulse, devices=devices,
        device_index=device_index, config=config, device=device,
    )
    device = torch.device(device)
    trapped = trapped_of(state).to(device)
    magnetisation = torch.stack([s.to(device=device, dtype=torch.float64) for s in state], dim=-1)
    return SwitchingOutcome(
        switched=magnetisation[:, 2] < 0,
        undecided=~trapped,
        final_magnetisation=magnetisation,
        simulated_time_s=steps * config.time_step_s,
        n_steps=steps,
        backend=label,
        note=note,
    )


def trace_magnetisation(
    params: MacrospinParams,
    amplitude_V,
    pulse_width_s,
    *,
    generator: torch.Generator,
    record_interval_s: float = 1e-11,
    duration_s: float | None = None,
    pulse: TrapezoidPulse | None = None,
    devices: DeviceSample | None = None,
    device_index=None,
    config: SolverConfig | None = None,
    device: torch.device | str = "cpu",
) -> Trajectory:
    """Record m(t) of a few trials every ``record_interval_s`` (a multiple of the time step).

    ``duration_s`` defaults to the end of the last pulse plus ``config.relax_time_s`` (no early stop).
    """
    _check_generator(generator)
    pulse = pulse or TrapezoidPulse()
    config = config or SolverConfig()
    every = round(record_interval_s / config.time_step_s)
    if every < 1 or not math.isclose(every * config.time_step_s, record_interval_s, rel_tol=1e-6):
        raise ValueError(
            f"record_interval_s={record_interval_s} must be a positive multiple of time_step_s={config.time_step_s}"
        )
    key = draw_key(generator)
    n_trials = _infer_n_trials(amplitude_V, pulse_width_s, device_index, None)
    trial_index = torch.arange(n_trials, dtype=torch.int64, device=torch.device(device))
    _, batch, steps, records, label, note, _ = _run(
        params, amplitude_V, pulse_width_s, key=key, trial_index=trial_index, pulse=pulse, devices=devices,
        device_index=device_index, config=config, device=device, record_every_steps=every, duration_s=duration_s,
    )
    magnetisation = torch.stack(records)
    time_s = torch.arange(magnetisation.shape[0], dtype=torch.float64) * (every * config.time_step_s)
    time_s[-1] = steps * config.time_step_s  # the last chunk may be shorter
    amplitude = batch.trials.amplitude_V.to("cpu", torch.float64)
    fall_half = batch.trials.fall_half_time_s.to("cpu", torch.float64)
    rising = 0.5 + (time_s[:, None] - batch.rise_half_time_s) * pulse.rise_slope_per_s
    falling = 0.5 + (fall_half[None, :] - time_s[:, None]) * pulse.fall_slope_per_s
    envelope = torch.clamp(torch.minimum(rising, falling), 0.0, 1.0)
    return Trajectory(
        time_s=time_s,
        voltage_V=amplitude[None, :] * envelope,
        magnetisation=magnetisation,
        pulse_start_s=config.thermalise_time_s,
        backend=label,
        note=note,
    )


def thermal_states(
    params: MacrospinParams,
    n_trials: int,
    *,
    generator: torch.Generator,
    duration_s: float,
    devices: DeviceSample | None = None,
    device_index=None,
    config: SolverConfig | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Magnetisations (n_trials, 3) after ``duration_s`` of sLLG at 0 V from the harmonic start.

    Samples of the thermal equilibrium of the scheme once ``duration_s`` exceeds a few
    relaxation times (1 / (alpha gamma B_k0)); used to check it against the Boltzmann law.
    """
    _check_generator(generator)
    config = config or SolverConfig()
    key = draw_key(generator)
    trial_index = torch.arange(n_trials, dtype=torch.int64, device=torch.device(device))
    state, *_ = _run(
        params, 0.0, 0.0, key=key, trial_index=trial_index, pulse=TrapezoidPulse(), devices=devices,
        device_index=device_index, config=config, device=device, duration_s=duration_s, stop_when_trapped=False,
    )
    return torch.stack([s.to(dtype=torch.float64) for s in state], dim=-1)


def _infer_n_trials(amplitude_V, pulse_width_s, device_index, trial_index) -> int:
    sizes = {
        torch.as_tensor(v).numel()
        for v in (amplitude_V, pulse_width_s, device_index, trial_index)
        if v is not None
    }
    sizes.discard(1)
    if len(sizes) > 1:
        raise ValueError(f"per-trial inputs disagree on the number of trials: sizes {sorted(sizes)}")
    return sizes.pop() if sizes else 1
