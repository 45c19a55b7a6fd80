"""The job manager's process side with a trivial worker: the queue limit, starting queued jobs
when running ones end, crash marking, cancelling a queued job, cleanup; and the job records."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from forecasting import jobs
from forecasting.errors import ConfigError
from forecasting.jobs import JobManager, JobSpec
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
        JobSpec("tune")
    with pytest.raises(ConfigError, match="needs a series"):
        JobSpec(jobs.TRAIN)
    with pytest.raises(ConfigError, match="folds"):
        JobSpec(jobs.BACKTEST, series={}, config={}, folds=0)
    with pytest.raises(ConfigError, match="Unknown setting"):
        JobSpec.from_dict({"kind": "train", "backtest_folds": 2})


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
    jobs.run_job(tmp_path)
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["state"] == jobs.FAILED and "cannot be read" in state["message"]
