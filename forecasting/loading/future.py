"""The future file: a date column plus the future covariate columns, read with the same
machinery as the series file. It is read as given: no gap filling, no regular frequency (the
caller checks that every horizon timestamp is covered)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from forecasting.errors import DataError
from forecasting.loading._shared import _Log, _names, _stamp_texts
from forecasting.loading.api import read_table
from forecasting.loading.categories import category_cells
from forecasting.loading.columns import _require_column
from forecasting.loading.dates import _parse_dates
from forecasting.loading.numbers import _report_bad_cells
from forecasting.loading.options import DEFAULT_OPTIONS, LoadOptions
from forecasting.loading.repair import _drop_undated

_NEEDS = (
    "A future file needs a date column plus the future covariate columns, one row per "
    "timestamp of the horizon (for example: date,TEMP,holiday)."
)


def read_future(
    source: bytes | str | os.PathLike,
    options: LoadOptions = DEFAULT_OPTIONS,
    filename: str = "",
) -> pd.DataFrame:
    """Read the values of future covariates over the forecast horizon.

    Args:
        source: The file's bytes (an upload) or its path.
        options: Parsing overrides (sep, decimal, thousands, encoding, sheet, date_col,
            date_format, dayfirst); the value column and repair policies do not apply.
        filename: Shown in messages only.

    Returns:
        One column per covariate (float64 numbers with NaN where a cell is empty or not a
        number; object text with None where empty), indexed by a sorted, unique
        DatetimeIndex named "date". `attrs["notes"]` lists what the parser did.

    Raises:
        DataError: The file cannot be read, has no date column or no other column, or
            repeats a timestamp.
    """
    table = read_table(source, options, filename or None)
    label = f"The future file {filename!r}" if filename else "The future file"
    frame = table.frame
    date_col = _date_column(table.date_candidates, frame, options, label)
    columns = [name for name in frame.columns if name != date_col and name not in table.date_parts]
    if not columns:
        raise DataError(f"{label} holds only the date column {date_col!r}. {_NEEDS}")
    log = _Log()
    for name in columns:
        _report_bad_cells(table.bad_cells.get(name, ()), name, log)
    dates = _parse_dates(frame[date_col], date_col, options, log)
    data = pd.DataFrame({name: _covariate(frame[name]) for name in columns}, index=frame.index)
    data = _drop_undated(data, dates, frame[date_col], date_col, log)
    data.index = pd.DatetimeIndex(dates[data.index], name="date")
    data = data.sort_index(kind="stable")
    _refuse_duplicates(data.index, label)
    data.attrs["notes"] = [*table.notes, *log.notes]
    return data


def _date_column(
    candidates: tuple[str, ...], frame: pd.DataFrame, options: LoadOptions, label: str
) -> str:
    if options.date_col is not None:
        _require_column(frame, options.date_col, "date")
        return options.date_col
    if not candidates:
        raise DataError(
            f"{label} has no date column (columns: {_names(frame.columns)}). {_NEEDS} "
            "Add the dates, or check the separator and the date format (option date_format)."
        )
    return candidates[0]


def _covariate(col: pd.Series) -> pd.Series:
    """Numbers as float64 (NaN for empty, bad or infinite cells); anything else as text."""
    if pd.api.types.is_float_dtype(col):
        return col.astype("float64").replace([np.inf, -np.inf], np.nan)
    return category_cells(col)


def _refuse_duplicates(index: pd.DatetimeIndex, label: str) -> None:
    repeated = index[index.duplicated()]
    if len(repeated):
        first = _stamp_texts(repeated[:1])[0]
        count = len(repeated.unique())
        raise DataError(
            f"{label} has more than one row for {first}"
            f"{f' (and {count - 1} other repeated timestamps)' if count > 1 else ''}. "
            "Keep one row per timestamp."
        )
