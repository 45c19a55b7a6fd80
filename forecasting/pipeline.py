"""One training run from a series and a configuration to metrics, intervals and a forecast.

This is the single path the dashboard, the job workers and the CLI all call.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.combination import (
    CombinationChoice,
    choose,
    combine_future,
    known_forecasts,
    mean_forecast,
    member_forecasts,
    members,
)
from forecasting.config import AUTO, RunConfig
from forecasting.covariates import Roles, check_roles, future_values
from forecasting.errors import ConfigError, DataError
from forecasting.evaluation import (
    CLIP_NOTE,
    INTERVAL_LEVELS,
    Evaluation,
    Intervals,
    coverage,
    evaluate,
    evaluation_origins,
    non_negative,
    reference_note,
    thin_reference,
)
from forecasting.fallback import fallback_note, fallback_values
from forecasting.features import CovariateData
from forecasting.forecaster import RNNForecaster
from forecasting.frequency import default_horizon, describe_season
from forecasting.guard import guard_forecasts
from forecasting.importance import permutation_importance
from forecasting.progress import TrainingEstimate
from forecasting.seasonality import detect_period
from forecasting.selection import ScalingChoice, fit_forecaster, plan_scaling
from forecasting.series import TimeSeries
from forecasting.training import EpochEvent
from forecasting.windows import Split, chronological_split

NO_SEASON_WINDOW = 16
# Seasons longer than this get a window of half a cycle instead of two (weekly data's year of
# 52 weeks: 26). Measured on 12 M4 weekly series (one network each): window 26 scored OWA
# 0.672 against 0.819 for 104, in three quarters of the time.
LONG_SEASON = 24


def auto_window(period: int) -> int:
    """The automatic window for a seasonal period: two cycles (24 for monthly data, 48 for
    hourly), half a cycle for a season longer than `LONG_SEASON` steps, `NO_SEASON_WINDOW`
    without a season."""
    if period <= 1:
        return NO_SEASON_WINDOW
    return 2 * period if period <= LONG_SEASON else period // 2


@dataclass(frozen=True)
class Plan:
    """A configuration with every automatic setting resolved, and why.

    Attributes:
        config: The run configuration with concrete window and horizon.
        period: Seasonal period used (from the frequency, or found in the data).
        split: Where training, validation and test parts start and end.
        notes: Plain sentences explaining the automatic season, horizon and window.
        scaling: The scaling used and why (known fully once trained).
        estimate: The longest the training may take.
        roles: The covariates the network reads, and how.
        combination: The forecast delivered (the network alone or its mean with Theta and
            ETS) and why; None until training chose it.
    """

    config: RunConfig
    period: int
    split: Split
    notes: tuple[str, ...] = ()
    scaling: ScalingChoice | None = None
    estimate: TrainingEstimate | None = None
    roles: Roles = Roles()
    combination: CombinationChoice | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        """What to know before training (a long one, and how to shorten it)."""
        text = self.estimate.warning(self.split.n) if self.estimate else ""
        return (text,) if text else ()

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every automatic choice in plain sentences (what the plan shows)."""
        return (
            self.notes
            + (self.scaling.sentences() if self.scaling else ())
            + (self.combination.sentences() if self.combination else ())
        )

    def with_scaling(self, choice: ScalingChoice) -> Plan:
        """The plan once training chose the scaling: `choice.chosen` in the config."""
        model = self.config.model.replace(scaling=choice.chosen)
        return dataclasses.replace(self, config=self.config.replace(model=model), scaling=choice)

    def with_note(self, note: str) -> Plan:
        """The plan with one more sentence for the user."""
        return dataclasses.replace(self, notes=(*self.notes, note))

    def with_combination(self, choice: CombinationChoice) -> Plan:
        """The plan once training chose the forecast: `choice.chosen` in the config."""
        return dataclasses.replace(
            self, config=self.config.replace(combine=choice.chosen), combination=choice
        )


def seasonal_period(series: TimeSeries, upto: int | None = None) -> tuple[int, str]:
    """The season of a series: from its frequency, else from the autocorrelation of
    `series.values[:upto]` (the part before the test period)."""
    period = series.season_length
    if period > 1:
        return period, f"season of {period} steps (a {describe_season(period)})"
    found = detect_period(series.values[:upto])
    if found > 1:
        return found, f"season of {found} steps, found in the autocorrelation"
    return 1, "no seasonal cycle found"


