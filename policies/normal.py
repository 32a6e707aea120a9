"""Standard normal density, distribution, loss function and its inverse, vectorised with numpy only.

Why here: the fill-rate safety factor and the budget's marginal value need Phi and the standard normal loss
function G over whole arrays, and the runtime dependencies carry no scipy (see :mod:`forecasting.normal`
for Phi^-1).

Symbols: z a standard normal deviate, phi(z) = exp(-z^2 / 2) / sqrt(2 pi) the density, Phi(z) the
distribution function, and the (first-order) standard normal loss function

    G(z) = E[(Z - z)^+] = phi(z) - z (1 - Phi(z))

(Silver, Pyke & Peterson, "Inventory and Production Management in Supply Chains", 4th ed., ch. 6 and the
G_u(k) table of its appendix; Axsäter, "Inventory Control", 3rd ed., ch. 5; Snyder & Shen, "Fundamentals of
Supply Chain Theory", 2nd ed., the standard normal loss function L(z) of its appendix C). G is positive,
strictly decreasing and convex, G(z) -> -z as z -> -inf and G(z) -> 0 as z -> +inf, with G'(z) = Phi(z) - 1.

The complementary error function is the FreeBSD ``s_erf.c`` algorithm (Sun Microsystems, 1993: rational
approximations on [0, 0.84375), [0.84375, 1.25), [1.25, 1/0.35), [1/0.35, 28), error below 1 ulp), written
over arrays; the tests check it against scipy's ``ndtr`` to 1e-13 relative (far tails included).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from policies._arrays import check_condition

__all__ = [
    "Z_MAX",
    "inverse_standard_normal_loss",
    "standard_normal_cdf",
    "standard_normal_loss",
    "standard_normal_pdf",
    "standard_normal_sf",
]

Z_MAX = 6.0
"""Largest safety factor the inverses return: 1 - Phi(6) = 9.9e-10 and G(6) = 1.7e-10 unit shortage per sigma,
beyond which a target is numerically indistinguishable from "never short"."""

_BISECTION_STEPS = 80
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

_ERX = 8.45062911510467529297e-01
# erf on [0, 0.84375): x + x * P(x^2) / Q(x^2)
_PP = (-2.37630166566501626084e-05, -5.77027029648944159157e-03, -2.84817495755985104766e-02,
       -3.25042107247001499370e-01, 1.28379167095512558561e-01)  # fmt: skip
_QQ = (-3.96022827877536812320e-06, 1.32494738004321644526e-04, 5.08130628187576562776e-03,
       6.50222499887672944485e-02, 3.97917223959155352819e-01, 1.0)  # fmt: skip
# erf on [0.84375, 1.25): erx + P(x - 1) / Q(x - 1)
_PA = (-2.16637559486879084300e-03, 3.54783043256182359371e-02, -1.10894694282396677476e-01,
       3.18346619901161753674e-01, -3.72207876035701323847e-01, 4.14856118683748331666e-01,
       -2.36211856075265944077e-03)  # fmt: skip
_QA = (1.19844998467991074170e-02, 1.36370839120290507362e-02, 1.26171219808761642112e-01,
       7.18286544141962662868e-02, 5.40397917702171048937e-01, 1.06420880400844228286e-01, 1.0)  # fmt: skip
# erfc on [1.25, 1/0.35): exp(-x^2 - 0.5625 + R(1/x^2) / S(1/x^2)) / x
_RA = (-9.81432934416914548592e+00, -8.12874355063065934246e+01, -1.84605092906711035994e+02,
       -1.62396669462573470355e+02, -6.23753324503260060396e+01, -1.05586262253232909814e+01,
       -6.93858572707181764372e-01, -9.86494403484714822705e-03)  # fmt: skip
_SA = (-6.04244152148580987438e-02, 6.57024977031928170135e+00, 1.08635005541779435134e+02,
       4.29008140027567833386e+02, 6.45387271733267880336e+02, 4.34565877475229228821e+02,
       1.37657754143519042600e+02, 1.96512716674392571292e+01, 1.0)  # fmt: skip
# erfc on [1/0.35, 28): as above with other coefficients
_RB = (-4.83519191608651397019e+02, -1.02509513161107724954e+03, -6.37566443368389627722e+02,
       -1.60636384855821916062e+02, -1.77579549177547519889e+01, -7.99283237680523006574e-01,
       -9.86494292470009928597e-03)  # fmt: skip
_SB = (-2.24409524465858183362e+01, 4.74528541206955367215e+02, 2.55305040643316442583e+03,
       3.19985821950859553908e+03, 1.53672958608443695994e+03, 3.25792512996573918826e+02,
       3.03380607434824582924e+01, 1.0)  # fmt: skip


def _poly(coefficients: tuple[float, ...], x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Horner evaluation, highest power first."""
    result = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result = result * x + c
    return result


