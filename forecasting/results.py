"""A finished run as typed records: what the dashboard pages plot and the runs table lists.

The worker builds a `RunResult` with `run_result` and writes `result.to_dict()`; the pages read
it back once with `RunResult.from_dict` and then use attributes. A renamed or missing field
raises `ConfigError` in `from_dict`, never a `KeyError` in a page. A backtest job hands back
a `BacktestResult`, a many-series training a `PanelResult`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecasting.config import CELL_NAMES, RunConfig
from forecasting.covariates import Roles
from forecasting.records import (
    FrameRecord,
    JsonRecord,
    format_timestamps,
    json_number,
    parse_timestamps,
)
from forecasting.series import TimeSeries

if TYPE_CHECKING:
    from forecasting.panel_pipeline import PanelRun
    from forecasting.pipeline import TrainedRun

HISTORY_POINTS = 600
COVERAGE_TOLERANCE = 0.05  # a band within 5 points of its nominal level is "as promised"


# ---------------------------------------------------------------------- frames
@dataclass(frozen=True)
class RecentFrame(FrameRecord):
    """The end of the history: what a forecast chart draws before the forecast."""

    date: list
    actual: list[float]


@dataclass(frozen=True)
class ForecastFrame(FrameRecord):
    """A forecast with its prediction band."""

    date: list
    forecast: list[float]
    lower: list[float]
    upper: list[float]


@dataclass(frozen=True)
class OneStepFrame(FrameRecord):
    """One-step-ahead predictions over the test part."""

    date: list
    actual: list[float]
    predicted: list[float]


@dataclass(frozen=True)
class TestForecastFrame(FrameRecord):
    """The full-horizon forecast from the first test origin, beside the actual values."""

    date: list
    actual: list[float]
    forecast: list[float]
    lower: list[float]
    upper: list[float]


def recent_frame(series: TimeSeries, points: int = HISTORY_POINTS) -> pd.DataFrame:
    """The last `points` values of a series: columns date, actual."""
    tail = max(0, len(series) - points)
    return pd.DataFrame({"date": series.index[tail:], "actual": series.values[tail:]})


# ---------------------------------------------------------------------- metrics
@dataclass(frozen=True, kw_only=True)
class Scores(JsonRecord):
    """The metrics of one method (`evaluation.METRICS`); None where undefined."""

    mae: float | None = None
    rmse: float | None = None
    mape: float | None = None
    smape: float | None = None
    mase: float | None = None


@dataclass(frozen=True)
class RunMetrics(JsonRecord):
    """The figures of a run (`TrainedRun.metrics_dict`): timings, the resolved settings, the
    test part, band coverage and the test scores per method ("model", "naive", ...)."""

    train_seconds: float
    epochs_run: int
    seconds_per_epoch: float
    total_seconds: float
    stopped_by: str
    best_epoch: int
    window: int
    horizon: int
    period: int
    test_points: int
    test_origins: int
    interval_level: float
    interval_coverage_test: float
    interval_coverage_by_level: dict[str, float]
    skill_vs_seasonal_naive: float | None
    test: dict[str, Scores]

    @property
    def model(self) -> Scores:
        """The network's test scores."""
        return self.test.get("model", Scores())

    def baseline(self, name: str = "seasonal_naive") -> Scores:
        """A baseline's test scores (all None when it was not run)."""
        return self.test.get(name, Scores())

    @property
    def coverage_by_level(self) -> list[tuple[float, float]]:
        """(nominal level, test coverage) pairs, lowest level first."""
        return sorted(
            (float(level), share) for level, share in self.interval_coverage_by_level.items()
        )

    def band_verdict(self) -> str | None:
        """ "honest" when the test coverage is within `COVERAGE_TOLERANCE` of the nominal
        level, "narrow" below it, "wide" above it; None when it could not be measured."""
        covered, level = self.interval_coverage_test, self.interval_level
        if covered is None or not math.isfinite(covered):
            return None
        if abs(covered - level) <= COVERAGE_TOLERANCE:
            return "honest"
        return "narrow" if covered < level else "wide"

    def band_sentence(self) -> str | None:
        """The band's test coverage judged against its level, in one Markdown sentence."""
        verdict = self.band_verdict()
        if verdict is None:
            return None
        judgement = {
            "honest": "about as promised.",
            "narrow": "narrower than it should be: treat the band as optimistic.",
            "wide": "wider than needed: the band is cautious.",
        }[verdict]
        return (
            f"The {self.interval_level:.0%} prediction band held "
            f"**{self.interval_coverage_test:.0%}** of the test values — {judgement}"
        )


