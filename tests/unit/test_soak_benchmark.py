"""The soak benchmark's own checks (benchmarks/soak.py) on a hand-made job folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from benchmarks.soak import live_workers, stuck_jobs
from forecasting.workers import process_start


def _job(root, name: str, state: str, worker: dict | None = None) -> None:
    folder = root / name
    folder.mkdir()
    (folder / "state.json").write_text(json.dumps({"state": state, "message": ""}))
    if worker is not None:
        (folder / "worker.json").write_text(json.dumps(worker))


def test_a_running_job_without_a_live_process_is_stuck(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _job(tmp_path, "gone", "running", {"pid": dead.pid, "start": "1"})
    _job(tmp_path, "alive", "running", {"pid": 1, "start": None})
    _job(tmp_path, "recycled", "running", {"pid": 1, "start": "not-its-start"})
    _job(tmp_path, "no-worker-file", "running")
    _job(tmp_path, "waiting", "queued")
    _job(tmp_path, "done", "done", {"pid": dead.pid, "start": "1"})
    assert stuck_jobs(tmp_path) == [
        "gone (running)",
        "no-worker-file (running)",
        "recycled (running)",
    ]


def test_live_workers_are_the_worker_processes_of_this_folder(tmp_path):
    folder = tmp_path / "job"
    folder.mkdir()
    # a stand-in with a worker's command line: python -c ... forecasting.runner <folder>
    # it forks a child that keeps its command line (as before an exec): not a second worker
    code = "import os, time; os.fork(); time.sleep(30)"
    stand_in = subprocess.Popen(
        [sys.executable, "-c", code, "forecasting.runner", str(folder)], start_new_session=True
    )
    try:
        assert process_start(stand_in.pid) is not None
        time.sleep(0.5)  # the fork has happened
        assert live_workers(tmp_path) == [stand_in.pid]
        assert live_workers(tmp_path / "elsewhere") == []
    finally:
        os.killpg(stand_in.pid, signal.SIGKILL)  # the stand-in and its child
        stand_in.wait()
        time.sleep(0.2)
    assert live_workers(tmp_path) == []
