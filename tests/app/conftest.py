"""AppTest fixtures: the inline job runner, a private job registry, one shared training."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import SAMPLE, TINY

from forecasting import jobs


@pytest.fixture(scope="session")
def jobs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("jobs")


@pytest.fixture(autouse=True)
def job_environment(jobs_dir, monkeypatch):
    """Synchronous trainings in a private registry, and a fresh manager for each test."""
    monkeypatch.setenv("FORECASTING_RUNNER", "inline")
    monkeypatch.setenv("FORECASTING_JOBS_DIR", str(jobs_dir))
    monkeypatch.setattr(jobs, "_MANAGER", None)
    yield
    jobs._MANAGER = None


@pytest.fixture(scope="session")
def trained_job(jobs_dir) -> str:
    """One tiny finished training, shared by the Evaluate, Forecast and Runs tests."""
    from forecasting.config import RunConfig
    from forecasting.samples import load_sample

    manager = jobs.JobManager(jobs_dir, runner="inline")
    config = RunConfig().with_settings(**TINY, combine="none")  # the network alone
    job = manager.submit_training(
        load_sample(SAMPLE), config, {"date_col": "date", "value_col": "sales"}, "GRU 4×1 (test)"
    )
    assert manager.status(job).state == jobs.DONE, manager.status(job).message
    return job


@pytest.fixture
def downloads(monkeypatch) -> dict:
    """Records the bytes of every download button: media file id -> content."""
    from streamlit.runtime import memory_media_file_storage as storage

    seen: dict[str, bytes] = {}
    original = storage.MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        seen[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(storage.MemoryMediaFileStorage, "load_and_get_id", record)
    return seen