def plan_run(series: TimeSeries, config: RunConfig, roles: Roles | None = None) -> Plan:
    """Resolve automatic window and horizon for `series`, check that the series is long
    enough and that the covariates' roles hold (`covariates.check_roles`).

    Raises:
        DataError: When the series is too short, naming the minimum and the slider to move;
            a covariate that is unknown or leaks the target.
        ConfigError: Covariates with the recursive strategy, or with a combination named.
    """
    roles = roles or Roles()
    if roles.any and config.model.strategy != "direct":
        raise ConfigError(
            "Covariates need the direct strategy: the recursive one feeds its own forecast "
            "back and would need the covariates' values at steps it has not seen. Choose "
            "Direct (--strategy direct), or train without covariates."
        )
    if roles.any and members(config.combine):
        raise ConfigError(
            "Covariates and a combination do not go together: Theta and ETS read the target "
            "alone, and a mean with them would dilute what the covariates add. Choose "
            "--combine auto or none, or train without covariates."
        )
    period, season_text = seasonal_period(series, int(len(series) * (1 - config.test_size)))
    reasons = [f"Seasonal period: {season_text}."]
    horizon = config.horizon
    if horizon == AUTO:
        horizon = default_horizon(period)
        reasons.append(
            f"Horizon {horizon} = "
            + (
                f"one seasonal cycle of {period}"
                if period > 1 and horizon == period
                else "the usual horizon for this frequency"
            )
            + "."
        )
    target_len = horizon if config.model.strategy == "direct" else 1
    candidates = [config.model.window]
    if config.model.window == AUTO:
        preferred = auto_window(period)
        candidates = list(dict.fromkeys([preferred, period, 8, 4]))
        candidates = [w for w in candidates if 2 <= w <= preferred]
    split, error = None, None
    for window in candidates:
        try:
            split = chronological_split(
                len(series),
                window,
                horizon,
                config.test_size,
                config.train.validation_fraction,
                target_len,
            )
            break
        except DataError as exc:
            error = exc  # the last one names the smallest window tried
    if split is None:
        raise error
    if config.model.window == AUTO:
        if period > 1 and window == 2 * period:
            reasons.append(f"Window {window} = two seasonal cycles of {period}.")
        elif period > LONG_SEASON and window == preferred:
            reasons.append(
                f"Window {window} = half a seasonal cycle of {period} (for a season this "
                "long, a shorter look back forecast better and trains faster)."
            )
        elif period > 1 and window == period:
            reasons.append(
                f"Window {window} = one seasonal cycle (the series is too short for two)."
            )
        else:
            reasons.append(f"Window {window} steps.")
    check_roles(series, roles, upto=split.fit_end)
    reasons += roles.sentences()
    if roles.any:
        reasons.append(
            "A twin network without covariates is trained too, to show whether they help."
        )
    model = config.model.replace(window=window)
    scaling = plan_scaling(model.scaling, split, horizon, series.values)
    resolved = config.replace(horizon=horizon, model=model)
    estimate = TrainingEstimate(
        windows=split.train_end - window - target_len + 1,
        window=window,
        epochs=config.train.epochs,
        networks=(model.members + max(len(scaling.candidates) - 1, 0)) * (1 + roles.any),
        units=model.units,
        layers=model.layers,
    )
    return Plan(resolved, period, split, tuple(reasons), scaling, estimate, roles)


@dataclass
class TrainedRun:
    """Everything one training produced.

    Attributes:
        plan: The resolved configuration, period and split.
        series: The series trained on.
        forecaster: The fitted network(s). The forecast delivered ("model" below) is the
            network's, or its mean with Theta and ETS: `plan.combination` says which.
        evaluation: Model and baselines on the test part.
        intervals: Prediction intervals per level, calibrated on the validation part (on the
            delivered forecast's residuals there; with at most `FEW_VALIDATION_FORECASTS` forecasts
            there, seasonal naive's residuals over the fit part join them).
        test_coverage: Level -> share of test values inside the interval (honest check).
        forecast: Future forecast: columns date, forecast, lower, upper.
        one_step: Test part: columns date, actual, predicted (one step ahead) at every test
            point; for a combination only at the test origins (at most 40: Theta and ETS
            are fitted again at each origin).
        test_forecast: Full-horizon forecast from the first test origin: date, actual,
            forecast, lower, upper.
        timings: seconds_per_epoch, epochs_run, train_seconds, total_seconds.
        without_covariates: The twin network without covariates on the same test origins
            (metrics under "model"), when the run has covariates.
        importance: Covariate (or "calendar") -> test MASE increase when it is shuffled.
    """

    plan: Plan
    series: TimeSeries
    forecaster: RNNForecaster
    evaluation: Evaluation
    intervals: Intervals
    test_coverage: dict[float, float]
    forecast: pd.DataFrame
    one_step: pd.DataFrame
    test_forecast: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    without_covariates: Evaluation | None = None
    importance: dict[str, float] = field(default_factory=dict)

    @property
    def config(self) -> RunConfig:
        return self.plan.config

    @property
    def widths(self) -> np.ndarray:
        """Half-widths at the configured level (log-ratios when intervals are relative)."""
        return self.intervals.widths[self.config.level]

    def metrics_dict(self) -> dict:
        """The figures a user or a script wants, JSON-ready."""
        history = self.forecaster.history_
        return {
            **self.timings,
            "stopped_by": history.stopped_by,
            "best_epoch": history.best_epoch,
            "window": self.config.model.window,
            "horizon": self.config.horizon,
            "period": self.plan.period,
            "test_points": self.plan.split.n_test,
            "test_origins": len(self.evaluation.origins),
            "interval_level": self.config.level,
            "interval_coverage_test": self.test_coverage[self.config.level],
            "interval_coverage_by_level": {str(k): v for k, v in self.test_coverage.items()},
            "skill_vs_seasonal_naive": self.evaluation.skill(),
            "test": self.evaluation.metrics,
        }


