"""Budgeted search on Ray Tune: Optuna's TPE sampler proposes, ASHA stops poor trials after
half the folds, the default configuration goes first.

Each trial scores one configuration by the objective (`objective.score_folds`: one network
per fold, capped epochs) and reports after every fold, so the scheduler (ASHA, from half
the folds on) stops the trials that are worse than the others after the same number of
folds. A trial that raises is recorded as failed with its message; the search goes on. The
baselines are scored on the same folds before the first trial (`objective.baseline_scores`).
The leaderboard (`Board`) is kept in the calling process and handed to `on_change` after
every event. Ray reuses a trial's worker for the next trial (Keras is imported once per
worker).

Concurrency: `max_concurrent` trials at once, one CPU each (a 2-core machine runs two at a
time). Reproducible on a local runtime with a seed, a trial cap and one trial at a time
(`max_concurrent=1`): the same trials in the same order and the same best (TPE then sees every
result before it proposes the next point, and each network is trained with the run's seed).
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from forecasting.config import RunConfig
from forecasting.covariates import Roles
from forecasting.series import TimeSeries
from forecasting.tuning.engine import Engine, ray_runtime
from forecasting.tuning.inputs import COVARIATES, subset_roles
from forecasting.tuning.objective import Objective, baseline_scores, best_of, score_folds
from forecasting.tuning.space import Space, apply_point, default_point, ray_space

UNKNOWN_FAILURE = "The trial failed."
RUNNING, FINISHED, STOPPED_EARLY, STOPPED, FAILED = (
    "running",
    "finished",
    "stopped early",
    "stopped",
    "failed",
)


@dataclass
class Trial:
    """One row of the leaderboard.

    Attributes:
        number: 0 for the default configuration, then in the order the searcher proposed them.
        params: The point's settings (the window in seasonal cycles as "cycles").
        score: Mean MASE over the folds done (None before the first).
        state: running, finished, stopped early (by the scheduler), stopped (by the budget
            or a cancel) or failed.
        seconds: Wall time so far.
        epochs: Epochs trained over every fold and network.
        folds: Folds done.
        message: Why it failed.
        node: Ray node id it ran on.
        finished_at: Seconds after the search started when it ended (None while running).
    """

    number: int
    params: dict
    score: float | None = None
    state: str = RUNNING
    seconds: float = 0.0
    epochs: int = 0
    folds: int = 0
    message: str = ""
    node: str = ""
    finished_at: float | None = None

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "params": self.params,
            "score": self.score,
            "state": self.state,
            "seconds": round(self.seconds, 3),
            "epochs": self.epochs,
            "folds": self.folds,
            "message": self.message,
            "node": self.node,
            "finished_at": self.finished_at,
        }


@dataclass
class SearchResult:
    """What a search found.

    Attributes:
        engine: Where it ran.
        objective: What trials were scored on.
        trials: Every trial, by number.
        best: The finished trial with the lowest score (never worse than the default when
            the default finished).
        default: The default configuration's trial.
        best_baseline: (name, mean MASE over the same folds) of the best baseline.
        seconds: Wall time of the search.
        cancelled: True when a cancel ended it.
        baselines: Every baseline's mean MASE over the same folds.
    """

    engine: Engine
    objective: Objective
    trials: list[Trial]
    best: Trial | None
    default: Trial | None
    best_baseline: tuple[str, float] | None
    seconds: float
    cancelled: bool = False
    baselines: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "engine": self.engine.to_dict(),
            "objective": self.objective.to_dict(),
            "trials": [t.to_dict() for t in self.trials],
            "best": None
            if self.best is None
            else {"number": self.best.number, "params": self.best.params, "score": self.best.score},
            "default": {
                "params": None if self.default is None else self.default.params,
                "score": None if self.default is None else self.default.score,
            },
            "best_baseline": None
            if self.best_baseline is None
            else {"name": self.best_baseline[0], "score": self.best_baseline[1]},
            "baselines": self.baselines,
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
        }


@dataclass
class Board:
    """The live leaderboard, updated from Ray Tune's callbacks in the calling process."""

    folds: int
    started: float = field(default_factory=time.monotonic)
    trials: dict[str, Trial] = field(default_factory=dict)
    on_change: Callable[[list[Trial]], None] | None = None
    ending: bool = False  # the budget ran out or a cancel came: running trials are stopped
    failed: dict[str, object] = field(default_factory=dict)  # trial id -> Ray's trial

    def rows(self) -> list[Trial]:
        return sorted(self.trials.values(), key=lambda t: t.number)

    def changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.rows())

    def row(self, trial) -> Trial:
        row = self.trials.get(trial.trial_id)
        if row is None:
            params = {k: _plain(v) for k, v in trial.config.items()}
            row = self.trials[trial.trial_id] = Trial(_number(trial), params)
        return row

    def result(self, trial, result: dict) -> None:
        row = self.row(trial)
        row.score = float(result["score"])
        row.folds = int(result["fold"])
        row.epochs = int(result["epochs"])
        row.seconds = float(result["seconds"])
        row.node = str(result["node"])
        self.changed()

    def end(self, trial, state: str, message: str = "") -> None:
        row = self.row(trial)
        if state == FINISHED and row.folds < self.folds:
            state = STOPPED if self.ending else STOPPED_EARLY
        row.state, row.message = state, message
        row.finished_at = time.monotonic() - self.started
        self.changed()


