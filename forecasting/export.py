"""CSV text for downloads: ISO dates, full-precision numbers, spreadsheet-safe text cells."""

from __future__ import annotations

import pandas as pd

from forecasting.records import format_timestamps

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Prefix text that a spreadsheet would run as a formula; numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def forecast_csv(frame: pd.DataFrame) -> str:
    """CSV text of a frame whose first column holds dates or steps."""
    out = frame.copy()
    first = out.columns[0]
    out[first] = format_timestamps(pd.Index(out[first]))
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(safe_cell)
    return out.to_csv(index=False, float_format="%.10g", lineterminator="\n")
