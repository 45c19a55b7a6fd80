"""The worker's side of a job: `run_job` reads the spec, runs the work of its kind (train,
backtest, forecast from an uploaded bundle, many-series training) and records the end in the
job's folder however it comes (a result, an error, Ctrl-C, a kill signal).

`python -m forecasting.runner FOLDER` is the worker process (`forecasting.jobs` starts it);
the inline runner of the tests calls `run_job` in-process.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from forecasting.errors import ConfigError
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
    RUNNING,
    TRAIN,
    TUNE,
    UPDATE,
    UPLOAD,
    BundleForecast,
    JobSpec,
    read_json,
    series_from_dict,
    write_json,
)
from forecasting.results import ForecastFrame, RecentFrame
from forecasting.training import EpochEvent
from forecasting.workers import process_start


def run_job(folder: str | Path, *, on_signals: bool = False) -> None:
    """Run the job in `folder`: the worker process's whole life (also the inline runner).

    Dispatches on the spec's kind; a `ForecastingError` (a message for people, such as a
    `BundleError`) becomes the failed job's message unchanged. However the work ends (an
    error, Ctrl-C, a kill signal when `on_signals`), the state records the end.
    """
    from forecasting.errors import ForecastingError

    folder = Path(folder)
    try:
        spec = JobSpec.from_json((folder / "spec.json").read_text(encoding="utf-8"))
    except (OSError, ConfigError) as exc:
        write_json(
            folder / "state.json", {"state": FAILED, "message": f"The job cannot be read ({exc})."}
        )
        return
    if on_signals:
        _record_end_on_signals(folder, spec.kind)
    write_json(
        folder / "state.json",
        {"state": RUNNING, "message": "", "pid": os.getpid(), "start": process_start(os.getpid())},
    )
    cancel_flag = folder / "cancel"
    work = _WORKERS[spec.kind]
    try:
        with open(folder / "events.jsonl", "a", encoding="utf-8") as events:

            def on_epoch(event: EpochEvent) -> None:
                events.write(json.dumps(event.to_dict()) + "\n")
                events.flush()

            result, message = work(folder, spec, on_epoch, cancel_flag.exists)
        write_json(folder / "result.json", result if isinstance(result, dict) else result.to_dict())
        write_json(folder / "state.json", {"state": DONE, "message": message})
    except ForecastingError as exc:
        state = CANCELLED if cancel_flag.exists() else FAILED
        write_json(folder / "state.json", {"state": state, "message": str(exc)})
    except Exception as exc:  # noqa: BLE001 - the page shows a message, never a traceback
        traceback.print_exc()  # into worker.log, for the developers
        write_json(
            folder / "state.json",
            {
                "state": FAILED,
                "message": f"The {NOUNS[spec.kind]} failed unexpectedly "
                f"({type(exc).__name__}). Try again, {ADVICE[spec.kind]}.",
            },
        )
    except BaseException:  # KeyboardInterrupt, SystemExit: record the end, then go on
        record_stop(folder, spec.kind, signal.SIGINT)
        raise


def record_stop(folder: Path, kind: str, signum: int) -> None:
    """Record that the worker of the job in `folder` was stopped by `signum` (unless it
    already recorded its end): cancelled when a cancel was asked, else failed."""
    if read_json(folder / "state.json", {}).get("state") in FINISHED:
        return
    if (folder / "cancel").exists():
        state, message = CANCELLED, "Cancelled: the run was stopped before it could save anything."
    elif signum == signal.SIGINT:
        state, message = (
            FAILED,
            f"The {NOUNS[kind]} was interrupted (Ctrl-C in the server's terminal). Run it again.",
        )
    else:
        state, message = (
            FAILED,
            f"The {NOUNS[kind]} process was stopped (signal "
            f"{signal.Signals(signum).name}). Run it again.",
        )
    write_json(folder / "state.json", {"state": state, "message": message})


def _record_end_on_signals(folder: Path, kind: str) -> None:
    """SIGINT and SIGTERM record the job's end and exit the worker at once."""

    def handler(signum, frame) -> None:
        record_stop(folder, kind, signum)
        sys.stdout.flush()
        os._exit(128 + signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)


Work = Callable[
    [Path, JobSpec, Callable[[EpochEvent], None], Callable[[], bool]], tuple[object, str]
]