def _erfc_nonnegative(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """erfc(x) for x >= 0 (FreeBSD s_erf.c); 0 from x >= 28."""
    z2 = x * x
    small = 1.0 - (x + x * _poly(_PP, z2) / _poly(_QQ, z2))
    # For 1/4 <= x < 0.84375 s_erf.c regroups to keep the subtraction exact.
    y = _poly(_PP, z2) / _poly(_QQ, z2)
    small = np.where(x < 0.25, small, 0.5 - (x * y + (x - 0.5)))
    s = x - 1.0
    middle = 1.0 - _ERX - _poly(_PA, s) / _poly(_QA, s)
    safe = np.maximum(x, 1.0)  # keep 1 / x^2 finite where the tail branch is not used
    w = 1.0 / (safe * safe)
    ratio = np.where(safe < 1.0 / 0.35, _poly(_RA, w) / _poly(_SA, w), _poly(_RB, w) / _poly(_SB, w))
    # Split x into a 20-bit head z and the rest so that exp(-x^2) loses no accuracy: -x^2 = -z^2 + (z-x)(z+x).
    head = (safe.view(np.uint64) & np.uint64(0xFFFFFFFF00000000)).view(np.float64)
    tail = np.exp(-head * head - 0.5625) * np.exp((head - safe) * (head + safe) + ratio) / safe
    tail = np.where(safe < 28.0, tail, 0.0)
    result: npt.NDArray[np.float64] = np.where(x < 0.84375, small, np.where(x < 1.25, middle, tail))
    return result


def _as_float(z: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return np.asarray(z, dtype=np.float64)


def standard_normal_sf(z: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """1 - Phi(z) = erfc(z / sqrt 2) / 2, elementwise, accurate to full relative precision in the upper tail."""
    x = _as_float(z) * _SQRT_HALF
    with np.errstate(over="ignore", invalid="ignore"):
        upper = 0.5 * _erfc_nonnegative(np.abs(x))
    result: npt.NDArray[np.float64] = np.where(x >= 0, upper, 1.0 - upper)
    return result


def standard_normal_cdf(z: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Phi(z), elementwise, accurate to full relative precision in the lower tail."""
    return standard_normal_sf(-_as_float(z))


def standard_normal_pdf(z: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """phi(z) = exp(-z^2 / 2) / sqrt(2 pi), elementwise."""
    x = _as_float(z)
    with np.errstate(over="ignore"):  # |z| > 1e154: z^2 overflows to inf and the density is 0, as it should be
        result: npt.NDArray[np.float64] = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
    return result


def standard_normal_loss(z: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """G(z) = phi(z) - z (1 - Phi(z)) = E[(Z - z)^+], elementwise (see the module docstring).

    Example: G(0) = 1/sqrt(2 pi) = 0.398942; G(1) = 0.083316 (the G_u(k) table of Silver, Pyke & Peterson).
    """
    x = _as_float(z)
    with np.errstate(over="ignore", invalid="ignore"):
        result: npt.NDArray[np.float64] = np.maximum(standard_normal_pdf(x) - x * standard_normal_sf(x), 0.0)
    return result


def inverse_standard_normal_loss(target: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``[n]`` z with G(z) = target, for targets >= 0, clipped to at most :data:`Z_MAX`.

    G is strictly decreasing, so the root is unique. Because G(z) > -z for every z, the root lies in
    [-target, Z_MAX] (a target of 0, or below G(Z_MAX), returns Z_MAX); it is found by bisection on that
    bracket, all rows at once, to about 1e-15 of the bracket width.

    Raises :class:`~policies.errors.PolicyError` naming ``target`` unless every value is finite and >= 0.
    """
    goal = _as_float(target)
    check_condition("target", np.isfinite(goal) & (goal >= 0), "must be finite and >= 0")
    low = np.minimum(-goal, Z_MAX)
    high = np.full_like(goal, Z_MAX)
    for _ in range(_BISECTION_STEPS):
        middle = 0.5 * (low + high)
        above = standard_normal_loss(middle) > goal  # root lies to the right of middle
        low = np.where(above, middle, low)
        high = np.where(above, high, middle)
    result: npt.NDArray[np.float64] = 0.5 * (low + high)
    return result
