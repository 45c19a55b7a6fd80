"""Many series, one global network: plan, train, score every series beside the baselines by the
M4 rules, calibrate intervals, forecast every series.

Each series is split at the same horizon: its last `horizon` points are its test part (one
forecast origin, as in M4), the `horizon` before them its validation part, the rest its
training part. Series too short for the window get a named statistical fallback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.baselines import ALL_BASELINES, BASELINE_NAMES
from forecasting.config import AUTO, RunConfig
from forecasting.errors import DataError
from forecasting.evaluation import INTERVAL_LEVELS, conformal_widths, mase_scale, metrics
from forecasting.frequency import default_horizon, describe_season
from forecasting.panel import Panel
from forecasting.pipeline import MAX_AUTO_WINDOW, NO_SEASON_WINDOW, fallback_forecast
from forecasting.seasonality import detect_period
from forecasting.training import EpochEvent
from forecasting.windows import Split

FALLBACK = "theta"
M4_METHODS = ("model", "naive", "seasonal_naive", "naive2", "ets", "theta")


@dataclass(frozen=True)
class PanelPlan:
    """Every automatic choice for a panel, and why.

    Attributes:
        config: The configuration with window, horizon and scaling resolved.
        period: Seasonal period shared by the series.
        splits: Each trained series' split (label -> Split).
        fallback: Labels of the series too short for the window (fallback method).
        windows: Training windows over all series.
        per_epoch: Training windows seen per epoch.
        notes: Plain sentences.
    """

    config: RunConfig
    period: int
    splits: dict[str, Split]
    fallback: tuple[str, ...]
    windows: int
    per_epoch: int
    notes: tuple[str, ...] = ()


def panel_period(panel: Panel) -> tuple[int, str]:
    """The season from the frequency, else from the autocorrelation of the longest series."""
    period = panel.series[0].season_length
    if period > 1:
        return period, f"season of {period} steps (a {describe_season(period)})"
    longest = panel.series[int(np.argmax(panel.lengths))]
    found = detect_period(longest.values[: max(len(longest) - 1, 1)])
    if found > 1:
        return found, f"season of {found} steps, found in the longest series"
    return 1, "no seasonal cycle found"


def panel_split(n: int, window: int, horizon: int) -> Split | None:
    """Test = the last `horizon` points, validation = the `horizon` before; None when no
    training window fits."""
    train_end = n - 2 * horizon
    if train_end - window - horizon + 1 < 1:
        return None
    return Split(n=n, train_end=train_end, fit_end=n - horizon)


def plan_panel(panel: Panel, config: RunConfig) -> PanelPlan:
    """Resolve the horizon, window and scaling for all series; name the too-short ones.

    Raises:
        DataError: No series is long enough for a network.
    """
    from forecasting.global_forecaster import MAX_WINDOWS_PER_EPOCH

    period, season_text = panel_period(panel)
    notes = [f"{len(panel)} series, {panel.lengths.min()} to {panel.lengths.max()} points."]
    notes.append(f"Seasonal period: {season_text}.")
    horizon = config.horizon or default_horizon(period)
    window = config.model.window
    if window == AUTO:
        window = min(2 * period, MAX_AUTO_WINDOW) if period > 1 else NO_SEASON_WINDOW
        median = int(np.median(panel.lengths))
        while window > 4 and panel_split(median, window, horizon) is None:
            window //= 2
        notes.append(f"Window {window} steps (for the median series of {median} points).")
    scaling = config.model.scaling
    if scaling == "auto":
        scaling = "window"
        notes.append(
            "Scaling: each window as changes from its last value, in units of that series' "
            "typical step: one network learns from series of any level."
        )
    splits, fallback = {}, []
    for label, series in zip(panel.labels, panel.series, strict=True):
        split = panel_split(len(series), window, horizon)
        if split is None:
            fallback.append(label)
        else:
            splits[label] = split
    if not splits:
        need = window + 3 * horizon
        raise DataError(
            f"Every series is too short for window {window} and horizon {horizon} (at "
            f"least {need} points are needed). Lower the window or the horizon."
        )
    windows = sum(s.train_end - window - horizon + 1 for s in splits.values())
    per_epoch = min(windows, MAX_WINDOWS_PER_EPOCH)
    notes.append(
        f"One global network on {len(splits)} series: {windows:,} training windows"
        + (
            f", {per_epoch:,} of them per epoch (one shuffled pass spread over epochs)."
            if per_epoch < windows
            else ", all of them every epoch."
        )
        + f" Each series: test = its last {horizon} points, validation = the {horizon} "
        "before; early stopping on the pooled validation loss."
    )
    if fallback:
        shown = ", ".join(fallback[:5]) + (" ..." if len(fallback) > 5 else "")
        notes.append(
            f"{len(fallback)} series too short for the network get the "
            f"{BASELINE_NAMES[FALLBACK]} method's forecast instead: {shown}."
        )
    model = config.model.replace(window=window, scaling=scaling, strategy="direct")
    resolved = config.replace(horizon=horizon, model=model)
    return PanelPlan(resolved, period, splits, tuple(fallback), windows, per_epoch, tuple(notes))


@dataclass
class PanelRun:
    """Everything one many-series training produced.

    Attributes:
        plan: The resolved plan.
        panel: The series.
        forecaster: The fitted `GlobalForecaster`.
        scores: One row per series and method: label, method, mae, rmse, mape, smape, mase.
        aggregate: Method -> {"smape", "mase", "owa"} by the M4 rules (means over the
            series the network forecast; OWA against Naive2).
        forecast: One row per series and step: the id columns, date, forecast, lower, upper
            (the fallback's for too-short series).
        test_forecast: One row per trained series and test step: label, date, actual,
            forecast, lower, upper.
        coverage: Level -> share of test values inside the band, pooled over series.
        timings: train_seconds, epochs_run, total_seconds.
    """

    plan: PanelPlan
    panel: Panel
    forecaster: object
    scores: pd.DataFrame
    aggregate: dict[str, dict[str, float]]
    forecast: pd.DataFrame
    test_forecast: pd.DataFrame
    coverage: dict[float, float]
    widths: dict[float, np.ndarray] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def train_panel(
    panel: Panel,
    config: RunConfig | None = None,
    *,
    on_epoch: Callable[[EpochEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_plan: Callable[[PanelPlan], None] | None = None,
) -> PanelRun:
    """Train one global network on every long-enough series and score it by the M4 rules.

    Raises:
        DataError: No series is long enough.
        TrainingError: The loss became NaN.
    """
    from forecasting.global_forecaster import GlobalForecaster

    started = time.perf_counter()
    plan = plan_panel(panel, config or RunConfig())
    if on_plan is not None:
        on_plan(plan)
    cfg, horizon, period = plan.config, plan.config.horizon, plan.period
    labels = list(plan.splits)
    trained = [panel[label] for label in labels]
    values = [s.values for s in trained]
    splits = [plan.splits[label] for label in labels]
    forecaster = GlobalForecaster(cfg.model, cfg.train, horizon, period)
    forecaster.fit(values, splits, on_epoch=on_epoch, should_stop=should_stop)

    scales = [
        mase_scale(v[: s.fit_end], period) or 1.0 for v, s in zip(values, splits, strict=True)
    ]
    val = forecaster.predict(values, [[s.train_end] for s in splits])
    residuals = np.stack(
        [
            (v[s.train_end : s.fit_end] - f[0]) / sc
            for v, s, f, sc in zip(values, splits, val, scales, strict=True)
        ]
    )
    levels = sorted({*INTERVAL_LEVELS, cfg.level})
    widths = {level: conformal_widths(residuals, level) for level in levels}

    test = forecaster.predict(values, [[s.fit_end] for s in splits])
    future = forecaster.predict(values, [[len(v)] for v in values])
    rows, test_rows, forecast_rows, inside = [], [], [], {level: [] for level in levels}
    for label, series, split, t, f, scale in zip(
        labels, trained, splits, test, future, scales, strict=True
    ):
        v, origin = series.values, split.fit_end
        actual = v[origin : origin + horizon]
        history = v[:origin]
        forecasts = {"model": _clip(t[0], v)}
        for name in M4_METHODS[1:]:
            forecasts[name] = np.asarray(ALL_BASELINES[name](history, horizon, period), float)
        insample = mase_scale(history, period)
        for name, forecast in forecasts.items():
            rows.append({"label": label, "method": name, **metrics(actual, forecast, insample)})
        band = widths[cfg.level] * scale
        for level in levels:
            w = widths[level] * scale
            inside[level].append(
                (actual >= forecasts["model"] - w) & (actual <= forecasts["model"] + w)
            )
        test_rows.append(
            pd.DataFrame(
                {
                    "label": label,
                    "date": series.index[origin : origin + horizon],
                    "actual": actual,
                    "forecast": forecasts["model"],
                    "lower": _clip(forecasts["model"] - band, v),
                    "upper": forecasts["model"] + band,
                }
            )
        )
        point = _clip(f[0], v)
        forecast_rows.append(
            _rows(
                panel,
                label,
                series.future_index(horizon),
                point,
                _clip(point - band, v),
                point + band,
            )
        )
    for label in plan.fallback:
        frame, _ = fallback_forecast(panel[label], horizon, cfg.level, FALLBACK)
        forecast_rows.append(
            _rows(panel, label, frame["date"], frame["forecast"], frame["lower"], frame["upper"])
        )
    scores = pd.DataFrame(rows)
    histories = forecaster.histories_
    return PanelRun(
        plan,
        panel,
        forecaster,
        scores,
        m4_aggregate(scores),
        pd.concat(forecast_rows, ignore_index=True),
        pd.concat(test_rows, ignore_index=True),
        {level: float(np.mean(np.concatenate(inside[level]))) for level in levels},
        widths,
        {
            "train_seconds": sum(h.train_seconds for h in histories),
            "epochs_run": sum(h.epochs_run for h in histories),
            "total_seconds": time.perf_counter() - started,
        },
    )


def _clip(forecast: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Forecasts of a series that never goes below 0 stay at or above 0."""
    return np.maximum(forecast, 0.0) if np.min(values) >= 0 else np.asarray(forecast)


def _rows(panel: Panel, label: str, dates, forecast, lower, upper) -> pd.DataFrame:
    ids = panel.ids[panel.position(label)]
    frame = pd.DataFrame(
        {
            "date": list(dates),
            "forecast": np.asarray(forecast, float),
            "lower": np.asarray(lower, float),
            "upper": np.asarray(upper, float),
        }
    )
    for name, value in reversed(list(zip(panel.id_cols, ids, strict=True))):
        frame.insert(0, name, value)
    return frame


def m4_aggregate(scores: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Mean sMAPE and MASE per method over the series, and OWA against Naive2:
    (sMAPE / sMAPE of Naive2 + MASE / MASE of Naive2) / 2."""
    means = scores.groupby("method")[["smape", "mase"]].mean()
    base = means.loc["naive2"] if "naive2" in means.index else None
    out = {}
    for method, row in means.iterrows():
        owa = None
        if base is not None and base["smape"] and base["mase"]:
            owa = float((row["smape"] / base["smape"] + row["mase"] / base["mase"]) / 2)
        out[str(method)] = {"smape": float(row["smape"]), "mase": float(row["mase"]), "owa": owa}
    return out
