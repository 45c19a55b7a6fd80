"""Covariates in the results: on the Evaluate page the network with and without them side by
side, the sentence that says which did better, the error by lead of both and the permutation
importance (faked results, then a real tiny run and its backtest); on the Forecast page the
what-if of a future covariate; and the figures and tables behind them
(forecasting/covariate_plots.py)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from app_helpers import ROOT, TINY, copy_job, open_page, texts, with_job

from forecasting import jobs
from forecasting.config import RunConfig
from forecasting.covariate_plots import (
    IMPORTANCE_AXIS,
    comparison_table,
    covariate_lead_figure,
    covariate_verdict,
    importance_figure,
    what_if_difference,
    what_if_figure,
    what_if_label,
    what_if_table,
)
from forecasting.covariates import Roles
from forecasting.results import Scores
from forecasting.series import TimeSeries

WITH = Scores(mae=1.0, rmse=1.5, smape=10.0, mase=0.80)
WITHOUT = Scores(mae=1.2, rmse=1.8, smape=12.0, mase=1.00)


# ---------------------------------------------------------------------- tables and sentences
def test_comparison_table_puts_both_networks_side_by_side() -> None:
    table = comparison_table(WITH, WITHOUT)
    assert list(table.columns) == ["Metric", "With covariates", "Without covariates", "Change"]
    assert list(table["Metric"]) == ["MASE", "sMAPE %", "RMSE"]
    mase = table.set_index("Metric").loc["MASE"]
    assert (mase["With covariates"], mase["Without covariates"]) == ("0.800", "1.000")
    assert mase["Change"] == "-20.0%"
    undefined = comparison_table(Scores(mase=0.8), None).set_index("Metric")
    assert undefined.loc["RMSE", "With covariates"] == "n/a"
    assert undefined.loc["MASE", "Without covariates"] == "n/a"
    assert set(undefined["Change"]) == {"n/a"}


@pytest.mark.parametrize(
    ("with_mase", "without_mase", "outcome", "words"),
    [
        (0.80, 1.00, "better", ["help on the test part", "0.80", "1.00", "20% lower"]),
        (1.25, 1.00, "worse", ["do not help on the test part", "1.25", "25% higher", "ignore"]),
        (1.005, 1.00, "same", ["no real difference", "0.5% apart"]),
        (None, 1.00, "unknown", ["cannot be compared"]),
        (0.9, 0.0, "unknown", ["cannot be compared"]),
    ],
)
def test_the_sentence_says_honestly_whether_the_covariates_help(
    with_mase, without_mase, outcome, words
) -> None:
    found = covariate_verdict(Scores(mase=with_mase), Scores(mase=without_mase))
    assert found.outcome == outcome
    for word in words:
        assert word in found.sentence, found.sentence


def test_the_backtest_sentence_names_where_it_was_scored() -> None:
    found = covariate_verdict(WITH, WITHOUT, "over the 3 folds")
    assert "help over the 3 folds" in found.sentence


# ---------------------------------------------------------------------- figures
def test_error_by_lead_draws_both_networks() -> None:
    fig = covariate_lead_figure({"model": [1.0, 2.0], "without_covariates": [1.5, 2.5]})
    assert [trace.name for trace in fig.data] == ["With covariates", "Without covariates"]
    assert list(fig.data[1].y) == [1.5, 2.5]
    assert fig.layout.xaxis.title.text == "Steps ahead"


def test_importance_bars_largest_on_top_with_names_literal() -> None:
    fig = importance_figure({"<b>TEMP</b>": 0.3, "calendar": 0.05, "Iws": -0.01})
    (bars,) = fig.data
    assert bars.orientation == "h"
    # Plotly draws the first bar at the bottom: the largest comes last
    assert list(bars.y) == ["Iws", "Calendar features", "&lt;b&gt;TEMP&lt;/b&gt;"]
    assert list(bars.x) == [-0.01, 0.05, 0.3]
    assert bars.marker.color[0] != bars.marker.color[-1]  # a negative bar stands out
    assert fig.layout.xaxis.title.text == IMPORTANCE_AXIS
    assert IMPORTANCE_AXIS == "MASE increase when the column is shuffled"


def _forecast(values) -> pd.DataFrame:
    dates = pd.date_range("2021-01-01", periods=len(values), freq="D")
    values = pd.Series(values, dtype=float)
    return pd.DataFrame(
        {"date": dates, "forecast": values, "lower": values - 1, "upper": values + 1}
    )


def test_what_if_table_changes_one_column_over_every_row() -> None:
    table = pd.DataFrame(
        {"temp": [1.0, 2.0, 3.0], "holiday": ["no", "no", "yes"]},
        index=pd.date_range("2021-01-01", periods=3, freq="D", name="date"),
    )
    warmer = what_if_table(table, "temp", offset=2.5)
    assert list(warmer["temp"]) == [3.5, 4.5, 5.5]
    assert list(warmer["holiday"]) == ["no", "no", "yes"]
    assert list(table["temp"]) == [1.0, 2.0, 3.0]  # the original is left alone
    holidays = what_if_table(table, "holiday", category="yes")
    assert list(holidays["holiday"]) == ["yes"] * 3
    assert holidays.index.equals(table.index)
    assert what_if_label("temp", offset=2.5) == "temp +2.5"
    assert what_if_label("temp", offset=-1.0) == "temp -1"
    assert what_if_label("holiday", category="yes") == "holiday = yes"


def test_what_if_figure_draws_the_change_beside_the_original() -> None:
    recent = pd.DataFrame(
        {"date": pd.date_range("2020-12-01", periods=31, freq="D"), "actual": range(31)}
    )
    fig = what_if_figure(recent, _forecast([1, 2, 3]), _forecast([2, 3, 5]), "<i>x</i> +1")
    names = [trace.name for trace in fig.data]
    assert "Original forecast" in names and "What-if: &lt;i&gt;x&lt;/i&gt; +1" in names
    difference = what_if_difference(_forecast([1, 2, 3]), _forecast([2, 3, 5]))
    assert list(difference.columns) == ["date", "original", "what-if", "difference"]
    assert list(difference["difference"]) == [1.0, 1.0, 2.0]


def test_the_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, forecasting.covariate_plots\n"
        "heavy = {'keras', 'tensorflow', 'jax', 'ray', 'streamlit'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# ---------------------------------------------------------------------- the Evaluate page
def _with_covariates(
    jobs_dir, job: str, new_id: str, *, with_mase: float, without_mase: float
) -> str:
    """A copy of a finished run made to look like a run with covariates."""
    copy = copy_job(jobs_dir, job, new_id)
    path = jobs_dir / copy / "result.json"
    data = json.loads(path.read_text())
    data["metrics"]["test"]["model"]["mase"] = with_mase
    data["roles"] = {"past": ["TEMP", "Iws"], "future": [], "static": [], "calendar": True}
    data["without_covariates"] = {
        **data["metrics"]["test"]["model"],
        "mase": without_mase,
        "smape": 12.5,
        "rmse": 3.25,
    }
    model_lead = data["by_lead"]["model"]
    data["by_lead"]["without_covariates"] = [1.1 * e for e in model_lead]
    data["importance"] = {"TEMP": 0.31, "calendar": 0.08, "Iws": -0.01}
    path.write_text(json.dumps(data))
    return copy


def _covariate_table(at):
    return next(
        (frame.value for frame in at.dataframe if "With covariates" in frame.value.columns), None
    )


def _chart_specs(at) -> list[str]:
    return [chart.proto.spec for chart in at.get("plotly_chart")]


def test_a_run_with_covariates_is_compared_with_its_twin(jobs_dir, trained_job) -> None:
    job = _with_covariates(
        jobs_dir, trained_job, "20200101-120000-c0var1at", with_mase=0.6, without_mase=0.75
    )
    at = with_job("evaluate", job)
    assert not at.exception, at.exception
    assert "With and without covariates" in texts(at.subheader)
    table = _covariate_table(at)
    assert table is not None
    assert list(table["Metric"]) == ["MASE", "sMAPE %", "RMSE"]
    row = table.set_index("Metric")
    assert row.loc["MASE", "With covariates"] == "0.600"
    assert row.loc["MASE", "Without covariates"] == "0.750"
    assert row.loc["RMSE", "Without covariates"] == "3.250"
    (sentence,) = [text for text in texts(at.success) if "covariates help" in text]
    assert "MASE 0.60 with them against 0.75 without, 20% lower error" in sentence
    specs = _chart_specs(at)
    assert len(specs) == 5  # the three charts, error by lead with/without, importance
    assert any(IMPORTANCE_AXIS in spec and "TEMP" in spec for spec in specs)
    assert any("Without covariates" in spec for spec in specs)
    # the twin is not offered as a baseline in the other error-by-lead chart
    assert "without_covariates" not in at.multiselect(key="p_eval_lead").options
    # what the network reads, with the roles
    assert any("TEMP" in text and "calendar" in text for text in texts(at.caption))


def test_covariates_that_do_not_help_are_said_to_not_help(jobs_dir, trained_job) -> None:
    job = _with_covariates(
        jobs_dir, trained_job, "20200101-120000-n0he1pat", with_mase=0.9, without_mase=0.75
    )
    at = with_job("evaluate", job)
    assert not at.exception, at.exception
    assert not any("covariates help" in text for text in texts(at.success))
    (sentence,) = [text for text in texts(at.warning) if "covariates" in text]
    assert "do not help" in sentence and "20% higher error" in sentence


def test_a_run_without_covariates_shows_none_of_it(trained_job) -> None:
    at = with_job("evaluate", trained_job)
    assert not at.exception
    assert "With and without covariates" not in texts(at.subheader)
    assert _covariate_table(at) is None
    assert not any(IMPORTANCE_AXIS in spec for spec in _chart_specs(at))
    assert not any("covariates" in text for text in texts(at.success) + texts(at.warning))


# ---------------------------------------------------------------------- a real run
COVARIATE_HORIZON = 6


@pytest.fixture(scope="module")
def covariate_run(jobs_dir) -> tuple[str, TimeSeries, pd.DataFrame]:
    """A tiny training whose network reads two future covariates (a number and a category):
    its job id, its series and the future file's table it forecast with."""
    n = 300
    steps = np.arange(n + COVARIATE_HORIZON)
    rng = np.random.default_rng(0)
    temp = 10 + 5 * np.sin(2 * np.pi * steps / 24) + rng.normal(size=steps.size)
    kind = np.where(steps % 24 < 8, "night", "day")
    target = 2 * temp + 3 * (kind == "day") + rng.normal(size=steps.size)
    dates = pd.date_range("2020-01-01", periods=steps.size, freq="h", name="date")
    extra = pd.DataFrame({"temp": temp[:n], "kind": kind[:n]}, index=dates[:n])
    series = TimeSeries(target[:n], dates[:n], "h", "load", (), extra)
    future = pd.DataFrame({"temp": temp[n:], "kind": kind[n:]}, index=dates[n:])
    manager = jobs.JobManager(jobs_dir, runner="inline")
    config = RunConfig().with_settings(**TINY, horizon=COVARIATE_HORIZON, window=24)
    job = manager.submit_training(
        series,
        config,
        None,
        "GRU with future covariates (test)",
        roles=Roles(future=("temp", "kind")),
        future=future,
    )
    assert manager.status(job).state == jobs.DONE, manager.status(job).message
    return job, series, future


