"""The on-disk job registry's records: a job's spec, state words and files, what a page is
shown about a job, and the epoch events a worker appends (see `forecasting.jobs`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecasting.covariates import Roles
from forecasting.errors import ConfigError
from forecasting.records import JsonRecord, format_timestamps, parse_timestamps
from forecasting.results import ForecastFrame, RecentFrame
from forecasting.series import TimeSeries, _column_from_json, _column_json
from forecasting.training import EpochEvent

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
TRAIN, BACKTEST, FORECAST, PANEL = "train", "backtest", "forecast", "panel"
TUNE, UPDATE = "tune", "update"
UPLOAD = "upload.zip"
# How the messages of each kind name it.
NOUNS = {
    TRAIN: "training",
    BACKTEST: "backtest",
    FORECAST: "forecast from the bundle",
    PANEL: "many-series training",
    TUNE: "tuning",
    UPDATE: "update with new data",
}
ADVICE = {
    TRAIN: "perhaps with fewer units or a shorter window",
    BACKTEST: "perhaps with fewer folds or fewer units",
    FORECAST: "or download the bundle again",
    PANEL: "perhaps with fewer units or a shorter window",
    TUNE: "perhaps with a smaller search space or a shorter budget",
    UPDATE: "or check that the new data continues the model's data",
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


def frame_to_dict(frame: pd.DataFrame) -> dict:
    """A table indexed by timestamp (a future file's table) as plain JSON.

    Returns:
        `{"index": [...], "columns": [{"name": ..., "values": [...]}, ...]}` (a list, so
        the order of the columns survives sorted keys): the timestamps as
        `records.format_timestamps` writes them; numeric columns as floats with None where a
        value is missing, text columns as str with None.
    """
    return {
        "index": format_timestamps(frame.index),
        "columns": [
            {"name": str(name), "values": _column_json(column)} for name, column in frame.items()
        ],
    }


def frame_from_dict(data: dict) -> pd.DataFrame:
    """The table back from `frame_to_dict`: a DatetimeIndex named "date" (or integer steps),
    float64 numeric columns (NaN where missing), object text columns (None where missing).

    Raises:
        ConfigError: Not the shape `frame_to_dict` writes.
    """
    if (
        not isinstance(data, dict)
        or set(data) != {"index", "columns"}
        or not isinstance(data["index"], list)
        or not isinstance(data["columns"], list)
        or not all(
            isinstance(c, dict) and set(c) == {"name", "values"} and isinstance(c["name"], str)
            for c in data["columns"]
        )
    ):
        raise ConfigError(
            "A table must be an object with the keys index (timestamps) and columns (a list "
            "of {name, values})."
        )
    try:
        index = parse_timestamps(data["index"], name="date")
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"The table's timestamps cannot be read ({exc}).") from None
    columns = {}
    for column in data["columns"]:
        name, values = column["name"], column["values"]
        if not isinstance(values, list) or len(values) != len(index) or name in columns:
            raise ConfigError(
                f"The table's column {name!r} must appear once, with a list of {len(index)} "
                "values (one per timestamp)."
            )
        try:
            columns[name] = _column_from_json(name, values, index)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"The table's column {name!r} cannot be read ({exc}).") from None
    return pd.DataFrame(columns, index=index)


@dataclass(frozen=True)
class JobSpec(JsonRecord):
    """What a job does (`spec.json`).

    Attributes:
        kind: "train", "backtest", "forecast" (from an uploaded bundle, `upload.zip`) or
            "panel" (one global network trained on many series).
        label: Short description shown in the dashboard.
        created: Submission time (epoch seconds).
        series: The series (`series_to_dict`); for a forecast, newer data to forecast
            after, or None for the data the bundle was trained on.
        config: The run configuration (`RunConfig.to_dict`); train and backtest.
        data_options: How the data file was read, or None.
        folds: Folds of a backtest (0 for other kinds).
        owner: The session that submitted it (its key; "" for none): the session lists
            its own jobs again after a reload.
        roles: The covariates' roles (`Roles.to_dict`), or None for none; train and
            backtest.
        future: The future covariates' values after the end (`frame_to_dict` of a future
            file's table), or None; train and forecast.
        panel: The series of a many-series training (`Panel.to_dict`), or None; panel.
        options: The settings of the kind's own work (a tuning's budget and search space,
            an update's choices), or None.
    """

    kind: str
    label: str = ""
    created: float = 0.0
    series: dict | None = None
    config: dict | None = None
    data_options: dict | None = None
    folds: int = 0
    owner: str = ""
    roles: dict | None = None
    future: dict | None = None
    panel: dict | None = None
    options: dict | None = None

    def __post_init__(self) -> None:
        if self.kind not in NOUNS:
            raise ConfigError(
                f"`kind` must be one of {', '.join(NOUNS)}. Received: kind={self.kind!r}"
            )
        if self.kind in (TRAIN, BACKTEST) and (self.series is None or self.config is None):
            raise ConfigError(f"A {self.kind} job needs a series and a configuration.")
        if self.kind == PANEL and (self.panel is None or self.config is None):
            raise ConfigError("A panel job needs the many-series data and a configuration.")
        if self.kind == BACKTEST and not (isinstance(self.folds, int) and self.folds >= 1):
            raise ConfigError(
                f"`folds` must be at least 1 for a backtest. Received: folds={self.folds!r}"
            )
        for name in ("roles", "future", "panel", "options"):
            value = getattr(self, name)
            if not isinstance(value, (dict, type(None))):
                raise ConfigError(
                    f"`{name}` must be an object or null. Received: {type(value).__name__}"
                )
        if self.roles is not None:
            Roles.from_dict(self.roles)  # ConfigError naming an unknown key or a double role

    @property
    def covariate_roles(self) -> Roles | None:
        """The roles as a record (None when the job has none)."""
        return None if self.roles is None else Roles.from_dict(self.roles)

    @property
    def future_table(self) -> pd.DataFrame | None:
        """The future covariates' table (None when the job has none)."""
        return None if self.future is None else frame_from_dict(self.future)


@dataclass(frozen=True)
class JobHeader:
    """The fields of a `JobSpec` that status lines, lists and cleanup read, without the
    series or panel (a spec of a large upload is megabytes: it is parsed once, then kept as
    this)."""

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
        kind: train, backtest, forecast or panel.
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
