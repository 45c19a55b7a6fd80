"""Many series from one file: a long file (an id column tells the series apart) or a wide file
(one numeric column per series), read into a `Panel`.

Each series goes through the single-series machinery (`series_from_table` on its own rows), so
it carries its own repairs; the dates are parsed once for the whole file. Series that cannot
be used (too short, constant, all missing) are left out and named in the panel's notes; series
at another frequency than most are resampled to it when that makes them coarser, else the
file is refused.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import ConfigError, DataError
from forecasting.frequency import describe_frequency
from forecasting.loading._shared import _NA_TOKENS, _is_text, _names, _s, _text
from forecasting.loading.api import read_table, series_from_table
from forecasting.loading.columns import _is_counter
from forecasting.loading.layout_detect import _examine, _Time, _time_axis, check_id_cols
from forecasting.loading.options import DEFAULT_OPTIONS, LoadOptions, Table
from forecasting.loading.stacked import _SHARE, _id_column
from forecasting.panel import Panel
from forecasting.series import TimeSeries

WIDE_ID = "series"  # the id column of a wide file's series (and of a single series)
_SHOWN = 5  # series named in a note before "and N more"


@dataclass(frozen=True)
class _Part:
    """One series' rows as a table of their own, and the options that read it."""

    id: tuple[str, ...]
    table: Table
    options: LoadOptions


def load_panel(
    source: bytes | str | os.PathLike,
    options: LoadOptions = DEFAULT_OPTIONS,
    filename: str | None = "",
    id_cols: tuple[str, ...] | list[str] | str | None = None,
    wide: bool = False,
) -> Panel:
    """Read a file of one or many series into a `Panel`.

    Args:
        source: The file's bytes (an upload) or its path.
        options: Column choices, parsing overrides and repair policies (applied per series).
        filename: Shown in messages only.
        id_cols: The column(s) that tell the series of a long file apart; None detects them
            when the timestamps repeat.
        wide: Read every numeric column beside the date as one series (id column "series").

    Returns:
        The panel; a file of one series gives a panel of one (id: the value column's name).

    Raises:
        DataError: An unknown id column, repeated timestamps without an id column, series of
            frequencies that cannot be made one, or no usable series; the message says why.
    """
    return panel_from_table(read_table(source, options, filename or None), options, id_cols, wide)


def panel_from_table(
    table: Table,
    options: LoadOptions = DEFAULT_OPTIONS,
    id_cols: tuple[str, ...] | list[str] | str | None = None,
    wide: bool = False,
) -> Panel:
    """`load_panel` for an already parsed table (to change the id columns without re-reading)."""
    ids = (id_cols,) if isinstance(id_cols, str) else tuple(id_cols or ())
    if ids and wide:
        raise ConfigError(
            "Choose either id columns (a long file, series stacked) or wide (one column per "
            "series), not both."
        )
    time = _time_axis(table, options)
    if not (ids or wide):  # detect the id columns, or read one series
        layout = _examine(table, options, time)[0]
        if layout.kind != "long":
            series = series_from_table(table, options)
            note = f"Read as one series: {series.name!r}."
            return Panel((series,), ((series.name,),), (WIDE_ID,), (note, *table.notes))
    if wide:
        parts, how = _wide_parts(table, options, time)
    else:
        parts, how = _long_parts(table, options, time, ids or layout.id_cols, given=bool(ids))
    series, labels, notes = _load_parts(parts, options, time.date_col is not None)
    head = f"Read as {len(series)} series {how}"
    id_names = (WIDE_ID,) if wide else ids or layout.id_cols
    notes = (head, *table.notes, *time.log.notes, *notes)
    return Panel(tuple(series), tuple(labels), id_names, notes)


