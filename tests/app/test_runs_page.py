"""Runs page: the session's trainings in a sortable table, overlays, details."""

from __future__ import annotations

from app_helpers import TINY, open_page, texts, with_job

from forecasting import jobs
from forecasting.config import RunConfig
from forecasting.samples import load_sample


def test_without_training_it_points_to_train() -> None:
    at = open_page("runs")
    assert any("No training yet" in text for text in texts(at.info))


def test_runs_are_listed_and_compared(trained_job, jobs_dir) -> None:
    # a second run of the session: an LSTM, and one that failed
    manager = jobs.JobManager(jobs_dir, runner="inline")
    series = load_sample("Monthly sales (seasonal)")
    second = manager.submit_training(
        series, RunConfig().with_settings(cell="lstm", window=12, **TINY), None, "LSTM"
    )
    failed = manager.submit_training(
        series, RunConfig().with_settings(window=150, epochs=1), None, "too long"
    )
    at = open_page("runs", jobs=[trained_job, second, failed], job=second)
    table = at.dataframe[0].value
    assert len(table) == 2
    assert set(table["Cell"]) == {"GRU", "LSTM"}
    assert set(table["Window"]) == {24, 12}
    for column in (
        "Units",
        "Layers",
        "Epochs run",
        "Test MASE",
        "Test sMAPE %",
        "Skill vs seasonal naive %",
        "Seconds/epoch",
    ):
        assert column in table.columns
    assert table["Test MASE"].dtype.kind == "f"  # numeric, so the table sorts
    assert any("Failed" in text for text in texts(at.caption))

    chosen = at.multiselect(key="p_runs_chosen")
    assert set(chosen.value) == {trained_job, second}
    assert len(at.get("plotly_chart")) == 3  # forecasts, losses, the detail loss curve
    chosen.set_value([second]).run()
    assert not at.exception
    at.selectbox(key="p_runs_detail").set_value(trained_job).run()
    assert at.json, "configuration shown"


def test_one_run(trained_job) -> None:
    at = with_job("runs", trained_job)
    assert len(at.dataframe[0].value) == 1
    assert not at.exception


def test_the_sidebar_line_shows_a_position_only_while_a_job_waits() -> None:
    """A job out of the queue (position 0: a worker is taking it up) is not "position 1"."""
    from types import SimpleNamespace

    from pages._common import status_line

    waiting = SimpleNamespace(state="queued", queue_position=2, events=())
    assert status_line(waiting) == "Queued, position 2"
    starting = SimpleNamespace(state="queued", queue_position=0, events=())
    assert "position" not in status_line(starting) and "Starting" in status_line(starting)
