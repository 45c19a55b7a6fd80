"""Rolling-origin backtest: K folds on an expanding window, each forecasting H steps.

Fold k trains a fresh network on the data before its origin only (its own training and
validation parts come from that data) and forecasts the next H points, beside the baselines
from the same origin. No fold sees data after its origin. With covariates (`roles`), each fold
also trains the twin network without them (`pipeline.train`), so the backtest says whether the
covariates help.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.config import RunConfig
from forecasting.covariates import Roles
from forecasting.errors import ConfigError, SeriesTooShortError, TrainingError
from forecasting.evaluation import METRICS
from forecasting.pipeline import plan_run, train
from forecasting.records import format_timestamps
from forecasting.results import BacktestSummary, FoldScores, Scores
from forecasting.scoring import pooled_coverage
from forecasting.series import TimeSeries
from forecasting.training import EpochEvent


@dataclass
class Backtest:
    """Per-fold metrics and errors by lead time.

    Attributes:
        folds: One row per fold and method: fold, origin, method, and every metric.
        by_lead: Mean absolute error per lead time (columns) for each method (rows).
        horizon: Steps per forecast.
        forecasts: One row per fold, method and lead: the forecast and the actual value.
        coverage: Level (0.8, 0.95, the run's level) -> share of the actual values of all
            folds inside the network's band at that level (each fold's band calibrated by
            its own run).
        roles: The covariates the network read.
        twin_folds: With covariates, the twin network without them: one row per fold like
            `folds` (method "model"); None without covariates.
        twin_by_lead: With covariates, the twin's mean absolute error per lead time (one row
            "model", columns as `by_lead`); None without covariates.
    """

    folds: pd.DataFrame
    by_lead: pd.DataFrame
    horizon: int
    forecasts: pd.DataFrame
    coverage: dict[float, float] = field(default_factory=dict)
    roles: Roles = Roles()
    twin_folds: pd.DataFrame | None = None
    twin_by_lead: pd.DataFrame | None = None

    def summary(self) -> pd.DataFrame:
        """Mean of each metric per method over the folds, best MASE first."""
        return _summary(self.folds)

    @property
    def without_covariates(self) -> pd.DataFrame | None:
        """The twin network without covariates, like `summary()`: one row "model" with the
        mean of each metric over the folds; None when the backtest had no covariates."""
        return None if self.twin_folds is None else _summary(self.twin_folds)

    def to_record(self) -> BacktestSummary:
        """The backtest as a JSON record (NaN metrics become None)."""

        def scores(values: dict) -> dict:
            return {m: None if pd.isna(values[m]) else float(values[m]) for m in METRICS}

        return BacktestSummary(
            horizon=self.horizon,
            folds=[
                FoldScores(
                    fold=int(row["fold"]), origin=row["origin"], method=row["method"], **scores(row)
                )
                for row in self.folds.to_dict(orient="records")
            ],
            by_lead={method: [float(v) for v in row] for method, row in self.by_lead.iterrows()},
            summary={
                method: Scores(**scores(values))
                for method, values in self.summary().to_dict(orient="index").items()
            },
            coverage={str(level): share for level, share in self.coverage.items()},
            **self._twin_record(scores),
        )

    def _twin_record(self, scores: Callable[[dict], dict]) -> dict:
        """The twin's fields of the record (none without covariates)."""
        twin = self.without_covariates
        if twin is None:
            return {}
        return {
            "without_covariates": {
                method: Scores(**scores(values))
                for method, values in twin.to_dict(orient="index").items()
            },
            "without_covariates_by_lead": {
                method: [float(v) for v in row] for method, row in self.twin_by_lead.iterrows()
            },
        }

    def to_dict(self) -> dict:
        return self.to_record().to_dict()


def _summary(folds: pd.DataFrame) -> pd.DataFrame:
    table = folds.drop(columns=["fold", "origin"]).groupby("method").mean()
    return table.sort_values("mase", na_position="last")


def fold_origins(n: int, horizon: int, folds: int) -> list[int]:
    """Origins of the K folds: the last fold's horizon ends at the last point, each earlier
    fold starts one horizon before the next."""
    return [n - (folds - k) * horizon for k in range(folds)]


