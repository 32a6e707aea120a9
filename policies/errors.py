"""The one error base of the policies package.

Every bad argument raises :class:`PolicyError`, which is also a :class:`ValueError`; messages name the
offending parameter (and the first offending row when the parameter is an array).
"""

from __future__ import annotations

__all__ = ["PolicyError"]


class PolicyError(ValueError):
    """A policy input or parameter is invalid; the message names the parameter."""
