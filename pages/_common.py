"""Session state, caches and small widgets shared by the app frame and the pages.

Only Streamlit glue lives here: reading files, planning, training and everything else is a
call into `forecasting`. Nothing here imports TensorFlow.

Session state keys:
    series, series_key, data_options, source   the current series and how it was read
    panel, panel_key, panel_label              many series read from one file (a `Panel`;
                                               None for one series), its cache key, and the
                                               chosen series (`series` is that one)
    upload                                     the last uploaded file, as uploaded
    roles, roles_choice, roles_key             the covariates' roles: the last valid ones, the
                                               Data page's current (maybe refused) choice, and
                                               the series they belong to (`current_roles`)
    future_table, future_upload                the future file's table and its upload
    job, jobs                                  the current training and all of the session
    session_key                                the session's key (`?session=`), its jobs' owner
    p_*                                        widget values (persist_state="session")
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import runpy
import secrets
from pathlib import Path

import pandas as pd
import streamlit as st

from forecasting.config import RunConfig
from forecasting.covariates import Roles, check_roles, default_roles
from forecasting.errors import ConfigError, DataError, ForecastingError, SeriesTooShortError
from forecasting.export import safe_cell
from forecasting.jobs import DONE, JobStatus, get_manager
from forecasting.loading import (
    AmbiguousDatesError,
    LoadOptions,
    read_future,
    read_table,
    series_from_table,
    workbook_sheets,
)
from forecasting.pipeline import fallback_forecast, plan_run
from forecasting.progress import training_progress
from forecasting.records import format_timestamps
from forecasting.registry import PANEL, TRAIN, TUNE
from forecasting.results import BacktestResult, PanelResult, RunResult
from forecasting.samples import get_sample, sample_csv_bytes
from forecasting.series import TimeSeries
from forecasting.settings import AUTO, config_from_widgets, widget_defaults
from forecasting.tune_job import tuned_run

APP_PATH = Path(__file__).resolve().parent.parent / "app.py"
DEFAULT_SAMPLE = "Monthly sales (seasonal)"
PAGES = {
    "data": "pages/data.py",
    "train": "pages/train.py",
    "evaluate": "pages/evaluate.py",
    "forecast": "pages/forecast.py",
    "runs": "pages/runs.py",
}
STATE_WORDS = {
    "queued": "Queued",
    "running": "Training",
    "done": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
_DEFAULT_OPTIONS = LoadOptions().to_dict()


# ---------------------------------------------------------------------- frame
def ensure_frame() -> None:
    """Run the page inside the app frame, even when Streamlit runs the page file alone.

    Streamlit treats an app with a `pages/` folder as an old-style multipage app until
    `st.navigation` is first called in the process (and AppTest resets that before every
    run). A deep link such as `/train?job=...` as the first request after a server start
    would then run the page script alone: no session bootstrap, no sidebar. Every page calls
    this first: in that case it runs `app.py` (which calls `st.navigation` and draws this
    page inside the frame) and stops the bare run. Widget clicks of the run are kept.

    No supported way exists (Streamlit 1.67): the flag is set from the folder's existence
    when the first `PagesManager` is made, and only `st.navigation` clears it; there is no
    config option, and renaming `pages/` is ruled out by the project's layout. So this reads
    and clears the private class attribute `PagesManager.uses_pages_directory`, the same one
    `st.navigation` clears; tests/app/test_frame.py pins it and breaks when Streamlit changes.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(APP_PATH), run_name="__main__")
        st.stop()


# ---------------------------------------------------------------------- reading data
def digest(data: bytes) -> str:
    """SHA-256 of the bytes: the cache key of a file (Streamlit never hashes the bytes)."""
    return hashlib.sha256(data).hexdigest()


@st.cache_data(max_entries=8, show_spinner=False)
def sample_bytes(name: str) -> bytes:
    return sample_csv_bytes(name)


@st.cache_data(max_entries=8, show_spinner="Reading the file…")
def parse_table(key: str, _data: bytes, filename: str | None, sheet: str | None = None):
    """`(table, None)` or `(None, message)`; cached by the content digest `key` and the
    sheet (None: the first that holds data)."""
    try:
        return read_table(_data, LoadOptions(sheet=sheet), filename=filename), None
    except DataError as exc:
        return None, str(exc)


@st.cache_data(max_entries=8, show_spinner=False)
def sheet_names(key: str, _data: bytes) -> tuple[str, ...]:
    """The sheets of an .xlsx upload (empty for other formats); cached by digest `key`."""
    return workbook_sheets(_data)


