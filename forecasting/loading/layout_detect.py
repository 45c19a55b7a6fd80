"""How a file holds its series: one series ("single"), many stacked with an id column ("long"),
or perhaps one column per series ("wide"). `detect_layout` tells; `load_panel` reads by it."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import DataError
from forecasting.loading._shared import _DATE_HINT, _is_text, _Log, _names, _s
from forecasting.loading.api import read_table
from forecasting.loading.columns import _choose_date_column, _is_counter
from forecasting.loading.dates import _parse_dates
from forecasting.loading.options import DEFAULT_OPTIONS, LoadOptions, Table
from forecasting.loading.repair import _drop_undated
from forecasting.loading.stacked import _ID_HINT, _SHARE, find_stacked, find_stacked_counter

KINDS = ("single", "long", "wide")
_MAX_PAIR_CANDIDATES = 6  # two-column ids are looked for among this many candidates


@dataclass(frozen=True)
class Layout:
    """How a file holds its series.

    Attributes:
        kind: "single" (one series), "long" (timestamps repeat once per series: an id column
            tells them apart) or "wide" (a date and 2+ numeric columns: they could be series
            side by side, or one target and its covariates; the user chooses).
        id_cols: The id column(s) detected for a long file (empty when none tells the series
            apart, or for other kinds).
        id_candidates: Columns that could be ids (text or whole numbers, repeating values).
        value_cols: The numeric columns; for "wide" the columns that could be series.
        note: One sentence saying what was found, for the user.
        date_col: The date column (None for a file without dates).
    """

    kind: str
    id_cols: tuple[str, ...] = ()
    id_candidates: tuple[str, ...] = ()
    value_cols: tuple[str, ...] = ()
    note: str = ""
    date_col: str | None = None


@dataclass(frozen=True)
class _Time:
    """The time axis of a table, read once: the date column with its parsed dates (rows
    without a date dropped), or for a file without dates a counter column that restarts."""

    date_col: str | None
    dates: pd.Series | None  # indexed like the table's rows kept
    log: _Log
    counter: str | None = None
    counter_id: str | None = None
    restarts: int = 0


def detect_layout(
    source: bytes | str | os.PathLike,
    options: LoadOptions = DEFAULT_OPTIONS,
    filename: str | None = "",
) -> Layout:
    """Read a file and say how it holds its series.

    Args:
        source: The file's bytes (an upload) or its path.
        options: Parsing overrides (date_col and value_col are respected).
        filename: Shown in messages only.

    Raises:
        DataError: The file cannot be read as a table, or its dates cannot be read.
    """
    return layout_of(read_table(source, options, filename or None), options)


def layout_of(table: Table, options: LoadOptions = DEFAULT_OPTIONS) -> Layout:
    """`detect_layout` for an already parsed table."""
    return _examine(table, options)[0]


def _examine(table: Table, options: LoadOptions, time: _Time | None = None) -> tuple[Layout, _Time]:
    """The layout and the time axis it was found on (given, or read here: parsed once)."""
    frame = table.frame
    time = time or _time_axis(table, options)
    skip = tuple(name for name in (time.date_col, time.counter, options.value_col) if name)
    candidates = _id_candidates(frame, (*skip, *table.date_parts))
    numeric = [name for name in table.value_candidates if name not in skip]
    ids, note = _stacked_ids(frame, time, candidates)
    if note:
        values = tuple(name for name in numeric if name not in ids)
        layout = Layout("long", ids, _first(candidates, ids), values, note, time.date_col)
        return layout, time
    series = [name for name in numeric if not _is_counter(frame[name], name)]
    if time.date_col is not None and len(series) >= 2:
        note = (
            f"The file has {len(series)} numeric columns beside the date {time.date_col!r} "
            f"({_names(series, 5)}): they may be {len(series)} series side by side (a wide "
            "file) or one target and its covariates. Choose how to read them."
        )
        return Layout("wide", (), candidates, tuple(series), note, time.date_col), time
    note = (
        f"The file holds one series: {numeric[0]!r}."
        if numeric
        else "The file has no numeric column to forecast."
    )
    return Layout("single", (), candidates, tuple(numeric), note, time.date_col), time


def _stacked_ids(
    frame: pd.DataFrame, time: _Time, candidates: tuple[str, ...]
) -> tuple[tuple[str, ...], str]:
    """The id column(s) among the candidates of stacked series, and a note; ((), "") when
    the file is not stacked (as the single-series loader judges it, unless two columns
    together tell the repeats apart)."""
    if time.date_col is None:
        if time.counter is None:
            return (), ""
        restarts = time.restarts
        return (time.counter_id,), (
            f"The counter {time.counter!r} starts again {restarts} time{_s(restarts)}: the "
            f"file holds {restarts + 1} series told apart by {time.counter_id!r}."
        )
    rows = frame.loc[time.dates.index]
    others = tuple(name for name in frame.columns if name not in candidates)
    stacked = find_stacked(time.dates, rows, others)
    if stacked is None and _repeat_share(time.dates) < _SHARE:
        return (), ""
    ids = (stacked.id_col,) if stacked is not None and stacked.id_col else ()
    ids = ids or _id_pair(rows, time.dates, candidates)
    times = int(time.dates.value_counts().max())
    if ids:
        count = len(rows.groupby(list(ids), sort=False, dropna=False).indices)
        return ids, (
            f"Each timestamp of {time.date_col!r} repeats up to {times} times: the file "
            f"holds {count} series told apart by {_names(ids)}."
        )
    if stacked is None:
        return (), ""  # interleaved repeats no column explains: duplicates, merged
    return (), (
        f"Each timestamp of {time.date_col!r} repeats up to {times} times, but no column "
        "tells the series apart: choose the id column(s)."
    )


def _time_axis(table: Table, options: LoadOptions) -> _Time:
    """Parse the date column once for the whole table; without dates, find a restarting
    counter (series stacked by an id column)."""
    frame, log = table.frame, _Log()
    date_col = _choose_date_column(table, options, options.value_col or "")
    if date_col is None:
        skip = (options.value_col,) if options.value_col else ()
        found = find_stacked_counter(frame, skip)
        return _Time(None, None, log, *(found or ()))
    dates = _parse_dates(frame[date_col], date_col, options, log)
    kept = _drop_undated(frame, dates, frame[date_col], date_col, log)
    return _Time(date_col, dates[kept.index], log)


def _repeat_share(dates: pd.Series) -> float:
    """The share of distinct timestamps that occur more than once."""
    repeats = dates.value_counts()
    return float((repeats > 1).mean()) if len(repeats) else 0.0


def _id_candidates(frame: pd.DataFrame, skip: tuple[str, ...]) -> tuple[str, ...]:
    """Columns that could tell series apart: text or whole numbers, with at least 2 and at
    most half as many distinct values as rows; text columns and id-like names first."""
    found = []
    for name in frame.columns:
        if name in skip or _DATE_HINT.search(name):
            continue
        col = frame[name]
        text = _is_text(col)
        if not text:
            values = col.to_numpy(dtype="float64", na_value=np.nan)
            if not pd.api.types.is_float_dtype(col) or not np.all(
                np.mod(values[np.isfinite(values)], 1) == 0
            ):
                continue
        if 2 <= col.nunique() <= max(2, len(col) // 2):
            found.append((not text, not _ID_HINT.search(name), name))
    return tuple(name for *_, name in sorted(found, key=lambda item: item[:2]))


def _id_pair(rows: pd.DataFrame, dates: pd.Series, candidates: tuple[str, ...]) -> tuple:
    """Two columns that together tell the series apart (store and item), or ()."""
    stamps = pd.Series(dates.to_numpy(), index=rows.index)
    for pair in itertools.combinations(candidates[:_MAX_PAIR_CANDIDATES], 2):
        keys = pd.DataFrame({"date": stamps, "a": rows[pair[0]], "b": rows[pair[1]]})
        if not keys.duplicated().any():
            return pair
    return ()


def _first(candidates: tuple[str, ...], ids) -> tuple[str, ...]:
    """The candidates with the id columns found first."""
    return tuple(dict.fromkeys([*ids, *candidates]))


def check_id_cols(frame: pd.DataFrame, id_cols: tuple[str, ...], skip: dict[str, str]) -> None:
    """Refuse id columns that are not in the file, or that are the date or value column.

    Args:
        frame: The table's columns.
        id_cols: The id columns given.
        skip: Role ("date", "value") -> column, columns that cannot be ids.

    Raises:
        DataError: Naming the column and listing the file's columns.
    """
    for name in id_cols:
        if name not in frame.columns:
            raise DataError(
                f"There is no id column {name!r}. The columns are: {_names(frame.columns)}. "
                "Choose the column(s) that tell the series apart."
            )
        for role, column in skip.items():
            if name == column:
                raise DataError(
                    f"{name!r} is the {role} column; it cannot also be an id column. Choose "
                    "the column(s) that tell the series apart."
                )