def _training(folder: Path, spec: JobSpec, on_epoch, should_stop) -> tuple[object, str]:
    """Train, save the bundle; the result the pages draw."""
    from forecasting.bundle import Bundle
    from forecasting.config import RunConfig
    from forecasting.pipeline import train
    from forecasting.results import run_result

    run = train(
        series_from_dict(spec.series),
        RunConfig.from_dict(spec.config),
        roles=spec.covariate_roles,
        future=spec.future_table,
        on_epoch=on_epoch,
        should_stop=should_stop,
    )
    Bundle.from_run(run, spec.data_options).save(folder / "bundle.zip")
    cancelled = run.forecaster.history_.stopped_by == "cancel"
    return (
        run_result(run, spec.data_options, spec.label),
        "Cancelled: the best weights so far were kept." if cancelled else "",
    )


def _backtest(folder: Path, spec: JobSpec, on_epoch, should_stop) -> tuple[object, str]:
    """A rolling-origin backtest; progress lines say which fold runs."""
    from forecasting.backtest import backtest
    from forecasting.config import RunConfig

    def on_fold(fold: int, folds: int) -> None:
        write_json(folder / "fold.json", {"fold": fold, "folds": folds})

    result = backtest(
        series_from_dict(spec.series),
        RunConfig.from_dict(spec.config),
        spec.folds,
        roles=spec.covariate_roles,
        on_fold=on_fold,
        on_epoch=on_epoch,
        should_stop=should_stop,
    )
    return {"label": spec.label, "backtest": result.to_dict()}, ""


def _forecast(folder: Path, spec: JobSpec, on_epoch, should_stop) -> tuple[object, str]:
    """Check and load the uploaded bundle, forecast after the series sent (or after the
    bundle's own data, with the future covariates' values sent) and the history a chart
    draws before it."""
    from forecasting.bundle import load_bundle

    bundle = load_bundle(folder / UPLOAD)
    series = None if spec.series is None else series_from_dict(spec.series)
    frame = bundle.forecast(series, spec.future_table)
    history = bundle.history_frame(series, max(4 * len(frame), 48))
    return BundleForecast(
        bundle.series["name"],
        bundle.config.model.cell,
        bundle.config.level,
        series is None,
        ForecastFrame.from_frame(frame),
        RecentFrame.from_frame(history),
    ), ""


def _panel(folder: Path, spec: JobSpec, on_epoch, should_stop) -> tuple[object, str]:
    """Train one global network on many series, save the panel bundle; the result the pages
    draw."""
    from forecasting.config import RunConfig
    from forecasting.panel import Panel
    from forecasting.panel_bundle import PanelBundle
    from forecasting.panel_pipeline import train_panel
    from forecasting.results import PanelResult

    run = train_panel(
        Panel.from_dict(spec.panel),
        RunConfig.from_dict(spec.config),
        on_epoch=on_epoch,
        should_stop=should_stop,
    )
    if run.plan.splits:  # else every series is too short: no network to save
        PanelBundle.from_run(run, spec.data_options).save(folder / "bundle.zip")
    cancelled = run.forecaster.history_.stopped_by == "cancel"
    return (
        PanelResult.from_run(run, spec.data_options, spec.label),
        "Cancelled: the best weights so far were kept." if cancelled else "",
    )


def _tune(folder: Path, spec: JobSpec, on_epoch, should_stop) -> tuple[object, str]:
    """A budgeted search on Ray (`forecasting.tune_job`)."""
    from forecasting.tune_job import run_tune_job

    return run_tune_job(folder, spec, on_epoch, should_stop)


def _update(folder: Path, spec: JobSpec, on_epoch, should_stop) -> tuple[object, str]:
    """A bundle updated with new data (`forecasting.update_job`)."""
    from forecasting.update_job import run_update_job

    return run_update_job(folder, spec, on_epoch, should_stop)


_WORKERS: dict[str, Work] = {
    TRAIN: _training,
    BACKTEST: _backtest,
    FORECAST: _forecast,
    PANEL: _panel,
    TUNE: _tune,
    UPDATE: _update,
}


if __name__ == "__main__":
    run_job(sys.argv[1], on_signals=True)
    # Everything is on disk: skip the backend's slow interpreter teardown, free memory now.
    sys.stdout.flush()
    os._exit(0)
