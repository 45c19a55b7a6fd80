"""The verdict: the network against the best baseline, and the winner's own forecast."""

from __future__ import annotations

import dataclasses

import numpy as np

from forecasting.results import RunResult, run_result
from forecasting.verdict import MODEL, baseline_future, offer_sentence, verdict


def test_the_best_baseline_is_named_and_the_winner_picked():
    judged = verdict({"model": 1.5, "seasonal_naive": 2.72, "ets": 1.25, "theta": None})
    assert (judged.best, judged.best_mase, judged.winner) == ("ets", 1.25, "ets")
    assert judged.to_dict() == {"best_baseline": {"name": "ets", "mase": 1.25}, "winner": "ets"}
    assert verdict({"model": 1.0, "naive": 1.2}).winner == MODEL
    assert verdict({"model": 1.2, "naive": 1.2}).winner == "naive"  # a tie: the simpler one
    assert verdict({"model": None, "naive": 1.2}).winner == ""
    assert verdict({"model": 1.0}).to_dict() == {"best_baseline": None, "winner": None}


def test_offer_sentence():
    assert offer_sentence("ets", 1.25, 1.5) == (
        "On this series ETS (Holt-Winters) had the lower error on the test part (MASE 1.25 "
        "against the network's 1.50): its forecast is offered below."
    )


def test_the_worker_record_holds_the_winning_baselines_forecast(monthly_run):
    judged = verdict({name: m["mase"] for name, m in monthly_run.evaluation.metrics.items()})
    record = RunResult.from_dict(run_result(monthly_run).to_dict())
    if judged.winner == MODEL:
        assert record.winner_forecast is None
    else:
        assert record.winner_forecast.name == judged.winner
    frame = baseline_future(monthly_run, "seasonal_naive")
    horizon = monthly_run.config.horizon
    assert len(frame) == horizon
    np.testing.assert_allclose(frame["forecast"], monthly_run.series.values[-12:][:horizon])
    assert np.all((frame["lower"] <= frame["forecast"]) & (frame["forecast"] <= frame["upper"]))
    # A network that lost: the record offers the best baseline's forecast.
    losing = dataclasses.replace(
        monthly_run.evaluation, metrics={**monthly_run.evaluation.metrics, "model": {"mase": 99.0}}
    )
    lost = run_result(dataclasses.replace(monthly_run, evaluation=losing))
    best = verdict({n: m["mase"] for n, m in losing.metrics.items()}).best
    assert lost.winner_forecast.name == best and lost.winner_forecast.model_mase == 99.0
    assert len(lost.winner_forecast.forecast.forecast) == horizon


def test_older_results_without_the_field_still_read(monthly_run):
    data = run_result(monthly_run).to_dict()
    data.pop("winner_forecast")
    assert RunResult.from_dict(data).winner_forecast is None
