"""The tuning objective: the mean MASE over rolling-origin folds inside the training part.

The series is split as a training run splits it (`pipeline.plan_run`); only the training part
is searched on. Fold k is `backtest` of one fold on the training part cut after fold k's
horizon (`fold_origins`), so a fold's network sees nothing after its origin and no trial sees
the validation or test part. The final model is trained on training + validation and scored
on the test part (`forecasting.tune_job`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from forecasting.backtest import backtest, fold_origins
from forecasting.config import AUTO, RunConfig
from forecasting.covariates import Roles
from forecasting.errors import DataError, SeriesTooShortError
from forecasting.pipeline import plan_run, seasonal_period
from forecasting.series import TimeSeries
from forecasting.training import EpochEvent
from forecasting.tuning.space import Space, window_of

DEFAULT_FOLDS = 3


@dataclass(frozen=True)
class Objective:
    """What a trial is scored on.

    Attributes:
        horizon: Steps forecast per fold (the run's horizon).
        period: Seasonal period of the training part (windows are searched in its cycles).
        folds: Rolling-origin folds.
        train_end: Points of the training part (the search never reads past it).
        n: Points of the whole series.
    """

    horizon: int
    period: int
    folds: int
    train_end: int
    n: int

    def to_dict(self) -> dict:
        return {
            "metric": "mase",
            "folds": self.folds,
            "horizon": self.horizon,
            "training_points": self.train_end,
            "points": self.n,
            "text": self.text(),
        }

    def text(self) -> str:
        return (
            f"mean MASE over {self.folds} rolling-origin folds of horizon {self.horizon} "
            f"inside the training part (the first {self.train_end} of {self.n} points; the "
            "validation and test parts are never seen while searching)"
        )


def make_objective(
    series: TimeSeries, config: RunConfig, folds: int = DEFAULT_FOLDS, roles: Roles | None = None
) -> Objective:
    """Resolve the horizon and the split as training would, with `folds` folds or, on a
    short series, as many as leave the first fold enough data for a one-cycle window.

    Raises:
        DataError: The series is too short to tune on (names the fix).
    """
    if folds < 1:
        raise DataError(f"Tuning needs at least one fold. Received: folds={folds}")
    plan = plan_run(series, config, roles)  # SeriesTooShortError is a DataError
    horizon, train_end = plan.config.horizon, plan.split.train_end
    part = series.head(train_end)
    period, _ = seasonal_period(part)
    window = config.model.window or window_of(1, period)
    for k in range(folds, 0, -1):  # a short series gets fewer folds, as many as fit
        first = fold_origins(train_end, horizon, k)[0]
        if first <= 0:
            continue
        try:
            plan_run(
                part.head(first + horizon),
                _fold_config(config.with_settings(window=window), horizon, first + horizon),
                roles,
            )
        except SeriesTooShortError:
            continue
        return Objective(horizon, period, k, train_end, len(series))
    raise DataError(
        f"The series ({len(series)} points) is too short to tune: its training part "
        f"({train_end} points) must hold a fold of {horizon} steps after a first training "
        f"with at least a {window}-step window. Use a longer series, a shorter horizon "
        "(--horizon) or train with fixed settings instead."
    )


def fitting_cycles(objective: Objective, space: Space, config: RunConfig, roles=None) -> Space:
    """The space without the window cycles too long for the first fold (a trial with them
    could only fail)."""
    from forecasting.tuning.space import Dimension

    if "cycles" not in space.names:
        return space
    size = fold_origins(objective.train_end, objective.horizon, objective.folds)[0]
    size += objective.horizon
    dims = []
    for d in space.dimensions:
        if d.name == "cycles" and d.kind == "choice":
            kept = tuple(c for c in d.values if _fits(objective, config, c, size))
            d = Dimension(d.name, d.kind, kept or d.values[:1])
        dims.append(d)
    return Space(tuple(dims))


def _fits(objective: Objective, config: RunConfig, cycles, size: int) -> bool:
    from forecasting.windows import chronological_split

    fold = _fold_config(config, objective.horizon, size)
    try:
        chronological_split(
            size,
            window_of(cycles, objective.period),
            objective.horizon,
            fold.test_size,
            fold.train.validation_fraction,
            objective.horizon if config.model.strategy == "direct" else 1,
        )
    except DataError:
        return False
    return True


def _fold_config(config: RunConfig, horizon: int, visible: int) -> RunConfig:
    return config.replace(horizon=horizon, test_size=horizon / visible)


@dataclass(frozen=True)
class FoldScore:
    """One fold of a trial: the network's MASE and the baselines' on the same fold."""

    fold: int
    mase: float
    baselines: dict[str, float]
    epochs: int


def score_folds(
    series: TimeSeries,
    config: RunConfig,
    objective: Objective,
    *,
    roles: Roles | None = None,
    on_fold: Callable[[FoldScore], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> float:
    """Score `config` by the objective: the mean of the folds' MASE (`on_fold` after each).

    Only `series.head(objective.train_end)` is read.

    Raises:
        DataError, ConfigError, TrainingError: The configuration cannot be trained here.
    """
    part = series.head(objective.train_end)
    if config.horizon == AUTO:
        config = config.replace(horizon=objective.horizon)
    scores = []
    for k, origin in enumerate(
        fold_origins(len(part), objective.horizon, objective.folds), start=1
    ):
        epochs = []

        def count(event: EpochEvent, seen=epochs) -> None:
            seen.append(event)

        result = backtest(
            part.head(origin + objective.horizon),
            config,
            1,
            roles=roles,
            on_epoch=count,
            should_stop=should_stop,
        )
        by_method = result.summary()["mase"].to_dict()
        mase = float(by_method.pop("model"))
        scores.append(mase)
        if on_fold is not None:
            on_fold(
                FoldScore(
                    k,
                    mase,
                    {m: float(v) for m, v in by_method.items() if np.isfinite(v)},
                    len(epochs),
                )
            )
    return float(np.mean(scores))
