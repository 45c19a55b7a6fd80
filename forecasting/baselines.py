"""Simple forecasting methods that every network is measured against.

Each baseline maps `(history, horizon, period)` to `horizon` forecasts, using nothing after
the end of `history`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from forecasting.seasonality import seasonal_indices, seasonality_test

Baseline = Callable[[np.ndarray, int, int], np.ndarray]
_FIT_ERRORS = (ValueError, KeyError, np.linalg.LinAlgError, ZeroDivisionError, IndexError)
# ETS searches a grid of starting parameters (statsmodels' `use_brute`) only for histories up
# to this long. On longer ones the grid was most of the fit and its start no better (40 of the
# generated hourly series: 0.25 -> 0.10 s each, MASE 0.631 either way; M4 hourly dev 100: 0.29
# -> 0.12 s, MASE 1.376 -> 1.151; M4 weekly: 2.011 -> 1.988); on the short M1 and Tourism
# series it finds better starts (M1 monthly MASE 1.107 with it, 1.148 without). A quick fit
# that explains the history worse than naive's one-step errors did not converge (M4 W211,
# 934 weekly points: 100 times naive's squared errors, forecasting a tenth of the level) and
# is refitted from the grid.
ETS_GRID_MAX_POINTS = 500


def naive(history: np.ndarray, horizon: int, period: int = 1) -> np.ndarray:
    """The last value, repeated."""
    return np.full(horizon, float(history[-1]))


def seasonal_naive(history: np.ndarray, horizon: int, period: int = 1) -> np.ndarray:
    """The value one season earlier (naive when there is no season or too little data)."""
    if period < 2 or len(history) < period:
        return naive(history, horizon)
    last_cycle = np.asarray(history[-period:], dtype=float)
    return np.resize(last_cycle, horizon)


def _adjustment(history: np.ndarray, period: int) -> np.ndarray | None:
    """Multiplicative seasonal indices by classical decomposition when the M4 test finds a
    season (and the series is positive), else None."""
    if period < 2 or np.any(history <= 0) or not seasonality_test(history, period):
        return None
    return seasonal_indices(history, period, multiplicative=True)


def naive2(history: np.ndarray, horizon: int, period: int = 1) -> np.ndarray:
    """The M4 competition's reference: naive on the seasonally adjusted series."""
    history = np.asarray(history, dtype=float)
    indices = _adjustment(history, period)
    if indices is None:
        return naive(history, horizon)
    n = history.size
    adjusted = history[-1] / indices[(n - 1) % period]
    return adjusted * indices[(n + np.arange(horizon)) % period]


def drift(history: np.ndarray, horizon: int, period: int = 1) -> np.ndarray:
    """A straight line through the first and last values, extended."""
    history = np.asarray(history, dtype=float)
    slope = (history[-1] - history[0]) / max(history.size - 1, 1)
    return history[-1] + slope * np.arange(1, horizon + 1)


def moving_average(history: np.ndarray, horizon: int, period: int = 1) -> np.ndarray:
    """The mean of the last season (or of the last 3 values without one)."""
    span = period if period > 1 else 3
    return np.full(horizon, float(np.mean(history[-span:])))


