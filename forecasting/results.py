"""A finished run as plain JSON: what the dashboard pages plot and the runs table lists."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.pipeline import TrainedRun
from forecasting.records import format_timestamps
from forecasting.series import TimeSeries

HISTORY_POINTS = 600


def frame_to_dict(frame: pd.DataFrame) -> dict[str, list]:
    """Columns as lists; the first (dates or steps) as ISO text or ints."""
    data = {column: [float(v) for v in frame[column]] for column in frame.columns[1:]}
    return {frame.columns[0]: format_timestamps(pd.Index(frame[frame.columns[0]])), **data}


def frame_from_dict(data: dict[str, list]) -> pd.DataFrame:
    """Inverse of `frame_to_dict`: dates parsed back when they are text."""
    frame = pd.DataFrame(data)
    first = frame.columns[0]
    if len(frame) and isinstance(frame[first].iloc[0], str):
        frame[first] = pd.to_datetime(frame[first])
    return frame


def recent_frame(series: TimeSeries, points: int = HISTORY_POINTS) -> pd.DataFrame:
    """The last `points` values of a series: columns date, actual (what a forecast chart
    draws before the forecast)."""
    tail = max(0, len(series) - points)
    return pd.DataFrame({"date": series.index[tail:], "actual": series.values[tail:]})


def run_result(run: TrainedRun, data_options: dict | None = None, label: str = "") -> dict:
    """Everything the Evaluate, Forecast and Runs pages need, JSON-ready."""
    series, evaluation, horizon = run.series, run.evaluation, run.config.horizon
    first = run.plan.split.fit_end
    baselines_first = {name: forecasts[0].tolist()
                       for name, forecasts in evaluation.forecasts.items() if name != "model"}
    return {
        "label": label,
        "series": {"name": series.name, "freq": series.freq, "length": len(series)},
        "config": run.config.to_dict(),
        "data_options": data_options,
        "reasons": list(run.plan.reasons),
        "metrics": run.metrics_dict(),
        "history": run.forecaster.history_.to_dict(),
        "histories": [h.to_dict() for h in run.forecaster.histories_],
        "recent": frame_to_dict(recent_frame(series)),
        "forecast": frame_to_dict(run.forecast),
        "one_step": frame_to_dict(run.one_step),
        "test_forecast": frame_to_dict(run.test_forecast),
        "test_start": format_timestamps(series.index[first:first + 1])[0],
        "baselines_test": baselines_first,
        "by_lead": {name: evaluation.by_lead(name) for name in evaluation.forecasts
                    if np.all(np.isfinite(evaluation.forecasts[name]))},
        "horizon": horizon,
        "intervals": _bands(run),
    }


def _bands(run: TrainedRun) -> dict[str, dict]:
    """Per level ("80", "95", ...): future and test bands and the test coverage."""
    future = run.forecast["forecast"].to_numpy()
    test = run.test_forecast["forecast"].to_numpy()
    bands = {}
    for level in run.intervals.widths:
        lower, upper = run.intervals.bounds(future, level)
        test_lower, test_upper = run.intervals.bounds(test, level)
        bands[f"{level * 100:g}"] = {
            "level": level, "coverage_test": run.test_coverage[level],
            "lower": lower.tolist(), "upper": upper.tolist(),
            "test_lower": test_lower.tolist(), "test_upper": test_upper.tolist()}
    return bands
