"""The validated time series that every other module works on, and frequency helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.errors import DataError

# Seasonal period per pandas frequency family (the part of the alias before any "-").
_SEASON_BY_FREQ = {
    "MS": 12, "ME": 12, "M": 12, "BMS": 12, "BME": 12, "SMS": 24, "SME": 24,
    "QS": 4, "QE": 4, "Q": 4, "BQS": 4, "BQE": 4,
    "W": 52,
    "D": 7, "B": 5, "C": 5,
    "h": 24, "H": 24, "bh": 8,
    "min": 60, "T": 60, "s": 60, "S": 60,
}
_SEASON_NAMES = {12: "year of months", 4: "year of quarters", 52: "year of weeks",
                 7: "week of days", 5: "week of working days", 24: "day of hours",
                 60: "hour of minutes"}
# Default forecast horizon per seasonal period (one cycle, as in the M4 competition).
_HORIZON_BY_SEASON = {12: 12, 4: 8, 52: 13, 7: 14, 5: 10, 24: 24, 60: 60, 1: 10}


def freq_family(freq: str | None) -> str | None:
    """Return the family of a pandas frequency alias: "MS", "W-SUN" -> "W", "2h" -> "h"."""
    if not freq:
        return None
    base = freq.split("-")[0].lstrip("0123456789")
    return base or None


def season_length(freq: str | None) -> int:
    """Seasonal period implied by a frequency (12 for monthly), or 1 when it says nothing."""
    family = freq_family(freq)
    if family is None or any(ch.isdigit() for ch in freq.split("-")[0]):
        return 1
    return _SEASON_BY_FREQ.get(family, 1)


def describe_season(period: int) -> str:
    """Plain words for a seasonal period: 12 -> "year of months"."""
    return _SEASON_NAMES.get(period, f"cycle of {period} steps") if period > 1 else "no season"


def default_horizon(period: int) -> int:
    """One seasonal cycle ahead, or 10 steps for series without a season."""
    return _HORIZON_BY_SEASON.get(period, max(period, 10))


@dataclass(frozen=True, eq=False)
class TimeSeries:
    """A validated univariate series.

    Guarantees: at least one point; `values` is a read-only 1-D float64 array with only
    finite numbers; `index` is a sorted, unique `pd.DatetimeIndex` (with `freq` the pandas
    alias of its regular frequency) or, for files without dates, a `pd.RangeIndex` of integer
    steps (with `freq` None). Transformations return new objects.

    Attributes:
        values: The observations.
        index: Their timestamps, or integer steps.
        freq: Pandas offset alias ("MS", "D", "h", ...), None for integer steps.
        name: Name of the value column.
        repairs: One plain sentence per repair made while loading (sorted, filled, ...).
        extra: Other numeric columns of the file aligned to `index`, kept for later use.
    """

    values: np.ndarray
    index: pd.Index
    freq: str | None = None
    name: str = "value"
    repairs: tuple[str, ...] = ()
    extra: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        values = np.array(self.values, dtype=np.float64).reshape(-1)
        if values.size == 0:
            raise DataError("The series is empty. Choose a column that holds numbers.")
        if not np.all(np.isfinite(values)):
            raise DataError(
                "The series holds missing or infinite values. Fill the gaps or drop those rows."
            )
        index = self.index if isinstance(self.index, pd.Index) else pd.Index(self.index)
        if len(index) != values.size:
            raise DataError(
                f"The index has {len(index)} entries but there are {values.size} values."
            )
        if not index.is_monotonic_increasing or not index.is_unique:
            raise DataError("Timestamps must be sorted and unique. Sort the rows and "
                            "aggregate duplicate timestamps.")
        values.setflags(write=False)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "index", index)

    @classmethod
    def from_values(cls, values, freq: str | None = None, start="2000-01-01",
                    name: str = "value") -> TimeSeries:
        """Build a series from plain values: dated from `start` when `freq` is given."""
        values = np.asarray(values, dtype=np.float64)
        if freq is None:
            index = pd.RangeIndex(len(values), name="step")
        else:
            index = pd.date_range(start, periods=len(values), freq=freq, name="date")
        return cls(values, index, freq, name)

    def __len__(self) -> int:
        return self.values.size

    @property
    def has_dates(self) -> bool:
        return isinstance(self.index, pd.DatetimeIndex)

    @property
    def season_length(self) -> int:
        return season_length(self.freq)

    @property
    def last(self):
        """The last timestamp (or integer step)."""
        return self.index[-1]

    def future_index(self, horizon: int) -> pd.Index:
        """The `horizon` timestamps after the last one, continuing the frequency."""
        return future_index(self.last, horizon, self.freq)

    def to_frame(self) -> pd.DataFrame:
        """Two columns: the index (named date or step) and the values (named `name`)."""
        return pd.DataFrame({self.index.name or ("date" if self.has_dates else "step"): self.index,
                             self.name: self.values})

    def replace_values(self, values) -> TimeSeries:
        """A copy with other values on the same index."""
        return TimeSeries(values, self.index, self.freq, self.name, self.repairs, self.extra)

    def head(self, n: int) -> TimeSeries:
        """The first `n` points."""
        extra = None if self.extra is None else self.extra.iloc[:n]
        return TimeSeries(self.values[:n], self.index[:n], self.freq, self.name,
                          self.repairs, extra)


def future_index(last, horizon: int, freq: str | None) -> pd.Index:
    """The `horizon` positions after `last`: dates continuing `freq`, or integer steps."""
    if freq is None:
        start = int(last) + 1
        return pd.RangeIndex(start, start + horizon, name="step")
    return pd.date_range(pd.Timestamp(last), periods=horizon + 1, freq=freq, name="date")[1:]


def periods_between(start, end, freq: str | None) -> int:
    """Number of steps of `freq` from `start` to `end` (negative when `end` is earlier)."""
    if freq is None:
        return int(end) - int(start)
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end < start:
        return -periods_between(end, start, freq)
    return len(pd.date_range(start, end, freq=freq)) - 1
