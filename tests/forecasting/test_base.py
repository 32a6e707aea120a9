from __future__ import annotations

from forecasting import Forecaster, MovingAverageForecaster


def test_moving_average_satisfies_the_protocol() -> None:
    forecaster: Forecaster = MovingAverageForecaster()
    assert isinstance(forecaster, Forecaster)
    assert forecaster.name == "moving_average"
    assert forecaster.version == "moving_average-1(window=28,min_history=14)"
