"""The one error base of the forecasting package.

Every bad argument raises a subclass of :class:`ForecastError`, which is also a :class:`ValueError`, so
callers that only know the builtin still catch it. Messages name the offending parameter.
"""

from __future__ import annotations

__all__ = ["ArtifactError", "ArtifactMismatch", "ForecastError"]


class ForecastError(ValueError):
    """A forecasting input or parameter is invalid; the message names the parameter."""


class ArtifactError(ForecastError):
    """A model folder is missing, incomplete or written by an incompatible version."""


class ArtifactMismatch(ArtifactError):
    """A model folder's files do not hash to the version its config names: a copy still in progress (retry)."""