# ---------------------------------------------------------------------- the run
@dataclass(frozen=True)
class BaselineForecast(JsonRecord):
    """The future forecast of a baseline that beat the network on the test part.

    Attributes:
        name: The baseline ("ets", "theta", ...).
        mase: Its MASE on the test part.
        model_mase: The network's MASE on the same test part.
        forecast: Its forecast from the end of the series, with a band calibrated on its own
            test-part errors.
    """

    name: str
    mase: float | None
    model_mase: float | None
    forecast: ForecastFrame


@dataclass(frozen=True)
class SeriesInfo(JsonRecord):
    """The series a run was trained on."""

    name: str
    freq: str | None
    length: int


@dataclass(frozen=True)
class TrainingHistory(JsonRecord):
    """A fit's losses and timings (`training.History.to_dict`)."""

    loss: list[float]
    val_loss: list[float | None]
    best_epoch: int
    stopped_by: str
    train_seconds: float
    epoch_seconds: list[float]
    epochs_run: int
    seconds_per_epoch: float
    steady_seconds_per_epoch: float
    learning_rates: list[list[float]] = field(default_factory=list)  # older results lack it


@dataclass(frozen=True)
class Band(JsonRecord):
    """A prediction band at one level: around the future forecast and around the test
    forecast, and the share of test values it held."""

    level: float
    coverage_test: float
    lower: list[float]
    upper: list[float]
    test_lower: list[float]
    test_upper: list[float]


@dataclass(frozen=True)
class RunResult(JsonRecord):
    """Everything the Evaluate, Forecast and Runs pages need from a finished training.

    Attributes:
        label: Given at submission.
        series: Name, frequency and length of the series.
        config: The resolved run configuration.
        data_options: How the data was read (the options that differ from the defaults).
        reasons: The plan's sentences about the automatic choices.
        metrics: Timings, settings and test scores.
        history: The kept network's fit; `histories` has every network of the ensemble.
        recent: The end of the history.
        forecast: The future forecast with its band.
        one_step: One-step-ahead predictions over the test part.
        test_forecast: The forecast from the first test origin.
        test_start: The first test date (or step).
        baselines_test: Baseline -> its forecast from the first test origin.
        by_lead: Method -> mean absolute error per lead time: "model", each baseline, and
            "without_covariates" (the twin network) when the run has covariates.
        horizon: Steps per forecast.
        intervals: Level in percent ("80", "95", ...) -> the band at that level.
        winner_forecast: The best baseline's future forecast when it beat the network on the
            test part; None when the network won (and in results written before it existed).
        roles: The covariates the network read (none in results written before them).
        without_covariates: The test scores of the twin network trained without the
            covariates on the same split; None without covariates.
        importance: Covariate (or "calendar") -> test MASE increase when it is shuffled,
            largest first; empty without covariates.
    """

    label: str
    series: SeriesInfo
    config: RunConfig
    data_options: dict | None
    reasons: list[str]
    metrics: RunMetrics
    history: TrainingHistory
    histories: list[TrainingHistory]
    recent: RecentFrame
    forecast: ForecastFrame
    one_step: OneStepFrame
    test_forecast: TestForecastFrame
    test_start: str | int
    baselines_test: dict[str, list[float]]
    by_lead: dict[str, list[float]]
    horizon: int
    intervals: dict[str, Band]
    winner_forecast: BaselineForecast | None = None
    roles: Roles = Roles()
    without_covariates: Scores | None = None
    importance: dict[str, float] = field(default_factory=dict)

    def short_name(self, job_id: str | None = None) -> str:
        """Short name of a run: "GRU 32×1, window 24 · 14:03:12" (the time from the id)."""
        model = self.config.model
        text = (
            f"{CELL_NAMES.get(model.cell, model.cell)} {model.units}×{model.layers}, "
            f"window {model.window}"
        )
        if job_id:
            stamp = job_id.split("-")[1] if job_id.count("-") >= 2 else ""
            if len(stamp) == 6:
                text += f" · {stamp[:2]}:{stamp[2:4]}:{stamp[4:]}"
        return text

    def test_part(self) -> tuple:
        """What makes two runs' test scores comparable: series, horizon and test origins."""
        return (
            self.series.name,
            self.series.length,
            self.horizon,
            self.metrics.test_points,
            self.metrics.test_origins,
        )


