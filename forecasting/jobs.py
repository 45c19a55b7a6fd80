"""Trainings run as jobs outside the page script, one worker process each.

A job lives in its own folder (the on-disk registry), so a page finds it again after a
reload from its id alone:

    spec.json      what to train (series, run configuration, data options)   written by submit
    state.json     queued / running / done / failed / cancelled, and a message (atomic writes)
    events.jsonl   one line per finished epoch (append-only)
    cancel         present when a cancel was asked for
    result.json    metrics and everything the pages plot                     written by the worker
    bundle.zip     the trained model                                          written by the worker

The server process never imports TensorFlow: workers do, and their memory returns to the
system when they exit. At most `max_running` workers run at once; other jobs wait in a queue.
Tests can use the inline runner, which runs the very same worker code synchronously.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from forecasting.series import TimeSeries

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
KEEP_FINISHED = 50


def _write_json(path: Path, data) -> None:
    """Write JSON atomically (readers never see half a file)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path, default=None):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return default


def series_to_dict(series: TimeSeries) -> dict:
    """A series as plain JSON (no pickle crosses the process boundary)."""
    index = ([t.isoformat() for t in series.index] if series.has_dates
             else [int(i) for i in series.index])
    return {"values": series.values.tolist(), "index": index, "freq": series.freq,
            "name": series.name, "repairs": list(series.repairs)}


def series_from_dict(data: dict) -> TimeSeries:
    import pandas as pd

    index = (pd.DatetimeIndex(pd.to_datetime(data["index"]), name="date") if data["freq"]
             else pd.Index(data["index"], name="step"))
    return TimeSeries(data["values"], index, data["freq"], data["name"],
                      tuple(data.get("repairs", ())))


@dataclass
class JobStatus:
    """What a page shows about a job.

    Attributes:
        id: Job id.
        state: queued, running, done, failed or cancelled.
        events: Finished epochs so far (dicts of `EpochEvent`).
        message: Why it failed, or a note.
        queue_position: 1 for the next job to start, 0 when not queued.
        label: Short description given at submission.
        created: Submission time (epoch seconds).
        fold: For a backtest, the fold running now (1-based; 0 before the first).
        folds: For a backtest, the number of folds (0 for a training).
    """

    id: str
    state: str
    events: list[dict] = field(default_factory=list)
    message: str = ""
    queue_position: int = 0
    label: str = ""
    created: float = 0.0
    fold: int = 0
    folds: int = 0

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


