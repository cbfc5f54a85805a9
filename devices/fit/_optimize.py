"""Maximum likelihood with torch gradients and Hessians (private helpers for the fits)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.optimize
import torch

__all__ = ["minimize", "covariance_from_hessian"]


def minimize(objective: Callable[[torch.Tensor], torch.Tensor], start: np.ndarray, *,
             max_iterations: int = 2000) -> tuple[np.ndarray, float]:
    """Minimise a scalar torch objective of a float64 vector with BFGS and exact gradients."""

    def value_and_gradient(x: np.ndarray):
        point = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        value = objective(point)
        (gradient,) = torch.autograd.grad(value, point)
        return float(value.detach()), gradient.numpy().copy()

    result = scipy.optimize.minimize(value_and_gradient, np.asarray(start, dtype=np.float64), jac=True,
                                     method="BFGS", options={"maxiter": max_iterations, "gtol": 1e-9})
    # BFGS may stop on precision loss right at the optimum; polish with Newton steps on the exact Hessian.
    x = result.x
    for _ in range(20):
        hessian = torch.autograd.functional.hessian(objective, torch.tensor(x, dtype=torch.float64)).numpy()
        _, gradient = value_and_gradient(x)
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            break
        candidate = x - step
        if value_and_gradient(candidate)[0] > value_and_gradient(x)[0] + 1e-12:
            break
        x = candidate
        if np.max(np.abs(step)) < 1e-12:
            break
    return x, value_and_gradient(x)[0]


def covariance_from_hessian(objective: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray) -> np.ndarray:
    """Inverse observed information (the asymptotic covariance of the MLE); NaN if singular."""
    hessian = torch.autograd.functional.hessian(objective, torch.tensor(x, dtype=torch.float64)).numpy()
    hessian = 0.5 * (hessian + hessian.T)
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return np.full_like(hessian, np.nan)
    if np.any(np.diag(covariance) < 0):
        return np.full_like(hessian, np.nan)
    return covariance
