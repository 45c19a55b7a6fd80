"""Permutation importance: how much worse the forecasts get when one covariate is shuffled."""

from __future__ import annotations

import numpy as np

from forecasting.evaluation import mase_scale
from forecasting.features import Features

IMPORTANCE_SEED = 0


def permutation_importance(
    forecaster,
    values: np.ndarray,
    origins: np.ndarray,
    features: Features,
    period: int,
    insample_end: int,
) -> dict[str, float]:
    """Test MASE increase per covariate (and "calendar") when its values are shuffled.

    The rows shuffled are those the test forecasts read (from one window before the first
    origin to the end of the last horizon), with one fixed permutation, so the figure is the
    same on every run. Positive: the network relies on the input; near zero: it ignores it.

    Args:
        forecaster: A fitted `RNNForecaster` with covariates.
        values: The whole series.
        origins: The test origins.
        features: The encoded covariates (`forecaster.features(...)`).
        period: Season for the MASE scale.
        insample_end: End of the data the MASE scale is measured on.

    Returns:
        Input name -> MASE with it shuffled minus the MASE as trained, largest first.
    """
    horizon = forecaster.horizon
    actual = np.asarray(values, dtype=float)[origins[:, None] + np.arange(horizon)]
    scale = mase_scale(values[:insample_end], period)

    def mase(feats: Features) -> float:
        predicted = forecaster.predict(values, origins, features=feats)
        return float(np.mean(np.abs(predicted - actual)) / scale)

    base = mase(features)
    rows = np.arange(int(origins.min()) - forecaster.window, int(origins.max()) + horizon)
    order = np.random.default_rng(IMPORTANCE_SEED).permutation(rows)
    found = {}
    for name, (array, columns) in forecaster.encoder_.groups().items():
        shuffled = {"past": features.past.copy(), "known": features.known.copy()}
        block = shuffled[array]
        block[np.ix_(rows, columns)] = block[np.ix_(order, columns)]
        found[name] = mase(Features(shuffled["past"], shuffled["known"])) - base
    return dict(sorted(found.items(), key=lambda item: -item[1]))
