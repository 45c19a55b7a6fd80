"""The baselines and the too-short fallback of many series at once: the methods of
`forecasting.baselines` (the naive family, ETS and Theta from statsmodels), in batches over
`forecasting.fanout.map_batches` (Ray tasks when `RAY_ADDRESS` is set).

statsforecast was measured against this path (`python -m benchmarks.panel --part baselines`:
ETS 9 to 20 times faster on the M4 panels, Theta up to 4 times, the naive family identical)
but is not used: it pins pandas below 3, which this project needs.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from forecasting.baselines import ALL_BASELINES, Baseline
from forecasting.evaluation import Intervals
from forecasting.fallback import fallback_note, fallback_values
from forecasting.fanout import map_batches

BATCH_SIZE = 64  # series per batch (per Ray task on a cluster)


PANEL_BASELINES: dict[str, Baseline] = {
    name: ALL_BASELINES[name] for name in ("naive", "seasonal_naive", "naive2", "ets", "theta")
}


def _forecast_batch(
    histories: list[np.ndarray], horizon: int, period: int, methods: tuple[str, ...]
) -> list[dict[str, np.ndarray]]:
    """Every method's forecast of every history in one batch (what one task runs)."""
    return [
        {name: np.asarray(PANEL_BASELINES[name](h, horizon, period), float) for name in methods}
        for h in histories
    ]


def baseline_forecasts(
    histories: list[np.ndarray],
    horizon: int,
    period: int,
    methods: tuple[str, ...] = tuple(PANEL_BASELINES),
    batch_size: int = BATCH_SIZE,
) -> list[dict[str, np.ndarray]]:
    """Each history's forecast by each method (name -> `horizon` values, NaN where a model
    could not fit), in the histories' order; batched over `map_batches`."""
    histories = [np.asarray(h, dtype=float) for h in histories]
    work = partial(_forecast_batch, horizon=horizon, period=period, methods=tuple(methods))
    return map_batches(work, histories, batch_size)


def _fallback_batch(
    histories: list[np.ndarray], horizon: int, level: float, period: int, method: str
) -> list[tuple[np.ndarray, Intervals, bool]]:
    return [fallback_values(h, horizon, level, period, method) for h in histories]


def fallback_forecasts(
    series: list,
    horizon: int,
    level: float,
    period: int,
    method: str = "theta",
    batch_size: int = BATCH_SIZE,
) -> list[tuple[pd.DataFrame, str]]:
    """The fallback forecast of each series too short for a network: a frame (date,
    forecast, lower, upper at `level`) and the sentence that says so, per series.

    Args:
        series: `TimeSeries` objects.
        horizon: Steps ahead.
        level: The band's level.
        period: Seasonal period shared by the series.
        method: A name of `PANEL_BASELINES`.
        batch_size: Series per batch (per Ray task on a cluster).
    """
    from forecasting.pipeline import forecast_frame

    work = partial(_fallback_batch, horizon=horizon, level=level, period=period, method=method)
    done = map_batches(work, [np.asarray(s.values, dtype=float) for s in series], batch_size)
    out = []
    for one, (forecast, intervals, rough) in zip(series, done, strict=True):
        note = fallback_note(len(one), method, rough, intervals.clips(forecast, level))
        out.append((forecast_frame(one.future_index(horizon), forecast, intervals, level), note))
    return out
