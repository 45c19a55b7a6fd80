"""The new data of an update, checked against the model's data and joined to it.

`continue_series` checks that newer data continues a bundle's data: the same frequency, the
same target column, the covariates the network reads, timestamps on the model's grid, values
that agree with the stored last window (and its covariates) wherever the two overlap (else the
first conflicting timestamp is named), and a gap between them refused or filled with the Data
page's fill methods (`forecasting.loading.repair`). Only the last window of the model's data is
stored in a bundle (a combination's bundle: the longer history its simple methods read), so
only that overlap can be checked, and the stitched series starts there at the earliest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.bundle import Bundle, parse_last
from forecasting.bundle_covariates import role_words
from forecasting.errors import DataError
from forecasting.frequency import season_length
from forecasting.records import format_timestamps, stamp_texts
from forecasting.series import Repair, TimeSeries

FILLS = ("linear", "time", "seasonal", "ffill", "none")
_FILL_WORDS = {
    "linear": "linear interpolation",
    "time": "time interpolation",
    "seasonal": "the value one season earlier",
    "ffill": "the previous value",
}


@dataclass(frozen=True)
class Continuation:
    """The model's data continued by the new data.

    Attributes:
        series: The stitched series: the stored last window (or the new data's own older
            points) and the new points, with the covariates the network reads.
        new_start: Index in `series` of the first point after the model's last timestamp.
        offset: Position of `series[0]` counted from the parent's first training point.
        notes: Repairs made while stitching (a filled gap).
    """

    series: TimeSeries
    new_start: int
    offset: int
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------- continuation
def continue_series(bundle: Bundle, new: TimeSeries, fill: str = "linear") -> Continuation:
    """The model's data continued by `new`, checked.

    Raises:
        DataError: Another frequency, another target column, a covariate the network reads
            missing, no point after the model's data, a timestamp off the model's grid, a
            value that contradicts the model's data (the first such timestamp named), or a
            gap with `fill="none"`.
    """
    freq, name = bundle.series["freq"], str(bundle.series.get("name", "value"))
    if new.freq != freq:
        raise DataError(
            f"The new data has frequency {new.freq or 'integer steps'} but the model was "
            f"trained on {freq or 'integer steps'}. Upload data of the same frequency."
        )
    if str(new.name) != name:
        raise DataError(
            f"The new data's value column is {new.name!r}, but the model forecasts {name!r}. "
            f"Choose the column {name!r} (--value-col {name}): an update continues the same "
            "series."
        )
    columns = list(bundle.roles.columns)
    has = [] if new.extra is None else [str(c) for c in new.extra.columns]
    missing = [c for c in columns if c not in has]
    if missing:
        raise DataError(
            f"The new data lacks the column(s) {', '.join(missing)}, which the model reads "
            f"({role_words(bundle.roles)}). It has: {', '.join(has) or 'no other column'}. "
            "Upload data with the same columns as the model's."
        )
    stored = bundle.history_frame(points=None)
    stored_index = pd.Index(stored["date"])
    last = parse_last(bundle.series["last"], freq)
    if new.last <= last:
        raise DataError(
            f"The new data ends at {_stamp(new.last)}, which the model has already seen "
            f"(its data ends at {_stamp(last)}). Upload data that goes beyond {_stamp(last)}."
        )
    first = min(stored_index[0], new.index[0])
    if freq is None:
        full = pd.RangeIndex(int(first), int(new.last) + 1, name="step")
    else:
        full = pd.date_range(first, new.last, freq=freq, name="date")
    for index, whose in ((new.index, "new data's"), (stored_index, "model's")):
        off = index[~index.isin(full)]
        if len(off):
            raise DataError(
                f"The {whose} timestamp {_stamp(off[0])} is not on the grid of the other "
                f"({freq} steps from {_stamp(first)}). Upload data with the model's timestamps."
            )
    new_frame = pd.DataFrame({"value": new.values}, index=new.index)
    if columns:
        new_frame = new_frame.join(new.extra[columns].set_axis(new.index))
    old_frame = pd.DataFrame({"value": stored["actual"].to_numpy()}, index=stored_index)
    if bundle.last_covariates is not None and columns:
        old_frame = old_frame.join(bundle.last_covariates[columns].set_axis(stored_index))
    _check_overlap(new_frame, old_frame, name)
    frame = new_frame.reindex(full)
    older = old_frame.index.difference(new_frame.index)
    frame.loc[older, old_frame.columns] = old_frame.loc[older]
    frame, repairs = _fill_gap(frame, fill, freq, last, new.index[0])
    extra = frame[columns] if columns else None
    if extra is not None:
        extra = pd.DataFrame(
            {c: extra[c].astype(_dtype(new.extra[c])) for c in columns},
            index=full,
        )
    series = TimeSeries(frame["value"].to_numpy(float), full, freq, name, repairs, extra)
    new_start = int(full.get_loc(last)) + 1
    notes = tuple(repair.sentence for repair in repairs)
    return Continuation(series, new_start, bundle.last_position - (new_start - 1), notes)


def _dtype(column: pd.Series):
    """float64 for a numeric covariate, object for a categorical one."""
    return "float64" if pd.api.types.is_numeric_dtype(column.dtype) else object


def _check_overlap(new: pd.DataFrame, old: pd.DataFrame, name: str) -> None:
    """Where the new data and the stored last window share timestamps, every value agrees.

    Raises:
        DataError: Naming the first timestamp where they differ, with both values.
    """
    common = old.index.intersection(new.index)
    if not len(common):
        return
    conflicts = []
    for column in old.columns:
        a, b = new.loc[common, column], old.loc[common, column]
        known = b.notna().to_numpy()
        if pd.api.types.is_numeric_dtype(b.dtype) and pd.api.types.is_numeric_dtype(a.dtype):
            x, y = a.to_numpy(float), b.to_numpy(float)
            bad = known & ~np.isclose(x, y, rtol=1e-6, atol=1e-9 * max(1.0, np.nanmax(np.abs(y))))
        else:
            bad = known & (a.astype(str).to_numpy() != b.astype(str).to_numpy())
        if bad.any():
            at = int(np.argmax(bad))
            conflicts.append((common[at], column, a.iloc[at], b.iloc[at]))
    if conflicts:
        stamp, column, now, before = min(conflicts, key=lambda c: c[0])
        what = name if column == "value" else column
        raise DataError(
            f"The new data contradicts the model's data at {_stamp(stamp)}: {what!r} is "
            f"{now} there, {before} in the data the model was trained on. Where the two "
            "overlap they must agree: upload the same series continued (same column, same "
            "units), or train a new model on the Train page."
        )


def _fill_gap(frame: pd.DataFrame, fill: str, freq, last, new_first) -> tuple:
    """Fill the timestamps between the model's data and the new data, or refuse them.

    Returns:
        The filled frame and the repairs made (none without a gap).
    """
    from forecasting.loading.repair import _fill_column, _refuse_invented

    gap = frame.index[frame["value"].isna().to_numpy()]
    if not len(gap):
        return frame, ()
    shown = ", ".join(stamp_texts(gap[:3])) + (f" and {len(gap) - 3} more" if len(gap) > 3 else "")
    if fill == "none":
        raise DataError(
            f"The new data starts at {_stamp(new_first)} and the model's data ends at "
            f"{_stamp(last)}: {shown} are missing. Upload data that covers them, "
            "or choose a fill method (--fill linear, time, seasonal or ffill) to fill them."
        )
    _refuse_invented(len(gap), len(frame), freq)
    period = season_length(freq)
    filled = pd.DataFrame(
        {c: _fill_column(col, fill, period) for c, col in frame.items()}, index=frame.index
    )
    note = (
        f"Filled {len(gap)} missing timestamp(s) between the model's data and the new data "
        f"({shown}) by {_FILL_WORDS[fill]}."
    )
    return filled, (Repair("timestamps_filled", len(gap), format_timestamps(gap[:5]), note),)


def _stamp(value) -> str:
    return stamp_texts(pd.Index([value]))[0]


__all__ = ["Continuation", "continue_series", "FILLS"]
