"""CSV text for downloads: ISO dates, full-precision numbers, spreadsheet-safe text cells."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from forecasting.records import format_timestamps

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORECAST_COLUMNS = ("date", "forecast", "lower", "upper")


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


def long_forecast_csv(forecast: pd.DataFrame, id_cols: Sequence[str]) -> str:
    """CSV text of a many-series forecast: the id columns under their own names, then date,
    forecast, lower, upper (ISO dates, full-precision numbers, spreadsheet-safe ids)."""
    dates = forecast["date"]
    if pd.api.types.is_datetime64_any_dtype(dates) or pd.api.types.is_integer_dtype(dates):
        date_text = pd.Series(format_timestamps(pd.Index(dates)), index=forecast.index)
    else:
        date_text = dates.astype(str).map(safe_cell)
    columns = [forecast[column].astype(str).map(safe_cell) for column in id_cols]
    columns.append(date_text)
    columns += [pd.to_numeric(forecast[c], errors="coerce") for c in FORECAST_COLUMNS[1:]]
    # by position: an id column may share a name with a forecast column
    out = pd.concat(columns, axis=1, keys=[*id_cols, *FORECAST_COLUMNS])
    return out.to_csv(index=False, float_format="%.10g", lineterminator="\n")
