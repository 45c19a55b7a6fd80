"""Files that hold several series one after another ("long" files with an id column).

The single-series path refuses them with a message naming the id column, instead of
averaging the series into a level none of them had or reading a restarting counter as time;
the many-series loader (`panel`, `layout_detect`) reads them by the same detection
(`find_stacked`, `find_stacked_counter`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import DataError
from forecasting.loading._shared import _DATE_HINT, _is_text

_ID_HINT = re.compile(
    r"id$|^id|series|name|group|key|item|sku|store|region|country|station"
    r"|code|category|ticker|symbol|unit",
    re.IGNORECASE,
)
_SHARE = 0.5  # refuse when at least this share of the timestamps repeat by group


def restart_count(col: pd.Series) -> int:
    """How many times an integer counter (0, 1, 2, ... or 1, 2, 3, ...) starts again, or 0.

    A column counts as a restarting counter when it has no gaps, every step is +1 or a
    return to its first value, and each run is at least 3 rows long.
    """
    values = col.to_numpy(dtype="float64", na_value=np.nan)
    if len(values) < 6 or not np.all(np.isfinite(values)) or values[0] not in (0, 1):
        return 0
    if not np.all(np.mod(values, 1) == 0):
        return 0
    steps = np.diff(values)
    restarts = np.flatnonzero(steps != 1)
    if not restarts.size or not np.all(values[restarts + 1] == values[0]):
        return 0
    runs = np.diff(np.concatenate(([0], restarts + 1, [len(values)])))
    return int(restarts.size) if runs.min() >= 3 else 0


def find_stacked_counter(frame: pd.DataFrame, skip: tuple[str, ...]) -> tuple[str, str, int] | None:
    """The restarting counter of a file without dates, the id column that tells its runs
    apart and how often it restarts; None when no counter restarts by an id column.

    Args:
        frame: The table's columns.
        skip: Columns never taken for the counter or the id (the value column).
    """
    for name in frame.columns:
        if name in skip or not pd.api.types.is_float_dtype(frame[name]):
            continue
        restarts = restart_count(frame[name])
        if restarts:  # without an id column, the counter is only ranked last as a value
            runs = np.cumsum(np.r_[0, np.diff(frame[name].to_numpy()) != 1])
            key = pd.Series(frame[name].to_numpy(), index=frame.index)
            id_col = _id_column(frame, key, (*skip, name), groups=restarts + 1, runs=runs)
            if id_col is not None:
                return name, id_col, restarts
    return None


def refuse_stacked_counter(frame: pd.DataFrame, skip: tuple[str, ...]) -> None:
    """Refuse a file without dates whose counter column restarts: stacked series.

    Args:
        frame: The table's columns.
        skip: The value column (never taken for the counter or the id).

    Raises:
        DataError: Naming the counter, the number of series and the probable id column.
    """
    found = find_stacked_counter(frame, skip)
    if found is not None:
        name, id_col, restarts = found
        raise DataError(
            f"The file holds {restarts + 1} series stacked by {id_col!r}: the counter "
            f"{name!r} starts again {restarts} time{'' if restarts == 1 else 's'}, so it "
            f"is not a time axis. {_advice(frame, id_col)}"
        )


@dataclass(frozen=True)
class Stacked:
    """Dates that repeat once per series: the id column (None when the series follow one
    another without one), how many series, and how often the usual timestamp repeats."""

    id_col: str | None
    count: int
    times: int


def find_stacked(dates: pd.Series, frame: pd.DataFrame, skip: tuple[str, ...]) -> Stacked | None:
    """Several series stacked in one file, or None (unique dates, or a few repeats, or
    interleaved repeats no column explains: plain duplicates, merged).

    Args:
        dates: The parsed dates of the rows kept, indexed like `frame`'s rows.
        frame: The table's columns.
        skip: Columns never taken for the id (the date and value columns).
    """
    repeats = dates.value_counts()
    if len(repeats) == len(dates) or (repeats > 1).mean() < _SHARE:
        return None
    rows = frame.loc[dates.index]
    runs = np.cumsum(np.r_[0, np.diff(dates.to_numpy().astype("int64")) <= 0])
    id_col = _id_column(rows, dates, skip, groups=int(repeats.max()), runs=runs)
    times = int(repeats.mode().iloc[0])
    if id_col is None and (
        runs[-1] + 1 != repeats.max()
        or not pd.Series(dates.to_numpy()).groupby(runs).apply(lambda run: run.is_unique).all()
    ):
        return None  # interleaved repeats, or repeats inside runs: plain duplicates, merged
    count = rows[id_col].nunique() if id_col else runs[-1] + 1
    return Stacked(id_col, int(count), times)


def refuse_stacked_dates(
    dates: pd.Series, frame: pd.DataFrame, skip: tuple[str, ...], date_col: str
) -> None:
    """Refuse dates that repeat once per group of another column (several series stacked).

    A few repeated timestamps that no column explains are left to be merged as duplicates.

    Args:
        dates: The parsed dates of the rows kept, indexed like `frame`'s rows.
        frame: The table's columns.
        skip: The date and value columns.
        date_col: The date column's name, for the message.

    Raises:
        DataError: Naming the id column and how often each timestamp repeats.
    """
    found = find_stacked(dates, frame, skip)
    if found is None:
        return
    by = f"stacked by {found.id_col!r}" if found.id_col else "one after another"
    raise DataError(
        f"The file holds {found.count} series {by} (each timestamp of {date_col!r} repeats "
        f"{found.times} times); averaging them would give a level none of them has. "
        f"{_advice(frame.loc[dates.index], found.id_col)}"
    )


def _id_column(
    frame: pd.DataFrame, key: pd.Series, skip: tuple[str, ...], groups: int, runs: np.ndarray
) -> str | None:
    """The column that tells the stacked series apart: the time key is unique within each of
    its values, it has at least 2 and at most half as many values as rows; text columns and
    names such as 'series_id' first."""
    found = []
    for name in frame.columns:
        if name in skip or _DATE_HINT.search(name):  # 'day', 'hour': parts of the time axis
            continue
        col = frame[name]
        count = col.nunique(dropna=False)
        if not 2 <= count <= max(2, len(col) // 2) or count > 2 * groups:
            continue
        pairs = pd.DataFrame({"key": key.to_numpy(), "id": col.to_numpy()})
        if pairs.duplicated().any():
            continue
        found.append(
            (
                not _is_text(col),
                not _ID_HINT.search(name),
                pd.Series(col.to_numpy()).groupby(runs).nunique().max() > 1,
                name,
            )
        )
    return min(found)[-1] if found else None


def _advice(frame: pd.DataFrame, id_col: str | None) -> str:
    if id_col is None:
        return (
            "Add a column that names each series and read the file as many series (the id "
            "column: --id-col on the command line), or keep one series (one block of rows) "
            "and load it again."
        )
    first = frame[id_col].dropna().iloc[0] if frame[id_col].notna().any() else ""
    first = f"{first:g}" if isinstance(first, float) else str(first)
    return (
        f"Read it as many series by {id_col!r} (--id-col {id_col} on the command line), or "
        f"choose one series: keep only the rows of one {id_col!r} (for example {first!r}) "
        "and load the file again."
    )
