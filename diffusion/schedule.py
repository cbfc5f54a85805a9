"""The variance-preserving (VP) SDE of Song et al. (ICLR 2021) and its reverse-time time grid.

Forward SDE (Song et al. 2021, eq. 11): dx = -1/2 beta(t) x dt + sqrt(beta(t)) dW, t in [0, 1],
with the linear rate beta(t) = beta_min + t (beta_max - beta_min). Its marginals are
x_t = alpha(t) x_0 + sigma(t) z with alpha(t) = exp(-1/2 int_0^t beta), sigma(t)^2 = 1 - alpha(t)^2.

Reverse SDE (Anderson 1982; Song et al. 2021, eq. 6), integrated from t = 1 down to ``t_min``:
dx = [f(x, t) - g(t)^2 score(x, t)] dt + g(t) dW_bar, with f = -1/2 beta x and g^2 = beta.
One Euler-Maruyama step of size dt therefore needs a stochastic increment of mean 0 and
covariance g(t)^2 dt I: that is the target every noise source (ex situ or in situ) must meet.

The forward process also gives *exact* samples of the true reverse transition for free: draw x_0,
then x_{t-dt} from the marginal, then x_t from the forward kernel; the pair (x_t, x_{t-dt}) is a
draw from the joint law, so x_{t-dt} is an exact draw of the reverse step given x_t.
"""

from __future__ import annotations

import dataclasses

import torch

__all__ = ["VPSchedule", "euler_maruyama_step", "sample_transition_pairs"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class VPSchedule:
    """Linear-beta VP SDE with a reverse time grid.

    Attributes:
        beta_min: rate at t = 0 (dimensionless; diffusion time has no physical unit).
        beta_max: rate at t = 1.
        n_steps: reverse Euler-Maruyama steps from t = 1 to ``t_min``.
        t_min: end time of the reverse integration (> 0: the score diverges at t = 0).
        grid_exponent: time grid t_i = t_min + (1 - t_min) (1 - i / n_steps)^grid_exponent; 1 is
            uniform, larger values take smaller steps near t = 0, where the score changes fastest
            (as Karras et al. 2022 do with their rho).
    """

    beta_min: float = 0.1
    beta_max: float = 20.0
    n_steps: int = 100
    t_min: float = 1e-3
    grid_exponent: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.beta_min <= self.beta_max:
            raise ValueError(f"need 0 < beta_min <= beta_max, got {self.beta_min}, {self.beta_max}")
        if self.n_steps < 1:
            raise ValueError(f"n_steps must be >= 1, got {self.n_steps}")
        if not 0 < self.t_min < 1:
            raise ValueError(f"t_min must lie in (0, 1), got {self.t_min}")
        if not 0.5 <= self.grid_exponent <= 10:
            raise ValueError(f"grid_exponent must lie in [0.5, 10], got {self.grid_exponent}")

    def beta(self, t: torch.Tensor) -> torch.Tensor:
        """beta(t) = g(t)^2, elementwise."""
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def log_alpha(self, t: torch.Tensor) -> torch.Tensor:
        """log alpha(t) = -1/2 int_0^t beta(s) ds."""
        return -0.5 * (self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t**2)

    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        """Signal scale alpha(t) of the marginal x_t = alpha x_0 + sigma z."""
        return torch.exp(self.log_alpha(t))

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        """Noise scale sigma(t) = sqrt(1 - alpha(t)^2)."""
        return torch.sqrt(-torch.expm1(2.0 * self.log_alpha(t)))

    def times(self, *, device: torch.device | str | None = None) -> torch.Tensor:
        """Reverse grid (n_steps + 1,) float64, decreasing from 1 to ``t_min``; step i goes times[i] -> times[i+1]."""
        fraction = torch.linspace(1.0, 0.0, self.n_steps + 1, dtype=torch.float64, device=device)
        return self.t_min + (1.0 - self.t_min) * fraction**self.grid_exponent

    def step_sizes(self, *, device: torch.device | str | None = None) -> torch.Tensor:
        """dt_i = t_i - t_{i+1} > 0 of every reverse step, shape (n_steps,) float64."""
        times = self.times(device=device)
        return times[:-1] - times[1:]

    def required_noise_std(self, *, device: torch.device | str | None = None) -> torch.Tensor:
        """Per-step std of the stochastic increment, sqrt(g(t_i)^2 dt_i), shape (n_steps,) float64."""
        return torch.sqrt(self.beta(self.times(device=device)[:-1]) * self.step_sizes(device=device))


def euler_maruyama_step(
    x: torch.Tensor,
    noise_prediction: torch.Tensor,
    increment: torch.Tensor,
    *,
    t: float,
    dt: float,
    schedule: VPSchedule,
) -> torch.Tensor:
    """One reverse Euler-Maruyama step of the VP SDE from t to t - dt (Song et al. 2021, eq. 6).

    x_{t-dt} = x_t + [1/2 beta x_t + beta score] dt + increment, with score = -eps_hat / sigma(t).

    Args:
        x: states (..., d) at time t.
        noise_prediction: the network's eps_hat(x, t), same shape.
        increment: stochastic increment, same shape, mean 0 and variance beta(t) dt per entry
            (zeros for the drift-only ablation).
        t: current time in (t_min, 1].
        dt: step size > 0.
        schedule: the SDE.

    Returns:
        States at t - dt.
    """
    t_tensor = torch.tensor(t, dtype=torch.float64)
    beta = float(schedule.beta(t_tensor))
    sigma = float(schedule.sigma(t_tensor))
    drift = 0.5 * beta * x - beta * noise_prediction / sigma
    return x + drift * dt + increment


def sample_transition_pairs(
    x0: torch.Tensor,
    t_from: torch.Tensor,
    t_to: torch.Tensor,
    schedule: VPSchedule,
    *,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact joint draws (x_{t_from}, x_{t_to}) of the forward process, t_from > t_to.

    Args:
        x0: clean data (n, d).
        t_from: later times (n,) or scalar.
        t_to: earlier times (n,) or scalar, t_to < t_from.
        schedule: the SDE.
        generator: on x0's device.

    Returns:
        (x_from, x_to), each (n, d): x_to ~ q(x_{t_to} | x0) and x_from ~ q(x_{t_from} | x_to), so
        x_to is an exact sample of the reverse transition given x_from.
    """
    t_from = torch.as_tensor(t_from, dtype=x0.dtype, device=x0.device).reshape(-1, 1)
    t_to = torch.as_tensor(t_to, dtype=x0.dtype, device=x0.device).reshape(-1, 1)
    if torch.any(t_to >= t_from):
        raise ValueError("sample_transition_pairs needs t_to < t_from")
    first = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    second = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    x_to = schedule.alpha(t_to) * x0 + schedule.sigma(t_to) * first
    # Forward kernel between the two times: ratio of signal scales, variance-preserving remainder.
    ratio = torch.exp(schedule.log_alpha(t_from) - schedule.log_alpha(t_to))
    x_from = ratio * x_to + torch.sqrt(1.0 - ratio**2) * second
    return x_from, x_to