def _run_what_if(at):
    at.button(key="whatif_button").click().run()  # the inline runner finishes the job here
    return at.run()


def _what_if_chart(at):
    return next((c for c in at.get("plotly_chart") if c.key == "whatif_chart"), None)


def _forecast_values(spec: str, name: str) -> np.ndarray:
    """The y values of the trace `name` in a chart's JSON (a list, or Plotly's typed array)."""
    y = next(t for t in json.loads(spec)["data"] if t.get("name") == name)["y"]
    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"]))
    return np.asarray(y, dtype=float)


def test_a_numeric_what_if_moves_the_forecast_beside_the_original(covariate_run) -> None:
    job, _, future = covariate_run
    at = open_page("forecast", jobs=[job], job=job, future_table=future)
    assert not at.exception, at.exception
    assert "What if" in texts(at.subheader)
    assert any("future values of temp, kind" in text for text in texts(at.caption))
    assert at.selectbox(key="p_whatif_column").options == ["temp", "kind"]
    assert _what_if_chart(at) is None  # nothing before the button

    # no change at all: the saved model forecasts what the run forecast
    at = _run_what_if(at)
    assert not at.exception and not at.error, texts(at.error)
    spec = _what_if_chart(at).proto.spec
    same = _forecast_values(spec, "What-if: temp +0")
    original = _forecast_values(spec, "Original forecast")
    assert len(same) == COVARIATE_HORIZON
    np.testing.assert_allclose(same, original, rtol=1e-4, atol=1e-4)
    submitted = at.session_state["whatif"]
    status = jobs.get_manager().status(submitted["job"])
    assert status.kind == jobs.FORECAST and status.state == jobs.DONE

    # ten degrees warmer over the whole horizon
    at.number_input(key="whatif_offset:temp").set_value(10.0).run()
    at = _run_what_if(at)
    assert not at.exception and not at.error, texts(at.error)
    spec = _what_if_chart(at).proto.spec
    warmer = _forecast_values(spec, "What-if: temp +10")
    assert len(warmer) == COVARIATE_HORIZON and not np.allclose(warmer, original)
    assert any(b.key == "download_whatif_csv" for b in at.get("download_button"))


