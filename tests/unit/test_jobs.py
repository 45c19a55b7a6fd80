"""The job manager's process side with a trivial worker: the queue limit, starting queued jobs
when running ones end, crash marking, cancelling a queued job, cleanup; and the job records."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import job_submissions, jobs, runner
from forecasting.config import RunConfig
from forecasting.covariates import Roles
from forecasting.errors import ConfigError
from forecasting.jobs import JobManager, JobSpec
from forecasting.registry import BundleForecast, JobHeader, frame_from_dict, frame_to_dict
from forecasting.results import RunResult
from forecasting.series import TimeSeries
from forecasting.training import EpochEvent

# A worker that does what the job's label says: "done" finishes at once, "hold" runs until a
# file `release` appears in its folder, "crash:N" exits with code N without a word.
WORKER = """
import json, sys, time
from pathlib import Path

folder = Path(sys.argv[1])
action, _, arg = json.loads((folder / "spec.json").read_text())["label"].partition(":")
(folder / "state.json").write_text(json.dumps({"state": "running", "message": ""}))
if action == "crash":
    sys.exit(int(arg))
if action == "hold":
    deadline = time.monotonic() + 60
    while not (folder / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
(folder / "result.json").write_text(json.dumps({"label": action}))
(folder / "state.json").write_text(json.dumps({"state": "done", "message": ""}))
"""


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def state_on_disk(manager: JobManager, job: str) -> str:
    """The state as the worker wrote it (read without the manager, which would start
    queued jobs itself: these tests check that the watcher thread does)."""
    try:
        return json.loads((manager.root / job / "state.json").read_text())["state"]
    except (OSError, ValueError):  # being replaced
        return ""


@pytest.fixture
def manager(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    manager = JobManager(tmp_path / "jobs", max_running=1, worker=[sys.executable, str(script)])
    yield manager
    for folder in manager.root.iterdir():  # let every held worker end
        (folder / "release").touch()
    wait_for(lambda: manager._watcher is None or not manager._watcher.is_alive())


def submit(manager: JobManager, action: str) -> str:
    return manager.submit(JobSpec(jobs.FORECAST, action), upload=b"bundle")


def release(manager: JobManager, job: str) -> None:
    (manager.root / job / "release").touch()


def test_the_queue_limit_holds_and_a_queued_job_starts_when_the_running_one_ends(manager):
    first, second = submit(manager, "hold"), submit(manager, "done")
    wait_for(lambda: state_on_disk(manager, first) == jobs.RUNNING)
    time.sleep(0.8)  # the watcher ticks: still one slot, taken
    assert state_on_disk(manager, second) == jobs.QUEUED
    status = manager.status(second)
    assert status.state == jobs.QUEUED and status.queue_position == 1
    assert status.kind == jobs.FORECAST and status.label == "done" and status.created > 0
    release(manager, first)
    wait_for(lambda: state_on_disk(manager, second) == jobs.DONE)  # the watcher started it
    assert manager.status(first).state == jobs.DONE
    assert manager.result(second) == {"label": "done"}
    assert manager.status(second).queue_position == 0


def test_a_crashed_worker_is_marked_failed_with_a_message(manager):
    crashed, after = submit(manager, "crash:3"), submit(manager, "done")
    wait_for(lambda: state_on_disk(manager, after) == jobs.DONE)
    status = manager.status(crashed)
    assert status.state == jobs.FAILED and status.finished
    assert "stopped unexpectedly (exit code 3)" in status.message
    assert "download the bundle again" in status.message  # the advice fits the kind
    assert manager.result(crashed) is None


def test_cancelling_a_queued_job_means_it_never_starts(manager):
    first, second = submit(manager, "hold"), submit(manager, "done")
    manager.cancel(second)
    status = manager.status(second)
    assert status.state == jobs.CANCELLED and status.message == "Cancelled before it started."
    release(manager, first)
    wait_for(lambda: state_on_disk(manager, first) == jobs.DONE)
    time.sleep(0.6)
    assert manager.status(second).state == jobs.CANCELLED
    assert not (manager.root / second / "worker.log").exists()
    assert (manager.root / first / "worker.log").exists()


def test_cleanup_keeps_the_newest_finished_jobs(manager):
    manager.max_running = 4
    finished = [submit(manager, "done") for _ in range(4)]
    wait_for(lambda: all(state_on_disk(manager, job) == jobs.DONE for job in finished))
    wait_for(lambda: not manager._processes)  # reaped: a job not reaped yet is never deleted
    held = submit(manager, "hold")
    wait_for(lambda: state_on_disk(manager, held) == jobs.RUNNING)
    manager.cleanup(keep=2)
    assert sorted(p.name for p in manager.root.iterdir()) == sorted([*finished[2:], held])
    manager.cleanup(keep=0)
    assert [p.name for p in manager.root.iterdir()] == [held]  # a running job stays


def test_unknown_or_unsafe_ids(manager):
    assert manager.status("no-such-job") is None
    assert manager.status("../etc") is None
    assert manager.result("") is None and manager.bundle_bytes("x/y") is None


# ---------------------------------------------------------------------- records
def test_job_spec_round_trip_and_checks():
    spec = JobSpec(jobs.BACKTEST, "B", 12.5, {"values": [1.0]}, {"horizon": 3}, None, 3)
    assert JobSpec.from_json(spec.to_json()) == spec
    with pytest.raises(ConfigError, match="kind"):
        JobSpec("sweep")
    with pytest.raises(ConfigError, match="needs a series"):
        JobSpec(jobs.TRAIN)
    with pytest.raises(ConfigError, match="folds"):
        JobSpec(jobs.BACKTEST, series={}, config={}, folds=0)
    with pytest.raises(ConfigError, match="Unknown setting"):
        JobSpec.from_dict({"kind": "train", "backtest_folds": 2})


def future_table() -> pd.DataFrame:
    """A future file's table: a number, a text column with a gap, a missing number."""
    index = pd.date_range("2020-01-13 12:00", periods=3, freq="h", name="date")
    return pd.DataFrame(
        {
            "temp": [1.5, np.nan, -2.0],
            "kind": pd.Series(["day", None, "night"], index=index, dtype=object),
        },
        index=index,
    )


def test_a_future_table_round_trips_as_json():
    table = future_table()
    data = frame_to_dict(table)
    assert data == {
        "index": ["2020-01-13T12:00:00", "2020-01-13T13:00:00", "2020-01-13T14:00:00"],
        "columns": [
            {"name": "temp", "values": [1.5, None, -2.0]},
            {"name": "kind", "values": ["day", None, "night"]},
        ],
    }
    back = frame_from_dict(json.loads(json.dumps(data)))
    pd.testing.assert_frame_equal(back, table, check_freq=False)
    assert back["kind"].dtype == object and back.index.name == "date"
    for bad, words in [
        ({"index": []}, "keys index"),
        ({**data, "columns": {"temp": [1.0]}}, "a list of {name, values}"),
        ({**data, "columns": [{"name": "temp", "values": [1.0]}]}, "'temp' must appear once"),
        ({**data, "columns": [data["columns"][0]] * 2}, "'temp' must appear once"),
        (
            {**data, "columns": [{"name": "kind", "values": ["day", 2.0, None]}]},
            "mixes text and numbers",
        ),
        ({**data, "index": ["not a date", "x", "y"]}, "timestamps cannot be read"),
    ]:
        with pytest.raises(ConfigError, match=words):
            frame_from_dict(bad)


def test_job_spec_carries_roles_and_the_future_table_but_the_header_does_not():
    roles = Roles(past=("x",), future=("kind",), calendar=True)
    spec = JobSpec(
        jobs.TRAIN,
        "cov",
        series={"values": [1.0]},
        config={"horizon": 3},
        roles=job_submissions._roles_dict(roles),
        future=frame_to_dict(future_table()),
    )
    back = JobSpec.from_json(spec.to_json())
    assert back == spec and back.covariate_roles == roles
    pd.testing.assert_frame_equal(back.future_table, future_table(), check_freq=False)
    assert JobSpec(jobs.TRAIN, series={}, config={}).covariate_roles is None
    header = JobHeader.of(back)
    assert not {"roles", "future", "series"} & set(vars(header))
    with pytest.raises(ConfigError, match="colour"):
        JobSpec(jobs.TRAIN, series={}, config={}, roles={"colour": "red"})
    with pytest.raises(ConfigError, match="two roles"):
        JobSpec(jobs.TRAIN, series={}, config={}, roles={"past": ["x"], "future": ["x"]})
    with pytest.raises(ConfigError, match="`future` must be an object"):
        JobSpec(jobs.FORECAST, future=[1, 2])


def test_a_backtest_job_hands_its_roles_to_the_backtest(tmp_path, monkeypatch):
    from forecasting import backtest as backtest_module

    seen = {}

    class Done:
        def to_dict(self):
            return {"folds": []}

    def fake_backtest(series, config, folds, **kwargs):
        seen.update(kwargs, folds=folds, columns=list(series.extra.columns))
        return Done()

    monkeypatch.setattr(backtest_module, "backtest", fake_backtest)
    manager = JobManager(tmp_path / "jobs", runner="inline")
    roles = Roles(past=("x",), calendar=True)
    job = manager.submit_backtest(
        covariate_series(), RunConfig(horizon=6), 2, label="bt", roles=roles
    )
    assert manager.status(job).state == jobs.DONE, manager.status(job).message
    assert seen["roles"] == roles and seen["folds"] == 2 and seen["columns"] == ["x", "kind"]
    assert manager.result(job) == {"label": "bt", "backtest": {"folds": []}}


def covariate_series(n: int = 300) -> TimeSeries:
    idx = pd.date_range("2020-01-01", periods=n, freq="h", name="date")
    rng = np.random.default_rng(0)
    x = rng.normal(size=n).cumsum()
    y = 10 + 3 * np.sin(2 * np.pi * np.arange(n) / 24) + 0.3 * x + rng.normal(0, 0.2, n)
    extra = pd.DataFrame(
        {"x": x, "kind": np.where(np.arange(n) % 24 < 8, "night", "day")}, index=idx
    )
    return TimeSeries(y, idx, "h", "y", (), extra)


def test_a_training_job_with_covariates_and_a_forecast_job_from_its_bundle(tmp_path):
    """Through the real job manager (inline runner): the roles and the future table cross
    the process boundary as JSON; the result has the twin's scores and the importance; the
    bundle forecasts again in a forecast job given the future values."""
    series = covariate_series()
    roles = Roles(past=("x",), future=("kind",), calendar=True)
    stamps = series.future_index(6)
    future = pd.DataFrame({"kind": np.where(stamps.hour < 8, "night", "day")}, index=stamps)
    config = RunConfig(horizon=6).with_settings(
        cell="gru", strategy="direct", units=4, epochs=1, window=12, patience=0, ensemble=1
    )
    manager = JobManager(tmp_path / "jobs", runner="inline")
    job = manager.submit_training(series, config, label="cov", roles=roles, future=future)
    status = manager.status(job)
    assert status.state == jobs.DONE, status.message
    result = RunResult.from_dict(manager.result(job))
    assert result.roles == roles
    assert result.without_covariates is not None and result.without_covariates.mase > 0
    assert set(result.importance) == {"x", "kind", "calendar"}
    assert set(result.by_lead) >= {"model", "without_covariates"}
    assert len(result.by_lead["without_covariates"]) == 6

    bundle = manager.bundle_bytes(job)
    forecast = manager.submit_forecast(bundle, label="again", future=future)
    assert manager.status(forecast).state == jobs.DONE, manager.status(forecast).message
    again = BundleForecast.from_dict(manager.result(forecast))
    assert again.after_bundle_data
    np.testing.assert_allclose(again.forecast.forecast, result.forecast.forecast, rtol=1e-6)
    # Without the future values the forecast job fails with the message naming them.
    missing = manager.submit_forecast(bundle, label="no future")
    status = manager.status(missing)
    assert status.state == jobs.FAILED and "kind" in status.message
    assert "2020-01-13 12:00" in status.message


def test_a_forecast_job_needs_the_bundle(manager):
    with pytest.raises(ConfigError, match="bundle"):
        manager.submit(JobSpec(jobs.FORECAST))


def test_events_are_records_and_a_half_written_line_is_skipped(tmp_path: Path):
    events = [EpochEvent(1, 5, 0.5, 0.6, 1.0), EpochEvent(2, 5, 0.4, None, 2.0, 1, 2)]
    lines = [json.dumps(e.to_dict()) for e in events]
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + '\n{"epoch": 3, "epo')
    assert jobs.read_events(tmp_path) == events
    assert events[1].progress == pytest.approx(2 / 10) and events[1].epochs_left == 8


