"""The loader's entry points: file -> `Table` -> `TimeSeries`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.loading._shared import _Log
from forecasting.loading.columns import (
    _build_table,
    _choose_date_column,
    _choose_value_column,
    _is_counter,
)
from forecasting.loading.formats import _decode, _read_bytes, _read_parquet, _read_xlsx, _sniff_kind
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
from forecasting.series import TimeSeries


def read_table(source: bytes | str | os.PathLike, options: LoadOptions = DEFAULT_OPTIONS,
               filename: str | None = None) -> Table:
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
        raw = _read_xlsx(data, options.sheet, log)
    elif kind == "parquet":
        raw = _read_parquet(data)
    else:
        raw = _read_text(_decode(data, options.encoding, log), options, log)
    return _build_table(raw, options, log)


def load_series(source: bytes | str | os.PathLike, options: LoadOptions = DEFAULT_OPTIONS,
                filename: str | None = None) -> TimeSeries:
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
    extras = [name for name in table.value_candidates if name not in (value_col, date_col)
              and not _is_counter(frame[name], name)]
    data = frame[[value_col, *extras]].copy()
    _refuse_infinite(data[value_col], value_col)
    data = data.replace([np.inf, -np.inf], np.nan)
    _report_bad_cells(table.bad_cells.get(value_col, ()), value_col, log)
    if date_col is None:
        data.index = pd.RangeIndex(len(data), name="step")
        data = _trim_missing(data, value_col, log)
        data.index = pd.RangeIndex(len(data), name="step")
        freq, inserted = None, pd.Index([])
    else:
        data = _date_index(data, frame[date_col], date_col, options, log)
        data, freq, inserted = _regularize(data, options, log)
        data = _trim_missing(data, value_col, log)
    data = _fill(data, value_col, freq, inserted, options, log)
    return _finish(data, value_col, freq, log)
