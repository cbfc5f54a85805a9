"""Binomial maximum-likelihood fit of the compact p-bit model to switching counts.

Every device gets its own threshold v50_i (fixed effects); the per-pulse spread, the precession timing
(half period, dephasing time, thermal spread) and the frequency's bias slope are shared. The population
(median device v50 and device-to-device spread) then follows from a normal-normal model of the v50_i with
their estimation covariance. Timing parameters need a pulse-width sweep; the bias slope needs width sweeps
at two or more amplitudes; when the data lack them they keep the base card's values (reported).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.optimize
import scipy.stats
import torch

from devices.card import PBitParams
from devices.fit._optimize import covariance_from_hessian, minimize
from devices.fit.report import THREE_SIGMA_COVERAGE, Estimate, FileFit

__all__ = ["fit_switching", "aggregate_switching", "voltage_sweep_width_s"]

_NS = 1e-9


def _probability(voltage, width_ns, v50, sigma_pulse, half_period_ns, dephasing_ns, sigma_mz, slope, reference_V):
    """The compact model of devices.pbit in fit units (ns), on float64 tensors."""
    engaged = torch.special.ndtr((voltage - v50) / sigma_pulse)
    omega = (math.pi / half_period_ns) * (1 + slope * (voltage - reference_V))
    out_of_plane = torch.cos(omega * width_ns) * torch.exp(-width_ns / dephasing_ns)
    return engaged * torch.special.ndtr(-out_of_plane / sigma_mz)


def _initial_thresholds(voltage, width, n, k, device_index, n_devices):
    """Per device: the voltage where the empirical probability crosses 1/2 at its most common width."""
    starts, spreads = np.zeros(n_devices), []
    for device in range(n_devices):
        mask = device_index == device
        widths, counts = np.unique(width[mask], return_counts=True)
        chosen = mask & (width == widths[np.argmax(counts)])
        order = np.argsort(voltage[chosen])
        v, p = voltage[chosen][order], (k[chosen] / n[chosen])[order]
        starts[device] = float(np.interp(0.5, np.maximum.accumulate(p) + 1e-9 * np.arange(p.size), v)) \
            if p.size > 1 and p.max() > 0.5 > p.min() else float(np.median(v))
        if p.size > 2 and p.max() > 0.9 and p.min() < 0.1:
            spreads.append((np.interp(0.9, np.maximum.accumulate(p) + 1e-9 * np.arange(p.size), v)
                            - np.interp(0.1, np.maximum.accumulate(p) + 1e-9 * np.arange(p.size), v)) / 2.563)
    spread = float(np.median(spreads)) if spreads else 0.3
    return starts, (spread if math.isfinite(spread) and spread > 1e-3 else 0.3)


def _codes(values: np.ndarray) -> tuple[np.ndarray, list]:
    """Integer codes of the (hashable) values in order of first appearance, and the distinct values."""
    lookup: dict = {}
    codes = np.fromiter((lookup.setdefault(value, len(lookup)) for value in values), dtype=np.int64,
                        count=values.size)
    return codes, list(lookup)


def aggregate_switching(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sum the counts of rows that share device, array, voltage and pulse width.

    The binomial likelihood of the fit depends on the counts only through these sums (a sum of binomial counts
    with one probability is binomial), so a file with one row per trial block (millions of rows) fits as fast
    as its aggregate. Rows come out sorted by device, array, width and voltage.

    Args:
        table: columns device_id, array_id, voltage_V, pulse_width_s, n_trials, n_switched (any number of rows).

    Returns:
        The same columns, one row per distinct (device_id, array_id, voltage_V, pulse_width_s).
    """
    device_codes, device_names = _codes(table["device_id"])
    array_codes, array_names = _codes(table["array_id"])
    order = np.lexsort((table["voltage_V"], table["pulse_width_s"], array_codes, device_codes))
    keys = (device_codes[order], array_codes[order], table["pulse_width_s"][order], table["voltage_V"][order])
    starts = np.flatnonzero(np.concatenate([[True], np.any([key[1:] != key[:-1] for key in keys], axis=0)]))
    first = order[starts]
    return {
        "device_id": np.asarray(device_names, dtype=object)[device_codes[first]],
        "array_id": np.asarray(array_names, dtype=object)[array_codes[first]],
        "voltage_V": table["voltage_V"][first],
        "pulse_width_s": table["pulse_width_s"][first],
        "n_trials": np.add.reduceat(table["n_trials"][order], starts),
        "n_switched": np.add.reduceat(table["n_switched"][order], starts),
    }