def _number(trial) -> int:
    """The trial's creation index from 0 (its tag starts with it from 1: "3_cell=gru,...")."""
    head = str(trial.experiment_tag).split("_", 1)[0]
    return int(head) - 1 if head.isdigit() else 0


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def _callbacks(board: Board):
    from ray.tune import Callback

    class _BoardCallback(Callback):
        def on_trial_start(self, iteration, trials, trial, **info):
            board.row(trial)
            board.changed()

        def on_trial_result(self, iteration, trials, trial, result, **info):
            board.result(trial, result)

        def on_trial_complete(self, iteration, trials, trial, **info):
            board.end(trial, FINISHED)

        def on_trial_error(self, iteration, trials, trial, **info):
            board.failed[trial.trial_id] = trial
            board.end(trial, FAILED, _error_text(trial))

    return [_BoardCallback()]


def _error_text(trial) -> str:
    """The trial's exception as one line ("ConfigError: `units` must be ...")."""
    try:
        error = trial.get_pickled_error()
    except Exception:  # noqa: BLE001 - an unreadable error still fails the trial
        error = None
    cause = getattr(error, "cause", None) or error
    if cause is not None:
        return f"{type(cause).__name__}: {' '.join(str(cause).split())}"[:500]
    lines = [line for line in (trial.get_error() or "").splitlines() if line.strip()]
    return lines[-1][:500] if lines else UNKNOWN_FAILURE


def _trial(params: dict, data: dict) -> None:
    """One trial, in a Ray worker: train and score the point fold by fold, reporting each."""
    import os
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.simplefilter("ignore")
    import ray
    from ray import tune

    objective = Objective(**data["objective"])
    config = apply_point(RunConfig.from_dict(data["config"]), params, objective.period)
    series = TimeSeries.from_dict(data["series"])
    roles = None if data["roles"] is None else Roles.from_dict(data["roles"])
    if COVARIATES in params:
        roles = subset_roles(params[COVARIATES], roles)
    node = ray.get_runtime_context().get_node_id()
    started, scores, epochs = time.monotonic(), [], [0]

    def on_fold(fold) -> None:
        scores.append(fold.mase)
        epochs[0] += fold.epochs
        tune.report(
            {
                "score": sum(scores) / len(scores),
                "fold": fold.fold,
                "epochs": epochs[0],
                "seconds": time.monotonic() - started,
                "node": node,
            }
        )

    score_folds(series, config, objective, roles=roles, on_fold=on_fold)


