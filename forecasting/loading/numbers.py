"""Numbers in text cells: the decimal mark and thousands separator, and cells that are not
numbers (reported as bad cells)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from forecasting.loading._shared import _NA_TOKENS, _is_text, _Log, _quote, _s, _text
from forecasting.loading.options import LoadOptions


def _number_style(raw: pd.DataFrame, options: LoadOptions, log: _Log) -> tuple[str, str | None]:
    """Decimal mark and thousands separator: the options', else detected from the cells."""
    if options.decimal is not None:
        return options.decimal, options.thousands
    cells = (
        pd.concat(
            [_text(raw[name]).head(500).str.strip() for name in raw.columns if _is_text(raw[name])],
            ignore_index=True,
        )
        if len(raw.columns)
        else None
    )
    if cells is None or cells.empty:
        return ".", options.thousands
    comma_dec = cells.str.fullmatch(r"[-+]?(\d*,(\d{1,2}|\d{4,})|0?,\d+|\d{1,3}(\.\d{3})+,\d+)")
    dot_dec = cells.str.fullmatch(r"[-+]?(\d*\.(\d{1,2}|\d{4,})|0?\.\d+|\d{1,3}(,\d{3})+\.\d+)")
    comma_3 = cells.str.fullmatch(r"[-+]?[1-9]\d{0,2}(,\d{3})+")  # 1,234: grouping
    if comma_dec.any() and not dot_dec.any():
        thousands = "." if cells.str.fullmatch(r"[-+]?\d{1,3}(\.\d{3})+(,\d+)?").any() else None
        log.note(
            "Read ',' as the decimal mark"
            + (" and '.' as the thousands separator." if thousands else ".")
        )
        return ",", options.thousands or thousands
    if comma_3.any():
        log.note("Read ',' as the thousands separator.")
        return ".", options.thousands or ","
    return ".", options.thousands


def _numeric_column(
    col: pd.Series, decimal: str, thousands: str | None
) -> tuple[pd.Series | None, tuple[tuple[int, str], ...]]:
    """The column as float64 when most of its filled cells are numbers, else None.

    Returns:
        The numbers (NaN where missing or unreadable) and the unreadable cells as
        (row number, text) pairs, or (None, ()) for text columns.
    """
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
        return None, ()
    if pd.api.types.is_numeric_dtype(col):
        return col.astype("float64"), ()
    text = _text(col)
    if not _mostly_numbers(*_to_numbers(text.head(500), decimal, thousands)):
        return None, ()  # a text column: no need to convert every cell
    numbers, missing = _to_numbers(text, decimal, thousands)
    if not _mostly_numbers(numbers, missing):
        return None, ()
    bad = numbers.isna() & ~missing
    rows = np.flatnonzero(bad.to_numpy())
    return numbers, tuple((int(i) + 1, str(text.iloc[i]).strip()) for i in rows)


def _to_numbers(
    text: pd.Series, decimal: str, thousands: str | None
) -> tuple[pd.Series, pd.Series]:
    """Numbers (NaN where unreadable) and the mask of cells that are empty or NA."""
    numbers = pd.Series(np.nan, index=text.index)
    if decimal == "." and thousands != ".":  # plain numbers read directly, the rest cleaned
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    missing = pd.Series(False, index=text.index)
    todo = numbers.isna()
    if todo.any():
        rest = text[todo].str.strip()
        missing[todo] = rest.str.lower().isin(_NA_TOKENS)
        numbers[todo] = pd.to_numeric(
            _clean_numbers(rest.where(~missing[todo], ""), decimal, thousands), errors="coerce"
        )
    return numbers, missing


def _mostly_numbers(numbers: pd.Series, missing: pd.Series) -> bool:
    """At least half of the filled cells are numbers (the rest are reported as bad cells)."""
    filled = int((~missing).sum())
    return filled > 0 and int(numbers.notna().sum()) * 2 >= filled


def _clean_numbers(text: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    """Text of numbers in Python notation: no grouping marks, '.' as the decimal mark. A
    grouping mark is only read as one between groups of three digits ("1.234,5"); a cell
    with it anywhere else ("01.02.2020", "12.5") is not a number."""
    if thousands:
        sep, dec = re.escape(thousands), re.escape(decimal)
        grouped = text.str.fullmatch(rf"[-+]?\d{{1,3}}({sep}\d{{3}})+({dec}\d*)?")
        misplaced = text.str.contains(thousands, regex=False) & ~grouped
        text = text.where(~misplaced, "not a number").str.replace(thousands, "", regex=False)
    if text.str.contains(r"[\s\u00a0\u202f']", regex=True).any():
        text = text.str.replace(r"[\s\u00a0\u202f']", "", regex=True)
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    return text


def _report_bad_cells(bad: tuple[tuple[int, str], ...], name: str, log: _Log) -> None:
    """One repair sentence listing the first non-numeric cells of the value column."""
    if bad:
        cells = ", ".join(f"{row}: {_quote(text, 20)}" for row, text in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        log.repair(
            "bad_cells",
            len(bad),
            f"Read {len(bad)} non-numeric cell{_s(len(bad))} in "
            f"{name!r} as missing (rows {cells}{more}).",
        )
