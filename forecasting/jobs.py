"""Work off the page script: trainings, backtests and forecasts from an uploaded bundle run as
jobs, one worker process each.

A job lives in its own folder (the on-disk registry), so a page finds it again after a
reload from its id alone:

    spec.json      the `JobSpec`: kind, series, run configuration, ...      written by submit
    upload.zip     the uploaded bundle (forecast jobs)                        written by submit
    state.json     queued / running / done / failed / cancelled, and a message (atomic writes)
    events.jsonl   one `EpochEvent` per finished epoch (append-only)
    fold.json      the backtest fold running now
    cancel         present when a cancel was asked for
    result.json    what the pages draw                                        written by the worker
    bundle.zip     the trained model (train jobs)                             written by the worker
    worker.log     the worker's output, for the developers

The server process never imports Keras, TensorFlow or JAX: workers do (`run_job`, the one
worker entry point, dispatches on the spec's kind), and their memory returns to the system
when they exit. At most `max_running` workers run at once; other jobs wait in a queue. Tests
can use the inline runner, which runs the very same worker code synchronously.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from forecasting.errors import ConfigError
from forecasting.records import JsonRecord
from forecasting.results import ForecastFrame, RecentFrame
from forecasting.series import TimeSeries
from forecasting.training import EpochEvent

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
KEEP_FINISHED = 50
TRAIN, BACKTEST, FORECAST = "train", "backtest", "forecast"
UPLOAD = "upload.zip"
# How the messages of each kind name it.
_NOUNS = {TRAIN: "training", BACKTEST: "backtest", FORECAST: "forecast from the bundle"}
_ADVICE = {TRAIN: "perhaps with fewer units or a shorter window",
           BACKTEST: "perhaps with fewer folds or fewer units",
           FORECAST: "or download the bundle again"}
WORKER_COMMAND = (sys.executable, "-m", "forecasting.jobs")


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
    return series.to_dict()


def series_from_dict(data: dict) -> TimeSeries:
    return TimeSeries.from_dict(data)


@dataclass(frozen=True)
class JobSpec(JsonRecord):
    """What a job does (`spec.json`).

    Attributes:
        kind: "train", "backtest" or "forecast" (from an uploaded bundle, `upload.zip`).
        label: Short description shown in the dashboard.
        created: Submission time (epoch seconds).
        series: The series (`series_to_dict`); for a forecast, newer data to forecast
            after, or None for the data the bundle was trained on.
        config: The run configuration (`RunConfig.to_dict`); train and backtest.
        data_options: How the data file was read, or None.
        folds: Folds of a backtest (0 for other kinds).
    """

    kind: str
    label: str = ""
    created: float = 0.0
    series: dict | None = None
    config: dict | None = None
    data_options: dict | None = None
    folds: int = 0

    def __post_init__(self) -> None:
        if self.kind not in _NOUNS:
            raise ConfigError(f"`kind` must be one of {', '.join(_NOUNS)}. "
                              f"Received: kind={self.kind!r}")
        if self.kind in (TRAIN, BACKTEST) and (self.series is None or self.config is None):
            raise ConfigError(f"A {self.kind} job needs a series and a configuration.")
        if self.kind == BACKTEST and not (isinstance(self.folds, int) and self.folds >= 1):
            raise ConfigError(f"`folds` must be at least 1 for a backtest. "
                              f"Received: folds={self.folds!r}")


@dataclass(frozen=True)
class BundleForecast(JsonRecord):
    """What a forecast job hands back (its `result.json`).

    Attributes:
        name: The series' name.
        cell: The bundle's cell kind.
        level: Coverage of the band.
        after_bundle_data: True when forecast after the data the bundle was trained on,
            False after the series sent with the job.
        forecast: The forecast with its band.
        history: The end of the history before it (what the chart draws first).
    """

    name: str
    cell: str
    level: float
    after_bundle_data: bool
    forecast: ForecastFrame
    history: RecentFrame


@dataclass
class JobStatus:
    """What a page shows about a job.

    Attributes:
        id: Job id.
        state: queued, running, done, failed or cancelled.
        events: Finished epochs so far.
        message: Why it failed, or a note.
        queue_position: 1 for the next job to start, 0 when not queued.
        label: Short description given at submission.
        created: Submission time (epoch seconds).
        fold: For a backtest, the fold running now (1-based; 0 before the first).
        folds: For a backtest, the number of folds (0 for other kinds).
        kind: train, backtest or forecast.
    """

    id: str
    state: str
    events: list[EpochEvent] = field(default_factory=list)
    message: str = ""
    queue_position: int = 0
    label: str = ""
    created: float = 0.0
    fold: int = 0
    folds: int = 0
    kind: str = TRAIN

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


def _read_spec(folder: Path) -> JobSpec | None:
    try:
        return JobSpec.from_json((folder / "spec.json").read_text(encoding="utf-8"))
    except (OSError, ConfigError):
        return None


class JobManager:
    """Submits, tracks, cancels and cleans up jobs.

    Args:
        root: Folder of the job registry.
        max_running: Most jobs at once; later jobs queue.
        runner: "process" (a worker process per job) or "inline" (synchronous, for tests).
        worker: The command of a worker process; the job's folder is appended.
    """

    def __init__(self, root: str | Path, max_running: int = 1, runner: str = "process",
                 worker: Sequence[str] = WORKER_COMMAND):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_running = max(1, int(max_running))
        self.runner = runner
        self.worker = tuple(worker)
        self._lock = threading.Lock()
        self._processes: dict[str, subprocess.Popen] = {}
        self._queue: list[str] = []
        self._watcher: threading.Thread | None = None

    # ------------------------------------------------------------------ submit
    def submit(self, spec: JobSpec, upload: bytes | None = None) -> str:
        """Queue the job `spec` (with the uploaded bundle of a forecast); returns its id."""
        if spec.kind == FORECAST and upload is None:
            raise ConfigError("A forecast job needs the uploaded bundle.")
        job_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]
        folder = self.root / job_id
        folder.mkdir()
        if upload is not None:
            (folder / UPLOAD).write_bytes(upload)
        _write_json(folder / "spec.json", spec.replace(created=time.time()).to_dict())
        _write_json(folder / "state.json", {"state": QUEUED, "message": ""})
        if self.runner == "inline":
            run_job(folder)
            return job_id
        with self._lock:
            self._queue.append(job_id)
            self._start_queued()
        self._ensure_watcher()
        return job_id

    def submit_training(self, series: TimeSeries, config, data_options: dict | None = None,
                        label: str = "") -> str:
        """Queue a training of `series` with `config` (a RunConfig)."""
        return self.submit(JobSpec(TRAIN, label, series=series_to_dict(series),
                                   config=config.to_dict(), data_options=data_options))

    def submit_backtest(self, series: TimeSeries, config, folds: int,
                        data_options: dict | None = None, label: str = "") -> str:
        """Queue a rolling-origin backtest of `config` on `series` with `folds` folds."""
        return self.submit(JobSpec(BACKTEST, label, series=series_to_dict(series),
                                   config=config.to_dict(), data_options=data_options,
                                   folds=folds))

    def submit_forecast(self, bundle: bytes, series: TimeSeries | None = None,
                        label: str = "") -> str:
        """Queue a forecast from an uploaded bundle (checked by the worker before anything
        in it is loaded), after `series` or, when None, after the bundle's own data."""
        series_data = None if series is None else series_to_dict(series)
        return self.submit(JobSpec(FORECAST, label, series=series_data), upload=bundle)

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
                [*self.worker, str(folder)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
            log.close()

    def _mark_if_crashed(self, job_id: str, returncode: int) -> None:
        folder = self.root / job_id
        state = _read_json(folder / "state.json", {})
        if folder.is_dir() and state.get("state") not in FINISHED:
            spec = _read_spec(folder)
            kind = spec.kind if spec is not None else TRAIN
            _write_json(folder / "state.json", {
                "state": FAILED,
                "message": f"The {_NOUNS[kind]} process stopped unexpectedly (exit code "
                           f"{returncode}). The app keeps working: try again, "
                           f"{_ADVICE[kind]}."})

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
        spec = _read_spec(folder)
        if spec is None:
            return JobStatus(job_id, FAILED, message="This job was made by an earlier version "
                             "of the studio and cannot be read. Run it again.")
        fold = _read_json(folder / "fold.json", {})
        return JobStatus(job_id, state.get("state", FAILED), read_events(folder),
                         state.get("message", ""), position, spec.label, spec.created,
                         fold.get("fold", 0), spec.folds, spec.kind)

    def result(self, job_id: str) -> dict | None:
        """The finished job's result as stored (the pages parse it into its record), or
        None."""
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

    def _folder(self, job_id: str) -> Path | None:
        """The job's folder; ids are checked so a URL can't point outside the registry."""
        if not job_id or not all(c.isalnum() or c == "-" for c in job_id):
            return None
        folder = self.root / job_id
        return folder if (folder / "spec.json").exists() else None

    def cleanup(self, keep: int = KEEP_FINISHED) -> None:
        """Delete all but the `keep` newest finished jobs (newest by submission time); a
        job whose worker has not been reaped yet stays until it has."""
        with self._lock:
            active = set(self._processes) | set(self._queue)
        finished = []
        for folder in self.root.iterdir():
            if folder.name in active:
                continue
            state = _read_json(folder / "state.json", {})
            if folder.is_dir() and state.get("state") in FINISHED:
                spec = _read_json(folder / "spec.json", {})
                created = spec.get("created", 0.0) if isinstance(spec, dict) else 0.0
                finished.append((created, folder.name, folder))
        for *_, folder in sorted(finished)[:-keep or None]:
            shutil.rmtree(folder, ignore_errors=True)


def read_events(folder: Path) -> list[EpochEvent]:
    """Epoch events so far; a half-written last line is skipped."""
    try:
        lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        try:
            events.append(EpochEvent.from_dict(json.loads(line)))
        except (json.JSONDecodeError, ConfigError):
            break
    return events


# ---------------------------------------------------------------------- worker side
def run_job(folder: str | Path) -> None:
    """Run the job in `folder`: the worker process's whole life (also the inline runner).

    Dispatches on the spec's kind; a `ForecastingError` (a message for people, such as a
    `BundleError`) becomes the failed job's message unchanged.
    """
    from forecasting.errors import ForecastingError

    folder = Path(folder)
    try:
        spec = JobSpec.from_json((folder / "spec.json").read_text(encoding="utf-8"))
    except (OSError, ConfigError) as exc:
        _write_json(folder / "state.json", {"state": FAILED,
                                            "message": f"The job cannot be read ({exc})."})
        return
    _write_json(folder / "state.json", {"state": RUNNING, "message": "", "pid": os.getpid()})
    cancel_flag = folder / "cancel"
    work = _WORKERS[spec.kind]
    with open(folder / "events.jsonl", "a", encoding="utf-8") as events:
        def on_epoch(event: EpochEvent) -> None:
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
            noun = _NOUNS[spec.kind]
            _write_json(folder / "state.json", {
                "state": FAILED, "message": f"The {noun} failed unexpectedly "
                f"({type(exc).__name__}). Try again, {_ADVICE[spec.kind]}."})
            return
    _write_json(folder / "result.json", result if isinstance(result, dict) else result.to_dict())
    _write_json(folder / "state.json", {"state": DONE, "message": message})


Work = Callable[[Path, JobSpec, Callable[[EpochEvent], None], Callable[[], bool]],
                tuple[object, str]]


def _training(folder: Path, spec: JobSpec, on_epoch, should_stop) -> tuple[object, str]:
    """Train, save the bundle; the result the pages draw."""
    from forecasting.bundle import Bundle
    from forecasting.config import RunConfig
    from forecasting.pipeline import train
    from forecasting.results import run_result

    run = train(series_from_dict(spec.series), RunConfig.from_dict(spec.config),
                on_epoch=on_epoch, should_stop=should_stop)
    Bundle.from_run(run, spec.data_options).save(folder / "bundle.zip")
    cancelled = run.forecaster.history_.stopped_by == "cancel"
    return (run_result(run, spec.data_options, spec.label),
            "Cancelled: the best weights so far were kept." if cancelled else "")


def _backtest(folder: Path, spec: JobSpec, on_epoch, should_stop) -> tuple[object, str]:
    """A rolling-origin backtest; progress lines say which fold runs."""
    from forecasting.backtest import backtest
    from forecasting.config import RunConfig

    def on_fold(fold: int, folds: int) -> None:
        _write_json(folder / "fold.json", {"fold": fold, "folds": folds})

    result = backtest(series_from_dict(spec.series), RunConfig.from_dict(spec.config),
                      spec.folds, on_fold=on_fold, on_epoch=on_epoch, should_stop=should_stop)
    return {"label": spec.label, "backtest": result.to_dict()}, ""


def _forecast(folder: Path, spec: JobSpec, on_epoch, should_stop) -> tuple[object, str]:
    """Check and load the uploaded bundle, forecast after the series sent (or after the
    bundle's own data) and the history a chart draws before it."""
    from forecasting.bundle import load_bundle

    bundle = load_bundle(folder / UPLOAD)
    series = None if spec.series is None else series_from_dict(spec.series)
    frame = bundle.forecast(series)
    history = bundle.history_frame(series, max(4 * len(frame), 48))
    return BundleForecast(bundle.series["name"], bundle.config.model.cell, bundle.config.level,
                          series is None, ForecastFrame.from_frame(frame),
                          RecentFrame.from_frame(history)), ""


_WORKERS: dict[str, Work] = {TRAIN: _training, BACKTEST: _backtest, FORECAST: _forecast}
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
    # Everything is on disk: skip the backend's slow interpreter teardown, free memory now.
    sys.stdout.flush()
    os._exit(0)
