"""The last check before a forecast is delivered: a forecast off the series' scale is replaced.

A network can fail silently: fitted on one global scale and shown a level it never saw, its
saturated units return the old level, a tenth of the last value. Every forecast of a run (the
final one and each from a test origin) is compared with the values before its origin.

The rule (`off_scale`): a forecast is off the scale when the mean of its distance from the
range of the recent values (the last `max(horizon, period)` values; 0 inside that range) is
more than `FACTOR` times the tolerance. The tolerance is the largest of

- the same distance for the simple references (naive, seasonal naive, drift, and drift over
  the recent window alone: a series that turned from flat to climbing carries its new trend
  on), which need no fitting;
- the median change over `1 ... horizon` steps among the last `RECENT_CHANGES` x the recent
  window's values (what naive typically misses by; the median ignores a single jump);
- the mean step-to-step change over the whole history (so a flat stretch of an intermittent
  series does not make the tolerance zero).

A healthy forecast stays inside or near the recent range: a trend carried on moves about one
typical change per horizon, a season repeats inside a range that covers a whole cycle, a
return from a spike lands inside the range. A forecast five typical changes beyond every
recent value is not a forecast of this series. Off-scale forecasts are replaced by the baseline
with the lowest mean absolute error on the validation part, and a note says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.baselines import ALL_BASELINES, BASELINE_NAMES, Baseline, drift, naive
from forecasting.evaluation import baseline_forecasts, evaluation_origins
from forecasting.windows import Split

FACTOR = 5.0
RECENT_CHANGES = 4
REFERENCES = ("naive", "seasonal_naive", "drift")


def _outside(forecast: np.ndarray, low: float, high: float) -> float:
    """Mean distance of the forecast's points from the range [low, high] (0 inside)."""
    return float(np.mean(np.maximum(low - forecast, 0.0) + np.maximum(forecast - high, 0.0)))


def tolerance(history: np.ndarray, horizon: int, period: int) -> float:
    """How far outside the recent range a healthy forecast may reasonably land (see the
    module's docstring)."""
    history = np.asarray(history, dtype=float)
    span = max(horizon, period, 2)
    recent = history[-span:]
    low, high = float(recent.min()), float(recent.max())
    forecasts = [ALL_BASELINES[name](history, horizon, period) for name in REFERENCES]
    forecasts.append(drift(history[-(span + 1) :], horizon))
    references = [_outside(forecast, low, high) for forecast in forecasts]
    tail = history[-RECENT_CHANGES * span :]
    changes = [np.abs(tail[lag:] - tail[:-lag]) for lag in range(1, horizon + 1) if tail.size > lag]
    typical = float(np.median(np.concatenate(changes))) if changes else 0.0
    steps = float(np.mean(np.abs(np.diff(history)))) if history.size > 1 else 0.0
    floor = 1e-9 * max(1.0, float(np.max(np.abs(recent))))
    return max([*references, typical, steps, floor])


def off_scale(forecast: np.ndarray, history: np.ndarray, horizon: int, period: int) -> bool:
    """Whether `forecast` (from the end of `history`) is off the series' scale: not finite,
    or its mean distance from the recent range exceeds `FACTOR` x `tolerance`."""
    forecast, history = np.asarray(forecast, dtype=float), np.asarray(history, dtype=float)
    if not np.all(np.isfinite(forecast)):
        return True
    recent = history[-max(horizon, period, 2) :]
    distance = _outside(forecast, float(recent.min()), float(recent.max()))
    return distance > FACTOR * tolerance(history, horizon, period)


def ranked_by_validation(
    values: np.ndarray,
    split: Split,
    horizon: int,
    period: int,
    baselines: dict[str, Baseline] | None = None,
) -> list[str]:
    """The baselines by their mean absolute error on the validation part, lowest first
    (naive alone when none can be scored)."""
    values = np.asarray(values, dtype=float)
    origins = evaluation_origins(split.origins("val", horizon))
    if origins.size == 0:
        return ["naive"]
    actual = values[origins[:, None] + np.arange(horizon)]
    forecasts = baseline_forecasts(
        values[: split.fit_end],
        origins,
        horizon,
        period,
        ALL_BASELINES if baselines is None else baselines,
    )
    errors = {
        name: float(np.mean(np.abs(f - actual)))
        for name, f in forecasts.items()
        if np.all(np.isfinite(f))
    }
    return sorted(errors, key=errors.get) or ["naive"]


@dataclass(frozen=True)
class Guarded:
    """Forecasts after the guard.

    Attributes:
        test: Forecasts from the test origins, off-scale rows replaced.
        future: The final forecast, replaced when off the scale (None when none was made).
        note: One plain sentence when anything was replaced, else "".
    """

    test: np.ndarray
    future: np.ndarray | None
    note: str = ""


def guard_forecasts(
    values: np.ndarray,
    split: Split,
    horizon: int,
    period: int,
    test_origins: np.ndarray,
    test: np.ndarray,
    future: np.ndarray | None,
    baselines: dict[str, Baseline] | None = None,
) -> Guarded:
    """Check the test forecasts and the final forecast; replace the off-scale ones by the
    best-validated baseline's forecast from the same origin.

    Args:
        values: The whole series.
        split: Its split (the validation part picks the replacement).
        horizon: Steps per forecast.
        period: Seasonal period.
        test_origins: Origin of each row of `test`.
        test: The network's forecasts `(len(test_origins), horizon)`.
        future: The network's final forecast from the end of `values` (None: not made).
        baselines: The run's baselines (all when None).
    """
    values = np.asarray(values, dtype=float)
    test = np.array(test, dtype=float)
    future = None if future is None else np.array(future, dtype=float)
    rows = [
        i
        for i, origin in enumerate(test_origins)
        if off_scale(test[i], values[:origin], horizon, period)
    ]
    future_off = future is not None and off_scale(future, values, horizon, period)
    if not rows and not future_off:
        return Guarded(test, future)
    ranking = ranked_by_validation(values, split, horizon, period, baselines)
    methods = ALL_BASELINES if baselines is None else baselines
    used: list[str] = []

    def replace(history: np.ndarray) -> np.ndarray:
        """The best-validated baseline's forecast that is itself on the scale (naive's, the
        last value repeated, when none is)."""
        for name in ranking:
            forecast = np.asarray(methods.get(name, naive)(history, horizon, period), float)
            if not off_scale(forecast, history, horizon, period):
                used.append(name)
                return forecast
        used.append("naive")
        return naive(history, horizon)

    for i in rows:
        test[i] = replace(values[: test_origins[i]])
    parts = []
    if future_off:
        parts.append(
            f"the final forecast (mean {np.mean(future):.4g} against a last value of "
            f"{values[-1]:.4g})"
        )
        future = replace(values)
    if rows:
        parts.append(f"{len(rows)} of {len(test_origins)} forecasts on the test part")
    labels = " and the ".join(BASELINE_NAMES.get(name, name) for name in dict.fromkeys(used))
    skipped = set(used) != {ranking[0]}
    note = (
        f"Guard: the network's {' and '.join(parts)} lay far outside the series' recent "
        f"values, so the {labels} method's forecast ("
        + (
            "the best-validated baseline whose own forecast stayed on the scale"
            if skipped
            else "the baseline with the lowest error on the validation part"
        )
        + f") replaced {'it' if len(parts) == 1 and future_off else 'them'}"
        "; the band is drawn around the replacement."
    )
    return Guarded(test, future, note)
