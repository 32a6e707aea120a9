"""The global probabilistic LSTM: features, network, training loop, estimator and predictor (GluonTS split).

- ``features``: pure numpy; windows of a :class:`~forecasting.history.DemandHistory` as model inputs.
- ``network``: the ``nn.Module``; declares its input shapes, knows nothing of data.
- ``training``: the loop (early stopping on a time-based validation split, seeded).
- ``estimator``: owns the transforms, trains, and makes the :class:`LSTMPredictor` (a ``Forecaster``), which
  saves and loads an artifact folder (JSON config + ``state_dict``).
"""
