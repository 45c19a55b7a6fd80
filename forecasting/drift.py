"""Drift: how a model does on data newer than anything it has seen, against what it promised.

Two figures, both from the model's forecasts over the new data: its error (MASE) against its
own error on its test period, and the share of new values inside its band against the band's
nominal level. A band that holds well under what it promised (`COVERAGE_SLACK` below: 95%
promised, under 80% held) or errors that doubled (`ERROR_RATIO`) give a warning whose
suggested action is to retrain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from forecasting.evaluation import Intervals, coverage, mase_scale, metrics
from forecasting.records import JsonRecord

COVERAGE_SLACK = 0.15  # coverage this far under the nominal level warns
ERROR_RATIO = 2.0  # errors this many times the test period's warn
RETRAIN = "retrain"


@dataclass(frozen=True)
class Drift(JsonRecord):
    """The drift check of one model on new data.

    Attributes:
        coverage: Share of the new values inside the model's band at `nominal`.
        nominal: The band's level (what it promised).
        error_ratio: The model's MASE on the new data over its MASE on its test period (MAE
            over MAE when a MASE is undefined); None when neither can be compared.
        mase: Its MASE on the new data (None when undefined).
        test_mase: Its MASE on its test period, as recorded in the bundle.
        forecasts: Forecasts scored (origins on the new data).
        warning: The warning in plain words; "" when the model holds up.
        suggestion: "retrain" with a warning, else "".
    """

    coverage: float
    nominal: float
    error_ratio: float | None
    mase: float | None
    test_mase: float | None
    forecasts: int
    warning: str = ""
    suggestion: str = ""


def check_drift(
    actual: np.ndarray,
    forecasts: np.ndarray,
    intervals: Intervals,
    level: float,
    test_metrics: dict,
    insample: np.ndarray,
    period: int,
) -> Drift:
    """Compare a model's forecasts of new data with what it promised.

    Args:
        actual: The new values, `(forecasts, horizon)`.
        forecasts: The model's forecasts of them, same shape (each from data before its
            origin only).
        intervals: The model's bands; `level` is the one it promised.
        level: Nominal level of the band checked.
        test_metrics: The model's metrics on its test period (`mase`, `mae`).
        insample: The values before the new data (the MASE scale).
        period: Seasonal period (for the MASE scale).
    """
    actual, forecasts = np.asarray(actual, float), np.asarray(forecasts, float)
    held = coverage(actual, *intervals.bounds(forecasts, level))
    now = metrics(actual, forecasts, mase_scale(insample, period))
    ratio = _ratio(now.get("mase"), test_metrics.get("mase"))
    if ratio is None:
        ratio = _ratio(now.get("mae"), test_metrics.get("mae"))
    said = []
    if held < level - COVERAGE_SLACK:
        said.append(
            f"its {level:.0%} band held {held:.0%} of the new values (under "
            f"{level - COVERAGE_SLACK:.0%})"
        )
    if ratio is not None and ratio >= ERROR_RATIO:
        said.append(f"its errors are {ratio:.1f} times those of its test period")
    warning = ""
    if said:
        warning = (
            "Drift: on the new data " + " and ".join(said) + ". The series has changed since "
            "the model was trained: retrain it (keep the retrained candidate, or train "
            "again on the Train page)."
        )
    return Drift(
        held,
        float(level),
        ratio,
        now.get("mase"),
        test_metrics.get("mase"),
        int(actual.shape[0]),
        warning,
        RETRAIN if warning else "",
    )


def _ratio(now, before) -> float | None:
    if now is None or before is None or not math.isfinite(before) or before <= 0:
        return None
    return float(now) / float(before)


__all__ = ["COVERAGE_SLACK", "ERROR_RATIO", "RETRAIN", "Drift", "check_drift"]