def run_result(run: TrainedRun, data_options: dict | None = None, label: str = "") -> RunResult:
    """The record of a finished training (the worker writes its `to_dict()`)."""
    series, evaluation = run.series, run.evaluation
    first = run.plan.split.fit_end
    return RunResult(
        label=label,
        series=SeriesInfo(series.name, series.freq, len(series)),
        config=run.config,
        data_options=data_options,
        reasons=list(run.plan.reasons),
        metrics=RunMetrics.from_dict(run.metrics_dict()),
        history=TrainingHistory.from_dict(run.forecaster.history_.to_dict()),
        histories=[TrainingHistory.from_dict(h.to_dict()) for h in run.forecaster.histories_],
        recent=RecentFrame.from_frame(recent_frame(series)),
        forecast=ForecastFrame.from_frame(run.forecast),
        one_step=OneStepFrame.from_frame(run.one_step),
        test_forecast=TestForecastFrame.from_frame(run.test_forecast),
        test_start=format_timestamps(series.index[first : first + 1])[0],
        baselines_test={
            name: forecasts[0].tolist()
            for name, forecasts in evaluation.forecasts.items()
            if name != "model"
        },
        by_lead=_by_lead(run),
        horizon=run.config.horizon,
        intervals=_bands(run),
        winner_forecast=_winner_forecast(run),
        roles=run.plan.roles,
        without_covariates=(
            None
            if run.without_covariates is None
            else Scores.from_dict(run.without_covariates.metrics["model"])
        ),
        importance={name: float(value) for name, value in run.importance.items()},
    )


def _by_lead(run: TrainedRun) -> dict[str, list[float]]:
    """Mean absolute error per lead: the network always, each baseline whose forecasts are
    finite, and the twin without covariates when there is one."""
    evaluation = run.evaluation
    found = {"model": evaluation.by_lead("model")}
    for name, forecasts in evaluation.forecasts.items():
        if name != "model" and np.all(np.isfinite(forecasts)):
            found[name] = evaluation.by_lead(name)
    if run.without_covariates is not None:
        found["without_covariates"] = run.without_covariates.by_lead("model")
    return found


def _winner_forecast(run: TrainedRun) -> BaselineForecast | None:
    """The best baseline's future forecast when it beat the network on the test part."""
    from forecasting.verdict import MODEL, baseline_future, verdict

    judged = verdict({name: scores.get("mase") for name, scores in run.evaluation.metrics.items()})
    if judged.winner in ("", MODEL):
        return None
    frame = baseline_future(run, judged.winner)
    if frame is None:
        return None
    return BaselineForecast(
        judged.winner, judged.best_mase, judged.model, ForecastFrame.from_frame(frame)
    )


def _bands(run: TrainedRun) -> dict[str, Band]:
    """Per level ("80", "95", ...): future and test bands and the test coverage."""
    future = run.forecast["forecast"].to_numpy()
    test = run.test_forecast["forecast"].to_numpy()
    bands = {}
    for level in run.intervals.widths:
        lower, upper = run.intervals.bounds(future, level)
        test_lower, test_upper = run.intervals.bounds(test, level)
        bands[f"{level * 100:g}"] = Band(
            level,
            run.test_coverage[level],
            lower.tolist(),
            upper.tolist(),
            test_lower.tolist(),
            test_upper.tolist(),
        )
    return bands


# ---------------------------------------------------------------------- backtests
@dataclass(frozen=True, kw_only=True)
class FoldScores(Scores):
    """One method's scores in one fold of a backtest."""

    fold: int
    origin: str | int
    method: str


@dataclass(frozen=True)
class BacktestSummary(JsonRecord):
    """A backtest as JSON (`Backtest.to_record`).

    Attributes:
        horizon: Steps per forecast.
        folds: One entry per fold and method.
        by_lead: Method -> mean absolute error per lead time over the folds.
        summary: Method -> mean scores over the folds.
        coverage: Level ("0.95") -> share of all folds' actual values inside the network's
            band at that level; empty in records written before it existed.
        without_covariates: With covariates, the twin network without them: "model" -> its
            mean scores over the folds; None without covariates.
        without_covariates_by_lead: With covariates, "model" -> the twin's mean absolute
            error per lead time over the folds; None without covariates.
    """

    horizon: int
    folds: list[FoldScores]
    by_lead: dict[str, list[float]]
    summary: dict[str, Scores]
    coverage: dict[str, float] = field(default_factory=dict)
    without_covariates: dict[str, Scores] | None = None
    without_covariates_by_lead: dict[str, list[float]] | None = None

    def folds_frame(self) -> pd.DataFrame:
        """One row per fold and method: fold, origin, method and every metric (NaN where
        undefined)."""
        from forecasting.evaluation import METRICS

        rows = [
            {
                "fold": f.fold,
                "origin": f.origin,
                "method": f.method,
                **{m: getattr(f, m) for m in METRICS},
            }
            for f in self.folds
        ]
        return pd.DataFrame(rows).astype({m: float for m in METRICS})