def _long_parts(
    table: Table, options: LoadOptions, time: _Time, ids: tuple[str, ...], given: bool
) -> tuple[list[_Part], str]:
    """One part per id value (per combination of the id columns), in order of appearance."""
    frame = table.frame
    if not ids:
        raise DataError(
            f"The timestamps of {time.date_col!r} repeat, once per series, but no column tells "
            "the series apart. Give the id column(s) (--id-col on the command line); the "
            f"columns are: {_names(frame.columns)}."
        )
    check_id_cols(frame, ids, {"date": time.date_col, "value": options.value_col})
    rows = frame if time.dates is None else frame.loc[time.dates.index]
    if time.dates is not None:
        rows = rows.assign(**{time.date_col: time.dates.to_numpy()})
    keys = pd.DataFrame({name: _id_text(rows[name]) for name in ids}, index=rows.index)
    missing = keys.isna().any(axis=1).to_numpy()
    dropped = ""
    if missing.any():
        count = int(missing.sum())
        dropped = f" Dropped {count} row{_s(count)} without an id."
        rows, keys = rows[~missing], keys[~missing]
    groups = keys.groupby(list(ids), sort=False).indices
    if time.dates is not None:
        _refuse_repeats_within(rows, time, keys, ids, groups)
    value_col = _value_column(table, options, ids, time)
    keep = [name for name in frame.columns if name not in ids and name != time.counter]
    sub = Table(
        rows[keep],
        (time.date_col,) if time.date_col else (),
        tuple(name for name in table.value_candidates if name in keep),
        bad_cells=table.bad_cells,
        categorical_candidates=tuple(n for n in table.categorical_candidates if n in keep),
    )
    part_options = dataclasses.replace(options, date_col=time.date_col, value_col=value_col)
    parts = []
    for key, positions in groups.items():
        if time.counter is not None:  # rows of each series in the order of its counter
            order = np.argsort(rows[time.counter].to_numpy()[positions], kind="stable")
            positions = positions[order]
        parts.append(_Part(_key_tuple(key), _rows(sub, positions, rows.index), part_options))
    why = "the id columns given" if given else "repeated timestamps"
    return parts, f"by {_names(ids)} ({why}).{dropped}"


def _wide_parts(table: Table, options: LoadOptions, time: _Time) -> tuple[list[_Part], str]:
    """One part per numeric column beside the date (row counters left out)."""
    frame = table.frame
    skip = (time.date_col, *table.date_parts)
    columns = [
        name
        for name in table.value_candidates
        if name not in skip and not _is_counter(frame[name], name)
    ]
    if not columns:
        raise DataError(
            f"No numeric column to read as a series (columns: {_names(frame.columns)}). "
            "Check the separator and decimal mark."
        )
    rows = frame if time.dates is None else frame.loc[time.dates.index]
    parts = []
    for name in columns:
        data = rows[[name]] if time.date_col is None else rows[[time.date_col, name]]
        if time.dates is not None:
            data = data.assign(**{time.date_col: time.dates.to_numpy()})
        sub = Table(
            data.reset_index(drop=True),
            (time.date_col,) if time.date_col else (),
            (name,),
            bad_cells={name: table.bad_cells.get(name, ())},
        )
        opts = dataclasses.replace(options, date_col=time.date_col, value_col=name)
        parts.append(_Part((name,), sub, opts))
    return parts, f"side by side: {_names(columns, _SHOWN)} (a wide file)."


def _rows(sub: Table, positions: np.ndarray, index: pd.Index) -> Table:
    """The table of one series: its rows, and its bad cells (file row numbers kept)."""
    frame = sub.frame.take(positions).reset_index(drop=True)
    bad = {}
    if sub.bad_cells:
        lines = set((index[positions] + 1).tolist())
        for name, cells in sub.bad_cells.items():
            mine = tuple(cell for cell in cells if cell[0] in lines)
            if mine and name in frame.columns:
                bad[name] = mine
    return dataclasses.replace(sub, frame=frame, bad_cells=bad)


def _load_parts(
    parts: list[_Part], options: LoadOptions, dated: bool
) -> tuple[list[TimeSeries], list[tuple[str, ...]], list[str]]:
    """Each part through `series_from_table`; one frequency for all; unusable parts named."""
    loaded: dict[int, TimeSeries] = {}
    failed: dict[int, DataError] = {}
    for i, part in enumerate(parts):
        try:
            loaded[i] = series_from_table(part.table, part.options)
        except DataError as exc:
            failed[i] = exc
    notes = []
    if dated and options.resample is None and loaded:
        notes += _one_frequency(parts, loaded, failed)
    if not loaded:
        first = next(iter(failed))
        if len(parts) == 1:
            raise failed[first]
        raise DataError(
            f"None of the {len(parts)} series can be used. The first, {_label(parts[first])!r}: "
            f"{failed[first]}"
        )
    if failed:
        shown = "; ".join(f"{_label(parts[i])!r}: {failed[i]}" for i in list(failed)[:3])
        more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
        notes.append(
            f"Left out {len(failed)} series that cannot be used{more}: {shown}"
            + ("" if shown.endswith(".") else ".")
        )
    order = sorted(loaded)
    return [loaded[i] for i in order], [parts[i].id for i in order], notes