class JobManager:
    """Submits, tracks, cancels and cleans up training jobs.

    Args:
        root: Folder of the job registry.
        max_running: Most trainings at once; later jobs queue.
        runner: "process" (a worker process per job) or "inline" (synchronous, for tests).
    """

    def __init__(self, root: str | Path, max_running: int = 1, runner: str = "process"):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_running = max(1, int(max_running))
        self.runner = runner
        self._lock = threading.Lock()
        self._processes: dict[str, subprocess.Popen] = {}
        self._queue: list[str] = []
        self._watcher: threading.Thread | None = None

    # ------------------------------------------------------------------ submit
    def submit(self, series: TimeSeries, config, data_options: dict | None = None,
               label: str = "", backtest_folds: int = 0) -> str:
        """Queue a training of `series` with `config` (a RunConfig), or a rolling-origin
        backtest with that many folds when `backtest_folds` > 0; returns the job id."""
        job_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]
        folder = self.root / job_id
        folder.mkdir()
        _write_json(folder / "spec.json", {"series": series_to_dict(series),
                                           "config": config.to_dict(),
                                           "data_options": data_options, "label": label,
                                           "backtest_folds": backtest_folds,
                                           "created": time.time()})
        _write_json(folder / "state.json", {"state": QUEUED, "message": ""})
        if self.runner == "inline":
            run_job(folder)
            return job_id
        with self._lock:
            self._queue.append(job_id)
            self._start_queued()
        self._ensure_watcher()
        return job_id

    def _start_queued(self) -> None:
        """Start queued jobs while slots are free (lock held)."""
        for job_id, process in list(self._processes.items()):
            if process.poll() is not None:
                del self._processes[job_id]
                self._mark_if_crashed(job_id, process.returncode)
        while self._queue and len(self._processes) < self.max_running:
            job_id = self._queue.pop(0)
            folder = self.root / job_id
            if (folder / "cancel").exists():
                _write_json(folder / "state.json", {"state": CANCELLED,
                                                    "message": "Cancelled before it started."})
                continue
            log = open(folder / "worker.log", "wb")  # noqa: SIM115 - handed to the child
            self._processes[job_id] = subprocess.Popen(
                [sys.executable, "-m", "forecasting.jobs", str(folder)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
            log.close()

    def _mark_if_crashed(self, job_id: str, returncode: int) -> None:
        folder = self.root / job_id
        state = _read_json(folder / "state.json", {})
        if state.get("state") not in FINISHED:
            _write_json(folder / "state.json", {
                "state": FAILED,
                "message": f"The training process stopped unexpectedly (exit code "
                           f"{returncode}). The app keeps working: try again, perhaps with "
                           f"fewer units or a shorter window."})

    def _ensure_watcher(self) -> None:
        """A daemon thread that starts queued jobs when running ones end."""
        with self._lock:
            if self._watcher is not None and self._watcher.is_alive():
                return
            self._watcher = threading.Thread(target=self._watch, name="job-watcher",
                                             daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        while True:
            time.sleep(0.5)
            with self._lock:
                self._start_queued()
                if not self._processes and not self._queue:
                    self._watcher = None
                    return

    # ------------------------------------------------------------------ query
    def status(self, job_id: str) -> JobStatus | None:
        """The job's state and epoch events, or None for an unknown id."""
        folder = self._folder(job_id)
        if folder is None:
            return None
        with self._lock:
            self._start_queued()
            position = self._queue.index(job_id) + 1 if job_id in self._queue else 0
        state = _read_json(folder / "state.json", {"state": FAILED,
                                                    "message": "The job's state is unreadable."})
        spec = _read_json(folder / "spec.json", {})
        fold = _read_json(folder / "fold.json", {})
        return JobStatus(job_id, state.get("state", FAILED), read_events(folder),
                         state.get("message", ""), position, spec.get("label", ""),
                         spec.get("created", 0.0), fold.get("fold", 0),
                         spec.get("backtest_folds", 0))

    def result(self, job_id: str) -> dict | None:
        """The finished job's result (metrics and plot data), or None."""
        folder = self._folder(job_id)
        return None if folder is None else _read_json(folder / "result.json")

    def bundle_bytes(self, job_id: str) -> bytes | None:
        folder = self._folder(job_id)
        path = None if folder is None else folder / "bundle.zip"
        return path.read_bytes() if path is not None and path.exists() else None

    def cancel(self, job_id: str) -> None:
        """Ask the job to stop after the current batch; the best weights are kept."""
        folder = self._folder(job_id)
        if folder is not None:
            (folder / "cancel").touch()
            with self._lock:
                if job_id in self._queue:  # not started yet: it never will
                    self._queue.remove(job_id)
                    _write_json(folder / "state.json", {
                        "state": CANCELLED, "message": "Cancelled before it started."})
                self._start_queued()

    def running_count(self) -> int:
        with self._lock:
            self._start_queued()
            return len(self._processes)

    def queued_count(self) -> int:
        with self._lock:
            return len(self._queue)

    def _folder(self, job_id: str) -> Path | None:
        """The job's folder; ids are checked so a URL can't point outside the registry."""
        if not job_id or not all(c.isalnum() or c == "-" for c in job_id):
            return None
        folder = self.root / job_id
        return folder if (folder / "spec.json").exists() else None

    def cleanup(self, keep: int = KEEP_FINISHED) -> None:
        """Delete all but the `keep` newest finished jobs."""
        finished = []
        for folder in self.root.iterdir():
            state = _read_json(folder / "state.json", {})
            if folder.is_dir() and state.get("state") in FINISHED:
                finished.append(folder)
        for folder in sorted(finished, key=lambda f: f.name)[:-keep or None]:
            shutil.rmtree(folder, ignore_errors=True)

    def shutdown(self) -> None:
        """Stop every worker (used by tests)."""
        with self._lock:
            self._queue.clear()
            for process in self._processes.values():
                process.kill()
                process.wait()
            self._processes.clear()


def read_events(folder: Path) -> list[dict]:
    """Epoch events so far; a half-written last line is skipped."""
    try:
        lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return events


# ---------------------------------------------------------------------- worker side
def run_job(folder: str | Path) -> None:
    """Run the job in `folder`: the worker process's whole life (also the inline runner)."""
    from forecasting.errors import ForecastingError

    folder = Path(folder)
    spec = _read_json(folder / "spec.json")
    _write_json(folder / "state.json", {"state": RUNNING, "message": "",
                                        "pid": os.getpid()})
    cancel_flag = folder / "cancel"
    work = _backtest if spec.get("backtest_folds") else _training
    with open(folder / "events.jsonl", "a", encoding="utf-8") as events:
        def on_epoch(event) -> None:
            events.write(json.dumps(event.to_dict()) + "\n")
            events.flush()

        try:
            result, message = work(folder, spec, on_epoch, cancel_flag.exists)
        except ForecastingError as exc:
            state = CANCELLED if cancel_flag.exists() else FAILED
            _write_json(folder / "state.json", {"state": state, "message": str(exc)})
            return
        except Exception as exc:  # noqa: BLE001 - the page shows a message, never a traceback
            traceback.print_exc()  # into worker.log, for the developers
            _write_json(folder / "state.json", {
                "state": FAILED, "message": f"Training failed unexpectedly "
                f"({type(exc).__name__}). Try other settings, such as fewer units or a "
                f"lower learning rate."})
            return
    _write_json(folder / "result.json", result)
    _write_json(folder / "state.json", {"state": DONE, "message": message})


def _training(folder: Path, spec: dict, on_epoch, should_stop) -> tuple[dict, str]:
    """Train, save the bundle; the result the pages draw."""
    from forecasting.bundle import Bundle
    from forecasting.config import RunConfig
    from forecasting.pipeline import train
    from forecasting.results import run_result

    run = train(series_from_dict(spec["series"]), RunConfig.from_dict(spec["config"]),
                on_epoch=on_epoch, should_stop=should_stop)
    Bundle.from_run(run, spec.get("data_options")).save(folder / "bundle.zip")
    cancelled = run.forecaster.history_.stopped_by == "cancel"
    return (run_result(run, spec.get("data_options"), spec.get("label", "")),
            "Cancelled: the best weights so far were kept." if cancelled else "")


def _backtest(folder: Path, spec: dict, on_epoch, should_stop) -> tuple[dict, str]:
    """A rolling-origin backtest; progress lines say which fold runs."""
    from forecasting.backtest import backtest
    from forecasting.config import RunConfig

    def on_fold(fold: int, folds: int) -> None:
        _write_json(folder / "fold.json", {"fold": fold, "folds": folds})

    result = backtest(series_from_dict(spec["series"]), RunConfig.from_dict(spec["config"]),
                      spec["backtest_folds"], on_fold=on_fold, on_epoch=on_epoch,
                      should_stop=should_stop)
    return {"label": spec.get("label", ""), "backtest": result.to_dict()}, ""


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def get_manager() -> JobManager:
    """The process-wide manager, configured by environment variables:
    FORECASTING_JOBS_DIR (registry folder), FORECASTING_MAX_JOBS (default 1),
    FORECASTING_RUNNER ("process" or "inline")."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            root = os.environ.get("FORECASTING_JOBS_DIR") or Path(tempfile.gettempdir()) / \
                "forecasting-jobs"
            _MANAGER = JobManager(root, int(os.environ.get("FORECASTING_MAX_JOBS", "1")),
                                  os.environ.get("FORECASTING_RUNNER", "process"))
            _MANAGER.cleanup()
        return _MANAGER


if __name__ == "__main__":
    run_job(sys.argv[1])
    # Everything is on disk: skip TensorFlow's slow interpreter teardown, free memory now.
    sys.stdout.flush()
    os._exit(0)