@st.cache_data(max_entries=32, show_spinner="Building the series…")
def build_series(key: str, options_json: str, _table):
    """`(series, None, ambiguous)`: the series, or None with the error message; `ambiguous`
    is True when the message is the day-first/month-first question."""
    try:
        return (
            series_from_table(_table, LoadOptions.from_dict(json.loads(options_json))),
            None,
            False,
        )
    except AmbiguousDatesError as exc:
        return None, str(exc), True
    except ForecastingError as exc:
        return None, str(exc), False


def options_json(options: LoadOptions) -> str:
    return json.dumps(options.to_dict(), sort_keys=True)


def compact_options(options: LoadOptions) -> dict:
    """The options that differ from the defaults: the "data" part of a run file."""
    return {k: v for k, v in options.to_dict().items() if v != _DEFAULT_OPTIONS[k]}


def resolve_columns(table, options: LoadOptions) -> LoadOptions:
    """Options with the date and value columns made explicit (detection's first choice)."""
    value = options.value_col or next(iter(table.value_candidates), None)
    dates = [c for c in table.date_candidates if c != value]
    date = options.date_col or next(iter(dates), None)
    return dataclasses.replace(options, value_col=value, date_col=date)


def use_series(series: TimeSeries, key: str, options: LoadOptions, source: dict) -> None:
    """Make `series` the current series of the session."""
    if st.session_state.get("series_key") == key:
        return
    st.session_state.series = series
    st.session_state.series_key = key
    st.session_state.data_options = compact_options(options)
    st.session_state.source = source


def load_default() -> None:
    """Load the default sample, through the same cached path as the Data page."""
    sample = get_sample(DEFAULT_SAMPLE)
    data = sample_bytes(sample.name)
    key = digest(data)
    table, error = parse_table(key, data, sample.filename)
    if table is None:  # pragma: no cover - the samples are generated by our own code
        st.error(error)
        st.stop()
    options = resolve_columns(table, sample.options)
    series, error, _ = build_series(key, options_json(options), table)
    if series is None:  # pragma: no cover
        st.error(error)
        st.stop()
    use_series(
        series,
        f"{key}:{options_json(options)}",
        options,
        {"kind": "sample", "name": sample.name, "filename": sample.filename},
    )


# ---------------------------------------------------------------------- jobs
def manager():
    return get_manager()


_SESSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def session_key() -> str:
    """The session's key (128 random bits), kept in the URL as `?session=` so that a reload
    finds the session's runs again; jobs are submitted with it as their owner."""
    state = st.session_state
    if "session_key" not in state:
        key = st.query_params.get("session", "")
        state.session_key = key if _SESSION_KEY.match(key) else secrets.token_urlsafe(16)
    if st.query_params.get("session") != state.session_key:
        st.query_params["session"] = state.session_key
    return state.session_key


def bootstrap() -> None:
    """First-run setup of a session: the default series, the job list (the trainings of the
    session's key, found again after a reload), and the training named by the URL."""
    state = st.session_state
    if "series" not in state:
        load_default()
    key = session_key()
    if "jobs" not in state:
        state.jobs = [j for kind in (TRAIN, PANEL, TUNE) for j in manager().jobs_of(key, kind)]
    url_job = st.query_params.get("job")
    if url_job and not state.get("job") and manager().status(url_job) is not None:
        state.job = url_job
        if url_job not in state.jobs:
            state.jobs.append(url_job)
    if state.get("job") and st.query_params.get("job") != state.job:
        st.query_params["job"] = state.job


def start_job(job_id: str) -> None:
    st.session_state.job = job_id
    if job_id not in st.session_state.jobs:
        st.session_state.jobs.append(job_id)
    st.query_params["job"] = job_id


OLD_RESULT = (
    "This run was saved by an earlier version of the studio and can no longer be "
    "shown ({error}). Train it again."
)


@st.cache_data(max_entries=64, show_spinner=False)
def _finished_result(
    job_id: str, registry: str, kind: str = TRAIN
) -> tuple[RunResult | None, str | None]:
    """`(result, None)`, or `(None, why it cannot be read)`; a tuning's is its final run's
    (`(None, None)` when a cancel ended it before the final training)."""
    data = manager().result(job_id)
    if kind == TUNE and data is not None:
        data = tuned_run(data)
        if data is None:
            return None, None
    if data is None:
        return None, "The results of this run are missing."
    try:
        return RunResult.from_dict(data), None
    except ConfigError as exc:
        return None, OLD_RESULT.format(error=exc)


