"""Safety factor z for a target cycle service level or fill rate, and the demand spread it multiplies.

Cycle service level (Silver, Pyke & Peterson, "Inventory and Production Management in Supply Chains", 4th
ed., ch. 6; Snyder & Shen, "Fundamentals of Supply Chain Theory", eq. (4.30)): alpha is the probability of
no stockout in a replenishment cycle; with normally distributed protection-period demand the reorder point is
``mu + z * sigma`` with ``z = Phi^-1(alpha)``. For example alpha = 0.95 gives z = 1.6449.

Fill rate (the P2 criterion of Silver, Pyke & Peterson, 4th ed., ch. 6; the S2 service of Axsäter, "Inventory
Control", 3rd ed., ch. 5): beta is the fraction of demand met from stock. The expected shortage per replenishment cycle,
sigma G(z) with G the standard normal loss function (:mod:`policies.normal`), must equal the demand per cycle
that beta allows to go short:

    backorders:  sigma G(z) = (1 - beta) Q
    lost sales:  sigma G(z) = (1 - beta) / beta * Q

where Q is the expected demand per cycle: the batch of an (s, Q) policy, S - s of an (s, S) policy, d R of a
periodic (R, S) policy. Under lost sales a cycle sees demand Q + ES (ES the expected shortage), of which Q is
met, so beta = Q / (Q + ES), i.e. ES = (1 - beta) / beta * Q (the lost-sales form given by SPP). The standard
formula ignores the undershoot of the reorder point and the shortage carried from the previous cycle (both small
when Q is large against sigma; SPP discuss the corrections).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from forecasting.normal import standard_normal_ppf
from policies._arrays import check_condition, vector
from policies.kinds import ServiceMeasure
from policies.normal import Z_MAX, inverse_standard_normal_loss
from policies.params import ItemParams, flags

__all__ = ["protection_std", "safety_factor", "z_for_fill_rate", "z_for_service_level"]


def z_for_service_level(service_level: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``[n]`` standard normal quantile of each cycle service level, which must lie in (0, 1).

    Levels at or below 0.5 give a zero or negative safety stock: not what an operator's target means (the
    worker's setting stays above 0.5), but what a cost-based level gives a dear, slow item (:mod:`policies.exchange`).
    """
    levels = vector("service_level", service_level)
    check_condition("service_level", (levels > 0.0) & (levels < 1.0), "must lie strictly between 0 and 1")
    return standard_normal_ppf(levels)


def z_for_fill_rate(
    fill_rate: npt.ArrayLike,
    cycle_demand: npt.ArrayLike,
    sigma: npt.ArrayLike,
    *,
    lost_sales: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """``[n]`` safety factor z meeting a fill rate: sigma G(z) = (1 - beta) Q, or (1 - beta)/beta Q (lost sales).

    Args:
        fill_rate: beta, ``[n]`` in (0, 1).
        cycle_demand: Q, ``[n]`` expected demand per replenishment cycle (units, finite, >= 0).
        sigma: ``[n]`` std of demand over the protection period (finite, >= 0).
        lost_sales: optional ``[n]`` bool, True for the lost-sales form.

    The root is unique (G is strictly decreasing) and may be negative: when Q is large against sigma the cycle
    stock alone nearly meets beta, and the formula asks for a reorder point below the mean. Where sigma = 0
    there is no uncertainty and z = 0; where Q = 0 (no demand per cycle, e.g. R = 0) the shortage allowance is
    0 and z is capped at :data:`policies.normal.Z_MAX`.

    Example: beta = 0.95, Q = 100, sigma = 20 -> G(z) = 0.25 -> z = 0.3449.
    """
    beta = vector("fill_rate", fill_rate)
    n = beta.shape[0]
    check_condition("fill_rate", (beta > 0.0) & (beta < 1.0), "must lie strictly between 0 and 1")
    q = vector("cycle_demand", cycle_demand, n)
    check_condition("cycle_demand", np.isfinite(q) & (q >= 0), "must be finite and >= 0")
    spread = vector("sigma", sigma, n)
    check_condition("sigma", np.isfinite(spread) & (spread >= 0), "must be finite and >= 0")
    lost = np.zeros(n, dtype=np.bool_) if lost_sales is None else flags("lost_sales", lost_sales, n)
    allowed = np.where(lost, (1.0 - beta) / beta, 1.0 - beta) * q
    certain = spread == 0
    target = np.where(certain, 0.0, allowed / np.where(certain, 1.0, spread))
    z = inverse_standard_normal_loss(np.minimum(target, np.finfo(np.float64).max))
    result: npt.NDArray[np.float64] = np.where(certain, 0.0, np.minimum(z, Z_MAX))
    return result


def protection_std(
    period_std: npt.ArrayLike, daily_mean: npt.ArrayLike, lead_time_std_days: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """``[n]`` sigma_P = sqrt(std_P^2 + d^2 sigma_LT^2): demand spread over the protection period with an
    uncertain lead time.

    Symbols: std_P the std of demand over the protection period at the mean lead time (``period_std``,
    e.g. ``PeriodDemand.std``), d the mean daily demand, sigma_LT the std of the lead time in days. For a
    lead time L independent of daily demands (mean d, variance sigma_d^2 per day) the lead-time demand has
    variance E[L] sigma_d^2 + d^2 Var[L] (Silver, Pyke & Peterson, 4th ed., ch. 6; Axsäter, 3rd ed., ch. 5,
    stochastic lead times); the first term is std_P^2 when the forecast supplies it for the mean period, so only
    d^2 sigma_LT^2 is added. The review period, when part of the protection period, is certain and adds none.
    """
    std = vector("period_std", period_std)
    n = std.shape[0]
    check_condition("period_std", np.isfinite(std) & (std >= 0), "must be finite and >= 0")
    d = vector("daily_mean", daily_mean, n)
    check_condition("daily_mean", np.isfinite(d) & (d >= 0), "must be finite and >= 0")
    lt_std = vector("lead_time_std_days", lead_time_std_days, n)
    check_condition("lead_time_std_days", np.isfinite(lt_std) & (lt_std >= 0), "must be finite and >= 0")
    result: npt.NDArray[np.float64] = np.sqrt(std**2 + (d * lt_std) ** 2)
    return result


def safety_factor(
    params: ItemParams, cycle_demand: npt.NDArray[np.float64], sigma: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``[n]`` z per row from ``params.service_level`` read as ``params.service_measure`` says.

    Cycle-service rows: z = Phi^-1(alpha). Fill-rate rows: :func:`z_for_fill_rate` with Q = ``cycle_demand``
    and ``params.lost_sales`` choosing the backorder or lost-sales form.
    """
    fill = params.service_measure == ServiceMeasure.FILL_RATE
    level = params.service_level
    z_csl = z_for_service_level(np.where(fill, 0.75, level))
    if not np.any(fill):
        return z_csl
    z_fill = z_for_fill_rate(
        np.where(fill, level, 0.5), np.where(fill, cycle_demand, 0.0), sigma, lost_sales=params.lost_sales
    )
    result: npt.NDArray[np.float64] = np.where(fill, z_fill, z_csl)
    return result
