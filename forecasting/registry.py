"""The on-disk job registry's records: a job's spec, state words and files, what a page is
shown about a job, and the epoch events a worker appends (see `forecasting.jobs`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from forecasting.errors import ConfigError
from forecasting.records import JsonRecord
from forecasting.results import ForecastFrame, RecentFrame
from forecasting.series import TimeSeries
from forecasting.training import EpochEvent

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
TRAIN, BACKTEST, FORECAST = "train", "backtest", "forecast"
UPLOAD = "upload.zip"
# How the messages of each kind name it.
NOUNS = {TRAIN: "training", BACKTEST: "backtest", FORECAST: "forecast from the bundle"}
ADVICE = {
    TRAIN: "perhaps with fewer units or a shorter window",
    BACKTEST: "perhaps with fewer folds or fewer units",
    FORECAST: "or download the bundle again",
}


def write_json(path: Path, data) -> None:
    """Write JSON atomically (readers never see half a file)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path, default=None):
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
        owner: The session that submitted it (its key; "" for none): the session lists
            its own jobs again after a reload.
    """

    kind: str
    label: str = ""
    created: float = 0.0
    series: dict | None = None
    config: dict | None = None
    data_options: dict | None = None
    folds: int = 0
    owner: str = ""

    def __post_init__(self) -> None:
        if self.kind not in NOUNS:
            raise ConfigError(
                f"`kind` must be one of {', '.join(NOUNS)}. Received: kind={self.kind!r}"
            )
        if self.kind in (TRAIN, BACKTEST) and (self.series is None or self.config is None):
            raise ConfigError(f"A {self.kind} job needs a series and a configuration.")
        if self.kind == BACKTEST and not (isinstance(self.folds, int) and self.folds >= 1):
            raise ConfigError(
                f"`folds` must be at least 1 for a backtest. Received: folds={self.folds!r}"
            )


@dataclass(frozen=True)
class JobHeader:
    """The fields of a `JobSpec` that status lines, lists and cleanup read, without the
    series (a spec of a large upload is megabytes: it is parsed once, then kept as this)."""

    kind: str
    label: str
    created: float
    folds: int
    owner: str

    @classmethod
    def of(cls, spec: JobSpec) -> JobHeader:
        return cls(spec.kind, spec.label, spec.created, spec.folds, spec.owner)


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


def read_spec(folder: Path) -> JobSpec | None:
    try:
        return JobSpec.from_json((folder / "spec.json").read_text(encoding="utf-8"))
    except (OSError, ConfigError):
        return None


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
