"""Short, safe renderings of untrusted values for dead-letter details and error messages."""

from __future__ import annotations

_LIMIT = 80


def shown(value: object) -> str:
    """``repr`` cut to a readable length: a hostile payload must not bloat every dead letter it causes."""
    text = repr(value)
    return text if len(text) <= _LIMIT else f"{text[: _LIMIT - 3]}..."
