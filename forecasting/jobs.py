"""Work off the page script: trainings (of one series or of many), backtests and forecasts
from an uploaded bundle run as jobs, one worker process each.

A job lives in its own folder (the on-disk registry), so a page finds it again after a
reload from its id alone:

    spec.json      the `JobSpec`: kind, series, run configuration, ...      written by submit
    upload.zip     the uploaded bundle (forecast and update jobs)             written by submit
    state.json     queued / running / done / failed / cancelled, and a message (atomic writes)
    worker.json    the worker's pid and start time                          written by the manager
    events.jsonl   one `EpochEvent` per finished epoch (append-only)
    fold.json      the backtest fold running now
    trials.json    a tuning's live leaderboard (`forecasting.tune_job`)
    cancel         present when a cancel was asked for
    result.json    what the pages draw                                        written by the worker
    bundle.zip     the trained model (train and panel jobs; an update's kept one) by the worker
    bundle-<candidate>.zip   each candidate of an update job                  by the worker
    worker.log     the worker's output, for the developers

The server process never imports Keras, TensorFlow or JAX: workers do (`forecasting.runner`,
whose `run_job`, the one worker entry point, dispatches on the spec's kind), and their memory
returns to the system when they exit. At most `max_running` live workers run at once; other
jobs wait in a queue. Tests can use the inline runner, which runs the very same worker code
synchronously.

The registry always tells the truth about workers: a worker records its end on any signal
(Ctrl-C, a kill), a cancel that the worker does not honour within `cancel_grace` seconds
stops it, and a new manager (a server restart) marks the jobs whose worker is gone as failed
and adopts the workers still running (counted against the limit, cancellable, their end
noticed). Finished jobs are pruned to a bounded number and size whenever a job ends.
Job ids are 128 random bits: knowing one is what lets a page show that job.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from forecasting.errors import ConfigError
from forecasting.job_submissions import JobSubmissions
from forecasting.registry import (
    ADVICE,
    BACKTEST,
    CANCELLED,
    DONE,
    FAILED,
    FINISHED,
    FORECAST,
    NOUNS,
    PANEL,
    QUEUED,
    RUNNING,
    TRAIN,
    TUNE,
    UPDATE,
    UPLOAD,
    BundleForecast,
    JobHeader,
    JobSpec,
    JobStatus,
    frame_to_dict,
    read_events,
    read_json,
    read_spec,
    series_from_dict,
    series_to_dict,
    write_json,
)
from forecasting.results import PanelResult
from forecasting.runner import run_job
from forecasting.workers import Worker, default_jobs_folder, private_folder

KEEP_FINISHED = 50
KEEP_BYTES = 1024 * 1024 * 1024  # finished jobs kept, at most this much disk together
CANCEL_GRACE = 30.0  # seconds a worker has to honour a cancel before it is stopped
KILL_AFTER = 5.0  # seconds after the stop signal before a worker is killed outright
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
WORKER_COMMAND = (sys.executable, "-m", "forecasting.runner")


class JobManager(JobSubmissions):
    """Submits, tracks, cancels and cleans up jobs (the typed `submit_*` helpers:
    `forecasting.job_submissions`).

    Args:
        root: Folder of the job registry (made private to the user).
        max_running: Most live workers at once; later jobs queue.
        runner: "process" (a worker process per job) or "inline" (synchronous, for tests).
        worker: The command of a worker process; the job's folder is appended.
        cancel_grace: Seconds a worker has to honour a cancel before it is stopped.
        keep: Finished jobs kept (newest first), at most `keep_bytes` together.
        keep_bytes: Disk the kept finished jobs may use together.
    """

    def __init__(
        self,
        root: str | Path,
        max_running: int = 1,
        runner: str = "process",
        worker: Sequence[str] = WORKER_COMMAND,
        cancel_grace: float = CANCEL_GRACE,
        keep: int = KEEP_FINISHED,
        keep_bytes: int = KEEP_BYTES,
    ):
        self.root = private_folder(root)
        self.max_running = max(1, int(max_running))
        self.runner = runner
        self.worker = tuple(worker)
        self.cancel_grace = cancel_grace
        self.keep, self.keep_bytes = keep, keep_bytes
        self._lock = threading.Lock()
        self._processes: dict[str, Worker] = {}
        self._queue: list[str] = []
        self._cancelled: dict[str, float] = {}  # job id -> when the cancel was asked
        self._headers: dict[str, JobHeader] = {}  # specs never change once written
        self._watcher: threading.Thread | None = None
        self._closed = False
        with self._lock:
            self._reconcile()
        self.cleanup()
        if self._processes or self._queue:
            self._ensure_watcher()

    # ------------------------------------------------------------------ submit
    def submit(self, spec: JobSpec, upload: bytes | None = None) -> str:
        """Queue the job `spec` (with the uploaded bundle of a forecast); returns its id."""
        if spec.kind in (FORECAST, UPDATE) and upload is None:
            raise ConfigError(f"A {spec.kind} job needs the uploaded bundle.")
        job_id = secrets.token_urlsafe(16)  # 128 random bits: unguessable
        folder = self.root / job_id
        folder.mkdir(mode=0o700)
        if upload is not None:
            (folder / UPLOAD).write_bytes(upload)
        write_json(folder / "spec.json", spec.replace(created=time.time()).to_dict())
        write_json(folder / "state.json", {"state": QUEUED, "message": ""})
        if self.runner == "inline":
            run_job(folder)
            self.cleanup()
            return job_id
        with self._lock:
            self._queue.append(job_id)
            self._start_queued()
        self._ensure_watcher()
        return job_id

    # ------------------------------------------------------------------ workers
    def _reconcile(self) -> None:
        """Make the registry match reality after a (re)start (lock held): a job whose
        worker is gone is marked failed, a live worker is adopted, and jobs that were
        waiting in the previous manager's queue wait again, oldest first."""
        waiting = []
        for folder in self.root.iterdir():
            state = read_json(folder / "state.json")
            if not isinstance(state, dict) or state.get("state") not in (QUEUED, RUNNING):
                continue
            found = read_json(folder / "worker.json") or state
            pid, start = found.get("pid"), found.get("start")
            if isinstance(pid, int):
                worker = Worker(pid, start if isinstance(start, str) else None)
                if worker.alive():
                    self._processes[folder.name] = worker
                    if (folder / "cancel").exists():
                        self._cancelled[folder.name] = time.monotonic()
                    continue
            header = self._header(folder)
            if state.get("state") == QUEUED and not isinstance(pid, int) and header is not None:
                waiting.append((header.created, folder.name))
                continue
            kind = header.kind if header is not None else TRAIN
            write_json(
                folder / "state.json",
                {
                    "state": FAILED,
                    "message": f"The {NOUNS[kind]} process was stopped (the "
                    f"server restarted). Run it again.",
                },
            )
        self._queue = [name for _, name in sorted(waiting)]
        self._start_queued()

    def _start_queued(self) -> None:
        """Reap ended workers, stop those past their cancel grace, start queued jobs while
        live workers leave slots free (lock held)."""
        reaped = False
        for job_id, worker in list(self._processes.items()):
            if not worker.alive():
                del self._processes[job_id]
                self._cancelled.pop(job_id, None)
                self._mark_if_crashed(job_id, worker.returncode)
                reaped = True
            elif job_id in self._cancelled:
                waited = time.monotonic() - self._cancelled[job_id]
                if waited > self.cancel_grace + KILL_AFTER:
                    worker.send(signal.SIGKILL)
                elif waited > self.cancel_grace:
                    worker.send(signal.SIGTERM)
        if reaped:
            self._cleanup_locked()
        while self._queue and len(self._processes) < self.max_running and not self._closed:
            job_id = self._queue.pop(0)
            folder = self.root / job_id
            if (folder / "cancel").exists():
                write_json(
                    folder / "state.json",
                    {"state": CANCELLED, "message": "Cancelled before it started."},
                )
                continue
            log = open(folder / "worker.log", "wb")  # noqa: SIM115 - handed to the child
            worker = Worker.started(
                subprocess.Popen(
                    [*self.worker, str(folder)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )
            )
            log.close()
            write_json(folder / "worker.json", worker.to_dict())
            self._processes[job_id] = worker

    def _mark_if_crashed(self, job_id: str, returncode: int | None) -> None:
        folder = self.root / job_id
        state = read_json(folder / "state.json", {})
        if folder.is_dir() and state.get("state") not in FINISHED:
            if (folder / "cancel").exists():
                write_json(
                    folder / "state.json",
                    {
                        "state": CANCELLED,
                        "message": "Cancelled: the run was stopped before it could save anything.",
                    },
                )
                return
            header = self._header(folder)
            kind = header.kind if header is not None else TRAIN
            code = "" if returncode is None else f" (exit code {returncode})"
            write_json(
                folder / "state.json",
                {
                    "state": FAILED,
                    "message": f"The {NOUNS[kind]} process stopped unexpectedly{code}. The app "
                    f"keeps working: try again, {ADVICE[kind]}.",
                },
            )

    def _ensure_watcher(self) -> None:
        """A daemon thread that starts queued jobs when running ones end."""
        with self._lock:
            if self._watcher is not None and self._watcher.is_alive():
                return
            self._watcher = threading.Thread(target=self._watch, name="job-watcher", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        while True:
            time.sleep(0.5)
            with self._lock:
                self._start_queued()
                if self._closed or (not self._processes and not self._queue):
                    self._watcher = None
                    return

    def close(self) -> None:
        """Stop starting jobs and watching (workers keep running; a new manager adopts
        them): what a server's exit does."""
        with self._lock:
            self._closed = True

    def running(self) -> list[str]:
        """Ids of the jobs whose worker is alive now."""
        with self._lock:
            self._start_queued()
            return list(self._processes)

    # ------------------------------------------------------------------ query
    def status(self, job_id: str) -> JobStatus | None:
        """The job's state and epoch events, or None for an unknown id."""
        folder = self._folder(job_id)
        if folder is None:
            return None
        with self._lock:
            self._start_queued()
            position = self._queue.index(job_id) + 1 if job_id in self._queue else 0
        state = read_json(
            folder / "state.json", {"state": FAILED, "message": "The job's state is unreadable."}
        )
        header = self._header(folder)
        if header is None:
            return JobStatus(
                job_id,
                FAILED,
                message="This job was made by an earlier version "
                "of the studio and cannot be read. Run it again.",
            )
        fold = read_json(folder / "fold.json", {})
        return JobStatus(
            job_id,
            state.get("state", FAILED),
            read_events(folder),
            state.get("message", ""),
            position,
            header.label,
            header.created,
            fold.get("fold", 0),
            header.folds,
            header.kind,
        )

    def jobs_of(self, owner: str, kind: str = TRAIN) -> list[str]:
        """Ids of the jobs of `kind` submitted for session `owner`, oldest first."""
        if not owner:
            return []
        found = []
        for folder in self.root.iterdir():
            header = self._header(folder)
            if header is not None and header.owner == owner and header.kind == kind:
                found.append((header.created, folder.name))
        return [name for _, name in sorted(found)]

    def result(self, job_id: str) -> dict | None:
        """The finished job's result as stored (the pages parse it into its record), or
        None."""
        folder = self._folder(job_id)
        return None if folder is None else read_json(folder / "result.json")

    def panel_result(self, job_id: str) -> PanelResult | None:
        """The finished panel job's `PanelResult`; None when the job is unknown, not a panel
        job or has no result (yet).

        Raises:
            ConfigError: The stored result does not match this version's record.
        """
        folder = self._folder_of_kind(job_id, PANEL)
        data = None if folder is None else read_json(folder / "result.json")
        return None if data is None else PanelResult.from_dict(data)

    def tune_board(self, job_id: str) -> dict | None:
        """A tune job's live leaderboard (`trials.json`: phase, budget_s, trials); None when
        the job is unknown, not a tuning or has not started."""
        folder = self._folder_of_kind(job_id, TUNE)
        return None if folder is None else read_json(folder / "trials.json")

    def tune_result(self, job_id: str) -> dict | None:
        """A finished tune job's result (search, best configuration, final run), or None."""
        folder = self._folder_of_kind(job_id, TUNE)
        return None if folder is None else read_json(folder / "result.json")

    def _folder_of_kind(self, job_id: str, kind: str) -> Path | None:
        """The job's folder when the job is of `kind`; None otherwise (or unknown)."""
        folder = self._folder(job_id)
        header = None if folder is None else self._header(folder)
        return folder if header is not None and header.kind == kind else None

    def update_result(self, job_id: str):
        """The finished update job's `UpdateReport`; None when the job is unknown, not an
        update or has no result (yet).

        Raises:
            ConfigError: The stored result does not match this version's record.
        """
        from forecasting.update import UpdateReport

        folder = self._folder_of_kind(job_id, UPDATE)
        data = None if folder is None else read_json(folder / "result.json")
        return None if data is None else UpdateReport.from_dict(data)

    def bundle_bytes(self, job_id: str, candidate: str | None = None) -> bytes | None:
        """The job's bundle; for an update job, `candidate` names another candidate's."""
        from forecasting.lineage import METHODS
        from forecasting.update_job import candidate_file

        if candidate is not None and candidate not in METHODS:
            return None
        folder = self._folder(job_id)
        name = "bundle.zip" if candidate is None else candidate_file(candidate)
        path = None if folder is None else folder / name
        return path.read_bytes() if path is not None and path.exists() else None

    def cancel(self, job_id: str) -> None:
        """Ask the job to stop after the current batch (the best weights are kept); a
        worker still running `cancel_grace` seconds later is stopped."""
        folder = self._folder(job_id)
        if folder is not None:
            (folder / "cancel").touch()
            with self._lock:
                if job_id in self._queue:  # not started yet: it never will
                    self._queue.remove(job_id)
                    write_json(
                        folder / "state.json",
                        {"state": CANCELLED, "message": "Cancelled before it started."},
                    )
                elif job_id in self._processes:
                    self._cancelled.setdefault(job_id, time.monotonic())
                self._start_queued()
            self._ensure_watcher()

    def _header(self, folder: Path) -> JobHeader | None:
        """The job's `JobHeader`, parsed from its spec once; None when unreadable."""
        header = self._headers.get(folder.name)
        if header is None:
            spec = read_spec(folder)
            if spec is None:
                return None
            header = self._headers[folder.name] = JobHeader.of(spec)
        return header

    def _folder(self, job_id: str) -> Path | None:
        """The job's folder; ids are checked so a URL can't point outside the registry."""
        if not job_id or not _ID.match(job_id):
            return None
        folder = self.root / job_id
        return folder if (folder / "spec.json").exists() else None

    def cleanup(self, keep: int | None = None, keep_bytes: int | None = None) -> None:
        """Delete finished jobs beyond the `keep` newest (by submission time) or beyond
        `keep_bytes` of disk together; running and queued jobs stay."""
        with self._lock:
            self._cleanup_locked(keep, keep_bytes)

    def _cleanup_locked(self, keep: int | None = None, keep_bytes: int | None = None) -> None:
        keep = self.keep if keep is None else keep
        budget = self.keep_bytes if keep_bytes is None else keep_bytes
        active = set(self._processes) | set(self._queue)
        finished = []
        for folder in self.root.iterdir():
            if folder.name in active or not folder.is_dir():
                continue
            state = read_json(folder / "state.json", {})
            if isinstance(state, dict) and state.get("state") in FINISHED:
                header = self._header(folder)
                finished.append((0.0 if header is None else header.created, folder.name, folder))
        used = 0
        for rank, (*_, folder) in enumerate(sorted(finished, reverse=True)):
            used += _folder_bytes(folder)
            if rank >= keep or used > budget:
                shutil.rmtree(folder, ignore_errors=True)
                self._headers.pop(folder.name, None)


def _folder_bytes(folder: Path) -> int:
    total = 0
    for path in folder.iterdir():
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def get_manager() -> JobManager:
    """The process-wide manager, configured by environment variables:
    FORECASTING_JOBS_DIR (registry folder; default `default_jobs_folder()`, private to the
    user), FORECASTING_MAX_JOBS (default 1), FORECASTING_RUNNER ("process" or "inline")."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            root = os.environ.get("FORECASTING_JOBS_DIR") or default_jobs_folder()
            _MANAGER = JobManager(
                root,
                int(os.environ.get("FORECASTING_MAX_JOBS", "1")),
                os.environ.get("FORECASTING_RUNNER", "process"),
            )
        return _MANAGER


__all__ = [
    "BACKTEST",
    "CANCELLED",
    "DONE",
    "FAILED",
    "FINISHED",
    "FORECAST",
    "PANEL",
    "QUEUED",
    "RUNNING",
    "TRAIN",
    "BundleForecast",
    "JobManager",
    "JobSpec",
    "JobStatus",
    "PanelResult",
    "frame_to_dict",
    "get_manager",
    "read_events",
    "series_from_dict",
    "series_to_dict",
]