@dataclass(frozen=True)
class BacktestResult(JsonRecord):
    """What a backtest job hands back: its label and the backtest."""

    label: str
    backtest: BacktestSummary


# ---------------------------------------------------------------------- many series
@dataclass(frozen=True)
class PanelResult(JsonRecord):
    """Everything the pages need from a finished many-series training (`PanelRun`).

    Attributes:
        label: Given at submission.
        config: The resolved run configuration (window, horizon, scaling).
        reasons: The plan's sentences.
        id_cols: The id column names.
        labels: The series the network forecast (ids joined by " / ").
        fallback: The series too short for the network (`panel_pipeline.FALLBACK` forecast).
        aggregate: Method -> {"smape", "mase", "owa"} by the M4 rules (owa None without
            Naive2).
        scores: One row per series and method: label, method, mae, rmse, mape, smape, mase
            (None where undefined).
        forecast: Columns of the long forecast: the id columns, date, forecast, lower, upper.
        test_forecast: Columns label, date, actual, forecast, lower, upper (test part).
        coverage: Level ("0.8") -> share of test values inside the band, pooled over series.
        history: The first network's fit (the loss chart).
        timings: train_seconds, epochs_run, total_seconds.
        data_options: How the data file was read, or None.
    """

    label: str
    config: RunConfig
    reasons: list[str]
    id_cols: list[str]
    labels: list[str]
    fallback: list[str]
    aggregate: dict[str, dict[str, float | None]]
    scores: list[dict]
    forecast: dict[str, list]
    test_forecast: dict[str, list]
    coverage: dict[str, float]
    history: TrainingHistory
    timings: dict[str, float]
    data_options: dict | None = None

    @classmethod
    def from_run(
        cls, run: PanelRun, data_options: dict | None = None, label: str = ""
    ) -> PanelResult:
        """The record of a finished many-series training (the worker writes its `to_dict()`)."""
        return cls(
            label=label,
            config=run.plan.config,
            reasons=list(run.plan.notes),
            id_cols=list(run.panel.id_cols),
            labels=list(run.plan.splits),
            fallback=list(run.plan.fallback),
            aggregate={
                str(method): {key: json_number(value) for key, value in row.items()}
                for method, row in run.aggregate.items()
            },
            scores=[
                {
                    key: json_number(value) if key not in ("label", "method") else str(value)
                    for key, value in row.items()
                }
                for row in run.scores.to_dict("records")
            ],
            forecast=_columns(run.forecast),
            test_forecast=_columns(run.test_forecast),
            coverage={str(float(level)): float(share) for level, share in run.coverage.items()},
            history=TrainingHistory.from_dict(run.forecaster.history_.to_dict()),
            timings={str(key): float(value) for key, value in run.timings.items()},
            data_options=data_options,
        )

    @property
    def all_labels(self) -> list[str]:
        """Every series: those the network forecast, then the fallback ones."""
        return [*self.labels, *self.fallback]

    def scores_frame(self) -> pd.DataFrame:
        """One row per series and method: label, method and the metrics (NaN where
        undefined)."""
        from forecasting.evaluation import METRICS

        frame = pd.DataFrame(self.scores, columns=["label", "method", *METRICS])
        return frame.astype({m: float for m in METRICS})

    def forecast_frame(self) -> pd.DataFrame:
        """The long forecast: the id columns, date, forecast, lower, upper."""
        return _frame(self.forecast, [*self.id_cols, "date", "forecast", "lower", "upper"])

    def test_frame(self) -> pd.DataFrame:
        """The test part: label, date, actual, forecast, lower, upper."""
        return _frame(self.test_forecast, ["label", "date", "actual", "forecast", "lower", "upper"])


def _columns(frame: pd.DataFrame) -> dict[str, list]:
    """A table as JSON columns: "date" by `format_timestamps`, numbers as floats (None where
    not finite), anything else as text."""
    out = {}
    for name, column in frame.items():
        if name == "date":
            out[str(name)] = format_timestamps(pd.Index(column))
        elif pd.api.types.is_numeric_dtype(column.dtype):
            out[str(name)] = [json_number(v) for v in column.tolist()]
        else:
            out[str(name)] = [str(v) for v in column.tolist()]
    return out


def _frame(columns: dict[str, list], order: list[str]) -> pd.DataFrame:
    """The table back from `_columns`, its columns in `order` (text before "date", numbers
    after it)."""
    data, text = {}, order[: order.index("date")]
    for name in order:
        values = columns.get(name, [])
        if name == "date":
            data[name] = parse_timestamps(values, "date")
        elif name in text:
            data[name] = pd.Series(values, dtype=object)
        else:
            data[name] = np.array([np.nan if v is None else v for v in values], dtype=float)
    return pd.DataFrame(data)
