"""Vectorised inverse of the standard normal CDF.

Why here: quantiles of the normal approximation (``PeriodDemand.quantile``) and the safety factor z of the
policies both need Phi^-1 over whole arrays, and the runtime dependencies carry no scipy.
``statistics.NormalDist`` is scalar only, so this is the same algorithm vectorised with numpy.

Algorithm AS241 (PPND16): Wichura, M. J. (1988), "The Percentage Points of the Normal Distribution",
Applied Statistics 37(3), 477-484. Rational approximations in three regions of p, relative error about 1e-16.
The coefficients are those of CPython's ``statistics._normal_dist_inv_cdf``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from forecasting.errors import ForecastError

__all__ = ["standard_normal_ppf"]

# Central region |p - 0.5| <= 0.425, polynomial in r = 0.180625 - q^2 (highest power first).
_A = (
    2.5090809287301226727e3,
    3.3430575583588128105e4,
    6.7265770927008700853e4,
    4.5921953931549871457e4,
    1.3731693765509461125e4,
    1.9715909503065514427e3,
    1.3314166789178437745e2,
    3.3871328727963666080e0,
)
_B = (
    5.2264952788528545610e3,
    2.8729085735721942674e4,
    3.9307895800092710610e4,
    2.1213794301586595867e4,
    5.3941960214247511077e3,
    6.8718700749205790830e2,
    4.2313330701600911252e1,
    1.0,
)
# Intermediate tail, r = sqrt(-log(min(p, 1-p))) <= 5, polynomial in r - 1.6.
_C = (
    7.7454501427834140764e-4,
    2.2723844989269184583e-2,
    2.4178072517745061177e-1,
    1.2704582524523683826e0,
    3.6478483247632046050e0,
    5.7694972214606914055e0,
    4.6303378461565452959e0,
    1.4234371107496835773e0,
)
_D = (
    1.0507500716444168432e-9,
    5.4759380849953449460e-4,
    1.5198666563616457197e-2,
    1.4810397642748007459e-1,
    6.8976733498510000455e-1,
    1.6763848301838038494e0,
    2.0531916266377588219e0,
    1.0,
)
# Far tail, r > 5, polynomial in r - 5.
_E = (
    2.0103343992922881327e-7,
    2.7115555687434875782e-5,
    1.2426609473880784386e-3,
    2.6532189526576123093e-2,
    2.9656057182850489123e-1,
    1.7848265399172913358e0,
    5.4637849111641143699e0,
    6.6579046435011037772e0,
)
_F = (
    2.0442631033899397856e-15,
    1.4215117583164458887e-7,
    1.8463183175100546818e-5,
    7.8686913114561325910e-4,
    1.4875361290850614853e-2,
    1.3692988092273580531e-1,
    5.9983220655588793769e-1,
    1.0,
)


def _horner(coefficients: tuple[float, ...], x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    result = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result = result * x + c
    return result


def standard_normal_ppf(p: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return z with Phi(z) = p, elementwise, for p strictly inside (0, 1).

    Raises :class:`ForecastError` naming ``p`` when any value is outside (0, 1) or not finite.
    """
    probs = np.asarray(p, dtype=np.float64)
    if not np.all((probs > 0.0) & (probs < 1.0)):
        raise ForecastError("p: every probability must lie strictly between 0 and 1")
    q = probs - 0.5
    central = np.abs(q) <= 0.425
    r_central = 0.180625 - q * q
    z_central = q * _horner(_A, r_central) / _horner(_B, r_central)
    tail_p = np.where(q <= 0.0, probs, 1.0 - probs)
    # Clamp the argument where the central branch is used so the unused branch never warns.
    r = np.sqrt(-np.log(np.where(central, 0.5, tail_p)))
    z_mid = _horner(_C, r - 1.6) / _horner(_D, r - 1.6)
    z_far = _horner(_E, r - 5.0) / _horner(_F, r - 5.0)
    z_tail = np.where(r <= 5.0, z_mid, z_far)
    z_tail = np.where(q < 0.0, -z_tail, z_tail)
    result: npt.NDArray[np.float64] = np.where(central, z_central, z_tail)
    return result