def test_a_job_whose_spec_is_unreadable_fails_with_a_message(tmp_path: Path):
    (tmp_path / "spec.json").write_text('{"kind": "train", "backtest_folds": 2}')
    runner.run_job(tmp_path)
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["state"] == jobs.FAILED and "cannot be read" in state["message"]


# ------------------------------------------------------------ the registry tells the truth
def adopting_manager(old: JobManager, **kwargs) -> JobManager:
    """A new manager on `old`'s registry, as after a server restart (`old` stops watching)."""
    old.close()
    return JobManager(old.root, max_running=old.max_running, worker=old.worker, **kwargs)


def test_a_new_manager_adopts_a_live_worker_and_counts_it_against_the_limit(manager):
    first = submit(manager, "hold")
    wait_for(lambda: state_on_disk(manager, first) == jobs.RUNNING)
    restarted = adopting_manager(manager)
    assert restarted.running() == [first]
    second = submit(restarted, "done")
    time.sleep(0.8)
    assert state_on_disk(restarted, second) == jobs.QUEUED  # the orphan holds the one slot
    release(restarted, first)
    wait_for(lambda: state_on_disk(restarted, second) == jobs.DONE)  # its end was noticed
    assert restarted.status(first).state == jobs.DONE
    wait_for(lambda: restarted.running() == [])  # both reaped


