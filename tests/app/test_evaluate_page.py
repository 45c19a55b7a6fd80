"""Evaluate page: charts, metrics beside every baseline, the plain skill sentence."""

from __future__ import annotations

import json
from dataclasses import replace

from app_helpers import copy_job, open_page, texts, with_job

from forecasting.baselines import BASELINE_NAMES
from forecasting.evaluation import METRIC_NAMES


def test_without_training_it_points_to_train() -> None:
    at = open_page("evaluate")
    assert any("No finished training" in text for text in texts(at.info))
    assert [link.proto.page for link in at.get("page_link")] == ["train"]


def test_results_of_a_training(trained_job) -> None:
    at = with_job("evaluate", trained_job)
    assert at.selectbox(key="p_eval_run").value == trained_job
    sentence = " ".join(texts(at.success) + texts(at.warning))
    assert "GRU" in sentence and any(
        verdict in sentence
        for verdict in ("beats every baseline", "beats the GRU", "ties with the GRU")
    )
    assert "MASE" in sentence and "against" in sentence
    labels = [m.label for m in at.metric]
    assert "Test MASE" in labels and any(label.startswith("Band coverage") for label in labels)
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # test period, residuals, error by lead time

    table = at.dataframe[0].value
    assert table["Method"].iloc[0] == "Network"
    assert set(table["Method"]) >= {BASELINE_NAMES["seasonal_naive"], BASELINE_NAMES["naive"]}
    assert list(table.columns[1:]) == list(METRIC_NAMES.values())
    assert all(isinstance(v, str) for v in table["MASE"])


def test_baselines_can_be_added_to_the_chart(trained_job) -> None:
    at = with_job("evaluate", trained_job)
    at.multiselect(key="p_eval_baselines").set_value(["seasonal_naive", "naive", "ets"]).run()
    assert not at.exception
    figure = at.get("plotly_chart")[0].proto.spec
    assert "Naive, 12 steps ahead" in figure and "Seasonal naive, 12 steps ahead" in figure


def test_undefined_metrics_show_as_na(trained_job, monkeypatch) -> None:
    from pages import _common

    original = _common.result_of

    def without_mape(job_id):
        result = original(job_id)
        if result is not None:
            test = {
                name: replace(values, mape=None) for name, values in result.metrics.test.items()
            }
            result = replace(result, metrics=replace(result.metrics, test=test))
        return result

    monkeypatch.setattr(_common, "result_of", without_mape)
    at = with_job("evaluate", trained_job)
    assert set(at.dataframe[0].value["MAPE %"]) == {"n/a"}


def test_a_result_of_an_older_version_gives_a_message(trained_job, jobs_dir) -> None:
    """A result.json that no longer parses: a message on the page, not a traceback."""
    old = copy_job(jobs_dir, trained_job, "20200101-120000-0ldf0rma")
    path = jobs_dir / old / "result.json"
    data = json.loads(path.read_text())
    data["metrics"]["test_mase"] = data["metrics"].pop("test")  # a renamed field
    path.write_text(json.dumps(data))
    at = open_page("evaluate", jobs=[old], job=old)
    assert not at.exception
    # shown literally: the message's Markdown characters are escaped
    assert any("earlier version" in text and "test\\_mase" in text for text in texts(at.warning))
    assert any("No finished training" in text for text in texts(at.info))
    runs = open_page("runs", jobs=[trained_job, old], job=old)
    assert not runs.exception and len(runs.dataframe[0].value) == 1
    assert any("earlier version" in text for text in texts(runs.caption))
    train = open_page("train", jobs=[old], job=old)
    assert not train.exception
    assert any("earlier version" in text for text in texts(train.warning))


def test_backtest_runs_folds_beside_the_baselines(trained_job) -> None:
    at = with_job("evaluate", trained_job)
    at.slider(key="p_bt_folds").set_value(2).run()
    at.button(key="backtest_button").click().run()  # the inline runner finishes it here
    at.run()
    assert not at.exception
    table = next(frame.value for frame in at.dataframe if "Mean MASE" in frame.value.columns)
    assert {"MASE fold 1", "MASE fold 2"} <= set(table.columns)
    assert {"Network", BASELINE_NAMES["seasonal_naive"], BASELINE_NAMES["theta"]} <= set(
        table["Method"]
    )
    assert table["Mean MASE"].dropna().is_monotonic_increasing
    charts = at.get("plotly_chart")
    assert len(charts) == 4  # the three charts and the backtest's error by lead time


def _with_mase(jobs_dir, job: str, new_id: str, **mase: float) -> str:
    """A copy of `job` whose test MASE of each named method is replaced."""
    copy = copy_job(jobs_dir, job, new_id)
    path = jobs_dir / copy / "result.json"
    data = json.loads(path.read_text())
    for method, value in mase.items():
        data["metrics"]["test"][method]["mase"] = value
    path.write_text(json.dumps(data))
    return copy


def test_headline_names_the_best_baseline_when_it_wins(jobs_dir, trained_job) -> None:
    job = _with_mase(
        jobs_dir,
        trained_job,
        "20200101-120000-etsw1nsx",
        model=1.5,
        ets=1.25,
        seasonal_naive=2.72,
        naive=3.0,
        naive2=2.0,
        theta=1.3,
        drift=3.1,
        moving_average=3.2,
    )
    at = with_job("evaluate", job)
    assert not at.exception
    (sentence,) = texts(at.warning)[:1]
    assert sentence.startswith("ETS (Holt-Winters) beats the GRU on the test part")
    assert "1.25 against the network's 1.50" in sentence and "seasonal naive 2.72" in sentence
    assert not any("beats every baseline" in text for text in texts(at.success))
    mase = next(m for m in at.metric if m.label == "Test MASE")
    assert "vs ETS" in str(mase.proto.delta)


def test_headline_says_when_the_network_beats_every_baseline(jobs_dir, trained_job) -> None:
    job = _with_mase(jobs_dir, trained_job, "20200101-120000-netw1nsx", model=0.5, ets=1.25)
    at = with_job("evaluate", job)
    assert any("beats every baseline" in text for text in texts(at.success))