def voltage_sweep_width_s(table: dict[str, np.ndarray]) -> float | None:
    """The pulse width of the voltage sweep: the width with five or more distinct voltages (the one with the
    most trials if several have); None when the data hold no voltage sweep."""
    best, best_trials = None, -1
    for width in np.unique(table["pulse_width_s"]):
        at_width = table["pulse_width_s"] == width
        trials = int(table["n_trials"][at_width].sum())
        if np.unique(table["voltage_V"][at_width]).size >= 5 and trials > best_trials:
            best, best_trials = float(width), trials
    return best


def _check_identifiable(table: dict[str, np.ndarray], file: str) -> None:
    """Refuse data that cannot determine the thresholds, naming what to add."""
    from devices.io import DataError

    if np.unique(table["voltage_V"]).size < 3:
        raise DataError(file, f"the switching data hold {np.unique(table['voltage_V']).size} distinct voltage(s); "
                              "fitting the threshold and its spread needs a voltage sweep of at least 3 voltages "
                              "around the 50 % point", column="voltage_V")
    for device in np.unique(table["device_id"]):
        mine = table["device_id"] == device
        switched, trials = int(table["n_switched"][mine].sum()), int(table["n_trials"][mine].sum())
        if switched == 0 or switched == trials:
            state = "never switched" if switched == 0 else "switched on every pulse"
            raise DataError(file, f"device {device!r} {state} in its {trials} trials, so its threshold is not "
                                  "determined; extend its voltage sweep across its 50 % point or drop the device",
                            column="n_switched")