def test_a_new_manager_marks_a_job_whose_worker_is_gone_failed(manager):
    job = submit(manager, "hold")
    wait_for(lambda: state_on_disk(manager, job) == jobs.RUNNING)
    manager.close()
    worker = manager._processes[job]
    worker.send(9)  # the orphan dies unnoticed: its state still says running
    worker.popen.wait()
    assert state_on_disk(manager, job) == jobs.RUNNING
    restarted = adopting_manager(manager)
    status = restarted.status(job)
    assert status.state == jobs.FAILED and "the server restarted" in status.message
    assert restarted.running() == []


def test_a_job_queued_before_a_restart_runs_after_it(manager):
    first, second = submit(manager, "hold"), submit(manager, "done")
    wait_for(lambda: state_on_disk(manager, first) == jobs.RUNNING)
    restarted = adopting_manager(manager)
    assert restarted.status(second).queue_position == 1
    release(restarted, first)
    wait_for(lambda: state_on_disk(restarted, second) == jobs.DONE)


def test_a_cancel_the_worker_ignores_ends_the_job_within_seconds(manager):
    manager.cancel_grace = 0.5
    job = submit(manager, "hold")  # this worker never looks at the cancel flag
    wait_for(lambda: state_on_disk(manager, job) == jobs.RUNNING)
    asked = time.monotonic()
    manager.cancel(job)
    wait_for(lambda: manager.status(job).finished, timeout=10)
    assert time.monotonic() - asked < 5
    status = manager.status(job)
    assert status.state == jobs.CANCELLED and "stopped" in status.message