def backtest(
    series: TimeSeries,
    config: RunConfig,
    folds: int,
    *,
    roles: Roles | None = None,
    on_fold: Callable[[int, int], None] | None = None,
    on_epoch: Callable[[EpochEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Backtest:
    """Run a rolling-origin backtest.

    Args:
        series: The whole series.
        config: Run settings; `horizon` 0 derives it from the season.
        folds: Number of folds (K >= 1).
        roles: The covariates the network reads (none by default). With covariates each
            fold also trains the twin network without them (`Backtest.without_covariates`);
            the future covariates' values over each fold's horizon come from the data.
        on_fold: Called with (fold, folds) before each fold trains.
        on_epoch: Receives each fold's epoch events.
        should_stop: Polled during training; True cancels the backtest.

    Raises:
        ConfigError: For fewer than one fold; covariates with the recursive strategy.
        DataError: A covariate that is unknown or leaks the target (before any fold trains).
        TrainingError: When cancelled.
        SeriesTooShortError: When the first fold leaves too little data to train on.
    """
    if folds < 1:
        raise ConfigError(f"`folds` must be at least 1. Received: folds={folds}")
    roles = roles or Roles()
    horizon = config.horizon
    if not horizon or roles != Roles():
        # Resolves the horizon and checks the roles once, before any fold trains.
        horizon = plan_run(series, config, roles).config.horizon
    rows, errors, forecasts, bands = [], {}, [], {}
    twin_rows, twin_errors = [], []
    for k, origin in enumerate(fold_origins(len(series), horizon, folds), start=1):
        if should_stop is not None and should_stop():
            raise TrainingError("The backtest was cancelled.")
        if on_fold is not None:
            on_fold(k, folds)
        visible = series.head(origin + horizon)  # the fold's data and its future
        fold_config = config.replace(horizon=horizon, test_size=horizon / len(visible))
        try:
            run = train(
                visible,
                fold_config,
                roles=roles,
                forecast_beyond=False,
                on_epoch=on_epoch,
                should_stop=should_stop,
            )
        except SeriesTooShortError as exc:
            raise SeriesTooShortError(
                f"Fold {k} of {folds} has only {origin} points before "
                f"its origin. {exc} Or use fewer folds."
            ) from None
        evaluation = run.evaluation
        model = evaluation.forecasts["model"][0]
        for level in run.intervals.widths:
            bands.setdefault(level, []).append(
                (evaluation.actual[0], *run.intervals.bounds(model, level))
            )
        origin_label = format_timestamps(series.index[origin : origin + 1])[0]
        for method, values in evaluation.metrics.items():
            rows.append(
                {
                    "fold": k,
                    "origin": origin_label,
                    "method": method,
                    **{m: values[m] for m in METRICS},
                }
            )
            forecast = evaluation.forecasts[method][0]
            errors.setdefault(method, []).append(np.abs(evaluation.actual[0] - forecast))
            forecasts.append(
                pd.DataFrame(
                    {
                        "fold": k,
                        "method": method,
                        "lead": np.arange(1, horizon + 1),
                        "forecast": forecast,
                        "actual": evaluation.actual[0],
                    }
                )
            )
        twin = run.without_covariates
        if twin is not None:
            values = twin.metrics["model"]
            twin_rows.append(
                {
                    "fold": k,
                    "origin": origin_label,
                    "method": "model",
                    **{m: values[m] for m in METRICS},
                }
            )
            twin_errors.append(np.abs(twin.actual[0] - twin.forecasts["model"][0]))
    folds_frame = pd.DataFrame(rows).astype({m: float for m in METRICS})
    by_lead = pd.DataFrame({method: np.mean(e, axis=0) for method, e in errors.items()}).T
    by_lead.columns = range(1, horizon + 1)
    twin_folds = twin_by_lead = None
    if twin_rows:
        twin_folds = pd.DataFrame(twin_rows).astype({m: float for m in METRICS})
        twin_by_lead = pd.DataFrame(
            [np.mean(twin_errors, axis=0)], index=["model"], columns=range(1, horizon + 1)
        )
    return Backtest(
        folds_frame,
        by_lead,
        horizon,
        pd.concat(forecasts, ignore_index=True),
        {level: pooled_coverage(b) for level, b in sorted(bands.items())},
        roles,
        twin_folds,
        twin_by_lead,
    )
