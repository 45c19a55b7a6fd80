"""Budgeted tuning: the search space as data, cheap trials (one network per fold, capped
epochs), an objective that never reads past the training part, baselines scored before the
first trial, covariate subsets, a real local Ray search (a crashing trial is reported, not
fatal; a cancel keeps the best finished trial; a seed repeats a search), and the `forecasting
tune` command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.config import RunConfig, run_file_text
from forecasting.covariates import Roles
from forecasting.errors import ConfigError
from forecasting.series import TimeSeries
from forecasting.tuning import DEFAULT_SPACE, Dimension, Space, make_objective
from forecasting.tuning.inputs import subset_roles
from forecasting.tuning.objective import baseline_scores, score_folds
from forecasting.tuning.options import TuneOptions
from forecasting.tuning.space import (
    apply_point,
    default_point,
    space_from_texts,
    with_covariates,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]

# a space small enough for a few seconds per trial; units 0 makes a trial fail
CRASHING = Space((Dimension("units", "choice", (4, 0)), Dimension("dropout", "float", (), 0, 0.1)))


@pytest.fixture(scope="module")
def shared_ray():
    """One local Ray runtime for the later searches of this module (Ray takes seconds to
    start); the first search starts and stops its own, as the CLI does."""
    from forecasting.tuning.engine import ray_runtime

    with ray_runtime() as engine:
        yield engine


def test_space_is_data_and_round_trips() -> None:
    assert Space.from_dict(DEFAULT_SPACE.to_dict()) == DEFAULT_SPACE
    texts = {d.name: d.text() for d in DEFAULT_SPACE.dimensions}
    assert space_from_texts(texts) == DEFAULT_SPACE
    edited = space_from_texts(
        {**texts, "units": "4, 8", "dropout": "", "learning_rate": "0.001 to 0.01"}
    )
    assert edited.names == tuple(n for n in DEFAULT_SPACE.names if n != "dropout")
    assert dict(zip(edited.names, edited.dimensions, strict=True))["units"].values == (4, 8)
    with pytest.raises(ConfigError, match="learning_rate"):
        space_from_texts({**texts, "learning_rate": "fast"})
    with pytest.raises(ConfigError, match="not a setting"):
        Space((Dimension("speed", "choice", (1,)),))
    with pytest.raises(ConfigError, match="final model"):  # not searched: a final setting
        Space((Dimension("ensemble", "choice", (1, 5)),))
    with pytest.raises(ConfigError, match="budget"):
        TuneOptions(budget_s=0)
    with pytest.raises(ConfigError, match="final model"):
        TuneOptions(final_ensemble=0)
    assert TuneOptions.from_dict(TuneOptions(final_ensemble=3).to_dict()).final_ensemble == 3


def test_default_point_and_window_in_cycles(tiny_config) -> None:
    point = default_point(tiny_config, DEFAULT_SPACE, 12)
    assert point["cycles"] == 1 and point["units"] == 4  # window 12 = one cycle of 12
    # the space always holds the default, so the default can be evaluated first
    narrow = Space((Dimension("units", "choice", (16, 32)),))
    assert narrow.including(point).dimensions[0].values == (16, 32, 4)
    config = apply_point(tiny_config, {"cycles": 2, "cell": "lstm"}, 12)
    assert (config.model.window, config.model.cell) == (24, "lstm")
    with pytest.raises(ConfigError, match="units"):
        apply_point(tiny_config, {"units": 0}, 12)
    # an automatic window is the one training resolves: two cycles, half of a long season
    assert default_point(RunConfig(), DEFAULT_SPACE, 12)["cycles"] == 2
    assert default_point(RunConfig(), DEFAULT_SPACE, 52)["cycles"] == 0.5
    assert apply_point(RunConfig(), {"cycles": 0.5}, 52).model.window == 26


def test_a_trial_trains_one_network_per_fold_with_capped_epochs(monthly_series) -> None:
    """Trials are cheap and the default is scored the same way; the run's own ensemble and
    epochs are the final model's."""
    config = RunConfig().with_settings(patience=0)
    objective = make_objective(monthly_series, config, folds=2)
    trial = objective.trial_config(config)
    assert (trial.model.ensemble, trial.train.epochs) == (1, 50)
    assert trial.train.patience == 10  # early stopping on even when the run turned it off
    assert objective.trial_config(config.with_settings(epochs=20)).train.epochs == 20
    assert "one network per fold for at most 50 epochs" in objective.text()
    assert objective.to_dict()["networks"] == 1