def fit_switching(table: dict[str, np.ndarray], base: PBitParams, *, file: str = "switching.csv") -> FileFit:
    """Fit the compact p-bit model to a switching table (see :mod:`devices.fit.schemas`).

    Args:
        table: columns device_id, array_id, voltage_V, pulse_width_s, n_trials, n_switched.
        base: parameters kept when the data cannot determine them (and the reference voltage).
        file: name used in the report.

    Returns:
        Estimates keyed ``p_bit.<field>`` plus ``details['devices']`` (each device's v50 and its error) and
        ``details['voltage_sweep_width_s']`` (see :func:`voltage_sweep_width_s`).

    Raises:
        devices.DataError: the data cannot determine the thresholds (fewer than 3 voltages, a device that never
            or always switches).
    """
    table = aggregate_switching(table)
    _check_identifiable(table, file)
    device_ids, device_index = np.unique(table["device_id"], return_inverse=True)
    n_devices = device_ids.size
    voltage = table["voltage_V"]
    width_ns = table["pulse_width_s"] / _NS
    n, k = table["n_trials"].astype(np.float64), table["n_switched"].astype(np.float64)
    # Which shared parameters the design identifies.
    sweep_voltages = {v for v in np.unique(voltage) if np.unique(width_ns[voltage == v]).size >= 5}
    fit_timing = bool(sweep_voltages)
    fit_slope = len(sweep_voltages) >= 2
    starts, sigma_start = _initial_thresholds(voltage, width_ns, n, k, device_index, n_devices)

    tensors = [torch.tensor(a, dtype=torch.float64) for a in (voltage, width_ns, n, k)]
    v_t, w_t, n_t, k_t = tensors
    index_t = torch.tensor(device_index)
    reference = base.reference_voltage_V
    fixed = {"half_period_ns": base.half_period_s / _NS, "dephasing_ns": base.dephasing_time_s / _NS,
             "sigma_mz": base.sigma_mz, "slope": base.precession_slope_per_V}

    def unpack(x: torch.Tensor):
        v50 = x[:n_devices]
        sigma_pulse = torch.exp(x[n_devices])
        rest = x[n_devices + 1:]
        if fit_timing:
            half_period, dephasing, sigma_mz = torch.exp(rest[0]), torch.exp(rest[1]), torch.exp(rest[2])
        else:
            half_period = torch.tensor(fixed["half_period_ns"], dtype=torch.float64)
            dephasing = torch.tensor(fixed["dephasing_ns"], dtype=torch.float64)
            sigma_mz = torch.tensor(fixed["sigma_mz"], dtype=torch.float64)
        slope = rest[3] if fit_slope else torch.tensor(fixed["slope"], dtype=torch.float64)
        return v50, sigma_pulse, half_period, dephasing, sigma_mz, slope

    def probabilities(x: torch.Tensor) -> torch.Tensor:
        v50, sigma_pulse, half_period, dephasing, sigma_mz, slope = unpack(x)
        return _probability(v_t, w_t, v50[index_t], sigma_pulse, half_period, dephasing, sigma_mz, slope, reference)

    def negative_log_likelihood(x: torch.Tensor) -> torch.Tensor:
        p = probabilities(x).clamp(1e-15, 1 - 1e-15)
        return -(k_t * torch.log(p) + (n_t - k_t) * torch.log1p(-p)).sum()

    start = list(starts) + [math.log(sigma_start)]
    if fit_timing:
        # The likelihood is multimodal in the precession period: start from the best of a grid.
        candidates = []
        for half_period in np.geomspace(0.2, 3.0, 41):
            for dephasing in (1.0, 3.0, 10.0):
                x = start + [math.log(half_period), math.log(dephasing), math.log(0.2)]
                x += [0.0] if fit_slope else []
                candidates.append((float(negative_log_likelihood(torch.tensor(x, dtype=torch.float64))), x))
        start = min(candidates)[1]
    x, nll = minimize(negative_log_likelihood, np.array(start))
    covariance = covariance_from_hessian(negative_log_likelihood, x)
    errors = np.sqrt(np.diag(covariance))

    estimates: dict[str, Estimate] = {}
    sigma_pulse = math.exp(x[n_devices])
    estimates["p_bit.sigma_pulse_V"] = Estimate(sigma_pulse, sigma_pulse * errors[n_devices], "V")
    position = n_devices + 1
    if fit_timing:
        for name, unit_scale, unit in (("half_period_s", _NS, "s"), ("dephasing_time_s", _NS, "s"),
                                       ("sigma_mz", 1.0, "")):
            value = math.exp(x[position]) * unit_scale
            estimates[f"p_bit.{name}"] = Estimate(value, value * errors[position], unit)
            position += 1
    if fit_slope:
        estimates["p_bit.precession_slope_per_V"] = Estimate(float(x[position]), float(errors[position]), "1/V")

    population = _population(x[:n_devices], covariance[:n_devices, :n_devices])
    estimates["p_bit.v50_V"] = population["mean"]
    estimates["p_bit.sigma_v50_device_V"] = population["spread"]
    may_be_zero_or_negative = {"p_bit.precession_slope_per_V": -math.inf, "p_bit.sigma_v50_device_V": 0.0}
    unusable = [name for name, e in estimates.items() if not math.isfinite(e.value) or
                (e.value < may_be_zero_or_negative[name] if name in may_be_zero_or_negative else e.value <= 0)]
    if unusable:
        from devices.io import DataError

        raise DataError(file, f"the fit did not converge to a usable value of {', '.join(unusable)}: the switching "
                              "data do not determine them; add voltage points around each device's 50 % point "
                              "(and a pulse-width sweep for the timing)")

    fitted = probabilities(torch.tensor(x)).detach().numpy()
    goodness = _binomial_goodness(n, k, fitted, n_parameters=x.size)
    goodness["negative_log_likelihood"] = nll
    not_fitted = [name for name, flag in (("half_period_s", fit_timing), ("dephasing_time_s", fit_timing),
                                          ("sigma_mz", fit_timing), ("precession_slope_per_V", fit_slope)) if not flag]
    details = {
        "devices": {str(d): {"v50_V": float(x[i]), "standard_error_V": float(errors[i]),
                             "array_id": str(table["array_id"][device_index == i][0])}
                    for i, d in enumerate(device_ids)},
        "kept_from_base": not_fitted,
        "reference_voltage_V": reference,
        "voltage_sweep_width_s": voltage_sweep_width_s(table),
        "n_aggregated_points": int(n.size),
    }
    return FileFit(file=file, method="binomial maximum likelihood; per-device thresholds; normal-normal population",
                   estimates=estimates, goodness=goodness, details=details)