def _finished(job_id: str) -> tuple[RunResult | None, str | None]:
    status = manager().status(job_id)
    if status is None or status.state != DONE or status.kind not in (TRAIN, TUNE):
        return None, None  # a many-series run has its own result (`panel_result_of`)
    return _finished_result(job_id, str(manager().root), status.kind)


def result_of(job_id: str) -> RunResult | None:
    """The result of a finished job (read from disk once), or None (not finished, or
    unreadable: `result_problem` says why)."""
    return _finished(job_id)[0]


def result_problem(job_id: str) -> str | None:
    """Why a finished job's result cannot be shown (an older format, a missing file)."""
    return _finished(job_id)[1]


def is_panel_job(job_id: str) -> bool:
    """Whether the job trains one global network on many series."""
    status = manager().status(job_id)
    return status is not None and status.kind == PANEL


@st.cache_data(max_entries=32, show_spinner=False)
def _panel_result(job_id: str, registry: str) -> tuple[PanelResult | None, str | None]:
    try:
        result = manager().panel_result(job_id)
    except ConfigError as exc:
        return None, OLD_RESULT.format(error=exc)
    return (None, "The results of this run are missing.") if result is None else (result, None)


def panel_result_of(job_id: str) -> tuple[PanelResult | None, str | None]:
    """`(result, None)` of a finished many-series job, or `(None, why not)` (`(None, None)`
    while it has not finished, or for another kind of job)."""
    status = manager().status(job_id)
    if status is None or status.state != DONE or status.kind != PANEL:
        return None, None
    return _panel_result(job_id, str(manager().root))


def backtest_result_of(job_id: str) -> tuple[BacktestResult | None, str | None]:
    """`(result, None)` of a finished backtest job, or `(None, why not)`."""
    data = manager().result(job_id)
    if data is None:
        return None, "The backtest did not finish."
    try:
        return BacktestResult.from_dict(data), None
    except ConfigError as exc:
        return None, OLD_RESULT.format(error=exc)


def finished_jobs() -> list[str]:
    """The session's successful trainings whose results can be read, newest first."""
    done = []
    for job_id in reversed(st.session_state.get("jobs", [])):
        if result_of(job_id) is not None:
            done.append(job_id)
    return done


def pick_run(key: str, label: str = "Run") -> tuple[str, RunResult] | None:
    """A selectbox over the session's finished runs (current one first); None when there is
    none, after telling the user where to train. Runs that cannot be read are named."""
    from forecasting.ui_text import HELP, md

    for job_id in st.session_state.get("jobs", []):
        problem = result_problem(job_id)
        if problem:
            st.warning(md(problem), icon=":material/history_toggle_off:")
    jobs = finished_jobs()
    if not jobs:
        st.info("No finished training yet in this session. Train a network first.")
        st.page_link(PAGES["train"], label="Go to Train", icon=":material/model_training:")
        return None
    current = st.session_state.get("job")
    if current in jobs:
        jobs.remove(current)
        jobs.insert(0, current)
    results = {job: result_of(job) for job in jobs}
    if st.session_state.get(key) not in jobs:
        st.session_state[key] = jobs[0]
    job = st.selectbox(
        label,
        jobs,
        key=key,
        persist_state="session",
        help=HELP["run"],
        format_func=lambda j: results[j].short_name(j),
    )
    return job, results[job]


def status_line(status: JobStatus) -> str:
    """One line about a job for the sidebar: "Training: epoch 12 of 100"."""
    word = STATE_WORDS.get(status.state, status.state)
    if status.state == "queued":
        # position 0: no longer waiting in the queue (a worker is taking it up)
        return (
            f"{word}, position {status.queue_position}" if status.queue_position else ("Starting…")
        )
    if status.state == "running":
        progress = training_progress(status.events)
        if progress is None:
            return f"{word}: starting…"
        last = progress.last
        text = f"{word}: epoch {last.epoch} of {last.epochs}"
        if last.members > 1:
            text += f" (network {last.member} of {last.members})"
        return text
    return word


def plan_for(series: TimeSeries, series_key: str, config: RunConfig, roles: Roles | None = None):
    """`(plan, None, False)` or `(None, message, too_short)`, cached by the series key, the
    settings and the covariates' roles."""
    roles_json = (roles or Roles()).to_json()
    return _plan(series_key, config.to_json(), roles_json, series)


@st.cache_data(max_entries=64, show_spinner=False)
def _plan(series_key: str, config_json: str, roles_json: str, _series: TimeSeries):
    try:
        plan = plan_run(_series, RunConfig.from_json(config_json), Roles.from_json(roles_json))
        return plan, None, False
    except ForecastingError as exc:
        return None, str(exc), isinstance(exc, SeriesTooShortError)


