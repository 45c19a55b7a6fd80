"""Reading a column as dates: a chain of rules (typed, period codes, ISO, slashed, day/month,
month names, epochs, years), each tried on a sample before it is applied to the column."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import DataError
from forecasting.frequency import infer_frequency
from forecasting.loading import limits
from forecasting.loading._shared import _DATE_HINT, _NA_TOKENS, _is_text, _Log, _text
from forecasting.loading.options import LoadOptions


class AmbiguousDatesError(DataError):
    """Dates such as 03/04/2020 read as day-first and as month-first; the user must choose.

    Attributes:
        column: The date column.
        example: One ambiguous cell.
        choices: The two readings: ("day-first", "month-first").
    """

    def __init__(self, column: str, example: str, day_first: str, month_first: str) -> None:
        self.column = column
        self.example = example
        self.choices = ("day-first", "month-first")
        super().__init__(
            f"The dates in {column!r} are ambiguous: no day is above 12, so {example!r} could be "
            f"{day_first} (day-first) or {month_first} (month-first). Choose day-first or "
            "month-first."
        )


@dataclass(frozen=True)
class _DateRule:
    """One way of reading a date column: `parse` maps cells to timestamps (NaT if unread)."""

    label: str
    parse: Callable[[pd.Series], pd.Series]
    note: str | None = None
    kind: str = "dates_read"  # the Repair kind of the note


_QUARTER = re.compile(r"^(\d{4})\s*[-/ ]?\s*[qQ]([1-4])$|^[qQ]([1-4])\s*[-/ ]?\s*(\d{4})$")
_MONTH_CODE = re.compile(r"^(\d{4})\s*[mM](\d{1,2})$")
_ISO_WEEK = re.compile(r"^(\d{4})-?[wW](\d{2})$")
_YEAR_MONTH_INDEX = re.compile(r"^(\d{1,2})-(\d{1,2})$")
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?$"
)
_ISO = re.compile(
    r"^\d{4}-\d{1,2}(-\d{1,2}([ T]\d{1,2}(:\d{2}){0,2}(\.\d+)?)?)?\s*"
    r"(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?$"
)
_SLASHED_ISO = re.compile(r"^(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?$")
_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)$")
_NAMED_FORMATS = (
    "%b %Y",
    "%B %Y",
    "%b-%Y",
    "%B-%Y",
    "%b-%y",
    "%b %y",
    "%Y %b",
    "%Y-%b",
    "%Y %B",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%d %b %Y %H:%M",
    "%a, %d %b %Y %H:%M:%S",
)
_EPOCH_RANGES = (("s", 1e8, 4.2e9), ("ms", 1e11, 4.2e12))


def _date_rule(
    col: pd.Series,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    name: str = "",
    strict: bool = False,
) -> _DateRule | None:
    """The rule that reads (nearly all of) the column's first cells as dates, or None.

    Args:
        col: The column.
        date_format: Explicit strftime format to use instead of detecting one.
        dayfirst: Resolves 03/04/2020; None detects it and, with `strict`, raises when the
            whole column cannot tell.
        name: Column name, for messages and for name hints (epoch, year).
        strict: Raise AmbiguousDatesError instead of accepting an ambiguous column.
    """
    if pd.api.types.is_datetime64_any_dtype(col):
        zoned = getattr(col.dt, "tz", None) is not None
        return _DateRule(
            "typed",
            _naive_ns,
            "Converted time-zone-aware timestamps to UTC and dropped the zone." if zoned else None,
        )
    if pd.api.types.is_float_dtype(col):
        return _numeric_date_rule(col, name or str(col.name))
    if not _is_text(col):
        return None
    if date_format:
        return _DateRule(date_format, lambda c: _with_format(c, date_format))
    sample = _text(col).str.strip()
    sample = sample[~sample.str.lower().isin(_NA_TOKENS)].head(limits.DATE_SAMPLE)
    if sample.empty:
        return None
    name = name or str(col.name)
    rule = (
        _period_code_rule(sample)
        or _year_month_index_rule(sample)
        or _iso_rule(sample)
        or _slashed_iso_rule(sample)
        or _day_month_rule(col, sample, dayfirst, name, strict)
        or _named_rule(sample)
    )
    if rule is None or not _mostly(rule.parse(sample).notna(), bool(_DATE_HINT.search(name))):
        return None
    return rule


def _mostly(ok: pd.Series, hinted: bool = False) -> bool:
    """Whether the sample cells mostly pass: 90% (half in a column named like dates), or all
    but two when there are few (a footer row in a small file)."""
    passed, failed = int(ok.sum()), int((~ok).sum())
    return passed >= (0.5 if hinted else 0.9) * len(ok) or (failed <= 2 and passed >= 3)


def _matches(sample: pd.Series, pattern: re.Pattern) -> bool:
    """Whether at least half the sample has the pattern (the parse is checked afterwards)."""
    return bool(sample.str.match(pattern).mean() >= 0.5)


def _naive_ns(dates: pd.Series) -> pd.Series:
    """Timezone-free UTC timestamps in nanoseconds; dates pandas cannot hold become NaT."""
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    inside = (dates >= pd.Timestamp.min) & (dates <= pd.Timestamp.max)
    return dates.where(inside).astype("datetime64[ns]")


def _with_format(col: pd.Series, fmt: str) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(_text(col).str.strip(), format=fmt, errors="coerce", utc=True)
        except (ValueError, TypeError):
            raise DataError(
                f"The date format {fmt!r} is not valid. Write it with strftime "
                "codes, for example '%d/%m/%Y' or '%Y-%m-%d %H:%M'."
            ) from None
    return _naive_ns(parsed)


def _period_code_rule(sample: pd.Series) -> _DateRule | None:
    """Statistical period codes: quarters (1956Q1, Q1 1956), months (1991M01), ISO weeks."""
    for pattern, parse in (
        (_QUARTER, _parse_quarters),
        (_MONTH_CODE, _parse_month_codes),
        (_ISO_WEEK, _parse_iso_weeks),
    ):
        if _matches(sample, pattern):
            return _DateRule(pattern.pattern, parse)
    return None


def _parse_quarters(col: pd.Series) -> pd.Series:
    parts = _text(col).str.strip().str.extract(_QUARTER).astype("float64")
    year = parts[0].fillna(parts[3])
    quarter = parts[1].fillna(parts[2])
    return _from_parts(year, quarter * 3 - 2)


def _parse_month_codes(col: pd.Series) -> pd.Series:
    parts = _text(col).str.strip().str.extract(_MONTH_CODE).astype("float64")
    return _from_parts(parts[0], parts[1])


def _parse_iso_weeks(col: pd.Series) -> pd.Series:
    parts = _text(col).str.strip().str.extract(_ISO_WEEK)
    return _with_format(parts[0] + "-W" + parts[1] + "-1", "%G-W%V-%u")  # their Mondays


def _from_parts(year: pd.Series, month: pd.Series) -> pd.Series:
    ok = year.notna() & month.between(1, 12)
    table = pd.DataFrame({"year": year.where(ok, 2000), "month": month.where(ok, 1), "day": 1})
    dates = pd.to_datetime(table.astype("int64"), errors="coerce")
    return _naive_ns(dates.where(ok))


def _year_month_index_rule(sample: pd.Series) -> _DateRule | None:
    """Cells like '1-01' .. '3-12' (year number - month), as in the shampoo data set."""
    if not _matches(sample, _YEAR_MONTH_INDEX):
        return None
    month = sample.str.extract(_YEAR_MONTH_INDEX)[1].astype("float64")
    if not month.between(1, 12).all():
        return None
    return _DateRule(
        "year-month index",
        _parse_year_month_index,
        "Read cells like '1-01' as year 1, month 01, counting years from 2001.",
    )


def _parse_year_month_index(col: pd.Series) -> pd.Series:
    parts = _text(col).str.strip().str.extract(_YEAR_MONTH_INDEX).astype("float64")
    return _from_parts(parts[0] + 2000, parts[1])


def _iso_rule(sample: pd.Series) -> _DateRule | None:
    if not _matches(sample, _ISO):
        return None
    note = (
        "Converted dates with time-zone offsets to UTC and dropped the zone."
        if sample.str.contains(_TZ_SUFFIX).any()
        else None
    )
    return _DateRule("ISO 8601", _parse_iso, note)


def _parse_iso(col: pd.Series) -> pd.Series:
    """ISO 8601 dates; a trailing 'UTC' or 'GMT' word reads as the offset +00:00."""
    text = _text(col).str.strip().str.replace(r"\s*(?:UTC|GMT)$", "+00:00", regex=True)
    return _with_format(text, "ISO8601")


def _slashed_iso_rule(sample: pd.Series) -> _DateRule | None:
    """Year first with slashes or dots: 2020/01/31, 2020.01.31 [13:00]."""
    if not _matches(sample, _SLASHED_ISO):
        return None
    first = sample.str.extract(_SLASHED_ISO)
    sep = first[1].iloc[0]
    fmt = f"%Y{sep}%m{sep}%d" + _time_format(first[4])
    return _DateRule(fmt, lambda c: _with_format(c, fmt))


def _time_format(times: pd.Series) -> str:
    """' %H:%M', ' %H:%M:%S' or '' for the optional time part of numeric dates."""
    present = times.dropna()
    if present.empty:
        return ""
    return " %H:%M:%S" if present.str.count(":").max() == 2 else " %H:%M"


def _day_month_rule(
    col: pd.Series, sample: pd.Series, dayfirst: bool | None, name: str, strict: bool
) -> _DateRule | None:
    """03/04/2020-style dates: day-first or month-first from the data, or from `dayfirst`."""
    if not _matches(sample, _NUMERIC_DATE):
        return None
    parts = _text(col).str.strip().str.extract(_NUMERIC_DATE)
    first, second = parts[0].astype("float64"), parts[2].astype("float64")
    if dayfirst is None:
        if first.max() > 12 >= second.max():
            dayfirst = True
        elif second.max() > 12 >= first.max():
            dayfirst = False
        elif first.max() > 12 and second.max() > 12:
            return None
        else:
            both = (first.between(1, 12) & second.between(1, 12)).to_numpy()
            if not both.any():
                return None
            if strict:
                return _regular_reading(col, parts, name, str(_text(col)[both].iloc[0]).strip())
            dayfirst = True
    fmt = _numeric_format(parts, dayfirst)
    if not strict:
        return _DateRule(fmt, lambda c: _with_format(c, fmt))
    return _DateRule(
        fmt,
        lambda c: _with_format(c, fmt),
        f"Read the dates in {name!r} as {'day' if dayfirst else 'month'}-first ({fmt}).",
    )


def _numeric_format(parts: pd.DataFrame, dayfirst: bool) -> str:
    """The strftime format of 03/04/2020-style dates, from their regex parts."""
    sep = parts[1].dropna().iloc[0]
    year = "%Y" if parts[3].dropna().str.len().max() == 4 else "%y"
    order = f"%d{sep}%m" if dayfirst else f"%m{sep}%d"
    return f"{order}{sep}{year}" + _time_format(parts[4])


def _regular_reading(col: pd.Series, parts: pd.DataFrame, name: str, example: str) -> _DateRule:
    """The one reading (day-first or month-first) that gives a regular series.

    Raises:
        AmbiguousDatesError: Both readings, or neither, give a regular series.
    """
    formats = {flag: _numeric_format(parts, flag) for flag in (True, False)}
    regular = [flag for flag, fmt in formats.items() if _is_regular(_with_format(col, fmt))]
    if len(regular) != 1:
        raise _ambiguous(name, example)
    fmt = formats[regular[0]]
    chosen, other = ("day", "month") if regular[0] else ("month", "day")
    return _DateRule(
        fmt,
        lambda c: _with_format(c, fmt),
        f"Read the dates in {name!r} as {chosen}-first ({fmt}), as in {example!r}: "
        f"only that reading gives a regular series ({other}-first would leave "
        "gaps).",
        "dayfirst_chosen",
    )


def _is_regular(dates: pd.Series) -> bool:
    """Whether the dates follow one frequency with at most as many gaps as dates."""
    index = pd.DatetimeIndex(dates.dropna().unique()).sort_values()
    freq = infer_frequency(index) if len(index) >= 3 else None
    return freq is not None and len(pd.date_range(index[0], index[-1], freq=freq)) <= 2 * len(index)


def _ambiguous(name: str, example: str) -> AmbiguousDatesError:
    parts = _NUMERIC_DATE.match(example).groups()
    a, b, year = int(parts[0]), int(parts[2]), parts[3]
    month = "%B"
    day_first = f"{a} {pd.Timestamp(2000, b, 1).strftime(month)} {year}"
    month_first = f"{pd.Timestamp(2000, a, 1).strftime(month)} {b} {year}"
    return AmbiguousDatesError(name, example, day_first, month_first)


def _named_rule(sample: pd.Series) -> _DateRule | None:
    """Dates with month names: 'Jan 1991', 'January 1991', '12 Mar 2020', ..."""
    if not sample.str.contains(r"[A-Za-z]{3}", regex=True).mean() >= 0.5:
        return None
    for fmt in _NAMED_FORMATS:
        if _with_format(sample, fmt).notna().mean() >= 0.5:
            return _DateRule(fmt, lambda c, fmt=fmt: _with_format(c, fmt))
    return None


def _numeric_date_rule(col: pd.Series, name: str) -> _DateRule | None:
    """Epoch seconds or milliseconds, years (1990), or yyyymmdd numbers."""
    values = col[np.isfinite(col)]
    if values.empty or not np.all(np.mod(values.to_numpy(), 1) == 0):
        return None
    low, high = values.min(), values.max()
    hinted = bool(_DATE_HINT.search(name))
    for unit, start, stop in _EPOCH_RANGES:
        if (
            start <= low
            and high <= stop
            and (hinted or _round_steps(values, 60 if unit == "s" else 60_000))
            and values.nunique() > 1
        ):
            word = "seconds" if unit == "s" else "milliseconds"
            return _DateRule(
                f"epoch {word}",
                _finite_only(lambda c, u=unit: _from_epoch(c, u)),
                f"Read {name!r} as Unix time in {word} (UTC).",
            )
    if re.search(r"year|^yr$", name, re.IGNORECASE) and low >= 1000 and high <= 2999:
        return _DateRule(
            "year", _finite_only(lambda c: _from_parts(c, pd.Series(1.0, index=c.index)))
        )
    if hinted and low >= 10000101 and high <= 29991231:
        return _DateRule(
            "%Y%m%d",
            _finite_only(
                lambda c: _with_format(c.map(lambda v: "" if pd.isna(v) else f"{v:.0f}"), "%Y%m%d")
            ),
        )
    return None


def _finite_only(parse: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    """`parse` applied to the column with infinite numbers (and fractions) taken as missing."""
    return lambda col: parse(col.where(np.isfinite(col) & (np.mod(col, 1) == 0)))


def _round_steps(values: pd.Series, unit: int) -> bool:
    """Whether every step is a positive multiple of `unit` (a minute), as clock times are."""
    steps = np.diff(values.to_numpy())
    return bool(np.all(steps > 0) and np.all(np.mod(steps, unit) == 0))


def _from_epoch(col: pd.Series, unit: str) -> pd.Series:
    return _naive_ns(pd.to_datetime(col, unit=unit, errors="coerce"))


_YEAR_PATTERNS = (
    re.compile(
        r"^(?P<year>\d{4})[-/.](?P<month>\d{1,2})(?:[-/.]\d{1,2})?"
        r"(?:[ T].*)?$"
    ),
    re.compile(r"^\d{1,2}([-/.])\d{1,2}\1(?P<year>\d{4})(?:[ T].*)?$"),
)
_FIRST_YEAR, _LAST_YEAR = pd.Timestamp.min.year + 1, pd.Timestamp.max.year - 1


def _out_of_range(col: pd.Series, name: str) -> str | None:
    """A cell whose date is outside the years pandas can hold (1677-2262), or None.

    Only columns that look like dates count: text cells that are mostly year-month-day or
    day-month-year dates, or numbers in a column named like years.
    """
    if pd.api.types.is_float_dtype(col):
        values = col[np.isfinite(col)]
        if (
            re.search(r"year|^yr$", name, re.IGNORECASE)
            and len(values)
            and np.all(np.mod(values, 1) == 0)
            and values.between(1, 9999).all()
        ):
            outside = values[(values < _FIRST_YEAR) | (values > _LAST_YEAR)]
            return f"{outside.iloc[0]:.0f}" if len(outside) else None
        return None
    if not _is_text(col):
        return None
    cells = _text(col).str.strip()
    cells = cells[~cells.str.lower().isin(_NA_TOKENS)].head(limits.DATE_SAMPLE)
    for pattern in _YEAR_PATTERNS:
        found = cells.str.extract(pattern)
        if found["year"].notna().mean() < 0.5:
            continue
        years = found["year"].astype("float64")
        if "month" in found and not found["month"].dropna().astype("float64").between(1, 12).all():
            continue
        outside = (years < _FIRST_YEAR) | (years > _LAST_YEAR)
        return str(cells[outside].iloc[0]) if outside.any() else None
    return None


def _out_of_range_error(name: str, example: str) -> DataError:
    return DataError(
        f"The column {name!r} holds dates outside the years {_FIRST_YEAR - 1} to "
        f"{_LAST_YEAR + 1}, the range pandas timestamps support (for example {example!r}). "
        "Fix those cells, or shift the years into that range in the file (for example add or "
        "subtract whole centuries), or remove the column to forecast the rows as equally "
        "spaced steps."
    )


def _refuse_out_of_range(frame: pd.DataFrame, skip: tuple[str, ...]) -> None:
    """Refuse a file whose only dates fall outside pandas' range, instead of silently reading
    its rows as integer steps."""
    for name in frame.columns:
        example = None if name in skip else _out_of_range(frame[name], name)
        if example is not None:
            raise _out_of_range_error(name, example)


def _parse_dates(col: pd.Series, name: str, options: LoadOptions, log: _Log) -> pd.Series:
    """The whole column as naive UTC timestamps (NaT where a cell is not a date).

    Raises:
        DataError: The column does not read as dates with any known format.
        AmbiguousDatesError: Day-first and month-first both fit and dayfirst is None.
    """
    rule = _date_rule(col, options.date_format, options.dayfirst, name, strict=True)
    if rule is None:
        example = _out_of_range(col, name)
        if example is not None:
            raise _out_of_range_error(name, example)
        examples = ", ".join(map(repr, _text(col).str.strip().head(3)))
        raise DataError(
            f"The column {name!r} does not hold readable dates (first cells: "
            f"{examples}). Give the format with option date_format "
            "(--date-format), for example '%d.%m.%Y', or choose another date column."
        )
    dates = rule.parse(col)
    if rule.note:
        log.repair(rule.kind, int(dates.notna().sum()), rule.note)
    return dates