def test_a_short_series_gets_fewer_folds(make_values) -> None:
    short = TimeSeries.from_values(make_values(n=100), freq="MS")
    objective = make_objective(short, RunConfig(), folds=3)
    assert objective.folds == 2 and objective.horizon == 12
    assert "2 rolling-origin folds" in objective.text()


def test_objective_never_reads_past_the_training_part(monthly_series, tiny_config) -> None:
    """Poisoning the validation and test parts with huge values changes no fold's score."""
    objective = make_objective(monthly_series, tiny_config, folds=2)
    assert objective.train_end < len(monthly_series)
    values = monthly_series.values.copy()
    values[objective.train_end :] = 1e9
    poisoned = TimeSeries.from_values(values, freq="MS")
    clean_folds, poisoned_folds = [], []
    clean = score_folds(monthly_series, tiny_config, objective, on_fold=clean_folds.append)
    dirty = score_folds(poisoned, tiny_config, objective, on_fold=poisoned_folds.append)
    assert np.isfinite(clean) and clean == dirty
    assert [f.mase for f in clean_folds] == [f.mase for f in poisoned_folds]
    assert len(clean_folds) == 2 and clean_folds[0].epochs > 0
    baselines = baseline_scores(monthly_series, tiny_config, objective)
    assert baselines == baseline_scores(poisoned, tiny_config, objective)
    assert {"seasonal_naive", "ets", "theta"} <= set(baselines)


def test_local_search_reports_a_crashing_trial_and_goes_on(monthly_series, tiny_config) -> None:
    """The local default runtime: the default runs first, a trial that cannot build is
    failed with its message, the next trial still runs, the best is no worse than the
    default."""
    from forecasting.tuning.search import run_search

    objective = make_objective(monthly_series, tiny_config, folds=2)
    seen = []
    result = run_search(
        monthly_series,
        tiny_config,
        objective,
        CRASHING,
        budget_s=600,
        trials=3,
        seed=1,
        max_concurrent=1,
        points=[{"units": 0, "dropout": 0.0}],
        on_change=lambda rows: seen.append(len(rows)),
    )
    assert result.engine.local and result.engine.nodes == 1 and result.engine.cpus >= 1
    trials = {t.number: t for t in result.trials}
    assert sorted(trials) == [0, 1, 2] and seen
    assert trials[0].params == {"units": 4, "dropout": 0.0} and trials[0].state == "finished"
    assert trials[1].state == "failed" and "units" in trials[1].message
    assert trials[2].state in ("finished", "failed", "stopped early")
    assert result.default is trials[0] and result.best.score <= result.default.score
    assert trials[0].folds == 2 and trials[0].epochs > 0 and trials[0].node
    name, score = result.best_baseline
    assert name and np.isfinite(score)


def test_cancel_keeps_the_best_finished_trial(shared_ray, monthly_series, tiny_config) -> None:
    from forecasting.tune_job import tune_and_train

    finished, events = [], []

    def on_trials(rows) -> None:
        events.append("trials")
        finished[:] = [r for r in rows if r.state == "finished"]

    search, best, run = tune_and_train(
        monthly_series,
        tiny_config,
        TuneOptions(
            budget_s=600, folds=2, space=CRASHING.including({"units": 8}), max_concurrent=1
        ),
        on_trials=on_trials,
        should_stop=lambda: bool(finished),  # cancel once one trial finished
        on_baseline=events.append,
    )
    # the best baseline's line is known before the first trial
    assert events[0] == search.best_baseline and events[1:] and set(events[1:]) == {"trials"}
    assert search.cancelled and run is None  # not retrained after a cancel
    assert search.best is not None and search.best.state == "finished"
    assert search.best.number == min(t.number for t in search.trials if t.state == "finished")
    assert best.model.units == search.best.params["units"]
    assert any(t.state != "finished" for t in search.trials) or len(search.trials) == 1