def _statsmodels(
    fit_forecast: Callable[[np.ndarray], np.ndarray], history: np.ndarray, horizon: int
) -> np.ndarray:
    """Run a statsmodels fit quietly; NaN forecasts if it fails (too short, no convergence)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            forecast = np.asarray(fit_forecast(np.asarray(history, dtype=float)), dtype=float)
        except _FIT_ERRORS:
            return np.full(horizon, np.nan)
    return forecast if forecast.shape == (horizon,) else np.full(horizon, np.nan)


def _ets_seasonal(history: np.ndarray, period: int) -> str | None:
    """ "mul" / "add" when a season shows and the data covers two cycles, else None."""
    if period > 1 and history.size >= 2 * period + 2 and seasonality_test(history, period):
        return "mul" if np.all(history > 0) else "add"
    return None


def _holt_winters(history: np.ndarray, seasonal: str | None, period: int, **known):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    return ExponentialSmoothing(
        history,
        trend="add",
        damped_trend=True,
        seasonal=seasonal,
        seasonal_periods=period if seasonal else None,
        initialization_method="known" if known else "estimated",
        **known,
    )


def ets(history: np.ndarray, horizon: int, period: int = 1) -> np.ndarray:
    """Holt-Winters exponential smoothing with a damped trend, seasonal when the data allows."""
    history = np.asarray(history, dtype=float)
    seasonal = _ets_seasonal(history, period)
    return _statsmodels(lambda y: _fit_ets(y, seasonal, period).forecast(horizon), history, horizon)


def _fit_ets(history: np.ndarray, seasonal: str | None, period: int):
    """Fit a Holt-Winters model: from the grid of starts on short histories; on long ones
    from the quick start, unless that fit's squared one-step errors exceed naive's (it did
    not converge), when the grid is searched too and the better fit kept."""
    if history.size <= ETS_GRID_MAX_POINTS:
        return _holt_winters(history, seasonal, period).fit(use_brute=True)
    quick = _holt_winters(history, seasonal, period).fit(use_brute=False)
    if quick.sse <= np.sum(np.diff(history) ** 2):  # False for a NaN or infinite error too
        return quick
    searched = _holt_winters(history, seasonal, period).fit(use_brute=True)
    return quick if quick.sse <= searched.sse else searched


def ets_from_origins(
    values: np.ndarray, origins: np.ndarray, horizon: int, period: int = 1
) -> np.ndarray:
    """ETS forecasts from many origins of one expanding window: parameters and initial states
    are fitted once, at the first origin; later origins only run the smoothing over the newer
    data (a refit per origin would take up to a second each)."""
    values = np.asarray(values, dtype=float)
    first = values[: origins[0]]
    seasonal = _ets_seasonal(first, period)
    failed = np.full((len(origins), horizon), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fitted = _fit_ets(first, seasonal, period)
            params = fitted.params
            known = {
                "initial_level": params["initial_level"],
                "initial_trend": params["initial_trend"],
            }
            smoothing = {
                k: params[k] for k in ("smoothing_level", "smoothing_trend", "damping_trend")
            }
            if seasonal:
                known["initial_seasonal"] = params["initial_seasons"]
                smoothing["smoothing_seasonal"] = params["smoothing_seasonal"]
            rows = [fitted.forecast(horizon)] + [
                _holt_winters(values[:origin], seasonal, period, **known)
                .fit(optimized=False, **smoothing)
                .forecast(horizon)
                for origin in origins[1:]
            ]
        except _FIT_ERRORS:
            return failed
    forecasts = np.asarray(rows, dtype=float)
    return forecasts if forecasts.shape == failed.shape else failed


def theta(history: np.ndarray, horizon: int, period: int = 1) -> np.ndarray:
    """The Theta method (winner of the M3 competition), deseasonalized when a season shows."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    history = np.asarray(history, dtype=float)
    seasonal = period > 1 and history.size >= 2 * period and seasonality_test(history, period)

    def fit(y):
        model = ThetaModel(
            y,
            period=period if seasonal else 1,
            deseasonalize=bool(seasonal),
            method="additive" if np.any(y <= 0) else "auto",
        )
        return model.fit().forecast(horizon)

    return _statsmodels(fit, history, horizon)


QUICK_BASELINES: dict[str, Baseline] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
}
ALL_BASELINES: dict[str, Baseline] = {
    **QUICK_BASELINES,
    "naive2": naive2,
    "drift": drift,
    "moving_average": moving_average,
    "ets": ets,
    "theta": theta,
}
BASELINE_NAMES = {
    "naive": "Naive",
    "seasonal_naive": "Seasonal naive",
    "naive2": "Naive2",
    "drift": "Drift",
    "moving_average": "Moving average",
    "ets": "ETS (Holt-Winters)",
    "theta": "Theta",
}
# Baselines with a faster way to forecast from many origins of one series.
FROM_ORIGINS = {ets: ets_from_origins}
