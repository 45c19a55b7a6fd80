"""Many-series trainings as jobs: the spec's checks, a real tiny global training through the job
manager (epoch events, per-series scores, the long forecast, the panel bundle) and a cancel
that keeps the best weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_panel_bundle import HORIZON, NUMBERS, make_panel, tiny_config

from forecasting import jobs
from forecasting.errors import ConfigError
from forecasting.jobs import JobManager, JobSpec
from forecasting.panel_bundle import load_panel_bundle
from forecasting.registry import JobHeader
from forecasting.results import PanelResult
from forecasting.training import EpochEvent


def test_a_panel_spec_needs_the_panel_and_a_configuration_and_its_header_stays_small():
    panel = make_panel(short=False)
    spec = JobSpec(jobs.PANEL, "P", panel=panel.to_dict(), config=tiny_config().to_dict())
    assert JobSpec.from_json(spec.to_json()) == spec
    assert JobHeader.of(spec) == JobHeader(jobs.PANEL, "P", 0.0, 0, "")
    with pytest.raises(ConfigError, match="many-series data"):
        JobSpec(jobs.PANEL, config={})
    with pytest.raises(ConfigError, match="many-series data"):
        JobSpec(jobs.PANEL, panel=panel.to_dict())
    with pytest.raises(ConfigError, match="panel"):
        JobSpec(jobs.PANEL, panel=[1], config={})


def test_a_panel_training_job_streams_epochs_and_hands_back_scores_forecast_and_bundle(tmp_path):
    manager = JobManager(tmp_path / "jobs", runner="inline")
    panel = make_panel(short=False)
    job = manager.submit_panel(panel, tiny_config(), {"id_cols": ["store", "item"]}, "five", "me")
    status = manager.status(job)
    assert status.state == jobs.DONE, status.message
    assert status.kind == jobs.PANEL and status.label == "five"
    assert [e.epoch for e in status.events] == [1]
    assert manager.jobs_of("me", jobs.PANEL) == [job]

    result = manager.panel_result(job)
    assert isinstance(result, PanelResult) and result.label == "five"
    assert result.data_options == {"id_cols": ["store", "item"]}
    assert result.labels == panel.labels and result.fallback == []
    scores = result.scores_frame()
    assert len(scores) == 5 * 6 and set(scores["label"]) == set(panel.labels)
    assert np.isfinite(scores.loc[scores["method"] == "model", "mase"]).all()
    forecast = result.forecast_frame()
    assert list(forecast.columns) == ["store", "item", "date", *NUMBERS]
    assert len(forecast) == 5 * HORIZON
    assert forecast.groupby(["store", "item"]).size().tolist() == [HORIZON] * 5
    assert (forecast["date"].iloc[:HORIZON] > panel.series[0].last).all()
    assert len(result.history.loss) == 1

    bundle = load_panel_bundle(manager.bundle_bytes(job))
    again = bundle.forecast()
    np.testing.assert_allclose(again[NUMBERS], forecast[NUMBERS], rtol=1e-6)
    assert (pd.DatetimeIndex(again["date"]) == pd.DatetimeIndex(forecast["date"])).all()


def test_panel_result_is_none_for_other_jobs_and_unknown_ids(tmp_path):
    manager = JobManager(tmp_path / "jobs", runner="inline")
    job = manager.submit(JobSpec(jobs.FORECAST, "bad bundle"), upload=b"not a bundle")
    assert manager.status(job).state == jobs.FAILED
    assert manager.panel_result(job) is None
    assert manager.panel_result("no-such-job") is None


def test_a_cancel_after_the_first_epoch_keeps_its_weights(tmp_path, monkeypatch):
    """The cancel flag appears as the first epoch's event is written: the training stops
    there, the job is done with the best weights so far, and a bundle is written."""
    manager = JobManager(tmp_path / "jobs", runner="inline")
    real = EpochEvent.to_dict

    def cancel_on_event(event):
        for folder in manager.root.iterdir():
            (folder / "cancel").touch()
        return real(event)

    monkeypatch.setattr(EpochEvent, "to_dict", cancel_on_event)
    job = manager.submit_panel(make_panel(short=False), tiny_config(epochs=5), label="stop")
    status = manager.status(job)
    assert status.state == jobs.DONE, status.message
    assert "best weights" in status.message
    assert len(status.events) == 1
    result = manager.panel_result(job)
    assert result.history.stopped_by == "cancel" and result.history.epochs_run == 1
    assert manager.bundle_bytes(job) is not None


def test_a_panel_job_whose_series_are_all_too_short_forecasts_them_all_by_theta(tmp_path):
    manager = JobManager(tmp_path / "jobs", runner="inline")
    full = make_panel(short=True)
    short = full.subset([full.labels[-1]])  # 20 points: too short for window 12, horizon 6
    two = type(full)(
        (short.series[0], short.series[0]), (short.ids[0], ("store9", "item9")), full.id_cols
    )
    job = manager.submit_panel(two, tiny_config(), None, "short", "me")
    status = manager.status(job)
    assert status.state == jobs.DONE, status.message
    assert status.events == []
    result = manager.panel_result(job)
    assert result.labels == [] and result.fallback == two.labels
    assert any("Every series is too short" in r for r in result.reasons)
    assert result.scores_frame().empty and result.aggregate == {}
    forecast = result.forecast_frame()
    assert len(forecast) == 2 * HORIZON
    assert np.isfinite(forecast[NUMBERS].to_numpy(float)).all()
    assert manager.bundle_bytes(job) is None  # no network, no bundle