def train_config() -> RunConfig | None:
    """The run configuration of the Train page's settings (their defaults until the page is
    opened), or None when one is out of range."""
    values = {**widget_defaults(RunConfig()), **st.session_state.to_dict()}
    try:
        return config_from_widgets(RunConfig(), values)
    except ForecastingError:
        return None


def planned_horizon(series: TimeSeries, series_key: str) -> int | None:
    """The horizon the Train page's settings give this series (its automatic value
    resolved), or None when the settings cannot be planned (out of range, too short)."""
    config = train_config()
    if config is None:
        return None
    plan, _, _ = plan_for(series, series_key, config)
    if plan is not None:
        return plan.config.horizon
    return None if config.horizon == AUTO else config.horizon


# ---------------------------------------------------------------------- covariates
ROLE_WIDGETS = ("roles_editor_", "roles_calendar_", "future_uploader_")  # key prefixes


def current_roles() -> Roles:
    """The roles of the current series' other columns: the last valid choice made on the
    Data page. Loading another series resets them to its defaults (`default_roles`, less any
    column the checks refuse) and forgets the future file."""
    state = st.session_state
    if state.get("roles_key") != state.series_key:
        defaults = default_roles(state.series)
        state.roles = valid_defaults(state.series_key, state.series)
        state.roles_choice = defaults
        state.roles_key = state.series_key
        state.pop("future_table", None)
        state.pop("future_upload", None)
        for key in list(state.keys()):  # the Data page's widgets of an earlier visit
            if str(key).startswith(ROLE_WIDGETS):
                del state[key]
    return state.roles


@st.cache_data(max_entries=16, show_spinner=False)
def valid_defaults(series_key: str, _series: TimeSeries) -> Roles:
    """The default roles without the columns the checks refuse (a copy of the target)."""
    defaults = default_roles(_series)
    past = []
    for column in defaults.past:
        try:
            check_roles(_series, Roles(past=(column,)))
        except DataError:
            continue
        past.append(column)
    return Roles(past=tuple(past))


def roles_problem(series: TimeSeries, series_key: str, roles: Roles) -> str | None:
    """Why `roles` cannot be used with this series (`covariates.check_roles`), or None."""
    return _roles_problem(series_key, roles.to_json(), series)


@st.cache_data(max_entries=64, show_spinner="Checking the roles…")
def _roles_problem(series_key: str, roles_json: str, _series: TimeSeries) -> str | None:
    try:
        check_roles(_series, Roles.from_json(roles_json))
    except ForecastingError as exc:
        return str(exc)
    return None


@st.cache_data(max_entries=8, show_spinner="Reading the future file…")
def parse_future(key: str, _data: bytes, filename: str):
    """`(table, None)` or `(None, message)`: a future file read with
    `forecasting.loading.read_future`, cached by the content digest `key`."""
    try:
        return read_future(_data, filename=filename), None
    except DataError as exc:
        return None, str(exc)


def future_template(series: TimeSeries, roles: Roles, horizon: int) -> str:
    """CSV text to fill in: the `horizon` timestamps after the series' end and one empty
    column per future covariate (header cells that a spreadsheet would run are prefixed)."""
    stamps = format_timestamps(series.future_index(horizon))
    frame = pd.DataFrame({"date": stamps})
    for column in roles.future:
        frame[safe_cell(column)] = ""
    return frame.to_csv(index=False, lineterminator="\n")


@st.cache_data(max_entries=16, show_spinner=False)
def fallback_for(series_key: str, horizon: int, level: float, _series: TimeSeries):
    """The Theta method's forecast of a series too short for a network, and its note."""
    return fallback_forecast(_series, horizon, level)


# A download's type and icon, from its file name's extension.
_DOWNLOAD_KINDS = {
    ".csv": ("text/csv", ":material/download:"),
    ".zip": ("application/zip", ":material/deployed_code:"),
    ".json": ("application/json", ":material/settings:"),
}


def download_button(place, label: str, *, data, file_name: str, key: str, help=None) -> None:
    """A download button in `place` (`st` or a column) that does not rerun the page; its type
    and icon follow the file name's extension."""
    mime, icon = _DOWNLOAD_KINDS.get(
        Path(file_name).suffix.lower(), ("application/octet-stream", ":material/download:")
    )
    place.download_button(
        label,
        data=data,
        file_name=file_name,
        mime=mime,
        icon=icon,
        key=key,
        help=help,
        on_click="ignore",
    )
