"""Physical parameters of a macrospin VCMA-MTJ free layer (SI units), and their derived fields.

The free layer is a circular disc magnetised uniformly (macrospin) with perpendicular easy axis z,
an in-plane bias field along +x, and a voltage-controlled interfacial anisotropy. Energy per volume:

    E(m) / V = -K_i(V) / t_FL * m_z^2 + (mu_0 M_s^2 / 2) m . N m - M_s B_x m_x,
    K_i(V) = K_i0 - xi V / t_MgO,

so the anisotropy field of the interface is B_i(V) = 2 K_i(V) / (M_s t_FL) = B_i0 - kappa V with
kappa = 2 xi / (M_s t_FL t_MgO), and the *effective* perpendicular anisotropy field (what a
magnetometer or an FMR fit reports) is B_k(V) = B_i(V) - mu_0 M_s (N_z - N_x): interface minus
thin-film shape anisotropy. ``effective_anisotropy_field_T`` is that B_k0 = B_k(0); the issue's
"B_k0 ~ 0.18 T" is this effective value.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from functools import cached_property

from devices.macrospin.demag import cylinder_demagnetising_factors

__all__ = [
    "MU_0",
    "BOLTZMANN_J_PER_K",
    "ELECTRON_GYROMAGNETIC_RATIO",
    "MacrospinParams",
    "DeviceVariation",
    "load_macrospin_params",
    "load_device_variation",
]

MU_0 = 1.25663706212e-6  # vacuum permeability, T m / A
BOLTZMANN_J_PER_K = 1.380649e-23
ELECTRON_GYROMAGNETIC_RATIO = 1.76085963023e11  # rad / (s T)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True, kw_only=True)
class MacrospinParams:
    """One VCMA-MTJ free layer as a macrospin; the defaults are the documented paper set.

    The defaults reproduce the paper's p-bit operating point (first switching peak at 700 ps,
    P = 0.5 at 1.5 V, ~1 V window; see ``docs/macrospin.md`` for how each number was chosen).
    Thermal noise alone gives a far narrower voltage window than measured; the extra spread is the
    explicit per-pulse jitter ``pulse_jitter_V`` (set it to 0 for the thermal-only device) and,
    across devices, :class:`DeviceVariation`.

    Attributes:
        free_layer_diameter_m: diameter of the circular free layer (m).
        free_layer_thickness_m: free-layer thickness t_FL (m).
        barrier_thickness_m: MgO thickness t_MgO (m); the VCMA field is xi V / t_MgO.
        saturation_magnetisation_A_per_m: M_s (A/m).
        interfacial_anisotropy_J_per_m2: K_i0, interface anisotropy energy per area at 0 V (J/m^2).
            Use :meth:`from_effective_anisotropy` to set it from the effective field B_k0 instead.
        vcma_coefficient_J_per_V_m: xi, the VCMA coefficient (J / (V m)); positive lowers K_i.
        bias_field_T: in-plane bias field B_x along +x (T), > 0 (sets the precession axis).
        damping: Gilbert damping alpha (dimensionless), > 0.
        temperature_K: temperature (K); 0 switches the thermal field off.
        gyromagnetic_ratio_rad_per_s_T: gamma (rad / (s T)).
        pulse_jitter_V: standard deviation of a Gaussian, per-pulse jitter of the effective pulse
            amplitude (V). It lumps every pulse-to-pulse fluctuation of the anisotropy drop that a
            macrospin at temperature T does not contain (driver amplitude noise, charge trapping in
            the barrier, non-uniform/sub-volume reversal); the equivalent anisotropy jitter is
            ``vcma_field_per_volt_T_per_V * pulse_jitter_V`` tesla. 0 gives the thermal-only device.
    """

    free_layer_diameter_m: float = 60e-9
    free_layer_thickness_m: float = 1.1e-9
    barrier_thickness_m: float = 1.4e-9
    saturation_magnetisation_A_per_m: float = 1.0e6
    interfacial_anisotropy_J_per_m2: float = 7.0834e-4
    vcma_coefficient_J_per_V_m: float = 50e-15
    bias_field_T: float = 0.025
    damping: float = 0.02
    temperature_K: float = 300.0
    gyromagnetic_ratio_rad_per_s_T: float = ELECTRON_GYROMAGNETIC_RATIO
    pulse_jitter_V: float = 0.38

    def __post_init__(self) -> None:
        for name in (
            "free_layer_diameter_m",
            "free_layer_thickness_m",
            "barrier_thickness_m",
            "saturation_magnetisation_A_per_m",
            "interfacial_anisotropy_J_per_m2",
            "bias_field_T",
            "damping",
            "gyromagnetic_ratio_rad_per_s_T",
        ):
            value = getattr(self, name)
            _require(
                isinstance(value, int | float) and math.isfinite(value) and value > 0,
                f"MacrospinParams.{name}={value!r} must be a finite positive number (SI units, see its name)",
            )
        for name in ("temperature_K", "pulse_jitter_V"):
            value = getattr(self, name)
            _require(
                isinstance(value, int | float) and math.isfinite(value) and value >= 0,
                f"MacrospinParams.{name}={value!r} must be finite and >= 0",
            )
        _require(
            isinstance(self.vcma_coefficient_J_per_V_m, int | float)
            and math.isfinite(self.vcma_coefficient_J_per_V_m),
            f"MacrospinParams.vcma_coefficient_J_per_V_m={self.vcma_coefficient_J_per_V_m!r} must be finite",
        )
        _require(
            self.damping < 1.0,
            f"MacrospinParams.damping={self.damping} must be < 1 (typical free layers: 0.005-0.05)",
        )
        _require(
            self.free_layer_thickness_m < self.free_layer_diameter_m,
            "MacrospinParams: free_layer_thickness_m must be smaller than free_layer_diameter_m "
            "(a thin disc); got "
            f"{self.free_layer_thickness_m} >= {self.free_layer_diameter_m}",
        )
        _require(
            self.effective_anisotropy_field_T > self.bias_field_T,
            f"MacrospinParams: the effective anisotropy field B_k0={self.effective_anisotropy_field_T:.4g} T "
            f"must exceed bias_field_T={self.bias_field_T} T, otherwise the layer has no two stable "
            "perpendicular states; raise interfacial_anisotropy_J_per_m2 or lower bias_field_T",
        )

    # --- constructors -----------------------------------------------------------------------
    @classmethod
    def from_effective_anisotropy(cls, *, effective_anisotropy_field_T: float, **fields) -> MacrospinParams:
        """Build parameters whose effective anisotropy field at 0 V is ``effective_anisotropy_field_T``.

        The interface anisotropy K_i0 is solved for, given the geometry and M_s in ``fields``
        (defaults otherwise): K_i0 = (B_k0 + mu_0 M_s (N_z - N_x)) M_s t_FL / 2.
        """
        probe = dataclasses.replace(cls(), **fields) if fields else cls()
        interface_field_T = effective_anisotropy_field_T + probe.shape_anisotropy_field_T
        k_i = interface_field_T * probe.saturation_magnetisation_A_per_m * probe.free_layer_thickness_m / 2
        return dataclasses.replace(probe, interfacial_anisotropy_J_per_m2=k_i)

    def replace(self, **changes) -> MacrospinParams:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def thermal_only(self) -> MacrospinParams:
        """The same device without the extra per-pulse jitter (only the macrospin's thermal noise)."""
        return dataclasses.replace(self, pulse_jitter_V=0.0)

    # --- derived quantities -------------------------------------------------------------------
    @cached_property
    def volume_m3(self) -> float:
        """Free-layer volume (m^3)."""
        return math.pi * (self.free_layer_diameter_m / 2) ** 2 * self.free_layer_thickness_m

    @cached_property
    def magnetic_moment_A_m2(self) -> float:
        """M_s V (A m^2)."""
        return self.saturation_magnetisation_A_per_m * self.volume_m3

    @cached_property
    def demagnetising_factors(self) -> tuple[float, float, float]:
        """(N_x, N_y, N_z) of the disc."""
        return cylinder_demagnetising_factors(self.free_layer_diameter_m, self.free_layer_thickness_m)

    @cached_property
    def demagnetising_field_coefficients_T(self) -> tuple[float, float, float]:
        """mu_0 M_s (N_x, N_y, N_z) (T): the demagnetising field is minus these times (m_x, m_y, m_z)."""
        scale = MU_0 * self.saturation_magnetisation_A_per_m
        n_x, n_y, n_z = self.demagnetising_factors
        return scale * n_x, scale * n_y, scale * n_z

    @cached_property
    def shape_anisotropy_field_T(self) -> float:
        """mu_0 M_s (N_z - N_x) (T), the thin-film shape anisotropy that the interface must overcome."""
        d_x, _, d_z = self.demagnetising_field_coefficients_T
        return d_z - d_x

    @cached_property
    def interfacial_anisotropy_field_T(self) -> float:
        """B_i0 = 2 K_i0 / (M_s t_FL) (T), interface anisotropy field at 0 V."""
        return (
            2 * self.interfacial_anisotropy_J_per_m2
            / (self.saturation_magnetisation_A_per_m * self.free_layer_thickness_m)
        )

    @cached_property
    def effective_anisotropy_field_T(self) -> float:
        """B_k0 = B_i0 - mu_0 M_s (N_z - N_x) (T), the effective perpendicular anisotropy field at 0 V."""
        return self.interfacial_anisotropy_field_T - self.shape_anisotropy_field_T

    @cached_property
    def vcma_field_per_volt_T_per_V(self) -> float:
        """kappa = 2 xi / (M_s t_FL t_MgO) (T/V): B_k(V) = B_k0 - kappa V."""
        return (
            2 * self.vcma_coefficient_J_per_V_m
            / (self.saturation_magnetisation_A_per_m * self.free_layer_thickness_m * self.barrier_thickness_m)
        )

    def effective_anisotropy_field_at(self, voltage_V: float) -> float:
        """B_k(V) = B_k0 - kappa V (T)."""
        return self.effective_anisotropy_field_T - self.vcma_field_per_volt_T_per_V * voltage_V

    @cached_property
    def equilibrium_tilt(self) -> float:
        """h = B_x / B_k0 = sin(theta_0), the tilt of the rest state towards the bias field."""
        return self.bias_field_T / self.effective_anisotropy_field_T

    @cached_property
    def thermal_stability(self) -> float:
        """Energy barrier over k_B T with the bias field: Delta_0 (1 - h)^2, Delta_0 = M_s V B_k0 / (2 k_B T).

        Infinite at 0 K.
        """
        if self.temperature_K == 0:
            return math.inf
        delta_0 = self.magnetic_moment_A_m2 * self.effective_anisotropy_field_T / (
            2 * BOLTZMANN_J_PER_K * self.temperature_K
        )
        return delta_0 * (1 - self.equilibrium_tilt) ** 2

    @cached_property
    def precession_half_period_s(self) -> float:
        """pi / (gamma B_x) (s): half a precession about the bias field alone (B_k(V) = 0)."""
        return math.pi / (self.gyromagnetic_ratio_rad_per_s_T * self.bias_field_T)

    @cached_property
    def compensation_voltage_V(self) -> float:
        """Voltage at which the effective anisotropy vanishes, B_k0 / kappa (V); inf without VCMA."""
        if self.vcma_field_per_volt_T_per_V == 0:
            return math.inf
        return self.effective_anisotropy_field_T / self.vcma_field_per_volt_T_per_V

    @cached_property
    def switching_band_V(self) -> tuple[float, float]:
        """Zero-temperature, undamped band of pulse amplitudes that can reverse the layer (V).

        Energy conservation during an instantaneous pulse: starting at rest (m_x = h), the orbit
        crosses the equator iff -2 B_x / (1 - h) <= B_k(V) <= 2 B_x / (1 + h). Below the band the
        precession cannot pass the saddle at +x; above it the orbit circles the (now in-plane
        easy) pole it started from. Returns (lower, upper); inf where kappa <= 0 gives no band.
        """
        kappa = self.vcma_field_per_volt_T_per_V
        if kappa <= 0:
            return math.inf, math.inf
        h = self.equilibrium_tilt
        b_k0 = self.effective_anisotropy_field_T
        lower = (b_k0 - 2 * self.bias_field_T / (1 + h)) / kappa
        upper = (b_k0 + 2 * self.bias_field_T / (1 - h)) / kappa
        return lower, upper

    @cached_property
    def thermal_field_variance_T2_s(self) -> float:
        """2 alpha k_B T / (gamma M_s V) (T^2 s): divide by the time step for the per-component variance."""
        return (
            2 * self.damping * BOLTZMANN_J_PER_K * self.temperature_K
            / (self.gyromagnetic_ratio_rad_per_s_T * self.magnetic_moment_A_m2)
        )

    def summary(self) -> dict[str, float]:
        """The derived figures a device physicist checks first (SI units, JSON-ready)."""
        lower, upper = self.switching_band_V
        n_x, _, n_z = self.demagnetising_factors
        return {
            "volume_m3": self.volume_m3,
            "demagnetising_factor_z": n_z,
            "demagnetising_factor_x": n_x,
            "shape_anisotropy_field_T": self.shape_anisotropy_field_T,
            "interfacial_anisotropy_field_T": self.interfacial_anisotropy_field_T,
            "effective_anisotropy_field_T": self.effective_anisotropy_field_T,
            "vcma_field_per_volt_T_per_V": self.vcma_field_per_volt_T_per_V,
            "compensation_voltage_V": self.compensation_voltage_V,
            "switching_band_lower_V": lower,
            "switching_band_upper_V": upper,
            "precession_half_period_s": self.precession_half_period_s,
            "thermal_stability": self.thermal_stability,
            "pulse_jitter_V": self.pulse_jitter_V,
        }


@dataclass(frozen=True, kw_only=True)
class DeviceVariation:
    """Device-to-device spread of the macrospin parameters (lognormal, median = nominal value).

    Each field is the standard deviation of the natural log of the factor that multiplies the
    nominal value, drawn once per device (fabrication spread: interface quality, cell size,
    local stray field). Zero (the default) switches a source off.

    Attributes:
        anisotropy_log_std: spread of the interface anisotropy K_i0 (so of B_k0 via B_i0).
        vcma_log_std: spread of the VCMA coefficient xi.
        bias_field_log_std: spread of the in-plane bias field (local stray fields).
        damping_log_std: spread of the Gilbert damping.
    """

    anisotropy_log_std: float = 0.0
    vcma_log_std: float = 0.0
    bias_field_log_std: float = 0.0
    damping_log_std: float = 0.0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            _require(
                isinstance(value, int | float) and math.isfinite(value) and 0 <= value < 1,
                f"DeviceVariation.{field.name}={value!r} must be in [0, 1) (a log-normal sigma)",
            )


def _from_json(cls, path: str | os.PathLike, nested_key: str | None = None):
    """Build a frozen config from a JSON object; unknown keys and non-numbers name the file and key."""
    path = os.fspath(path)
    with open(path) as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    if nested_key is not None and isinstance(data, dict) and nested_key in data:
        data = data[nested_key]
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of {cls.__name__} fields")
    known = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown {cls.__name__} field(s) {unknown}; known fields: {sorted(known)}")
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{path}: field {key!r} must be a number (SI units), got {value!r}")
    try:
        return cls(**data)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def load_macrospin_params(path: str | os.PathLike) -> MacrospinParams:
    """Read :class:`MacrospinParams` from JSON: any subset of its fields (SI units); the rest keep defaults.

    The object may also sit under a ``"macrospin"`` key (so one file can hold params and variation).
    """
    return _from_json(MacrospinParams, path, "macrospin")


def load_device_variation(path: str | os.PathLike) -> DeviceVariation:
    """Read :class:`DeviceVariation` from JSON (fields, or an object under ``"variation"``)."""
    return _from_json(DeviceVariation, path, "variation")
