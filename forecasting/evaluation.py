"""Metrics in original units, evaluation beside baselines on the same test origins, and
prediction intervals calibrated on held-out residuals."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from forecasting.baselines import ALL_BASELINES, FROM_ORIGINS, Baseline, seasonal_naive

MAX_EVAL_ORIGINS = 40
# A validation part of this few forecasts (one forecast of 8 quarters on an M1 quarterly
# series) is too small a sample to lean on, and an optimistic one: early stopping looked at
# it. So the band does not rest on its errors alone: seasonal naive's errors from rolling
# origins of the fit part join them (`reference_rows`). 95% band held, 20 series a group (M1
# monthly, M1 quarterly, Tourism monthly, Tourism quarterly): 93.1 / 74.3 / 95.6 / 96.2%
# without, 95.5 / 93.8 / 95.8 / 97.5% with; MSIS equal or lower in each. Theta's errors
# instead: 89.6% on M1 quarterly; up to 9 forecasts: Tourism quarterly 100%. Nor is the
# combination chosen on it (`combination.choose`). An update's held-out part of this few
# forecasts calibrates the same way (`thin_reference`).
FEW_VALIDATION_FORECASTS = 4
METRICS = ("mae", "rmse", "mape", "smape", "mase")
METRIC_NAMES = {"mae": "MAE", "rmse": "RMSE", "mape": "MAPE %", "smape": "sMAPE %", "mase": "MASE"}


def mase_scale(insample: np.ndarray, period: int) -> float:
    """Mean absolute error of the seasonal naive method inside the sample (naive without a
    season or with too little data)."""
    insample = np.asarray(insample, dtype=float)
    lag = period if period > 1 and insample.size > period else 1
    if insample.size <= lag:
        return math.nan
    return float(np.mean(np.abs(insample[lag:] - insample[:-lag])))


def metrics(actual: np.ndarray, forecast: np.ndarray, scale: float) -> dict[str, float | None]:
    """MAE, RMSE, MAPE, sMAPE (both in %) and MASE over all given points.

    MAPE is None (undefined) when an actual value is near zero; MASE is None when the
    in-sample scale is zero. NaN forecasts (a failed baseline) give all None.
    """
    actual = np.asarray(actual, dtype=float).ravel()
    forecast = np.asarray(forecast, dtype=float).ravel()
    if not np.all(np.isfinite(forecast)):
        return dict.fromkeys(METRICS)
    error = actual - forecast
    mae = float(np.mean(np.abs(error)))
    near_zero = np.abs(actual) < 1e-8 * max(1.0, float(np.max(np.abs(actual))))
    denom = np.abs(actual) + np.abs(forecast)
    smape_terms = np.divide(2 * np.abs(error), denom, out=np.zeros_like(denom), where=denom > 0)
    return {
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mape": None if near_zero.any() else float(100 * np.mean(np.abs(error / actual))),
        "smape": float(100 * np.mean(smape_terms)),
        "mase": mae / scale if scale and math.isfinite(scale) and scale > 0 else None,
    }


def evaluation_origins(origins: np.ndarray, limit: int = MAX_EVAL_ORIGINS) -> np.ndarray:
    """At most `limit` origins spread evenly, always keeping the first and the last."""
    if origins.size <= limit:
        return origins
    return origins[np.unique(np.linspace(0, origins.size - 1, limit).round().astype(int))]


def baseline_forecasts(
    values: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    period: int,
    baselines: dict[str, Baseline],
) -> dict[str, np.ndarray]:
    """Forecasts `(len(origins), horizon)` of each baseline, each from `values[:origin]`."""
    forecasts = {}
    for name, method in baselines.items():
        if method in FROM_ORIGINS:
            forecasts[name] = FROM_ORIGINS[method](values, origins, horizon, period)
        else:
            forecasts[name] = np.array(
                [method(values[:origin], horizon, period) for origin in origins]
            )
    return forecasts


@dataclass
class Evaluation:
    """Forecasts of the model and the baselines from the same origins, and their metrics.

    Attributes:
        origins: Index of the first forecast point of each evaluated forecast.
        horizon: Steps per forecast.
        actual: Actual values `(len(origins), horizon)`.
        forecasts: Method name ("model", "naive", ...) -> forecasts like `actual`.
        metrics: Method name -> metric name -> value (None when undefined).
    """

    origins: np.ndarray
    horizon: int
    actual: np.ndarray
    forecasts: dict[str, np.ndarray]
    metrics: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def skill(self, metric: str = "mase", versus: str = "seasonal_naive") -> float | None:
        """Relative improvement of the model over a baseline (0.2 = 20% lower error)."""
        model, base = self.metrics["model"].get(metric), self.metrics[versus].get(metric)
        if model is None or base is None or base == 0:
            return None
        return 1 - model / base

    def by_lead(self, method: str = "model", metric: str = "mae") -> list[float]:
        """Error at each lead time 1 ... horizon."""
        error = np.abs(self.actual - self.forecasts[method])
        if metric == "rmse":
            return np.sqrt(np.mean(error**2, axis=0)).tolist()
        return np.mean(error, axis=0).tolist()


def evaluate(
    forecasts: np.ndarray,
    values: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    period: int,
    insample_end: int,
    baselines: dict[str, Baseline] | None = None,
) -> Evaluation:
    """Score model forecasts beside baselines computed from the same origins.

    Args:
        forecasts: Model forecasts `(len(origins), horizon)` in original units.
        values: The whole series.
        origins: First forecast index of each row of `forecasts`.
        horizon: Steps per forecast.
        period: Seasonal period (for seasonal baselines and MASE).
        insample_end: End of the data the MASE scale is measured on (the test start).
        baselines: Name -> method; all of `ALL_BASELINES` by default.
    """
    values = np.asarray(values, dtype=float)
    actual = values[origins[:, None] + np.arange(horizon)[None, :]]
    all_forecasts = {"model": np.asarray(forecasts, dtype=float)}
    all_forecasts.update(
        baseline_forecasts(
            values, origins, horizon, period, ALL_BASELINES if baselines is None else baselines
        )
    )
    scale = mase_scale(values[:insample_end], period)
    result = Evaluation(origins, horizon, actual, all_forecasts)
    result.metrics = {name: metrics(actual, f, scale) for name, f in all_forecasts.items()}
    return result


def conformal_widths(residuals: np.ndarray, level: float) -> np.ndarray:
    """Half-widths of split-conformal intervals per lead time.

    Args:
        residuals: `(forecasts, horizon)` errors on data the model was not fitted to.
        level: Wanted coverage, e.g. 0.9.

    Returns:
        `horizon` half-widths: the finite-sample corrected quantile of absolute residuals at
        each lead; with fewer than 10 rows, errors are pooled over leads after scaling by the
        square root of the lead, so every width rests on enough points. With too few scores
        for the level (see `score_quantile`), a Student-t width.
    """
    residuals = np.abs(np.asarray(residuals, dtype=float))
    rows, horizon = residuals.shape
    if rows >= 10:
        return score_quantile(np.sort(residuals, axis=0), level)
    roots = np.sqrt(np.arange(1, horizon + 1))
    pooled = (residuals / roots).ravel()
    return float(score_quantile(np.sort(pooled), level)) * roots


def score_quantile(ranked: np.ndarray, level: float) -> np.ndarray:
    """The split-conformal quantile of absolute scores sorted along axis 0: the
    ceil((n + 1) * level)-th smallest of `n`.

    When that rank exceeds `n` (fewer than 19 scores for a 95% band: one validation
    forecast of 8 quarters), the largest score would cover only about n / (n + 1) of new
    values (89% of them with 8 scores), so the width is the larger of it and the Student-t
    prediction half-width t(n, (1 + level) / 2) x the scores' root mean square (zero-mean
    errors, normal to first order).
    """
    n = ranked.shape[0]
    rank = _conformal_rank(n, level)
    if rank <= n:
        return ranked[rank - 1]
    from scipy.stats import t  # only for short calibration sets

    spread = np.sqrt(np.mean(np.square(ranked), axis=0))
    return np.maximum(ranked[-1], t.ppf((1 + level) / 2, n) * spread)


def _conformal_rank(n: int, level: float) -> int:
    """Rank (1-based) of the split-conformal quantile among `n` sorted scores:
    ceil((n + 1) * level); above n when there are too few scores. (The tiny slack keeps
    10 * 0.9 at 9, not 10.)"""
    return math.ceil((n + 1) * level - 1e-9)


def reference_rows(history: np.ndarray, horizon: int, period: int) -> tuple[np.ndarray, ...]:
    """Seasonal naive's forecasts from up to `MAX_EVAL_ORIGINS` origins spread over `history`
    (each forecast and its actual values inside it; the first origin two seasons in) and
    those actual values: `(actual, predicted)`, each `(origins, horizon)`, no rows when the
    history is too short."""
    history = np.asarray(history, dtype=float)
    first = max(2 * period, 8)
    origins = evaluation_origins(np.arange(first, history.size - horizon + 1))
    steps = origins[:, None] + np.arange(horizon)
    predicted = np.array([seasonal_naive(history[:o], horizon, period) for o in origins])
    return history[steps], predicted.reshape(len(origins), horizon)


def thin_reference(
    forecasts: int, history: np.ndarray, horizon: int, period: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal naive's rows (`reference_rows` over `history`) that join a band's
    calibration on `forecasts` forecasts when they are `FEW_VALIDATION_FORECASTS` or fewer;
    no rows otherwise: `(actual, predicted)`, each `(rows, horizon)`."""
    if forecasts > FEW_VALIDATION_FORECASTS:
        return np.empty((0, horizon)), np.empty((0, horizon))
    return reference_rows(history, horizon, period)


