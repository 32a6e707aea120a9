"""Recalibrating the order-up-to level so that the achieved cycle service level meets its target.

Why: a forecast's protection-period quantile is only as good as its distribution. On lumpy e-commerce demand
(wholesale orders of hundreds of units among days of a few) a trailing-mean normal forecast puts the 0.9
quantile of the standardised error at about 3.8 sigma rather than 1.28 (Online Retail, 1,000 series), so
targets of 90-98 % are missed by 5-10 points. Recalibration (Kuleshov, Fenner & Ermon, "Accurate
uncertainties for deep learning using calibrated regression", ICML 2018) leaves the forecaster alone and
moves the level to where the system's own past forecasts would have met the target.

Symbols, per series i and past origin o (a day whose protection period has since been seen):

    P_i            protection period L_i + R_i (days), as the policy uses it
    mu_io, sigma_io the forecast mean of demand over P_i from origin o and its protection std
                    (:func:`policies.protection_std`: forecast variance plus d^2 sigma_L^2)
    c_io            what the policy stocks above the reorder point: d_io x ``cycle_days`` (R for
                    :func:`policies.order_up_to`, whose S = s + d R; 0 for a reorder point alone)
    x_io            units seen over days o+1 .. o+P_i
    r_io = (x_io - mu_io - c_io) / sigma_io   the standardised error of the level

Stockouts censor: a window with an unobserved (stockout) day saw only what the shelf could sell, so x_io
bounds its demand from below and r_io is right-censored. The calibrated safety factor for target alpha is
the alpha-quantile of r pooled over series and origins, estimated with censoring by Kaplan-Meier (Kaplan &
Meier, JASA 1958), and the policy uses it in place of Phi^-1(alpha) (``order_up_to(..., z=z_cal)``), so
S = mu + c + z_cal sigma. Pooled rather than per series because one series has a dozen windows and a 98 %
quantile needs hundreds; pooled CSL is also what the target is judged on. The residuals do not depend on
the target, so series with different targets share them and read their own quantile.

What it does not model: a position left above S by an earlier, higher forecast also protects a cycle, so
where forecasts swing (lumps entering and leaving a moving average) the achieved CSL exceeds the target
(on generated demand with half its units in rare lumps, by 2-5 points). Counting the windows the system's
past positions covered instead turns the estimate into a bang-bang rule: sales never exceed the position,
so an uncensored window is always "covered".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forecasting.base import Forecaster
from forecasting.history import DemandHistory
from policies._arrays import check_condition, vector
from policies.errors import PolicyError
from policies.service import protection_std

__all__ = ["Calibration", "kaplan_meier_quantile", "level_residuals"]


def kaplan_meier_quantile(values: npt.ArrayLike, censored: npt.ArrayLike, level: float) -> float:
    """The ``level``-quantile of right-censored ``values`` (Kaplan-Meier product-limit estimate).

    Args:
        values: ``[m]`` finite observations; where ``censored`` the true value is at least this.
        censored: ``[m]`` bool, True for a lower bound (the event was not seen in full).
        level: in (0, 1).

    The smallest observed value at which the estimated distribution reaches ``level``. Censored values
    only shrink the risk set (ties: events before censorings, the usual convention). When censoring leaves
    the estimate short of ``level`` everywhere, the largest value is returned: the data bound the quantile
    from below and say no more.
    """
    x = np.asarray(values, dtype=np.float64)
    cut = np.asarray(censored, dtype=np.bool_)
    if x.ndim != 1 or cut.shape != x.shape or x.size == 0:
        raise PolicyError(
            f"values, censored: expected two non-empty 1-D arrays of one length, got {x.shape}, {cut.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise PolicyError("values: must be finite")
    if not (np.isfinite(level) and 0.0 < level < 1.0):
        raise PolicyError(f"level: must lie strictly in (0, 1), got {level!r}")
    order = np.lexsort((cut, x))  # by value, events before censorings at a tie
    x, cut = x[order], cut[order]
    at_risk = x.size - np.arange(x.size)
    survival = np.cumprod(np.where(cut, 1.0, 1.0 - 1.0 / at_risk))
    reached = np.flatnonzero(~cut & (survival <= 1.0 - level + 1e-12))
    return float(x[reached[0]] if reached.size else x[-1])


def level_residuals(
    forecaster: Forecaster,
    history: DemandHistory,
    protection_days: npt.ArrayLike,
    lead_time_std_days: npt.ArrayLike,
    cycle_days: npt.ArrayLike,
    *,
    origins: int,
    step_days: int,
    history_days: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """``(r, censored)``: the standardised errors r_io of the module docstring, flattened over origins.

    Args:
        forecaster: the forecaster whose levels are scored (the one the policy uses).
        history: what the system has seen: sales and the observed mask (an unobserved day's sales are not
            counted, and its window is censored).
        protection_days: ``[n]`` P = L + R; lead_time_std_days: ``[n]`` sigma_L (for the protection std).
        cycle_days: ``[n]`` c / d, the days of mean demand the policy stocks above its reorder point.
        origins, step_days, history_days: how many past origins, how far apart, and how much history each
            forecast reads.

    Origins are the last ``origins`` days, ``step_days`` apart, whose whole protection period lies in the
    history (the latest ends on its last day); each forecast reads the ``history_days`` before its origin,
    as the live one does. Series-origins with a zero sigma or no observed day in the 28 before the origin
    (not yet launched) are left out.
    """
    n = history.n
    period = vector("protection_days", protection_days, n)
    check_condition("protection_days", np.isfinite(period) & (period >= 1), "must be finite and >= 1")
    lead_std = vector("lead_time_std_days", lead_time_std_days, n)
    cycle = vector("cycle_days", cycle_days, n)
    check_condition("cycle_days", np.isfinite(cycle) & (cycle >= 0), "must be finite and >= 0")
    span = np.ceil(period).astype(np.int64)
    horizon = int(span.max())
    seen = history.observed
    sales = np.where(seen, history.demand, 0.0).astype(np.float64)
    zero = np.zeros((n, 1))
    units = np.concatenate([zero, np.cumsum(sales, axis=1)], axis=1)
    unseen = np.concatenate([zero, np.cumsum(~seen, axis=1)], axis=1)
    rows = np.arange(n)
    total = history.demand.shape[1]
    residuals: list[npt.NDArray[np.float64]] = []
    flags: list[npt.NDArray[np.bool_]] = []
    for k in range(origins):
        origin = total - 1 - horizon - k * step_days
        if origin < 1:
            break
        forecast = forecaster.predict(history.columns(max(0, origin + 1 - history_days), origin + 1), horizon)
        demand = forecast.over_period(period)
        daily = forecast.mean[:, 0].astype(np.float64)
        sigma = protection_std(demand.std, daily, lead_std)
        end = origin + 1 + span
        seen_units = units[rows, end] - units[:, origin + 1]
        censored = (unseen[rows, end] - unseen[:, origin + 1]) > 0
        launched = seen[:, max(0, origin - 27) : origin + 1].any(axis=1)
        keep = launched & (sigma > 0)
        residuals.append(((seen_units - demand.mean - cycle * daily) / np.where(keep, sigma, 1.0))[keep])
        flags.append(censored[keep])
    if not residuals:
        return np.zeros(0), np.zeros(0, dtype=np.bool_)
    return np.concatenate(residuals), np.concatenate(flags)


@dataclass(frozen=True, slots=True)
class Calibration:
    """How a decision pass calibrates its target (module docstring).

    Attributes:
        origins: past origins scored per pass (16, a week apart: the last four months).
        step_days: days between origins.
        min_samples: fewest uncensored residuals to trust the pooled quantile; below it the policy keeps
            Phi^-1(target).
    """

    origins: int = 16
    step_days: int = 7
    min_samples: int = 200

    def __post_init__(self) -> None:
        for name in ("origins", "step_days", "min_samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise PolicyError(f"calibration.{name}: expected an int >= 1, got {value!r}")

    def safety_factors(
        self, residuals: npt.ArrayLike, censored: npt.ArrayLike, targets: npt.ArrayLike
    ) -> npt.NDArray[np.float64] | None:
        """``[n]`` z_cal per series: the Kaplan-Meier quantile of the residuals at the series' target cycle
        service level (one estimate per distinct target), floored at 0; None when fewer than ``min_samples``
        residuals are uncensored, and the policy keeps Phi^-1(target).

        The floor: where past forecasts ran high, the target would be met with S below mu + c, but a command's
        safety stock is never negative (``schemas``: a level under the forecast mean reads as a bug to a
        buyer), so the calibration can take the safety stock away, not go below it.
        """
        r = np.asarray(residuals, dtype=np.float64)
        cut = np.asarray(censored, dtype=np.bool_)
        levels = vector("targets", targets)
        check_condition("targets", (levels > 0.0) & (levels < 1.0), "must lie strictly in (0, 1)")
        if int((~cut).sum()) < self.min_samples:
            return None
        distinct, index = np.unique(levels, return_inverse=True)
        quantiles = np.array([kaplan_meier_quantile(r, cut, float(level)) for level in distinct])
        z: npt.NDArray[np.float64] = np.maximum(quantiles[index], 0.0)
        return z