def test_a_seed_repeats_the_search(shared_ray, monthly_series, tiny_config) -> None:
    """On a local runtime, one trial at a time and a trial cap (the budget never decides):
    the same seed gives the same trials in the same order, the same scores and the same
    best."""
    from forecasting.tuning.search import run_search

    objective = make_objective(monthly_series, tiny_config, folds=2)
    space = Space(
        (
            Dimension("units", "choice", (2, 4, 6)),
            Dimension("dropout", "float", (), 0.0, 0.2),
            Dimension("learning_rate", "log", (), 1e-3, 1e-2),
        )
    )

    def search():
        result = run_search(
            monthly_series,
            tiny_config,
            objective,
            space,
            budget_s=600,
            trials=4,
            seed=7,
            max_concurrent=1,
        )
        trials = [(t.number, t.params, t.state, t.folds, t.score) for t in result.trials]
        return trials, (result.best.number, result.best.params, result.best.score)

    first, again = search(), search()
    assert [t[0] for t in first[0]] == [0, 1, 2, 3]
    assert len({str(t[1]) for t in first[0]}) == 4  # four different points
    assert first == again


def test_covariate_subsets_are_searched_and_honoured(shared_ray, monthly_series, tiny_config):
    """With covariates the space holds their subsets; a trial reads only its subset (its
    score is the one of that subset scored directly) and so does the final model."""
    from forecasting.tune_job import tune_and_train
    from forecasting.tuning.search import run_search

    rng = np.random.default_rng(3)
    extra = pd.DataFrame(
        {"x": rng.normal(size=len(monthly_series)), "promo": rng.integers(0, 2, 150) * 1.0},
        index=monthly_series.index,
    )
    series = TimeSeries(monthly_series.values, monthly_series.index, "MS", "value", (), extra)
    roles = Roles(past=("x", "promo"))
    space = with_covariates(DEFAULT_SPACE, roles)
    assert space.dimensions[-1].values == ("x + promo", "x", "promo", "none")
    assert with_covariates(DEFAULT_SPACE, Roles()) == DEFAULT_SPACE
    assert subset_roles("promo", roles) == Roles(past=("promo",))
    assert not subset_roles("none", roles).any
    with pytest.raises(ConfigError, match="'rain'"):
        subset_roles("x + rain", roles)

    only = Space((Dimension("covariates", "choice", ("none",)),))
    objective = make_objective(series, tiny_config, folds=2, roles=roles)
    result = run_search(
        series,
        tiny_config,
        objective,
        only,
        budget_s=600,
        trials=2,
        max_concurrent=1,
        roles=roles,
        points=[{"covariates": "none"}],
    )
    default, alone = result.trials
    assert default.params == {"covariates": "x + promo"} and alone.params == {"covariates": "none"}
    assert default.state == "finished" and alone.folds >= 1  # ASHA may stop it after a fold

    def direct(subset) -> float:  # the subset scored here, over the folds the trial ran
        folds = []
        score_folds(series, tiny_config, objective, roles=subset, on_fold=folds.append)
        return float(np.mean([f.mase for f in folds[: alone.folds]]))

    assert alone.score == pytest.approx(direct(None))
    assert default.score == pytest.approx(score_folds(series, tiny_config, objective, roles=roles))

    search, best, run = tune_and_train(
        series,
        tiny_config,
        TuneOptions(budget_s=600, trials=2, folds=2, space=only, max_concurrent=1),
        roles=roles,
    )
    chosen = subset_roles(search.best.params["covariates"], roles)
    assert run.plan.roles == chosen
    with pytest.raises(ConfigError, match="'rain'"):  # refused before Ray starts
        tune_and_train(
            series,
            tiny_config,
            TuneOptions(space=Space((Dimension("covariates", "choice", ("rain",)),))),
            roles=roles,
        )