def reference_note(forecasts: int, added: int, part: str, before: str) -> str:
    """The sentence saying that seasonal naive's errors joined a thin calibration part."""
    return (
        f"Band: the {part} holds {forecasts} forecast{'s' if forecasts != 1 else ''}, too few "
        f"errors to calibrate the band on; seasonal naive's errors from {added} forecasts "
        f"over {before} join them."
    )


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actual values inside their interval."""
    actual = np.asarray(actual, dtype=float)
    return float(np.mean((actual >= lower) & (actual <= upper)))


INTERVAL_LEVELS = (0.8, 0.95)


@dataclass
class Intervals:
    """Prediction intervals per level and lead time, calibrated on held-out residuals.

    For positive series the residuals are relative (log of actual over forecast), so a band
    grows with the level of the series and stays positive; otherwise they are absolute. For a
    series without negative values, forecasts and bounds are clipped at 0 (`clip`).

    Attributes:
        widths: Level (e.g. 0.95) -> `horizon` half-widths (log-ratios when `relative`).
        relative: Whether widths are log-ratios.
        non_negative: Whether the series had no negative value (forecasts clipped at 0).
    """

    widths: dict[float, np.ndarray]
    relative: bool = False
    non_negative: bool = False

    @classmethod
    def calibrate(
        cls,
        actual: np.ndarray,
        predicted: np.ndarray,
        levels,
        relative: bool,
        non_negative: bool = False,
    ) -> Intervals:
        """Split-conformal widths from forecasts `predicted` of `actual` (rows x horizon);
        `non_negative` when the series has no negative value (see `clip`)."""
        actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
        relative = bool(relative and np.all(actual > 0) and np.all(predicted > 0))
        residuals = np.log(actual / predicted) if relative else actual - predicted
        return cls(
            {float(level): conformal_widths(residuals, level) for level in sorted(set(levels))},
            relative,
            non_negative,
        )

    @classmethod
    def from_changes(cls, values: np.ndarray, horizon: int, levels) -> Intervals:
        """Rough widths for a series too short to test forecasts on: the conformal quantile
        of its step-to-step changes (the naive method's one-step errors), growing with the
        square root of the lead. Zero widths when there is no change to measure."""
        values = np.asarray(values, dtype=float)
        changes = np.diff(values)
        if changes.size == 0:
            changes = np.zeros(1)
        ranked, roots = np.sort(np.abs(changes)), np.sqrt(np.arange(1, horizon + 1))
        return cls(
            {float(level): score_quantile(ranked, level) * roots for level in sorted(set(levels))},
            non_negative=non_negative(values),
        )

    def clip(self, values: np.ndarray) -> np.ndarray:
        """`values` clipped at 0 when the series has no negative value (a forecast or a bound
        below 0 would be a value the series never takes); unchanged otherwise. Every forecast
        and band goes through here."""
        values = np.asarray(values, dtype=float)
        return np.maximum(values, 0.0) if self.non_negative else values

    def clips(self, forecast: np.ndarray, level: float) -> bool:
        """Whether `clip` changes `forecast` or its lower bound at `level`."""
        unclipped = dataclasses.replace(self, non_negative=False)
        return bool(
            self.non_negative
            and (
                np.any(np.asarray(forecast) < 0) or np.any(unclipped.bounds(forecast, level)[0] < 0)
            )
        )

    def bounds(self, forecast: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds around `forecast` (any shape ending in the horizon),
        clipped at 0 for a series without negative values."""
        forecast, width = self.clip(forecast), self.widths[float(level)]
        if self.relative:
            positive = np.maximum(forecast, 0.0)
            return positive * np.exp(-width), positive * np.exp(width)
        return self.clip(forecast - width), self.clip(forecast + width)

    def to_dict(self) -> dict:
        return {
            "relative": self.relative,
            "non_negative": self.non_negative,
            "widths": {
                str(level): [float(w) for w in widths] for level, widths in self.widths.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict) -> Intervals:
        return cls(
            {
                float(level): np.asarray(widths, dtype=float)
                for level, widths in data["widths"].items()
            },
            bool(data["relative"]),
            bool(data.get("non_negative", False)),
        )


CLIP_NOTE = (
    "The series has no negative values, so forecasts and the lower bounds of the "
    "bands are clipped at 0."
)


def non_negative(values: np.ndarray) -> bool:
    """Whether every observed value is 0 or more (forecasts are then clipped at 0)."""
    values = np.asarray(values, dtype=float)
    return bool(values.size and np.nanmin(values) >= 0)
