"""The tuning objective: the mean MASE over rolling-origin folds inside the training part.

The series is split as a training run splits it (`pipeline.plan_run`); only the training part
is searched on. Fold k trains on the training part cut after fold k's horizon
(`backtest.fold_origins`) and is scored on that horizon, as one fold of a backtest, so a
fold's network sees nothing after its origin and no trial sees the validation or test part.

A trial is cheap on purpose: ONE network per fold (`TRIAL_NETWORKS`) for at most
`TRIAL_EPOCHS` epochs, early stopping on (`trial_config`); the default configuration is
scored the same way, so the comparison is fair. The ensemble size is a setting of the final
model, which is trained on training + validation with the run's own epochs and scored on the
test part (`forecasting.tune_job`). The baselines are scored on the same folds once, before
the first trial (`baseline_scores`); trials compute only the quick ones their runs need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from forecasting.backtest import fold_origins
from forecasting.baselines import ALL_BASELINES, QUICK_BASELINES
from forecasting.config import RunConfig, TrainConfig
from forecasting.covariates import Roles
from forecasting.errors import DataError, SeriesTooShortError
from forecasting.evaluation import evaluate, evaluation_origins
from forecasting.pipeline import plan_run, seasonal_period
from forecasting.series import TimeSeries
from forecasting.training import EpochEvent
from forecasting.tuning.space import Space, window_of

DEFAULT_FOLDS = 3
TRIAL_NETWORKS = 1  # networks per fold of a trial (the final model has its own ensemble)
TRIAL_EPOCHS = 50  # most epochs per network of a trial (early stopping usually ends sooner)


@dataclass(frozen=True)
class Objective:
    """What a trial is scored on.

    Attributes:
        horizon: Steps forecast per fold (the run's horizon).
        period: Seasonal period of the training part (windows are searched in its cycles).
        folds: Rolling-origin folds.
        train_end: Points of the training part (the search never reads past it).
        n: Points of the whole series.
        epochs: Most epochs of a trial's network (`TRIAL_EPOCHS`, or fewer when the run
            asks for fewer).
    """

    horizon: int
    period: int
    folds: int
    train_end: int
    n: int
    epochs: int = TRIAL_EPOCHS

    def to_dict(self) -> dict:
        return {
            "metric": "mase",
            "folds": self.folds,
            "horizon": self.horizon,
            "training_points": self.train_end,
            "points": self.n,
            "networks": TRIAL_NETWORKS,
            "epochs": self.epochs,
            "text": self.text(),
        }

    def text(self) -> str:
        return (
            f"mean MASE over {self.folds} rolling-origin folds of horizon {self.horizon} "
            f"inside the training part (the first {self.train_end} of {self.n} points; the "
            "validation and test parts are never seen while searching); each trial, the "
            f"default configuration too, trains {_networks(TRIAL_NETWORKS)} per fold for at "
            f"most {self.epochs} epochs with early stopping, and is scored alone (the final "
            "model chooses its mean with Theta and ETS on the validation part, as any training "
            "does)"
        )

    def trial_config(self, config: RunConfig) -> RunConfig:
        """What a trial trains for `config`: one network, at most `epochs` epochs, early
        stopping on (the run's patience, or the default one when the run turned it off), the
        network alone (the final retrain chooses its combination with Theta and ETS as any
        training does)."""
        return config.with_settings(
            combine="none",
            ensemble=TRIAL_NETWORKS,
            epochs=min(config.train.epochs, self.epochs),
            patience=config.train.patience or TrainConfig().patience,
        )


def _networks(count: int) -> str:
    return "one network" if count == 1 else f"{count} networks"


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
        epochs = min(config.train.epochs, TRIAL_EPOCHS)
        return Objective(horizon, period, k, train_end, len(series), epochs)
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
    """One fold of a trial: the network's MASE and its epochs."""

    fold: int
    mase: float
    epochs: int


def _folds(series: TimeSeries, objective: Objective):
    """(fold number, the fold's data: the training part up to the end of its horizon)."""
    part = series.head(objective.train_end)
    origins = fold_origins(len(part), objective.horizon, objective.folds)
    for k, origin in enumerate(origins, start=1):
        yield k, part.head(origin + objective.horizon)


def score_folds(
    series: TimeSeries,
    config: RunConfig,
    objective: Objective,
    *,
    roles: Roles | None = None,
    on_fold: Callable[[FoldScore], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> float:
    """Score `config` by the objective: the mean of the folds' MASE (`on_fold` after each),
    each fold trained as `objective.trial_config` says.

    Only `series.head(objective.train_end)` is read.

    Raises:
        DataError, ConfigError, TrainingError: The configuration cannot be trained here.
    """
    from forecasting.pipeline import train

    config = objective.trial_config(config.replace(horizon=objective.horizon))
    scores = []
    for k, visible in _folds(series, objective):
        epochs = []

        def count(event: EpochEvent, seen=epochs) -> None:
            seen.append(event)

        run = train(
            visible,
            _fold_config(config, objective.horizon, len(visible)),
            roles=roles,
            forecast_beyond=False,
            on_epoch=count,
            should_stop=should_stop,
            baselines=QUICK_BASELINES,  # the others are scored once (`baseline_scores`)
            compare_without_covariates=False,  # only the model's score is read
        )
        mase = run.evaluation.metrics["model"]["mase"]
        scores.append(np.nan if mase is None else float(mase))
        if on_fold is not None:
            on_fold(FoldScore(k, scores[-1], len(epochs)))
    return float(np.mean(scores))


def baseline_scores(
    series: TimeSeries, config: RunConfig, objective: Objective
) -> dict[str, float]:
    """Each baseline's mean MASE over the objective's folds, on the very origins, seasonal
    period and MASE scale a trial's run uses (baselines without a finite score are left out).

    Only `series.head(objective.train_end)` is read.
    """
    config = config.replace(horizon=objective.horizon)
    by_fold = []
    for _, visible in _folds(series, objective):
        plan = plan_run(visible, _fold_config(config, objective.horizon, len(visible)))
        origins = evaluation_origins(plan.split.origins("test", objective.horizon))
        evaluation = evaluate(
            np.zeros((len(origins), objective.horizon)),  # no model here
            visible.values,
            origins,
            objective.horizon,
            plan.period,
            plan.split.fit_end,
            ALL_BASELINES,
        )
        by_fold.append({n: m["mase"] for n, m in evaluation.metrics.items() if n != "model"})
    means = {}
    for name in ALL_BASELINES:
        values = [fold.get(name) for fold in by_fold]
        if all(v is not None and np.isfinite(v) for v in values):
            means[name] = float(np.mean(values))
    return means


def best_of(scores: dict[str, float]) -> tuple[str, float] | None:
    """(name, score) of the lowest score (the first name on a tie); None for none."""
    return min(scores.items(), key=lambda kv: (kv[1], kv[0])) if scores else None