def test_a_categorical_what_if_sets_one_category_over_the_horizon(covariate_run) -> None:
    job, _, future = covariate_run
    at = open_page("forecast", jobs=[job], job=job, future_table=future)
    at.selectbox(key="p_whatif_column").set_value("kind").run()
    category = at.selectbox(key="whatif_category:kind")
    assert category.options == ["day", "night"]
    category.set_value("night").run()
    at = _run_what_if(at)
    assert not at.exception and not at.error, texts(at.error)
    values = _forecast_values(_what_if_chart(at).proto.spec, "What-if: kind = night")
    assert len(values) == COVARIATE_HORIZON and np.all(np.isfinite(values))


def test_a_what_if_needs_the_future_file(covariate_run) -> None:
    job, _, _ = covariate_run
    at = open_page("forecast", jobs=[job], job=job, future_table=None)
    assert not at.exception
    assert any("future values of temp, kind" in text for text in texts(at.info))
    assert not any(b.key == "whatif_button" for b in at.button)


def test_a_real_run_with_covariates_on_the_evaluate_page(covariate_run) -> None:
    job, series, _ = covariate_run
    at = open_page("evaluate", jobs=[job], job=job, series=series, series_key="covariates")
    assert not at.exception, at.exception
    table = _covariate_table(at)
    assert table is not None and "n/a" not in set(table["Without covariates"])
    sentences = sentences_of(at)
    assert any(
        phrase in text
        for text in sentences
        for phrase in ("covariates help", "do not help", "no real difference")
    ), sentences
    importance = next(spec for spec in _chart_specs(at) if IMPORTANCE_AXIS in spec)
    assert "temp" in importance and "kind" in importance

    # the backtest trains the same folds with and without the covariates
    at.slider(key="p_bt_folds").set_value(2).run()
    at.button(key="backtest_button").click().run()  # the inline runner finishes it here
    at.run()
    assert not at.exception and not at.error, texts(at.error)
    test_part, twin = [
        frame.value for frame in at.dataframe if "Without covariates" in frame.value.columns
    ]
    assert list(twin["Metric"]) == ["MASE", "sMAPE %", "RMSE"]
    assert "n/a" not in set(twin["Without covariates"])
    assert any("over the 2 folds" in text for text in sentences_of(at))
    assert any(c.key == "backtest_covariate_lead_chart" for c in at.get("plotly_chart"))


def sentences_of(at) -> list[str]:
    return texts(at.success) + texts(at.warning) + texts(at.info)