def _population(v50: np.ndarray, covariance: np.ndarray) -> dict[str, Estimate]:
    """MLE of the population mean and spread of thresholds measured with correlated errors."""
    if v50.size < 2:
        return {"mean": Estimate(float(v50[0]), float(np.sqrt(covariance[0, 0])), "V"),
                "spread": Estimate(0.0, math.nan, "V")}
    measured = torch.tensor(v50, dtype=torch.float64)
    error_covariance = torch.tensor(covariance, dtype=torch.float64)
    identity = torch.eye(v50.size, dtype=torch.float64)

    def negative_log_likelihood(theta: torch.Tensor) -> torch.Tensor:
        total = error_covariance + torch.exp(2 * theta[1]) * identity
        residual = measured - theta[0]
        return 0.5 * (torch.logdet(total) + residual @ torch.linalg.solve(total, residual))

    start = np.array([float(v50.mean()), math.log(max(float(v50.std()), 1e-3))])
    theta, minimum = minimize(negative_log_likelihood, start)
    errors = np.sqrt(np.diag(covariance_from_hessian(negative_log_likelihood, theta)))
    spread = math.exp(theta[1])
    # Profile-likelihood intervals: a spread from a few dozen devices has a skewed sampling law.
    threshold = 0.5 * float(scipy.stats.chi2.ppf(THREE_SIGMA_COVERAGE, 1))

    def profile_spread(log_spread: float) -> float:
        total = error_covariance + math.exp(2 * log_spread) * identity
        weights = torch.linalg.solve(total, torch.ones_like(measured))
        mean = float((weights @ measured) / weights.sum())
        return float(negative_log_likelihood(torch.tensor([mean, log_spread], dtype=torch.float64))) - minimum

    def profile_mean(mean: float) -> float:
        def objective(log_spread: float) -> float:
            return float(negative_log_likelihood(torch.tensor([mean, log_spread], dtype=torch.float64)))

        best = scipy.optimize.minimize_scalar(objective, bracket=(theta[1] - 1.0, theta[1]), tol=1e-10)
        return min(float(best.fun), objective(math.log(1e-9))) - minimum

    spread_interval = (math.exp(_crossing(profile_spread, theta[1], -1, threshold, floor=math.log(1e-9))),
                       math.exp(_crossing(profile_spread, theta[1], +1, threshold)))
    if spread_interval[0] <= 1e-9 * 1.0001:
        spread_interval = (0.0, spread_interval[1])
    mean_step = 4 * float(errors[0]) if math.isfinite(errors[0]) else 0.1
    mean_interval = (_crossing(profile_mean, theta[0], -1, threshold, step=mean_step),
                     _crossing(profile_mean, theta[0], +1, threshold, step=mean_step))
    return {"mean": Estimate(float(theta[0]), float(errors[0]), "V", mean_interval),
            "spread": Estimate(spread, spread * float(errors[1]), "V", spread_interval)}


def _crossing(profile, start: float, direction: int, threshold: float, *, step: float = 1.0,
              floor: float | None = None) -> float:
    """Point where a profile negative log-likelihood rises ``threshold`` above its minimum (bisection)."""
    inner, outer = start, start + direction * step
    while profile(outer) < threshold:
        inner, outer = outer, outer + direction * step
        if floor is not None and direction < 0 and outer < floor:
            return floor
    for _ in range(60):
        middle = 0.5 * (inner + outer)
        if profile(middle) < threshold:
            inner = middle
        else:
            outer = middle
    return 0.5 * (inner + outer)


def _binomial_goodness(n: np.ndarray, k: np.ndarray, p: np.ndarray, *, n_parameters: int) -> dict:
    """Deviance and Pearson chi-square of binomial counts against fitted probabilities."""
    p = np.clip(p, 1e-15, 1 - 1e-15)
    with np.errstate(divide="ignore", invalid="ignore"):
        term_k = np.where(k > 0, k * np.log(k / (n * p)), 0.0)
        term_rest = np.where(n - k > 0, (n - k) * np.log((n - k) / (n * (1 - p))), 0.0)
    deviance = float(2 * np.sum(term_k + term_rest))
    pearson = float(np.sum((k - n * p) ** 2 / (n * p * (1 - p))))
    dof = int(n.size - n_parameters)
    return {"deviance": deviance, "pearson_chi2": pearson, "dof": dof,
            "p_value": float(scipy.stats.chi2.sf(deviance, dof)) if dof > 0 else math.nan,
            "n_points": int(n.size)}


def pbit_from_estimates(base: PBitParams, estimates: dict[str, Estimate]) -> PBitParams:
    """Replace the fitted fields of ``base`` with the estimates."""
    updates = {name.split(".", 1)[1]: e.value for name, e in estimates.items() if name.startswith("p_bit.")}
    return dataclasses.replace(base, **updates)
