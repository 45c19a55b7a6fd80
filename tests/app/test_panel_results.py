"""Many series in the results: on the Evaluate page the M4 aggregate (table and sentence), the
per-series table with its search box, the histogram of per-series skill and the series picker;
on the Forecast page the long CSV of every series' forecast and the chart of a chosen series.
A real tiny global network (5 series x 120 weekly points and one series too short for it)
trained through the JobManager; the tables, sentences and figures behind the pages
(forecasting/panel_result_plots.py) on hand-made numbers."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from app_helpers import ROOT, download_content, open_page, texts

from forecasting import jobs
from forecasting.config import RunConfig
from forecasting.export import long_forecast_csv
from forecasting.panel import Panel
from forecasting.panel_result_plots import (
    SKILL_AXIS,
    aggregate_sentence,
    aggregate_table,
    search_series,
    series_skill_sentence,
    skill_by_series,
)
from forecasting.series import TimeSeries

STORES = ("North 1", "North 2", "South 1", "South 2", "East 1")
SHORT = "West 9"  # too short for the network: the fallback
POINTS, SHORT_POINTS = 120, 20
HORIZON = 13  # weekly data: a quarter
START = "2015-01-04"


def weekly_panel() -> Panel:
    rng = np.random.default_rng(5)
    dates = pd.date_range(START, periods=POINTS, freq="W-SUN", name="date")
    series, ids = [], []
    for i, store in enumerate(STORES):
        steps = np.arange(POINTS)
        values = 50 + 10 * i + 6 * np.sin(2 * np.pi * steps / 52) + rng.normal(0, 1, POINTS)
        series.append(TimeSeries(values, dates, "W-SUN", "sales"))
        ids.append((store,))
    short = dates[:SHORT_POINTS]
    series.append(TimeSeries(40 + rng.normal(0, 1, SHORT_POINTS), short, "W-SUN", "sales"))
    ids.append((SHORT,))
    return Panel(tuple(series), tuple(ids), ("store",))


@pytest.fixture(scope="module")
def panel() -> Panel:
    return weekly_panel()


@pytest.fixture(scope="module")
def panel_job(jobs_dir, panel) -> str:
    """A tiny finished global network over the panel, trained by the inline runner."""
    manager = jobs.JobManager(jobs_dir, runner="inline")
    config = RunConfig().with_settings(epochs=1, units=4, ensemble=1)
    job = manager.submit_panel(panel, config, None, "Global GRU (test)")
    status = manager.status(job)
    assert status.state == jobs.DONE, status.message
    return job


def _result(job: str):
    return jobs.get_manager().panel_result(job)


def _frame_with(at, column: str) -> pd.DataFrame | None:
    return next((f.value for f in at.dataframe if column in f.value.columns), None)


def _chart(at, key: str):
    return next((c for c in at.get("plotly_chart") if c.key == key), None)


def _traces(chart) -> list[dict]:
    return json.loads(chart.proto.spec)["data"]


# ---------------------------------------------------------------------- the Evaluate page
def test_the_aggregate_by_the_m4_rules(panel_job) -> None:
    at = open_page("evaluate", jobs=[panel_job], job=panel_job)
    assert not at.exception, at.exception
    result = _result(panel_job)
    table = _frame_with(at, "OWA")
    assert table is not None
    assert list(table.columns) == ["Method", "Mean sMAPE %", "Mean MASE", "OWA"]
    assert table["Method"].iloc[0] == "Network"
    assert set(table["Method"]) == {
        "Network",
        "Naive",
        "Seasonal naive",
        "Naive2",
        "ETS (Holt-Winters)",
        "Theta",
    }
    rows = table.set_index("Method")
    assert rows.loc["Naive2", "OWA"] == pytest.approx(1.0)
    network = result.aggregate["model"]
    assert rows.loc["Network", "Mean MASE"] == pytest.approx(network["mase"])
    assert rows.loc["Network", "OWA"] == pytest.approx(network["owa"])

    (sentence,) = [t for t in texts(at.success) + texts(at.warning) if "OWA is" in t]
    assert sentence.startswith(f"The global network's OWA is {network['owa']:.2f}: ")
    assert "Naive2" in sentence and "over the 5 series" in sentence
    assert any(
        words in sentence for words in ("the best of every method", "is best with", "ties with")
    )
    # the series too short for the network are named, not dropped
    assert any(SHORT in t and "Theta" in t for t in texts(at.info)), texts(at.info)
    assert any("of the test values fell inside" in t for t in texts(at.markdown))


def test_the_per_series_table_sorts_and_searches(panel_job) -> None:
    at = open_page("evaluate", jobs=[panel_job], job=panel_job)
    table = _frame_with(at, "Skill")
    assert list(table.columns) == [
        "Series",
        "Network MASE",
        "Network sMAPE %",
        "Network MAE",
        "Best baseline",
        "Best baseline MASE",
        "Skill",
    ]
    assert sorted(table["Series"]) == sorted(STORES)  # the fallback series is not scored
    assert pd.api.types.is_float_dtype(table["Network MASE"])  # numbers: the table sorts
    scores = _result(panel_job).scores_frame()
    north = scores[(scores["label"] == "North 1") & (scores["method"] != "model")]
    row = table.set_index("Series").loc["North 1"]
    assert row["Best baseline MASE"] == pytest.approx(north["mase"].min())
    assert row["Skill"] == pytest.approx(1 - row["Network MASE"] / row["Best baseline MASE"])
    assert any("5 of 5 series" in t for t in texts(at.caption))

    at.text_input(key="p_panel_search").input("north").run()
    assert not at.exception
    assert sorted(_frame_with(at, "Skill")["Series"]) == ["North 1", "North 2"]
    assert any("2 of 5 series" in t for t in texts(at.caption))
    at.text_input(key="p_panel_search").input("SOUTH 2").run()
    assert list(_frame_with(at, "Skill")["Series"]) == ["South 2"]
    at.text_input(key="p_panel_search").input("").run()
    assert len(_frame_with(at, "Skill")) == 5


def test_the_histogram_of_per_series_skill(panel_job) -> None:
    at = open_page("evaluate", jobs=[panel_job], job=panel_job)
    chart = _chart(at, "panel_skill_chart")
    assert chart is not None
    spec = json.loads(chart.proto.spec)
    (histogram,) = spec["data"]
    assert histogram["type"] == "histogram"
    skill = _frame_with(at, "Skill")["Skill"]
    assert len(_values(histogram["x"])) == np.isfinite(skill).sum() == 5
    assert spec["layout"]["xaxis"]["title"]["text"] == SKILL_AXIS
    assert any("beats the best baseline on" in t and "of 5 series" in t for t in texts(at.caption))


def test_the_series_picker_draws_actual_and_predicted(panel_job) -> None:
    at = open_page("evaluate", jobs=[panel_job], job=panel_job)
    picker = at.selectbox(key="p_panel_eval_series")
    assert list(picker.options) == list(STORES)
    picker.set_value("South 2").run()
    assert not at.exception
    chart = _chart(at, "panel_series_chart")
    spec = json.loads(chart.proto.spec)
    assert "South 2" in spec["layout"]["title"]["text"]
    names = [t.get("name") for t in spec["data"]]
    assert "Actual" in names and f"Network, {HORIZON} steps ahead" in names
    assert any("prediction band" in str(n) for n in names)
    test = _result(panel_job).test_frame()
    actual = next(t for t in spec["data"] if t.get("name") == "Actual")
    assert len(test[test["label"] == "South 2"]) == HORIZON
    assert len(_values(actual["y"])) == HORIZON
    one = _frame_with(at, "MAE")
    assert one is not None and one["Method"].iloc[0] == "Network" and len(one) == 6


def test_the_data_pages_series_comes_first_with_its_history(panel_job, panel) -> None:
    at = open_page("evaluate", jobs=[panel_job], job=panel_job, panel=panel, panel_label="North 2")
    assert not at.exception, at.exception
    assert at.selectbox(key="p_panel_eval_series").value == "North 2"
    names = [t.get("name") for t in _traces(_chart(at, "panel_series_chart"))]
    assert "History" in names


def _values(y) -> np.ndarray:
    if isinstance(y, dict):  # Plotly's typed array
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"]))
    return np.asarray(y, dtype=float)


def test_both_kinds_of_run_can_be_shown(panel_job, trained_job) -> None:
    at = open_page("evaluate", jobs=[trained_job, panel_job], job=panel_job)
    assert not at.exception, at.exception
    kind = at.radio(key="p_eval_kind")
    assert kind.value == "many" and _frame_with(at, "OWA") is not None
    kind.set_value("one").run()
    assert not at.exception
    assert _frame_with(at, "OWA") is None
    assert at.selectbox(key="p_eval_run").value == trained_job
    at = open_page("evaluate", jobs=[panel_job, trained_job], job=trained_job)
    assert at.radio(key="p_eval_kind").value == "one"


# ---------------------------------------------------------------------- the Forecast page
def test_the_long_csv_has_every_series_with_ids_and_dates(panel_job, panel, downloads) -> None:
    at = open_page("forecast", jobs=[panel_job], job=panel_job)
    assert not at.exception, at.exception
    keys = {b.key for b in at.get("download_button")}
    assert {"download_panel_csv", "download_panel_bundle"} <= keys
    text = download_content(at, "download_panel_csv", downloads).decode()
    frame = pd.read_csv(io.StringIO(text), dtype={"store": str})
    assert list(frame.columns) == ["store", "date", "forecast", "lower", "upper"]
    assert len(frame) == len(panel) * HORIZON
    assert list(dict.fromkeys(frame["store"])) == [*STORES, SHORT]
    for store, rows in frame.groupby("store", sort=False):
        last = panel[store].index[-1]
        expected = pd.date_range(last, periods=HORIZON + 1, freq="W-SUN")[1:]
        assert list(rows["date"]) == list(expected.strftime("%Y-%m-%d")), store
    assert np.isfinite(frame[["forecast", "lower", "upper"]].to_numpy()).all()
    assert (frame["lower"] <= frame["forecast"]).all()
    assert (frame["forecast"] <= frame["upper"]).all()
    assert jobs.get_manager().bundle_bytes(panel_job)[:2] == b"PK"  # the panel bundle


def test_the_forecast_chart_of_a_chosen_series(panel_job, panel) -> None:
    at = open_page("forecast", jobs=[panel_job], job=panel_job)
    picker = at.selectbox(key="p_panel_forecast_series")
    assert list(picker.options) == [*STORES, SHORT]  # the fallback series too
    chart = _chart(at, "panel_forecast_chart")
    names = [t.get("name") for t in _traces(chart)]
    assert "Forecast" in names and "History" in names
    assert any("test part" in t for t in texts(at.caption))
    picker.set_value(SHORT).run()
    assert not at.exception
    assert any("too short for the network" in t for t in texts(at.caption))
    spec = json.loads(_chart(at, "panel_forecast_chart").proto.spec)
    assert SHORT in spec["layout"]["title"]["text"]
    # with the panel on the Data page, its history is drawn before the forecast
    at = open_page("forecast", jobs=[panel_job], job=panel_job, panel=panel, panel_label="East 1")
    assert at.selectbox(key="p_panel_forecast_series").value == "East 1"
    history = next(t for t in _traces(_chart(at, "panel_forecast_chart")) if t["name"] == "History")
    assert len(_values(history["y"])) == 4 * HORIZON
    assert not any("test part" in t for t in texts(at.caption))


def test_the_pages_import_nothing_heavy(panel_job, jobs_dir) -> None:
    """Drawing a panel run's pages loads neither Keras nor TensorFlow in the server."""
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60).run()\n"
        "for page in ('evaluate', 'forecast'):\n"
        f"    at.session_state['jobs'] = [{panel_job!r}]\n"
        f"    at.session_state['job'] = {panel_job!r}\n"
        "    at.switch_page(f'pages/{page}.py').run()\n"
        "    assert not at.exception, at.exception\n"
        "heavy = {'keras', 'tensorflow', 'jax', 'ray'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    env = {"FORECASTING_JOBS_DIR": str(jobs_dir), "FORECASTING_RUNNER": "process"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------------- tables and sentences