def run_search(
    series: TimeSeries,
    config: RunConfig,
    objective: Objective,
    space: Space,
    *,
    budget_s: float,
    trials: int | None = None,
    seed: int = 0,
    roles: Roles | None = None,
    max_concurrent: int | None = None,
    points: list[dict] | None = None,
    baselines: dict[str, float] | None = None,
    on_change: Callable[[list[Trial]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SearchResult:
    """Search `space` for `budget_s` seconds (or `trials` trials), the default first.

    Args:
        series: The whole series (only its training part is read).
        config: The base configuration; the default point is its own settings.
        objective: `objective.make_objective(series, config, ...)`.
        space: What to search (widened to hold the default point).
        budget_s: Seconds the search may take (running trials are stopped then).
        trials: Most trials (the default included); None: as many as the budget allows.
        seed: The sampler's seed.
        roles: The covariates the networks may read (a "covariates" dimension chooses
            among them).
        max_concurrent: Trials at once (default: the cluster's CPUs).
        points: More points to evaluate right after the default (e.g. an earlier best).
        baselines: The baselines' scores on the same folds (`objective.baseline_scores`);
            scored here, before the first trial, when not given.
        on_change: Receives the leaderboard's rows after every event.
        should_stop: Polled between results: True stops every trial (a cancel).
    """
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch
    from ray.tune.stopper import Stopper

    default = default_point(config, space, objective.period, roles)
    default = _fitting_default(default, space, config)
    space = space.including(default)
    if baselines is None:
        baselines = baseline_scores(series, config, objective)
    board = Board(objective.folds, on_change=on_change)
    started = search_started = time.monotonic()
    cancelled = [False]

    class _Stop(Stopper):
        def __call__(self, trial_id, result) -> bool:
            return self.stop_all()

        def stop_all(self) -> bool:
            if should_stop is not None and should_stop():
                cancelled[0] = board.ending = True
            if time.monotonic() - started >= budget_s:
                board.ending = True
            return cancelled[0]

    data = {
        "series": series.head(objective.train_end).to_dict(),
        "config": config.to_dict(),
        "objective": {
            "horizon": objective.horizon,
            "period": objective.period,
            "folds": objective.folds,
            "train_end": objective.train_end,
            "n": objective.n,
            "epochs": objective.epochs,
        },
        "roles": None if roles is None else roles.to_dict(),
    }
    storage = tempfile.mkdtemp(prefix="forecasting-tune-")
    try:
        with ray_runtime() as engine:
            started = board.started = time.monotonic()  # the budget counts from here
            concurrency = max(1, max_concurrent or engine.cpus or 1)
            searcher = OptunaSearch(points_to_evaluate=[default, *(points or [])], seed=seed)
            tuner = tune.Tuner(
                tune.with_resources(tune.with_parameters(_trial, data=data), {"cpu": 1}),
                param_space=ray_space(space),
                tune_config=tune.TuneConfig(
                    metric="score",
                    mode="min",
                    search_alg=searcher,
                    scheduler=_scheduler(objective.folds),
                    num_samples=trials if trials else -1,
                    time_budget_s=budget_s,
                    max_concurrent_trials=concurrency,
                    reuse_actors=True,  # Keras and the compiled programs stay warm
                ),
                run_config=tune.RunConfig(
                    name="search",
                    storage_path=storage,
                    verbose=0,
                    stop=_Stop(),
                    callbacks=_callbacks(board),
                    failure_config=tune.FailureConfig(max_failures=0, fail_fast=False),
                    checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                ),
            )
            tuner.fit()
            for trial_id, trial in board.failed.items():  # Ray writes the error files late
                if board.trials[trial_id].message == UNKNOWN_FAILURE:
                    board.trials[trial_id].message = _error_text(trial)
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    rows = board.rows()
    for row in rows:  # trials Tune never ended (the budget ran out between events)
        if row.state == RUNNING:
            row.state = STOPPED
    finished = [t for t in rows if t.state == FINISHED and _finite(t.score)]
    best = min(finished, key=lambda t: (t.score, t.number)) if finished else None
    return SearchResult(
        engine,
        objective,
        rows,
        best,
        next((t for t in rows if t.number == 0), None),
        best_of(baselines),
        time.monotonic() - search_started,
        cancelled[0],
        baselines,
    )


def _scheduler(folds: int):
    """ASHA fed every fold's result, deciding from half the folds on (`grace_folds`: one
    fold is a noisy judge, the default's fold scores on a10 range from 0.73 to 1.16, and a
    decision after it leaves about a quarter of the trials finished), keeping the better half
    at each rung. It never stops the default configuration early (its score over every fold
    is the reference the best is compared with)."""
    from ray.tune.schedulers import ASHAScheduler, TrialScheduler

    class _KeepDefault(ASHAScheduler):
        def on_trial_result(self, tune_controller, trial, result):
            decision = super().on_trial_result(tune_controller, trial, result)
            return TrialScheduler.CONTINUE if _number(trial) == 0 else decision

    return _KeepDefault(
        time_attr="fold", max_t=folds, grace_period=grace_folds(folds), reduction_factor=2
    )


def grace_folds(folds: int) -> int:
    """Folds every trial runs before ASHA may stop it: half of them, rounded up."""
    return max(1, math.ceil(folds / 2))


def _fitting_default(point: dict, space: Space, config: RunConfig) -> dict:
    """An automatic window shrinks on a short series as training would: the default's cycles
    become the largest of the space's (those that fit, `objective.fitting_cycles`) below it."""
    if config.model.window or "cycles" not in point:
        return point
    (cycles,) = [d for d in space.dimensions if d.name == "cycles"]
    if cycles.kind != "choice" or point["cycles"] in cycles.values:
        return point
    smaller = [c for c in cycles.values if c <= point["cycles"]]
    return {**point, "cycles": max(smaller) if smaller else min(cycles.values)}


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)
