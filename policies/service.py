"""Safety factor z for a target cycle service level.

The cycle service level alpha is the probability of no stockout in a replenishment cycle; with normally
distributed protection-period demand the reorder point is ``mu + z * sigma`` with ``z = Phi^-1(alpha)``
(Silver, Pyke & Peterson, 4th ed., ch. 6; Snyder & Shen, "Fundamentals of Supply Chain Theory",
eq. (4.30)). For example alpha = 0.95 gives z = 1.6449.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from forecasting.normal import standard_normal_ppf
from policies._arrays import check_condition, vector

__all__ = ["z_for_service_level"]


def z_for_service_level(service_level: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``[n]`` standard normal quantile of each cycle service level, which must lie in (0.5, 1).

    Levels at or below 0.5 would give a zero or negative safety stock, which a service target never means.
    """
    levels = vector("service_level", service_level)
    check_condition("service_level", (levels > 0.5) & (levels < 1.0), "must lie strictly between 0.5 and 1")
    return standard_normal_ppf(levels)