def _one_frequency(
    parts: list[_Part], loaded: dict[int, TimeSeries], failed: dict[int, DataError]
) -> list[str]:
    """Resample the series at another frequency than most (or with irregular timestamps) to
    the most common one; refuse a series that would have to become finer."""
    counts = Counter(series.freq for series in loaded.values())
    common, most = counts.most_common(1)[0]
    total = len(loaded)
    others = [i for i, series in loaded.items() if series.freq != common]
    moved = []
    for i in [*others, *failed]:
        try:
            series = series_from_table(
                parts[i].table, dataclasses.replace(parts[i].options, resample=common)
            )
        except DataError:
            if i in failed:
                continue  # left out with its own reason
            freq = loaded[i].freq
            raise DataError(
                f"The series {_label(parts[i])!r} is {describe_frequency(freq)} ({freq}) but "
                f"{most} of the {total} series are {describe_frequency(common)} "
                f"({common}); one network forecasts series of one frequency. Resample the "
                "file to the coarser of the two (option resample, --resample, for example "
                f"{freq!r})."
            ) from None
        loaded[i] = series
        failed.pop(i, None)
        moved.append(i)
    if not moved:
        return []
    labels = _names([_label(parts[i]) for i in moved], _SHOWN)
    return [
        f"Resampled {len(moved)} series with irregular timestamps or another frequency to "
        f"{describe_frequency(common)} ({common}), the frequency of {most} of the "
        f"{total} series: {labels}."
    ]


def _refuse_repeats_within(
    rows: pd.DataFrame, time: _Time, keys: pd.DataFrame, ids: tuple[str, ...], groups: dict
) -> None:
    """Refuse id columns that leave most timestamps repeated within a series (an id column
    missing, such as the item beside the store); a few repeats are merged per series."""
    code = np.empty(len(rows), dtype="int64")
    for n, positions in enumerate(groups.values()):
        code[positions] = n
    pairs = pd.DataFrame({"id": code, "date": rows[time.date_col].to_numpy()})
    if not pairs.duplicated().any():
        return
    sizes = pairs.groupby(["id", "date"], sort=False).size()
    if (sizes > 1).mean() < _SHARE:
        return
    key = pd.Series(pairs.groupby(["id", "date"], sort=False).ngroup().to_numpy(), rows.index)
    more = _id_column(rows, key, (*ids, time.date_col), len(rows), np.zeros(len(rows), int))
    hint = (
        f"Add {more!r} to the id columns ({_names([*ids, more])})."
        if more
        else "Give every column that tells the series apart."
    )
    raise DataError(
        f"Within each series of {_names(ids)} the timestamps of {time.date_col!r} still "
        f"repeat: the id column(s) do not tell all the series apart. {hint}"
    )


def _value_column(table: Table, options: LoadOptions, ids: tuple[str, ...], time: _Time) -> str:
    """The value column of every series: the option, else the best numeric non-id column."""
    if options.value_col is not None:
        return options.value_col
    skip = (*ids, time.date_col, time.counter)
    candidates = [name for name in table.value_candidates if name not in skip]
    if not candidates:
        raise DataError(
            f"No numeric column to forecast beside the id column(s) {_names(ids)} (columns: "
            f"{_names(table.frame.columns)}). Choose the value column."
        )
    return candidates[0]


def _id_text(col: pd.Series) -> pd.Series:
    """Id cells as text ('7' for 7.0), None where a cell is empty."""
    if _is_text(col):
        text = _text(col).str.strip()
        return text.astype(object).where(~text.str.lower().isin(_NA_TOKENS), None)
    if pd.api.types.is_float_dtype(col):
        codes, uniques = pd.factorize(col.to_numpy(dtype="float64", na_value=np.nan))
        names = np.array([f"{v:.15g}" if np.isfinite(v) else None for v in uniques] + [None])
        return pd.Series(names[codes], index=col.index, dtype=object)
    return col.astype(str).astype(object).where(col.notna(), None)


def _key_tuple(key) -> tuple[str, ...]:
    return tuple(str(v) for v in key) if isinstance(key, tuple) else (str(key),)


def _label(part: _Part) -> str:
    return " / ".join(part.id)