AGGREGATE = {
    "model": {"smape": 9.0, "mase": 1.1, "owa": 0.92},
    "naive2": {"smape": 10.0, "mase": 1.2, "owa": 1.0},
    "ets": {"smape": 8.0, "mase": 0.9, "owa": 0.80},
    "theta": {"smape": 9.5, "mase": 1.15, "owa": 0.95},
}


@pytest.mark.parametrize(
    ("network_owa", "beats", "words"),
    [
        (0.92, False, ["OWA is 0.92: 8% better than Naive2, but ETS (Holt-Winters) is best"]),
        (0.75, True, ["OWA is 0.75: 25% better than Naive2, and the best", "next: ETS"]),
        (1.10, False, ["OWA is 1.10: 10% worse than Naive2; ETS (Holt-Winters) is best"]),
        (1.0, False, ["OWA is 1.00: level with Naive2"]),
        (None, False, ["cannot be computed", "mean MASE is 1.10"]),
    ],
)
def test_the_aggregate_sentence(network_owa, beats, words) -> None:
    aggregate = {**AGGREGATE, "model": {**AGGREGATE["model"], "owa": network_owa}}
    text, won = aggregate_sentence(aggregate, 12)
    assert won is beats
    for word in words:
        assert word in text, text
    assert "over the 12 series" in text