# A worker running the real `run_job` (with its signal handlers) on a job that sleeps.
SLEEPER = """
import sys, time
from forecasting import job_submissions, jobs, runner

runner._WORKERS[jobs.FORECAST] = lambda *args: time.sleep(60)
runner.run_job(sys.argv[1], on_signals=True)
"""


@pytest.mark.parametrize(
    ("signum", "cancel", "state", "words"),
    [
        (2, False, jobs.FAILED, "interrupted (Ctrl-C"),
        (15, False, jobs.FAILED, "stopped (signal SIGTERM)"),
        (15, True, jobs.CANCELLED, "Cancelled"),
    ],
)
def test_a_worker_records_its_end_on_a_signal(tmp_path, signum, cancel, state, words):
    script = tmp_path / "sleeper.py"
    script.write_text(SLEEPER)
    manager = JobManager(tmp_path / "jobs", worker=[sys.executable, str(script)])
    job = submit(manager, "sleep")
    wait_for(lambda: state_on_disk(manager, job) == jobs.RUNNING)
    if cancel:
        (manager.root / job / "cancel").touch()
    manager._processes[job].send(signum)
    wait_for(lambda: manager.status(job).finished, timeout=10)
    status = manager.status(job)
    assert status.state == state and words in status.message


def test_a_keyboard_interrupt_inline_is_recorded(tmp_path, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setitem(runner._WORKERS, jobs.FORECAST, interrupted)
    manager = JobManager(tmp_path / "jobs", runner="inline")
    with pytest.raises(KeyboardInterrupt):
        submit(manager, "x")
    (folder,) = manager.root.iterdir()
    assert state_on_disk(manager, folder.name) == jobs.FAILED


# ---------------------------------------------------------------------- folder, ids, owners
def test_the_registry_is_private_and_wider_permissions_are_repaired(tmp_path, monkeypatch):
    root = tmp_path / "jobs"
    JobManager(root)
    assert root.stat().st_mode & 0o777 == 0o700
    root.chmod(0o755)
    JobManager(root)
    assert root.stat().st_mode & 0o777 == 0o700
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert jobs.default_jobs_folder() == tmp_path / "cache" / "forecasting" / "jobs"


def test_finished_jobs_are_pruned_by_number_and_size_as_jobs_end(manager):
    manager.max_running, manager.keep = 4, 2
    finished = [submit(manager, "done") for _ in range(5)]
    wait_for(lambda: not manager._processes and not manager._queue)
    wait_for(lambda: len(list(manager.root.iterdir())) <= 2)  # pruned when jobs ended
    newest = [p.name for p in manager.root.iterdir()]
    assert set(newest) <= set(finished)
    (manager.root / newest[0] / "big").write_bytes(b"x" * 10_000)
    manager.cleanup(keep_bytes=5_000)
    assert len(list(manager.root.iterdir())) <= 1


def test_ids_are_unguessable_and_a_session_finds_its_jobs_again(tmp_path):
    manager = JobManager(tmp_path / "jobs", runner="inline")
    manager.submit(JobSpec(jobs.FORECAST, "other", owner="B"), upload=b"not a bundle")
    ids = [
        manager.submit(JobSpec(jobs.TRAIN, str(i), series={}, config={}, owner="A"))
        for i in range(2)
    ]
    assert all(len(job) >= 22 and manager.status(job) is not None for job in ids)
    assert len(set(ids)) == 2 and ids[0][:8] != ids[1][:8]
    assert manager.jobs_of("A") == ids and manager.jobs_of("") == []
    assert manager.jobs_of("B") == [] and len(manager.jobs_of("B", jobs.FORECAST)) == 1
