"""Many series, one global network: plan, train, score every series beside the baselines by the
M4 rules, calibrate intervals, forecast every series.

Each series is split at the same horizon: its last `horizon` points are its test part (one
forecast origin, as in M4), the `horizon` before them its validation part, the rest its
training part. Series too short for the window get a named statistical fallback; when every
series is, all of them get it and no network is trained (said in the plan's notes). The
baselines and the fallback run over `forecasting.panel_baselines` (in batches of series, as
Ray tasks when `RAY_ADDRESS` is set).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.baselines import BASELINE_NAMES
from forecasting.config import (
    AUTO,
    LONG_EPOCH_ENSEMBLE,
    PANEL_LOSS,
    SERIES_ENSEMBLE,
    ModelConfig,
    RunConfig,
)
from forecasting.evaluation import (
    INTERVAL_LEVELS,
    METRICS,
    conformal_widths,
    mase_scale,
    metrics,
)
from forecasting.frequency import default_horizon, describe_season, week_steps
from forecasting.panel import Panel
from forecasting.panel_baselines import baseline_forecasts
from forecasting.pipeline import auto_window
from forecasting.seasonality import detect_period
from forecasting.training import (
    LR_DECAY_FACTOR,
    LR_DECAYS,
    EpochEvent,
    History,
    plateau_decay,
)
from forecasting.windows import Split

FALLBACK = "theta"
M4_METHODS = ("model", "naive", "seasonal_naive", "naive2", "ets", "theta")


@dataclass(frozen=True)
class PanelPlan:
    """Every automatic choice for a panel, and why.

    Attributes:
        config: The configuration with window, horizon and scaling resolved; the forecast is
            the global network's alone (`combine` "none").
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


# An automatic ensemble of a global network is two networks, each twice as wide, when an epoch
# reads more window steps than this (training windows in an epoch x window length): each network
# then takes minutes (about 1.7 s an epoch of 8,192 windows of 168 steps on 2 cores, 35 to 95
# epochs) and five would multiply them. 1,000 generated hourly series (window 168,
# `benchmarks/panel.py` probes, seed 42 unless named): one network of 64 units OWA 0.431 in 60 s
# of training (seeds 1 and 2: 0.414, 0.420); two of 64 units 0.420 in 203 s (seed 1: 0.415 in
# 196 s); three 0.415. Earlier, on a slower VM: one of 32 units 0.430, of 128 units 0.420 in
# 2.3 times the time of 64. M4 weekly (window 26) keeps five.
LONG_EPOCH_STEPS = 1_000_000
MAX_UNITS = ModelConfig.__dataclass_fields__["units"].metadata["setting"].range[1]


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


def panel_window(panel: Panel, period: int, horizon: int) -> tuple[int, str]:
    """The automatic window of a panel and why: a week for hourly series long enough to give
    a week of training windows (the weekly cycle beside the daily one), else two seasonal
    cycles (`auto_window`), halved until the median series fits."""
    median = int(np.median(panel.lengths))
    week = week_steps(panel.freq)
    if week and median >= 2 * week + 3 * horizon:
        return week, (
            f"Window {week} steps: a week, so the network sees the weekly cycle beside the "
            f"daily one (the median series has {median} points)."
        )
    window = auto_window(period)
    while window > 4 and panel_split(median, window, horizon) is None:
        window //= 2
    return window, f"Window {window} steps (for the median series of {median} points)."


def panel_ensemble(model: ModelConfig, per_epoch: int) -> tuple[ModelConfig, list[str]]:
    """The automatic ensemble of a global network whose epochs read `per_epoch` windows, and
    why when it is not the usual one: `LONG_EPOCH_ENSEMBLE` networks of twice the units
    (`LONG_EPOCH_STEPS`)."""
    if per_epoch * model.window <= LONG_EPOCH_STEPS:
        return model.replace(ensemble=SERIES_ENSEMBLE), []
    units = min(2 * model.units, MAX_UNITS)
    return model.replace(ensemble=LONG_EPOCH_ENSEMBLE, units=units), [
        f"{LONG_EPOCH_ENSEMBLE} networks of {units} units each (twice the {model.units} set, "
        f"for the automatic ensemble only), not {SERIES_ENSEMBLE}: each epoch reads "
        f"{per_epoch:,} windows of {model.window} steps, so one network takes minutes and "
        f"{SERIES_ENSEMBLE} would take {SERIES_ENSEMBLE} times as long."
    ]


