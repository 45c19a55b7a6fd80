"""Repairs that turn the chosen columns into a regular series: undated rows, sorting, merging
duplicate timestamps, regular steps, resampling, trimming and filling. Each repair is logged
as a `Repair` record (kind, count, affected timestamps, sentence)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from forecasting.errors import DataError
from forecasting.frequency import describe_frequency, infer_frequency, season_length, short_alias
from forecasting.loading import limits
from forecasting.loading._shared import (
    _NA_TOKENS,
    _is_text,
    _list_rows,
    _Log,
    _names,
    _quote,
    _s,
    _stamp_texts,
    _text,
)
from forecasting.loading.dates import _out_of_range, _out_of_range_error, _parse_dates
from forecasting.loading.options import LoadOptions, _offset
from forecasting.loading.stacked import refuse_stacked_dates
from forecasting.series import TimeSeries


def _refuse_infinite(values: pd.Series, name: str) -> None:
    infinite = np.flatnonzero(np.isinf(values.to_numpy()))
    if infinite.size:
        count = infinite.size
        raise DataError(
            f"The column {name!r} holds {count} infinite value{_s(count)} "
            f"(row{_s(count)} {_list_rows(infinite)}). Replace "
            f"{'it' if count == 1 else 'them'} with numbers, or leave the cells "
            "empty so they are filled."
        )


def _date_index(
    data: pd.DataFrame,
    frame: pd.DataFrame,
    name: str,
    value_col: str,
    options: LoadOptions,
    log: _Log,
) -> pd.DataFrame:
    """Index `data` by the dates of `frame[name]`: drop dateless rows, refuse stacked series,
    sort, merge duplicates."""
    dates_col = frame[name]
    dates = _parse_dates(dates_col, name, options, log)
    data = _drop_undated(data, dates, dates_col, name, log)
    refuse_stacked_dates(dates[data.index], frame, (name, value_col), name)
    data.index = pd.DatetimeIndex(dates[data.index], name="date")
    data = _sort(data, options, log)
    data.index = _align_to_periods(data.index, log)
    return _merge_duplicates(data, options.aggregate, log)


def _drop_undated(
    data: pd.DataFrame, dates: pd.Series, raw: pd.Series, name: str, log: _Log
) -> pd.DataFrame:
    """Rows without a date: blank ones and a short footer are dropped, others refused."""
    missing = dates.isna().to_numpy()
    if not missing.any():
        return data
    text = _text(raw).str.strip()
    blank = missing & text.str.lower().isin(_NA_TOKENS).to_numpy()
    unread = np.flatnonzero(missing & ~blank)
    footer = (
        0 < unread.size <= limits.MAX_FOOTER_ROWS and unread[0] > 0 and missing[unread[0] :].all()
    )
    outside = _out_of_range(raw.iloc[unread], name) if unread.size else None
    if outside is not None:
        raise _out_of_range_error(name, outside)
    if unread.size and not footer:
        examples = ", ".join(f"{text.iloc[i]!r} (row {i + 1})" for i in unread[:3])
        raise DataError(
            f"{unread.size} cell{_s(unread.size)} of the date column {name!r} "
            f"{'is not a date' if unread.size == 1 else 'are not dates'}: "
            f"{examples}. Give the "
            "format with option date_format (--date-format), for example "
            "'%d.%m.%Y', or fix those cells."
        )
    if unread.size:
        log.repair(
            "footer_dropped",
            unread.size,
            f"Dropped {unread.size} row{_s(unread.size)} at the end whose date cannot "
            f"be read ({_quote(text.iloc[unread[0]])}), taken for a footer.",
        )
    blanks = np.flatnonzero(blank)
    if blanks.size:
        log.repair(
            "undated_dropped",
            blanks.size,
            f"Dropped {blanks.size} row{_s(blanks.size)} without a date "
            f"(rows {_list_rows(blanks)}).",
        )
    if missing.all():
        raise DataError(f"No cell of {name!r} is a date. Choose the date column.")
    return data[~missing]


def _sort(data: pd.DataFrame, options: LoadOptions, log: _Log) -> pd.DataFrame:
    if data.index.is_monotonic_increasing:
        return data
    stamps = data.index.asi8
    late = stamps < np.maximum.accumulate(stamps)
    out_of_order = int(late.sum())
    if not options.sort:
        raise DataError(
            f"{out_of_order} rows are out of date order. Sort the file, or turn "
            "on sorting (option sort=True)."
        )
    log.repair(
        "sorted",
        out_of_order,
        f"Sorted {out_of_order} row{_s(out_of_order)} that were out of order.",
        data.index[late],
    )
    return data.sort_index(kind="stable")


def _align_to_periods(index: pd.DatetimeIndex, log: _Log) -> pd.DatetimeIndex:
    """Move monthly/quarterly/yearly dates that are not period starts (the 15th, ...) to them."""
    if len(index) < 2 or infer_frequency(index) is not None:
        return index
    days = pd.Series(np.diff(index.asi8)).median() / 86400e9
    period = (
        "M"
        if 27 <= days <= 31
        else "Q"
        if 88 <= days <= 92
        else "Y"
        if 364 <= days <= 366
        else None
    )
    if period is None:
        return index
    aligned = index.to_period(period).to_timestamp()
    if aligned.has_duplicates:
        return index
    word = {"M": "month", "Q": "quarter", "Y": "year"}[period]
    moved = aligned != index
    log.repair(
        "dates_aligned",
        int(moved.sum()),
        f"Moved the dates to the first day of their {word} so they are regular.",
        index[moved],
    )
    return aligned


def _merge_duplicates(data: pd.DataFrame, how: str, log: _Log) -> pd.DataFrame:
    duplicated = data.index.duplicated()
    if not duplicated.any():
        return data
    stamps = data.index[duplicated].unique()
    count = int(duplicated.sum())
    data = _combine(data, lambda frame: frame.groupby(level=0, sort=True), how)
    log.repair(
        "duplicates_merged",
        count,
        f"Merged {count} duplicate timestamp{_s(count)} by {how} ({_stamps(stamps)}).",
        stamps,
    )
    return data


def _text_columns(data: pd.DataFrame) -> list[str]:
    """The categorical (text) columns of `data`; the others hold numbers."""
    return [name for name in data.columns if _is_text(data[name])]


def _combine(data: pd.DataFrame, group: Callable, how: str) -> pd.DataFrame:
    """One row per group (duplicate timestamps, or resampling bins): numbers by `how`
    (sum, mean, last, max or min), text by the group's last value.

    Args:
        data: The rows.
        group: Makes the groups of a frame (`frame.groupby(...)` or `frame.resample(...)`).
        how: How numbers are combined.
    """
    text = _text_columns(data)
    numeric = [name for name in data.columns if name not in text]
    parts = [group(data[text]).last()] if text else []
    if numeric:
        groups = group(data[numeric] if text else data)
        parts.append(groups.sum(min_count=1) if how == "sum" else getattr(groups, how)())
    return parts[0] if len(parts) == 1 else pd.concat(parts, axis=1)[list(data.columns)]


def _stamps(index: pd.Index, limit: int = 5) -> str:
    """A short list of timestamps: '1984-12-31, 1988-12-31' or '... and 7 more'."""
    shown = ", ".join(_stamp_texts(pd.DatetimeIndex(index[:limit])))
    return shown + (f" and {len(index) - limit} more" if len(index) > limit else "")


def _positions(data: pd.DataFrame, mask: np.ndarray) -> str:
    if isinstance(data.index, pd.DatetimeIndex):
        return _stamps(data.index[mask])
    return (
        "steps "
        + ", ".join(str(step) for step in data.index[mask][:5])
        + (f" and {int(mask.sum()) - 5} more" if mask.sum() > 5 else "")
    )


def _regularize(
    data: pd.DataFrame, options: LoadOptions, log: _Log
) -> tuple[pd.DataFrame, str, pd.DatetimeIndex]:
    """Resample if asked, then put every timestamp of the frequency in the index.

    Returns:
        The regular frame, its frequency alias and the timestamps that were inserted.
    """
    freq = infer_frequency(data.index)
    if options.resample:
        data, freq = _resample(data, freq, options, log)
        return data, freq, pd.DatetimeIndex([])
    if len(data) < 3:
        raise _too_short(len(data))
    if freq is None:
        raise DataError(
            f"The timestamps are not regular (steps such as "
            f"{_step_examples(data.index)}), so no frequency can be inferred. "
            "Resample to a regular frequency, for example option resample='D' "
            "(--resample D) or 'MS' for monthly."
        )
    full = pd.date_range(data.index[0], data.index[-1], freq=freq, name="date")
    if len(full) > limits.MAX_ROWS:
        raise DataError(
            f"Filling the gaps at frequency {freq} would make {len(full):,} rows. "
            "Resample to a coarser frequency."
        )
    inserted = full.difference(data.index)
    return data.reindex(full), freq, inserted


def _step_examples(index: pd.DatetimeIndex) -> str:
    steps = pd.Series(np.diff(index.asi8)).value_counts().index[:3]
    return ", ".join(str(pd.Timedelta(int(step))) for step in steps)


def _resample(
    data: pd.DataFrame, freq: str | None, options: LoadOptions, log: _Log
) -> tuple[pd.DataFrame, str]:
    alias = options.resample
    try:
        data_out = _combine(data, lambda frame: frame.resample(alias), options.resample_how)
    except (ValueError, TypeError):
        raise DataError(
            f"Cannot resample to {alias!r}. Use a pandas frequency such as 'D', "
            "'W', 'MS', 'QS' or 'YS'."
        ) from None
    if len(data_out) > len(data):
        raise DataError(
            f"Resampling to {alias!r} would not make the series coarser "
            f"({len(data)} rows become {len(data_out)}). Choose a longer period."
        )
    new_freq = short_alias(_offset(alias).freqstr)
    source = describe_frequency(freq) if freq else "irregular"
    log.repair(
        "resampled",
        len(data),
        f"Resampled from {source} to {describe_frequency(new_freq)} ({new_freq}) by "
        f"{options.resample_how}: {len(data)} rows became {len(data_out)}.",
    )
    data_out.index.name = "date"
    return data_out, new_freq


def _span_label(index: pd.Index) -> str:
    """'2010-01-01 00:00 to 2010-01-01 23:00', 'step 4' or 'steps 0 to 9'."""
    if isinstance(index, pd.DatetimeIndex):
        ends = index[[0, -1]].unique()
        return " to ".join(_stamp_texts(ends))
    return f"step {index[0]}" if len(index) == 1 else f"steps {index[0]} to {index[-1]}"


def _trim_missing(data: pd.DataFrame, value_col: str, log: _Log) -> pd.DataFrame:
    """Drop leading and trailing rows without a value (they cannot be interpolated)."""
    present = np.flatnonzero(data[value_col].notna().to_numpy())
    if present.size == 0:
        raise DataError(
            f"Every value of {value_col!r} is missing. Choose a column that holds numbers."
        )
    first, last = present[0], present[-1]
    for rows, where in ((slice(0, first), "leading"), (slice(last + 1, len(data)), "trailing")):
        dropped = data.index[rows]
        if len(dropped):
            label = _span_label(dropped)
            log.repair(
                "trimmed",
                len(dropped),
                f"Dropped {len(dropped)} {where} row{_s(len(dropped))} without a value "
                f"in {value_col!r} ({label}).",
                dropped,
            )
    return data.iloc[first : last + 1]


_FILL_WORDS = {
    "linear": "linear interpolation",
    "time": "time interpolation",
    "seasonal": "the value one season earlier",
    "ffill": "the previous value",
}


def _fill(
    data: pd.DataFrame,
    value_col: str,
    freq: str | None,
    inserted: pd.Index,
    options: LoadOptions,
    log: _Log,
) -> pd.DataFrame:
    """Fill missing timestamps and cells with the chosen method, reporting each kind."""
    gap = data.index.isin(inserted)
    missing = data[value_col].isna().to_numpy()
    cells = missing & ~gap
    text = [name for name in _text_columns(data) if name != value_col]
    numbers = [name for name in data.columns if name != value_col and name not in text]
    number_missing = int(data[numbers].isna().to_numpy().sum()) if numbers else 0
    text_missing = int(data[text].isna().to_numpy().sum()) if text else 0
    if not (missing.any() or number_missing or text_missing):
        return data
    _refuse_invented(int(missing.sum()), len(data), freq)
    if options.fill == "none":
        raise _missing_error(data, value_col, missing)
    how = _FILL_WORDS[options.fill]
    if gap.any():
        log.repair(
            "timestamps_filled",
            int(gap.sum()),
            f"Filled {int(gap.sum())} missing timestamp{_s(int(gap.sum()))} "
            f"({_positions(data, gap)}) by {how}.",
            data.index[gap],
        )
    if cells.any():
        log.repair(
            "values_filled",
            int(cells.sum()),
            f"Filled {int(cells.sum())} missing value{_s(int(cells.sum()))} in "
            f"{value_col!r} ({_positions(data, cells)}) by {how}.",
            data.index[cells],
        )
    if number_missing:
        log.repair(
            "cells_filled",
            number_missing,
            f"Filled {number_missing} missing cell{_s(number_missing)} in the other "
            f"columns ({_names([n for n in numbers if data[n].isna().any()], 5)}) by "
            f"{how}.",
        )
    if text_missing:
        gaps = [name for name in text if data[name].isna().any()]
        log.repair(
            "cells_filled",
            text_missing,
            f"Filled {text_missing} missing cell{_s(text_missing)} in the categorical "
            f"column{_s(len(gaps))} {_names(gaps, 5)} with the previous category (the "
            "next one at the start).",
        )
    period = season_length(freq)
    if not text:
        return data.apply(lambda col: _fill_column(col, options.fill, period))
    return pd.DataFrame(
        {name: _fill_column(col, options.fill, period) for name, col in data.items()},
        index=data.index,
    )


def _missing_error(data: pd.DataFrame, value_col: str, missing: np.ndarray) -> DataError:
    """The refusal of missing values or cells when filling is off (option fill='none')."""
    advice = "Choose a fill method (option fill: linear, time, seasonal or ffill) or fix the file."
    if missing.any():
        count = int(missing.sum())
        return DataError(
            f"{count} value{_s(count)} of {value_col!r} {'is' if count == 1 else 'are'} "
            f"missing ({_positions(data, missing)}). {advice}"
        )
    gaps = [name for name in data.columns if data[name].isna().any()]
    count = int(data[gaps].isna().to_numpy().sum())
    first = _positions(data, data[gaps[0]].isna().to_numpy())
    return DataError(
        f"{count} cell{_s(count)} of the other column{_s(len(gaps))} {_names(gaps, 5)} "
        f"{'is' if count == 1 else 'are'} missing ({gaps[0]!r}: {first}). {advice}"
    )


def _refuse_invented(invented: int, total: int, freq: str | None) -> None:
    """Refuse a fill that would invent more than half of the series."""
    if invented * 2 <= total:
        return
    advice = (
        "Resample to a coarser frequency (option resample, --resample: for example 'W', "
        "'MS' or 'YS'), or use a file without such long gaps."
        if freq
        else "Choose a column with fewer empty cells, or fill them in the file."
    )
    raise DataError(
        f"Filling the gaps would invent {invented:,} of the {total:,} points "
        f"({100 * invented / total:.4g}%): only {total - invented:,} come from the "
        f"file{f' at frequency {freq}' if freq else ''}. {advice}"
    )


def _fill_column(col: pd.Series, method: str, period: int) -> pd.Series:
    """One column without gaps; edges that a method cannot reach take the nearest value."""
    if col.notna().sum() == 0 or col.notna().all():
        return col
    if _is_text(col):
        return col.ffill().bfill()
    if method == "seasonal" and period > 1:
        col = col.fillna(col.shift(period)).fillna(col.shift(-period))
        method = "linear"
    if method == "ffill":
        col = col.ffill()
    elif method == "time" and isinstance(col.index, pd.DatetimeIndex):
        col = col.interpolate(method="time")
    else:
        col = col.interpolate(method="linear")
    return col.ffill().bfill()


def _too_short(points: int) -> DataError:
    return DataError(
        f"The series has {points} point{_s(points)}; at least 3 are needed (and "
        "many more to train a model). Choose a longer file."
    )


def _finish(data: pd.DataFrame, value_col: str, freq: str | None, log: _Log) -> TimeSeries:
    values = data[value_col].to_numpy(dtype="float64")
    if values.size < 3:
        raise _too_short(values.size)
    if np.ptp(values) == 0:
        raise DataError(
            f"All {values.size} values of {value_col!r} equal {values[0]:g}: a "
            "constant series has nothing to learn. Choose another column."
        )
    extra = data.drop(columns=[value_col]) if len(data.columns) > 1 else None
    if extra is not None:
        extra = extra.loc[:, extra.notna().all()]
        extra = extra.astype({name: object for name in _text_columns(extra)})
    return TimeSeries(
        values,
        data.index,
        freq,
        value_col,
        tuple(log.repairs),
        extra if extra is not None and len(extra.columns) else None,
    )
