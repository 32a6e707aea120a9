"""Validation helpers shared by the policy modules: coerce to 1-D float64 and name the bad parameter."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from policies.errors import PolicyError

__all__ = ["check_condition", "vector"]


def vector(name: str, value: npt.ArrayLike, n: int | None = None) -> npt.NDArray[np.float64]:
    """``value`` as a 1-D float64 array (of length ``n`` when given); nan is always rejected."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{name}: expected numbers, got {type(value).__name__}") from exc
    if array.ndim != 1:
        raise PolicyError(f"{name}: expected shape [n], got {array.shape}")
    if n is not None and array.shape[0] != n:
        raise PolicyError(f"{name}: expected length {n}, got {array.shape[0]}")
    check_condition(name, ~np.isnan(array), "must not be nan")
    return array


def check_condition(name: str, ok: npt.NDArray[np.bool_], requirement: str) -> None:
    """Raise :class:`PolicyError` naming ``name`` and the first failing row unless ``ok`` holds everywhere."""
    if not np.all(ok):
        row = int(np.flatnonzero(~ok)[0])
        raise PolicyError(f"{name}: {requirement} (first failing row {row})")