def plan_panel(panel: Panel, config: RunConfig) -> PanelPlan:
    """Resolve the horizon, window and scaling for all series; name the too-short ones (all
    of them when no series is long enough: `splits` is then empty and no network trains)."""
    from forecasting.global_forecaster import MAX_WINDOWS_PER_EPOCH

    period, season_text = panel_period(panel)
    notes = [f"{len(panel)} series, {panel.lengths.min()} to {panel.lengths.max()} points."]
    notes.append(f"Seasonal period: {season_text}.")
    horizon = config.horizon or default_horizon(period)
    window = config.model.window
    if window == AUTO:
        window, why = panel_window(panel, period, horizon)
        notes.append(why)
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
    if config.combine not in ("auto", "none"):
        notes.append(
            "Forecast: the global network alone. A mean with Theta and ETS is chosen for one "
            "series at a time (each series' validation part here holds a single forecast)."
        )
    train = config.train
    if train.loss == "auto":
        train = train.replace(loss=PANEL_LOSS)
        notes.append("Loss: the mean absolute error (the scale of sMAPE and MASE).")
    model = config.model.replace(window=window, scaling=scaling, strategy="direct")
    windows = sum(s.train_end - window - horizon + 1 for s in splits.values())
    per_epoch = min(windows, MAX_WINDOWS_PER_EPOCH)
    if model.ensemble == AUTO:
        model, why = panel_ensemble(model, per_epoch)
        notes.extend(why)
    resolved = config.replace(horizon=horizon, model=model, train=train, combine="none")
    if not splits:
        notes.append(all_short_note(len(fallback), window, horizon))
        return PanelPlan(resolved, period, {}, tuple(fallback), 0, 0, tuple(notes))
    notes.append(
        f"One global network on {len(splits)} series: {windows:,} training windows"
        + (
            f", {per_epoch:,} of them per epoch (one shuffled pass spread over epochs)."
            if per_epoch < windows
            else ", all of them every epoch."
        )
        + f" Each series: test = its last {horizon} points, validation = the {horizon} "
        "before; early stopping on the pooled validation loss"
        + (
            f", the learning rate times {LR_DECAY_FACTOR:g} after half the patience without "
            f"improvement (at most {LR_DECAYS} times)."
            if plateau_decay(train)
            else "."
        )
    )
    if fallback:
        shown = ", ".join(fallback[:5]) + (" ..." if len(fallback) > 5 else "")
        notes.append(
            f"{len(fallback)} series too short for the network get the "
            f"{BASELINE_NAMES[FALLBACK]} method's forecast instead: {shown}."
        )
    return PanelPlan(resolved, period, splits, tuple(fallback), windows, per_epoch, tuple(notes))


def all_short_note(count: int, window: int, horizon: int) -> str:
    """The plan's sentence when no series is long enough for a network."""
    return (
        f"Every series is too short for window {window} and horizon {horizon} (a network "
        f"needs at least {window + 3 * horizon} points): all {count} get the "
        f"{BASELINE_NAMES[FALLBACK]} method's forecast instead and no network is trained. "
        "Lower the window or the horizon to train one."
    )


@dataclass
class PanelRun:
    """Everything one many-series training produced.

    Attributes:
        plan: The resolved plan.
        panel: The series.
        forecaster: The fitted `GlobalForecaster`; a `NoNetwork` when every series is too
            short (then every series has the fallback's forecast and nothing is scored).
        scores: One row per series and method: label, method, mae, rmse, mape, smape, mase.
        aggregate: Method -> {"smape", "mase", "owa"} by the M4 rules (means over the
            series the network forecast; OWA against Naive2).
        forecast: One row per series and step: the id columns, date, forecast, lower, upper
            (the fallback's for too-short series).
        test_forecast: One row per trained series and test step: label, date, actual,
            forecast, lower, upper.
        coverage: Level -> share of test values inside the band, pooled over series.
        timings: train_seconds, epochs_run, baseline_seconds (the baselines and the
            fallback), total_seconds.
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
    """Train one global network on every long-enough series and score it by the M4 rules;
    the too-short series (every series, when none is long enough) get the fallback.

    Raises:
        TrainingError: The loss became NaN.
    """
    from forecasting.global_forecaster import GlobalForecaster

    started = time.perf_counter()
    plan = plan_panel(panel, config or RunConfig())
    if on_plan is not None:
        on_plan(plan)
    cfg, horizon, period = plan.config, plan.config.horizon, plan.period
    begun = time.perf_counter()
    fallback_rows = _fallback_rows(panel, plan)
    statistical = time.perf_counter() - begun
    if not plan.splits:
        return _fallback_only(panel, plan, fallback_rows, started)
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
    begun = time.perf_counter()
    baselines = baseline_forecasts(
        [v[: s.fit_end] for v, s in zip(values, splits, strict=True)],
        horizon,
        period,
        M4_METHODS[1:],
    )
    statistical += time.perf_counter() - begun
    rows, test_rows, forecast_rows, inside = [], [], [], {level: [] for level in levels}
    for label, series, split, t, f, scale, base in zip(
        labels, trained, splits, test, future, scales, baselines, strict=True
    ):
        v, origin = series.values, split.fit_end
        actual = v[origin : origin + horizon]
        history = v[:origin]
        forecasts = {"model": _clip(t[0], v), **base}
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
    forecast_rows.extend(fallback_rows)
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
            "baseline_seconds": statistical,
            "total_seconds": time.perf_counter() - started,
        },
    )


def _fallback_rows(panel: Panel, plan: PanelPlan) -> list[pd.DataFrame]:
    """The fallback's forecast rows of each too-short series (`panel_baselines`)."""
    from forecasting.panel_baselines import fallback_forecasts

    cfg = plan.config
    done = fallback_forecasts(
        [panel[label] for label in plan.fallback], cfg.horizon, cfg.level, plan.period, FALLBACK
    )
    return [
        _rows(panel, label, frame["date"], frame["forecast"], frame["lower"], frame["upper"])
        for label, (frame, _) in zip(plan.fallback, done, strict=True)
    ]


@dataclass
class NoNetwork:
    """Stands in for the global network when every series is too short: nothing was fit (an
    empty training history), nothing to save."""

    histories_: list[History] = field(default_factory=lambda: [History()])

    @property
    def history_(self) -> History:
        return self.histories_[0]


def _fallback_only(
    panel: Panel, plan: PanelPlan, rows: list[pd.DataFrame], started: float
) -> PanelRun:
    """The run when every series is too short: no network, nothing scored, every series'
    forecast by the fallback."""
    empty = pd.DataFrame(columns=["label", "date", "actual", "forecast", "lower", "upper"])
    return PanelRun(
        plan,
        panel,
        NoNetwork(),
        pd.DataFrame(columns=["label", "method", *METRICS]),
        {},
        pd.concat(rows, ignore_index=True),
        empty,
        {},
        {},
        {
            "train_seconds": 0.0,
            "epochs_run": 0,
            "baseline_seconds": time.perf_counter() - started,
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