def fallback_forecast(
    series: TimeSeries, horizon: int = AUTO, level: float = 0.9, method: str = "theta"
) -> tuple[pd.DataFrame, str]:
    """A baseline's forecast for a series too short for a network, with conformal intervals
    from its own rolling forecasts inside the data.

    Returns:
        The forecast frame (date, forecast, lower, upper) and a sentence saying what was done.
    """
    period, _ = seasonal_period(series)
    horizon = horizon or default_horizon(period)
    forecast, intervals, rough = fallback_values(series.values, horizon, level, period, method)
    note = fallback_note(len(series), method, rough, intervals.clips(forecast, level))
    return forecast_frame(series.future_index(horizon), forecast, intervals, level), note


def forecast_frame(
    index: pd.Index, forecast: np.ndarray, intervals: Intervals, level: float
) -> pd.DataFrame:
    """Columns date, forecast, lower, upper (the interval at `level`); clipped at 0 for a
    series without negative values (`Intervals.clip`)."""
    forecast = intervals.clip(forecast)
    lower, upper = intervals.bounds(forecast, level)
    return pd.DataFrame({"date": index, "forecast": forecast, "lower": lower, "upper": upper})


def train(
    series: TimeSeries,
    config: RunConfig | None = None,
    *,
    roles: Roles | None = None,
    future: pd.DataFrame | None = None,
    forecast_beyond: bool = True,
    on_epoch: Callable[[EpochEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    baselines=None,
    compare_without_covariates: bool = True,
) -> TrainedRun:
    """Train, choose the forecast delivered (the network, or its mean with Theta and ETS:
    `forecasting.combination`), evaluate it on the test part beside the baselines, calibrate
    intervals on the validation part and forecast beyond the data.

    With covariates (`roles`), a twin network without them is trained on the same split and
    scored on the same test origins, and each covariate's permutation importance is measured.

    Args:
        series: The validated series.
        config: Run settings; the project's defaults when None.
        roles: The covariates the network reads (none by default).
        future: The future covariates' values after the end (a future file's table).
        forecast_beyond: False skips the forecast after the data (a backtest fold's run):
            `forecast` is then empty and no future values are needed.
        on_epoch: Receives an `EpochEvent` after every epoch.
        should_stop: Polled after every batch; True cancels and keeps the best weights.
        on_plan: Receives the plan before training starts (to show its `warnings`).
        baselines: Name -> baseline method for the evaluation; all baselines when None.
        compare_without_covariates: False skips the twin network and the importances (a
            tuning trial's fold: only the model's score is read).

    Raises:
        DataError: The series is too short for the settings.
        TrainingError: The loss became NaN.
    """
    started = time.perf_counter()
    plan = plan_run(series, config or RunConfig(), roles)
    ahead = (
        future_values(series, plan.roles, future, plan.config.horizon) if forecast_beyond else None
    )
    covariates = CovariateData.of(series, plan.roles, ahead) if plan.roles.any else None
    if on_plan is not None:
        on_plan(plan)
    values = series.values
    selection = fit_forecaster(
        plan.config.model,
        plan.config.train,
        plan.config.horizon,
        plan.period,
        values,
        plan.split,
        covariates=covariates,
        on_epoch=on_epoch,
        should_stop=should_stop,
    )
    forecaster, plan = selection.forecaster, plan.with_scaling(selection.choice)
    split, horizon = plan.split, plan.config.horizon
    features = forecaster.features(covariates)

    def network(origins) -> np.ndarray:
        return forecaster.predict(values, origins, features=features)

    choice, checked = choose(
        plan.config.combine, values, split, horizon, plan.period, network, plan.roles.any
    )
    plan = plan.with_combination(choice)
    cfg, combine = plan.config, choice.chosen
    combined = bool(members(combine))
    if combined:  # the chosen mean's residuals on the forecasts it was chosen on
        val_actual, val_predicted = checked.actual, checked.forecasts[combine]
    else:
        val_origins = split.origins("val", horizon)
        val_actual = values[val_origins[:, None] + np.arange(horizon)]
        val_predicted = network(val_origins)
    more_actual, more_predicted = thin_reference(
        len(val_actual), values[: split.fit_end], horizon, plan.period
    )
    if len(more_actual):
        plan = plan.with_note(
            reference_note(
                len(val_actual),
                len(more_actual),
                "validation part",
                "the data before the test part",
            )
        )
        val_actual = np.vstack([val_actual, more_actual])
        val_predicted = np.vstack([val_predicted, more_predicted])
    intervals = Intervals.calibrate(
        val_actual,
        val_predicted,
        (*INTERVAL_LEVELS, cfg.level),
        relative=bool(np.all(values[: split.fit_end] > 0)),
        non_negative=non_negative(values),
    )

    test_origins = evaluation_origins(split.origins("test", horizon))
    # the simple methods' forecasts from the test origins, made once: the mean's and the
    # evaluation's (the same numbers the evaluation would compute)
    names = members(combine)
    found = member_forecasts(values, test_origins, horizon, plan.period, names)
    network_test = network(test_origins)
    network_future = network([len(values)])[0] if forecast_beyond else None
    # The guard checks the network's own forecasts (the part that can fail silently); one it
    # replaces is delivered as its replacement, the others averaged as chosen.
    guarded = guard_forecasts(
        values, split, horizon, plan.period, test_origins, network_test, network_future, baselines
    )
    kept = np.all(guarded.test == network_test, axis=1, keepdims=True)
    raw_test = np.where(kept, mean_forecast(guarded.test, found, names), guarded.test)
    raw_future = guarded.future
    if forecast_beyond and np.array_equal(raw_future, network_future):
        raw_future = combine_future(combine, raw_future, values, horizon, plan.period)
    if guarded.note:
        plan = plan.with_note(guarded.note)
    evaluation = evaluate(
        intervals.clip(raw_test),
        values,
        test_origins,
        horizon,
        plan.period,
        split.fit_end,
        known_forecasts(found, test_origins, baselines),
    )
    model_test = evaluation.forecasts["model"]
    test_coverage = {
        level: coverage(evaluation.actual, *intervals.bounds(model_test, level))
        for level in intervals.widths
    }

    # origins whose horizon the known-ahead features reach (all of them unless a backtest
    # fold's run has no values beyond its data)
    reach = len(features.known) - horizon + 1 if forecaster.n_known else len(series)
    if combined:  # the first step from each test origin (Theta and ETS refit per origin)
        one_step_origins, one_step_predicted = test_origins, model_test[:, 0]
    else:
        one_step_origins = np.arange(split.fit_end, min(len(series), reach))
        one_step_predicted = intervals.clip(network(one_step_origins)[:, 0])
    one_step = pd.DataFrame(
        {
            "date": series.index[one_step_origins],
            "actual": values[one_step_origins],
            "predicted": one_step_predicted,
        }
    )
    first = split.fit_end
    test_forecast = forecast_frame(
        series.index[first : first + horizon], model_test[0], intervals, cfg.level
    )
    test_forecast.insert(1, "actual", evaluation.actual[0])
    if forecast_beyond:
        future = forecast_frame(series.future_index(horizon), raw_future, intervals, cfg.level)
    else:
        future = pd.DataFrame(columns=["date", "forecast", "lower", "upper"])
    if intervals.clips(raw_test[0], cfg.level) or (
        forecast_beyond and intervals.clips(raw_future, cfg.level)
    ):
        plan = plan.with_note(CLIP_NOTE)

    histories = list(selection.histories)
    without, importance = None, {}
    if covariates is not None and compare_without_covariates:
        twin = fit_forecaster(
            plan.config.model.replace(scaling=(config or RunConfig()).model.scaling),
            cfg.train,
            horizon,
            plan.period,
            values,
            split,
            on_epoch=on_epoch,
            should_stop=should_stop,
        )
        histories += twin.histories
        without = evaluate(
            intervals.clip(twin.forecaster.predict(values, test_origins)),
            values,
            test_origins,
            horizon,
            plan.period,
            split.fit_end,
            {},
        )
        importance = permutation_importance(
            forecaster, values, test_origins, features, plan.period, split.fit_end
        )
    train_seconds = sum(h.train_seconds for h in histories)
    epochs_run = sum(h.epochs_run for h in histories)
    timings = {
        "train_seconds": train_seconds,
        "epochs_run": epochs_run,
        "seconds_per_epoch": train_seconds / epochs_run if epochs_run else 0.0,
        "total_seconds": time.perf_counter() - started,
    }
    return TrainedRun(
        plan,
        series,
        forecaster,
        evaluation,
        intervals,
        test_coverage,
        future,
        one_step,
        test_forecast,
        timings,
        without,
        importance,
    )
