"""Interval scores of the M4 competition: MSIS and band coverage pooled over forecasts.

Point metrics (sMAPE, MASE, ...) live in `forecasting.evaluation`; this module scores
prediction intervals the way M4 did, so benchmarks and backtests report the same figures.
"""

from __future__ import annotations

import math

import numpy as np

from forecasting.evaluation import coverage

MSIS_ALPHA = 0.05  # M4 scored the 95% interval


def msis(
    actual: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    scale: float,
    alpha: float = MSIS_ALPHA,
) -> float:
    """Mean scaled interval score (M4): the band's width plus 2 / alpha times each miss,
    averaged over the points and divided by the in-sample scale (`evaluation.mase_scale`
    with M4's seasonal period). Lower is better; NaN when the scale is zero or undefined.

    Args:
        actual: The held-out values.
        lower: Lower bounds of the (1 - alpha) interval, same shape.
        upper: Upper bounds, same shape.
        scale: Mean absolute seasonal difference inside the sample.
        alpha: One minus the interval's level.
    """
    actual, lower, upper = (np.asarray(a, dtype=float).ravel() for a in (actual, lower, upper))
    if not scale or not math.isfinite(scale):
        return math.nan
    below = np.clip(lower - actual, 0.0, None)
    above = np.clip(actual - upper, 0.0, None)
    score = (upper - lower) + 2.0 / alpha * (below + above)
    return float(np.mean(score) / scale)


def pooled_coverage(bands: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> float:
    """Share of all actual values inside their band over several forecasts, each given as
    (actual, lower, upper); NaN when there is none."""
    actual = np.concatenate([np.ravel(a) for a, _, _ in bands]) if bands else np.array([])
    if actual.size == 0:
        return math.nan
    lower = np.concatenate([np.ravel(low) for _, low, _ in bands])
    upper = np.concatenate([np.ravel(up) for _, _, up in bands])
    return coverage(actual, lower, upper)
