"""A tune job: the budgeted search (`forecasting.tuning`), then the best configuration
retrained on training + validation and scored on the test part beside the baselines.

Files in the job's folder besides the usual ones (`forecasting.jobs`):

    trials.json    the live leaderboard: {"phase" (baselines, search, final, done),
                   "budget_s", "best_baseline": {"name", "score"} (from before the first
                   trial), "trials": [...]}, rewritten after every event (atomic writes)
    bundle.zip     the final model, like a training job's

The result (`result.json`): {"label", "tune": the search's record (engine, objective, trials,
best, default, best_baseline), "best_config", "run": the final training's `RunResult` (None
when a cancel ended the search), "test": the final model's and baselines' test metrics}.
`tuned_run` reads the final run's record back (the Runs page lists it like a training's).
"""

from __future__ import annotations

from pathlib import Path

from forecasting.errors import TrainingError
from forecasting.registry import JobSpec, series_from_dict, write_json
from forecasting.tuning.inputs import COVARIATES, subset_roles

TRIALS_FILE = "trials.json"


def tune_and_train(
    series,
    config,
    options,
    *,
    roles=None,
    future=None,
    on_trials=None,
    on_epoch=None,
    should_stop=None,
    on_searched=None,
    on_baseline=None,
):
    """Search, then retrain the best configuration (the CLI's and the job's one path).

    The baselines are scored on the search's folds first: `on_baseline` receives the best
    one's (name, score) before the first trial (None when no baseline scores). The final
    model is the best point with `options.final_ensemble` networks (the configuration's
    ensemble when None), reading the covariates of the best point's subset.
    `on_searched` receives the search's result before the final training.

    Returns:
        (search result, best configuration, final `TrainedRun` or None when a cancel ended
        the search: the best finished trial is kept, not retrained).

    Raises:
        DataError: The series is too short to tune.
        ConfigError: A covariate subset of the space that the data does not have.
        TrainingError: No trial finished (every one failed, or the budget was too short).
    """
    from forecasting.pipeline import train
    from forecasting.tuning.objective import (
        baseline_scores,
        best_of,
        fitting_cycles,
        make_objective,
    )
    from forecasting.tuning.search import run_search

    objective = make_objective(series, config, options.folds, roles)
    space = fitting_cycles(objective, options.space, config, roles)
    for dimension in space.dimensions:  # a subset the data lacks: refused before Ray starts
        if dimension.name == COVARIATES:
            for value in dimension.values:
                subset_roles(value, roles)
    baselines = baseline_scores(series, config, objective)
    if on_baseline is not None:
        on_baseline(best_of(baselines))
    search = run_search(
        series,
        config,
        objective,
        space,
        budget_s=options.budget_s,
        trials=options.trials,
        seed=options.seed,
        roles=roles,
        max_concurrent=options.max_concurrent,
        baselines=baselines,
        on_change=on_trials,
        should_stop=should_stop,
    )
    if search.best is None:
        failed = [t for t in search.trials if t.state == "failed"]
        why = f" The first failure: {failed[0].message}" if failed else ""
        raise TrainingError(
            f"No trial finished within the budget of {options.budget_s:g} s "
            f"({len(search.trials)} started).{why} Give a longer budget or a smaller space."
        )
    best, best_roles = final_settings(search, config, options, roles)
    if on_searched is not None:
        on_searched(search)
    if search.cancelled:
        return search, best, None
    run = train(series, best, roles=best_roles, future=future, on_epoch=on_epoch)
    return search, best, run


def final_settings(search, config, options, roles):
    """(configuration, roles) of the final model: the best point's settings and covariate
    subset, the run's epochs, `options.final_ensemble` networks."""
    from forecasting.tuning.space import apply_point

    params = search.best.params
    best = apply_point(config, params, search.objective.period).replace(
        horizon=search.objective.horizon
    )
    best = best.with_settings(ensemble=options.final_ensemble)  # None keeps the run's
    if COVARIATES in params:
        roles = subset_roles(params[COVARIATES], roles)
    return best, roles


def test_record(run) -> dict:
    """The final model's and the baselines' test metrics, with the verdict."""
    from forecasting.verdict import verdict

    test = run.metrics_dict()["test"]
    judged = verdict({name: scores["mase"] for name, scores in test.items()})
    return {"metrics": test, **judged.to_dict()}


def run_tune_job(folder: Path, spec: JobSpec, on_epoch, should_stop) -> tuple[dict, str]:
    """The worker's side of a tune job (`forecasting.runner` dispatches TUNE here)."""
    from forecasting.bundle import Bundle
    from forecasting.config import RunConfig
    from forecasting.results import run_result
    from forecasting.tuning.options import TuneOptions

    folder = Path(folder)
    options = TuneOptions.from_dict(spec.options)
    board = {"phase": "baselines", "budget_s": options.budget_s, "trials": []}

    def on_baseline(best) -> None:
        board.update(
            phase="search",
            best_baseline=None if best is None else {"name": best[0], "score": best[1]},
        )
        write_json(folder / TRIALS_FILE, board)

    def on_trials(rows) -> None:
        board["trials"] = [row.to_dict() for row in rows]
        write_json(folder / TRIALS_FILE, board)

    def on_searched(search) -> None:
        board.update(phase="final", trials=[t.to_dict() for t in search.trials])
        write_json(folder / TRIALS_FILE, board)

    write_json(folder / TRIALS_FILE, board)
    search, best, run = tune_and_train(
        series_from_dict(spec.series),
        RunConfig.from_dict(spec.config),
        options,
        roles=spec.covariate_roles,
        future=spec.future_table,
        on_trials=on_trials,
        on_epoch=on_epoch,
        should_stop=should_stop,
        on_searched=on_searched,
        on_baseline=on_baseline,
    )
    board["phase"] = "done"
    write_json(folder / TRIALS_FILE, board)
    result = {"label": spec.label, "tune": search.to_dict(), "best_config": best.to_dict()}
    if run is None:
        return {**result, "run": None, "test": None}, (
            "Cancelled: the best finished trial is kept (not retrained). Use its settings "
            "and train it."
        )
    Bundle.from_run(run, spec.data_options).save(folder / "bundle.zip")
    record = run_result(run, spec.data_options, spec.label).to_dict()
    return {**result, "run": record, "test": test_record(run)}, ""


def tuned_run(result: dict | None) -> dict | None:
    """The final run's record (`RunResult.to_dict`) of a tune job's result; None when there
    is none (no result yet, or a cancel ended the search before the final training)."""
    return None if not isinstance(result, dict) else result.get("run")
