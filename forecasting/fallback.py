"""The too-short fallback's rule, shared by one series (`pipeline.fallback_forecast`) and many
(`panel_baselines.fallback_forecasts`): a baseline's forecast with a band sized by that
method's own rolling forecasts inside the data, and the sentence that says so."""

from __future__ import annotations

import numpy as np

from forecasting.baselines import ALL_BASELINES, BASELINE_NAMES
from forecasting.evaluation import CLIP_NOTE, Intervals, evaluation_origins, non_negative

FALLBACK_ORIGINS = 20  # rolling forecasts that size a fallback series' band


def fallback_values(
    values: np.ndarray, horizon: int, level: float, period: int, method: str = "theta"
) -> tuple[np.ndarray, Intervals, bool]:
    """The method's forecast of `values` (naive where it cannot fit), its intervals at
    `level` and whether they are rough (sized from the step changes: too few points to test
    forecasts on)."""
    values = np.asarray(values, dtype=float)
    fn = ALL_BASELINES[method]
    first = max(3, len(values) // 2)
    origins = evaluation_origins(np.arange(first, len(values) - horizon + 1), FALLBACK_ORIGINS)
    intervals, rough = Intervals.from_changes(values, horizon, [level]), True
    if origins.size:
        actual = values[origins[:, None] + np.arange(horizon)]
        predicted = np.array([fn(values[:o], horizon, period) for o in origins])
        if np.all(np.isfinite(predicted)):
            intervals = Intervals.calibrate(
                actual, predicted, [level], relative=True, non_negative=non_negative(values)
            )
            rough = False
    forecast = np.asarray(fn(values, horizon, period), dtype=float)
    if not np.all(np.isfinite(forecast)):
        forecast = ALL_BASELINES["naive"](values, horizon, period)
    return forecast, intervals, rough


def fallback_note(points: int, method: str, rough: bool, clipped: bool) -> str:
    """The sentence that names the fallback of a series of `points` points."""
    note = (
        f"The series ({points} points) is too short for a network; this is the "
        f"{BASELINE_NAMES[method]} method's forecast instead."
    )
    if rough:
        note += (
            " Its band is rough: too few points to test forecasts on, so it is sized from "
            "the step-to-step changes."
        )
    if clipped:
        note += " " + CLIP_NOTE
    return note