def test_cli_refuses_bad_input_with_exit_2(tmp_path, capsys) -> None:
    data = tmp_path / "short.csv"
    data.write_text("date,value\n" + "".join(f"2020-{m:02d}-01,{m}\n" for m in range(1, 13)))
    assert main(["tune", str(data), "--budget", "0"]) == 2
    assert "budget" in capsys.readouterr().err
    assert main(["tune", str(data), "--budget", "-5"]) == 2
    assert main(["tune", str(data), "--budget", "30"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "short" in err and "Traceback" not in err


def test_cli_json_shape(shared_ray, tmp_path, monthly_series, tiny_config, capsys) -> None:
    """A whole `forecasting tune` run: trials on stderr, the issue's JSON, a bundle."""
    from forecasting.bundle import load_bundle

    data = tmp_path / "monthly.csv"
    dates = monthly_series.index.strftime("%Y-%m-%d")
    data.write_text(
        "date,value\n"
        + "".join(f"{d},{v}\n" for d, v in zip(dates, monthly_series.values, strict=True))
    )
    out, bundle, config = tmp_path / "t.json", tmp_path / "best.zip", tmp_path / "run.json"
    config.write_text(run_file_text(tiny_config.replace(horizon=0)))  # tiny networks
    code = main(
        [
            "tune",
            str(data),
            "--budget",
            "300",
            "--trials",
            "2",
            "--folds",
            "2",
            "--horizon",
            "6",
            "--concurrent",
            "1",
            "--config",
            str(config),
            "--json",
            str(out),
            "--bundle",
            str(bundle),
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.count("trial ") >= 2 and "search: 2 trials" in err
    doc = json.loads(out.read_text())
    assert set(doc["engine"]) >= {"name", "address", "nodes", "cpus"}
    assert doc["engine"]["name"] == "ray"
    assert doc["objective"]["folds"] == 2 and doc["objective"]["metric"] == "mase"
    assert [t["number"] for t in doc["trials"]] == [0, 1]
    for trial in doc["trials"]:
        assert set(trial) >= {"number", "params", "score", "state", "seconds", "epochs"}
    assert (
        set(doc["best"]) >= {"params", "score"} and doc["best"]["score"] <= doc["default"]["score"]
    )
    assert doc["best_baseline"]["name"] and doc["best_baseline"]["score"] > 0
    assert "model" in doc["test"]["metrics"] and "seasonal_naive" in doc["test"]["metrics"]
    assert load_bundle(bundle).config.horizon == 6


def test_leaderboard_table_and_figures() -> None:
    from forecasting.tune_plots import (
        best_so_far,
        best_so_far_figure,
        leaderboard_table,
        no_win_sentence,
        parallel_figure,
        search_summary,
    )

    def row(number, score, state, at, cell="gru"):
        return {
            "number": number,
            "params": {"cell": cell, "units": 8},
            "score": score,
            "state": state,
            "seconds": 1.0,
            "epochs": 3,
            "folds": 2,
            "message": "",
            "finished_at": at,
        }

    trials = [
        row(0, 0.9, "finished", 10),
        row(1, None, "failed", 11),
        row(2, 0.7, "finished", 20),
        row(3, 0.5, "stopped early", 25),
        row(4, 0.8, "finished", 30, "lstm"),
    ]
    table = leaderboard_table(trials)
    assert list(table["Trial"]) == ["3", "2", "4", "0 (default)", "1"]  # by score, none last
    assert list(best_so_far(trials)["best"]) == [0.9, 0.7, 0.7]  # finished trials only
    assert len(best_so_far_figure(trials, ("ets", 0.6), 60).data) == 2
    axes = parallel_figure(trials).data[0].dimensions
    assert [a.label for a in axes] == ["Cell", "Units", "Score (MASE)"]
    assert "No trial beats" in no_win_sentence(0.7, ("ets", 0.6))
    assert no_win_sentence(0.5, ("ets", 0.6)) is None
    assert "yet" in no_win_sentence(None, ("ets", 0.6))
    assert "No trial finished" in no_win_sentence(None, ("ets", 0.6), ended=True)
    # the baseline's line is drawn before any trial ends
    empty = best_so_far_figure([], ("ets", 0.6), 60)
    assert [s.y0 for s in empty.layout.shapes] == [0.6]
    summary = search_summary(
        {
            "trials": trials,
            "seconds": 61,
            "engine": {"nodes": 1, "cpus": 2},
            "best": {"number": 2, "score": 0.7, "params": {}},
            "default": {"score": 0.9},
            "best_baseline": {"name": "ets", "score": 0.6},
        }
    )
    assert "5 trials, 3 finished" in summary and "0.700 (trial 2) against 0.900" in summary
    assert "ETS (Holt-Winters) 0.600" in summary and "No trial beats" in summary
