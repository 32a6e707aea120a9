"""The one error base of the forecasting package.

Every bad argument raises a subclass of :class:`ForecastError`, which is also a :class:`ValueError`, so
callers that only know the builtin still catch it. Messages name the offending parameter.
"""

from __future__ import annotations

__all__ = ["ForecastError"]


class ForecastError(ValueError):
    """A forecasting input or parameter is invalid; the message names the parameter."""
