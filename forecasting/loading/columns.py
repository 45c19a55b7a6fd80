"""Typed columns and the column choice: numbers converted, date columns found (or assembled
from year/month/day columns), value candidates ranked, the date and value columns chosen."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.errors import DataError
from forecasting.loading._shared import _COUNTER_NAMES, _DATE_HINT, _Log, _names, _s, _text
from forecasting.loading.categories import categorical_candidates
from forecasting.loading.dates import _date_rule, _naive_ns
from forecasting.loading.numbers import _number_style, _numeric_column
from forecasting.loading.options import LoadOptions, Table
from forecasting.loading.stacked import restart_count

_VALUE_NAMES = frozenset({"value", "values", "y", "target", "sales", "demand", "count"})
_DATE_PARTS = {
    "year": "year",
    "yr": "year",
    "month": "month",
    "mon": "month",
    "mo": "month",
    "day": "day",
    "hour": "hour",
    "hr": "hour",
    "minute": "minute",
    "quarter": "quarter",
    "qtr": "quarter",
}


def _build_table(raw: pd.DataFrame, options: LoadOptions, log: _Log) -> Table:
    """Convert columns to numbers where they hold numbers and find the candidates."""
    raw = _drop_empty_columns(raw, log)
    if raw.empty or not len(raw.columns):
        raise DataError("The file has a header but no data rows. Choose a file with data.")
    decimal, thousands = _number_style(raw, options, log)
    columns: dict[str, pd.Series] = {}
    bad_cells: dict[str, tuple[tuple[int, str], ...]] = {}
    for name in raw.columns:
        converted, bad = _numeric_column(raw[name], decimal, thousands)
        columns[name] = raw[name] if converted is None else converted
        if converted is not None and bad:
            bad_cells[name] = bad
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(raw)))
    parts = tuple(_date_parts(frame).values())
    dates = _date_candidates(frame, parts)
    assembled: tuple[str, ...] = ()
    if parts and not dates:
        frame = _assemble_dates(frame, _date_parts(frame), log)
        dates = _date_candidates(frame, parts)
        assembled = parts if dates else ()
    values = _value_candidates(frame, dates, parts)
    return Table(
        frame,
        dates,
        values,
        tuple(log.notes),
        bad_cells,
        tuple(log.repairs),
        categorical_candidates=categorical_candidates(frame, (*dates, *parts)),
        date_parts=assembled,
    )


def _drop_empty_columns(raw: pd.DataFrame, log: _Log) -> pd.DataFrame:
    empty = [name for name in raw.columns if _text(raw[name]).str.strip().eq("").all()]
    if empty and len(empty) < len(raw.columns):
        log.note(
            f"Ignored {len(empty)} empty column{_s(len(empty))}: {', '.join(map(repr, empty[:5]))}."
        )
        raw = raw.drop(columns=empty)
    return raw


def _date_parts(frame: pd.DataFrame) -> dict[str, str]:
    """Numeric columns named like parts of a date: {'year': 'Year', 'month': 'month', ...}."""
    parts: dict[str, str] = {}
    for name in frame.columns:
        key = _DATE_PARTS.get(name.strip().lower())
        if key and key not in parts and pd.api.types.is_float_dtype(frame[name]):
            parts[key] = name
    return parts if "year" in parts and {"month", "quarter"} & set(parts) else {}


def _assemble_dates(frame: pd.DataFrame, parts: dict[str, str], log: _Log) -> pd.DataFrame:
    """The frame with a 'date' column first, joined from year/month/day/hour columns.

    The frame is returned unchanged when the parts do not form a valid date on every row.
    """
    values = {key: frame[name] for key, name in parts.items()}
    if "month" not in values:
        values["month"] = values["quarter"] * 3 - 2
    values.pop("quarter", None)
    values.setdefault("day", pd.Series(1.0, index=frame.index))
    table = pd.DataFrame(values)
    if table.isna().any().any() or not np.all(np.mod(table.to_numpy(), 1) == 0):
        return frame
    dates = _naive_ns(pd.to_datetime(table.astype("int64"), errors="coerce"))
    if dates.isna().any():
        return frame
    name = "date" if "date" not in frame.columns else "date (assembled)"
    log.note(
        f"Combined the columns {', '.join(map(repr, parts.values()))} into one date "
        f"column {name!r}."
    )
    frame = frame.copy()
    frame.insert(0, name, dates)
    return frame


def _date_candidates(frame: pd.DataFrame, parts: tuple[str, ...]) -> tuple[str, ...]:
    """Columns that read as dates, columns named like dates first."""
    found = [name for name in frame.columns if name not in parts and _date_rule(frame[name])]
    return tuple(
        sorted(
            found,
            key=lambda name: (
                not pd.api.types.is_datetime64_any_dtype(frame[name]),
                not _DATE_HINT.search(name),
            ),
        )
    )


def _value_candidates(
    frame: pd.DataFrame, dates: tuple[str, ...], parts: tuple[str, ...]
) -> tuple[str, ...]:
    """Numeric columns that are not dates: columns named like 'value', 'y' or 'target' first,
    row counters last."""
    numeric = [
        name
        for name in frame.columns
        if name not in dates
        and name not in parts
        and pd.api.types.is_float_dtype(frame[name])
        and frame[name].notna().any()
    ]
    return tuple(
        sorted(
            numeric,
            key=lambda name: (
                _is_counter(frame[name], name),
                name.strip().lower() not in _VALUE_NAMES,
            ),
        )
    )


def _is_counter(col: pd.Series, name: str) -> bool:
    """A row number column such as 'No' or 1, 2, 3, ..., or a counter that starts again per
    group (1..60, 1..60, ...)."""
    if name.strip().lower() in _COUNTER_NAMES:
        return True
    values = col.to_numpy()
    with np.errstate(invalid="ignore"):
        if len(values) > 2 and bool(np.all(np.diff(values) == 1)) and values[0] in (0, 1):
            return True
    return restart_count(col) > 0


def _choose_value_column(table: Table, options: LoadOptions) -> str:
    frame = table.frame
    if options.value_col is not None:
        _require_column(frame, options.value_col, "value")
        if not pd.api.types.is_float_dtype(frame[options.value_col]):
            raise DataError(
                f"The column {options.value_col!r} holds no numbers. Numeric "
                f"columns: {_names(table.value_candidates) or 'none'}."
            )
        return options.value_col
    candidates = [name for name in table.value_candidates if name != options.date_col]
    if not candidates:
        raise DataError(
            f"No numeric column found (columns: {_names(frame.columns)}). The "
            "series to forecast must be a column of numbers; check the separator "
            "and decimal mark, or choose the value column."
        )
    return candidates[0]


def _choose_date_column(table: Table, options: LoadOptions, value_col: str) -> str | None:
    if options.date_col is not None:
        _require_column(table.frame, options.date_col, "date")
        if options.date_col == value_col:
            raise DataError(f"{value_col!r} cannot be both the date and the value column.")
        return options.date_col
    return next((name for name in table.date_candidates if name != value_col), None)


def _require_column(frame: pd.DataFrame, name: str, role: str) -> None:
    if name not in frame.columns:
        raise DataError(
            f"There is no column {name!r} for the {role}s. Available columns: "
            f"{_names(frame.columns)}."
        )