def test_the_aggregate_table_puts_the_network_first_then_by_owa() -> None:
    table = aggregate_table({**AGGREGATE, "naive": {"smape": 10.0, "mase": 1.2, "owa": None}})
    assert list(table["Method"]) == [
        "Network",
        "ETS (Holt-Winters)",
        "Theta",
        "Naive2",
        "Naive",
    ]
    assert np.isnan(table["OWA"].iloc[-1])


def _scores(rows) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"label": label, "method": method, "mae": 1.0, "smape": 5.0, "mase": mase}
            for label, method, mase in rows
        ]
    )


def test_skill_against_each_series_best_baseline() -> None:
    scores = _scores(
        [
            ("a", "model", 0.5),
            ("a", "naive", 1.0),
            ("a", "ets", 0.8),
            ("b", "model", 1.2),
            ("b", "naive", 0.6),
            ("b", "ets", np.nan),
            ("c", "model", 0.4),
            ("c", "naive", 0.0),  # a perfect baseline: skill undefined
        ]
    )
    found = skill_by_series(scores).set_index("label")
    assert found.loc["a", "best"] == "ets" and found.loc["a", "skill"] == pytest.approx(0.375)
    assert found.loc["b", "best"] == "naive" and found.loc["b", "skill"] == pytest.approx(-1.0)
    assert np.isnan(found.loc["c", "skill"])
    sentence = series_skill_sentence(found["skill"])
    assert "on 1 of 2 series (50%)" in sentence


