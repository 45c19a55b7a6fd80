"""The loader's entry points: file -> `Table` -> `TimeSeries`."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.errors import DataError
from forecasting.loading._shared import _Log
from forecasting.loading.categories import category_cells
from forecasting.loading.columns import (
    _build_table,
    _choose_date_column,
    _choose_value_column,
    _is_counter,
)
from forecasting.loading.dates import _refuse_out_of_range
from forecasting.loading.formats import (
    _decode,
    _open_workbook,
    _read_bytes,
    _read_parquet,
    _read_xlsx,
    _sniff_kind,
)
from forecasting.loading.layout import _read_text
from forecasting.loading.numbers import _report_bad_cells
from forecasting.loading.options import DEFAULT_OPTIONS, LoadOptions, Table
from forecasting.loading.repair import (
    _date_index,
    _fill,
    _finish,
    _refuse_infinite,
    _regularize,
    _trim_missing,
)
from forecasting.loading.stacked import refuse_stacked_counter
from forecasting.series import TimeSeries


def read_table(
    source: bytes | str | os.PathLike,
    options: LoadOptions = DEFAULT_OPTIONS,
    filename: str | None = None,
) -> Table:
    """Parse a CSV, TSV, .xlsx or Parquet file into typed columns.

    Args:
        source: The file's bytes (an upload) or its path.
        options: Parsing overrides; detection fills in the rest.
        filename: Shown in messages only; the format is detected from the content.

    Returns:
        The table with its date and value candidates and notes.

    Raises:
        DataError: The file is empty, binary, too large, or holds no table.
    """
    data = _read_bytes(source)
    label = filename or (Path(source).name if isinstance(source, str | os.PathLike) else "file")
    log = _Log()
    kind = _sniff_kind(data, label)
    if kind == "xlsx":
        raw, sheets, sheet = _read_xlsx(data, options.sheet, log)
        return dataclasses.replace(
            _build_table(raw, options, log), sheets=tuple(sheets), sheet=sheet
        )
    raw = (
        _read_parquet(data)
        if kind == "parquet"
        else _read_text(_decode(data, options.encoding, log), options, log)
    )
    return _build_table(raw, options, log)


def workbook_sheets(source: bytes | str | os.PathLike) -> tuple[str, ...]:
    """The sheet names of an .xlsx workbook, or () for other formats and unreadable files."""
    try:
        data = _read_bytes(source)
        if _sniff_kind(data, "file") != "xlsx":
            return ()
        return tuple(str(name) for name in _open_workbook(data).sheet_names)
    except DataError:
        return ()


def load_series(
    source: bytes | str | os.PathLike,
    options: LoadOptions = DEFAULT_OPTIONS,
    filename: str | None = None,
) -> TimeSeries:
    """Read a file into a validated, regular `TimeSeries`, repairing what can be repaired.

    Args:
        source: The file's bytes (an upload) or its path.
        options: Column choices, parsing overrides and repair policies.
        filename: Shown in messages only; the format is detected from the content.

    Returns:
        The series; `repairs` lists every change made to the data.

    Raises:
        DataError: The file cannot give a usable series; the message says why and what to do.
        AmbiguousDatesError: The dates read both day-first and month-first.
    """
    return series_from_table(read_table(source, options, filename), options)


def series_from_table(table: Table, options: LoadOptions = DEFAULT_OPTIONS) -> TimeSeries:
    """Build the series from an already parsed table (to switch columns without re-reading).

    Args:
        table: Output of `read_table`.
        options: Column choices, date reading (date_format, dayfirst) and repair policies;
            sep, decimal, thousands, encoding and sheet act in `read_table` only.

    Returns:
        The series, as `load_series` would return it.

    Raises:
        DataError: The chosen columns cannot give a usable series.
    """
    frame = table.frame
    value_col = _choose_value_column(table, options)
    date_col = _choose_date_column(table, options, value_col)
    log = _Log()
    log.repairs.extend(table.repairs)
    extras = [
        name
        for name in table.value_candidates
        if name not in (value_col, date_col) and not _is_counter(frame[name], name)
    ]
    data = frame[[value_col, *extras]].copy()
    for name in table.categorical_candidates:
        if name not in (value_col, date_col):
            data[name] = category_cells(frame[name])
    _refuse_infinite(data[value_col], value_col)
    data = data.replace([np.inf, -np.inf], np.nan)
    _report_bad_cells(table.bad_cells.get(value_col, ()), value_col, log)
    if date_col is None:
        _refuse_out_of_range(frame, (value_col,))
        refuse_stacked_counter(frame, (value_col,))
        data.index = pd.RangeIndex(len(data), name="step")
        data = _trim_missing(data, value_col, log)
        data.index = pd.RangeIndex(len(data), name="step")
        freq, inserted = None, pd.Index([])
    else:
        data = _date_index(data, frame, date_col, value_col, options, log)
        data, freq, inserted = _regularize(data, options, log)
        data = _trim_missing(data, value_col, log)
    data = _fill(data, value_col, freq, inserted, options, log)
    return _finish(data, value_col, freq, log)