def test_search_needs_every_word() -> None:
    table = pd.DataFrame({"Series": ["Store 1 / Milk", "Store 2 / Milk", "Store 1 / Bread"]})
    assert list(search_series(table, "milk store 1")["Series"]) == ["Store 1 / Milk"]
    assert len(search_series(table, "  ")) == 3
    assert search_series(table, "[(").empty  # literal text, not a pattern


def test_the_long_csv_keeps_id_columns_first_and_safe() -> None:
    forecast = pd.DataFrame(
        {
            "store": ["=HYPERLINK(1)", "=HYPERLINK(1)", "7"],
            "item": ["milk", "milk", "bread"],
            "date": pd.to_datetime(["2021-01-01", "2021-01-02", "2021-01-01"]),
            "forecast": [1.0, 2.0, 3.0],
            "lower": [0.5, 1.5, 2.5],
            "upper": [1.5, 2.5, 3.5],
        }
    )
    text = long_forecast_csv(forecast, ["store", "item"])
    lines = text.splitlines()
    assert lines[0] == "store,item,date,forecast,lower,upper"
    assert lines[1] == "'=HYPERLINK(1),milk,2021-01-01,1,0.5,1.5"
    assert lines[3].startswith("7,bread,2021-01-01,")


# ---------------------------------------------------------------------- the Runs page
def test_the_runs_page_lists_many_series_runs(panel_job, trained_job) -> None:
    at = open_page("runs", jobs=[trained_job, panel_job], job=panel_job)
    assert not at.exception, at.exception
    table = _frame_with(at, "Network OWA")
    assert table is not None and len(table) == 1
    row = table.iloc[0]
    assert row["Series"] == len(STORES) + 1 and row["Horizon"] == HORIZON
    assert row["Network OWA"] == pytest.approx(_result(panel_job).aggregate["model"]["owa"])
    assert "Global GRU (test)" in row["Run"]
    assert not any("Global GRU" in t for t in texts(at.caption))  # not among the unreadable
    assert _frame_with(at, "Test MASE") is not None  # the single-series run as before
