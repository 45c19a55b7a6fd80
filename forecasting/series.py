"""The validated time series that every other module works on, and the repairs it carries."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.errors import ConfigError, DataError
from forecasting.frequency import season_length
from forecasting.records import JsonRecord, format_timestamps, parse_timestamps


@dataclass(frozen=True)
class Repair(JsonRecord):
    """One change the loader made to the data, as data and as the sentence users read.

    Attributes:
        kind: Short machine name: preamble_skipped, footer_skipped, malformed_skipped,
            dates_read, dayfirst_chosen, dates_aligned, bad_cells, undated_dropped,
            footer_dropped, sorted, duplicates_merged, resampled, trimmed, timestamps_filled,
            values_filled or cells_filled.
        count: How many rows, cells or timestamps it touched.
        stamps: A bounded sample of the affected timestamps (ISO text) or integer steps, as
            `records.format_timestamps` writes them; empty when it concerns file lines.
        sentence: The plain sentence shown to users.
    """

    kind: str
    count: int
    stamps: tuple[str | int, ...] = ()
    sentence: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "stamps", tuple(self.stamps))

    def __str__(self) -> str:
        return self.sentence


MAX_ABS_VALUE = 1e100  # squares and sums of squares of larger values overflow float64


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
        repairs: One `Repair` per change made while loading (sorted, filled, ...).
        extra: Other columns of the file aligned to `index`, without missing cells: numeric
            ones as float64, categorical (text) ones as object dtype holding str.
    """

    values: np.ndarray
    index: pd.Index
    freq: str | None = None
    name: str = "value"
    repairs: tuple[Repair, ...] = ()
    extra: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        values = np.array(self.values, dtype=np.float64).reshape(-1)
        if values.size == 0:
            raise DataError("The series is empty. Choose a column that holds numbers.")
        if not np.all(np.isfinite(values)):
            raise DataError(
                "The series holds missing or infinite values. Fill the gaps or drop those rows."
            )
        largest = float(np.max(np.abs(values)))
        if largest > MAX_ABS_VALUE:
            raise DataError(
                f"Values too large: the series reaches {largest:.3g}, beyond the "
                f"{MAX_ABS_VALUE:.0e} the computations can handle without overflowing. Rescale "
                "the column (for example divide it by a power of ten) and load it again."
            )
        index = self.index if isinstance(self.index, pd.Index) else pd.Index(self.index)
        if len(index) != values.size:
            raise DataError(
                f"The index has {len(index)} entries but there are {values.size} values."
            )
        if not index.is_monotonic_increasing or not index.is_unique:
            raise DataError(
                "Timestamps must be sorted and unique. Sort the rows and "
                "aggregate duplicate timestamps."
            )
        values.setflags(write=False)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "repairs", tuple(self.repairs))

    @classmethod
    def from_values(
        cls, values, freq: str | None = None, start="2000-01-01", name: str = "value"
    ) -> TimeSeries:
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

    @property
    def column_types(self) -> dict[str, str]:
        """Each column of `extra`: "numeric" or "categorical"."""
        if self.extra is None:
            return {}
        return {str(name): column_type(col) for name, col in self.extra.items()}

    def to_frame(self) -> pd.DataFrame:
        """Two columns: the index (named date or step) and the values (named `name`)."""
        return pd.DataFrame(
            {
                self.index.name or ("date" if self.has_dates else "step"): self.index,
                self.name: self.values,
            }
        )

    def head(self, n: int) -> TimeSeries:
        """The first `n` points."""
        extra = None if self.extra is None else self.extra.iloc[:n]
        return TimeSeries(
            self.values[:n], self.index[:n], self.freq, self.name, self.repairs, extra
        )

    def to_dict(self) -> dict:
        """The series as plain JSON: what crosses the process boundary (no pickle).

        Returns:
            Keys values, index (`format_timestamps` text, or integer steps), freq, name,
            repairs (dicts of `Repair`) and extra ({column: values, None where missing}, or
            None when there are no other columns; a categorical column holds str and None).
        """
        extra = (
            None
            if self.extra is None
            else {str(name): _column_json(column) for name, column in self.extra.items()}
        )
        return {
            "values": self.values.tolist(),
            "index": format_timestamps(self.index),
            "freq": self.freq,
            "name": self.name,
            "repairs": [repair.to_dict() for repair in self.repairs],
            "extra": extra,
        }

    @classmethod
    def from_dict(cls, data: dict) -> TimeSeries:
        """The series back from `to_dict()` output.

        Raises:
            ConfigError: Unknown keys, or a repair that is not a valid `Repair`.
            DataError: The values and index do not make a valid series.
        """
        known = ("values", "index", "freq", "name", "repairs", "extra")
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(
                f"Unknown series field(s) {', '.join(unknown)}. Known fields: {', '.join(known)}."
            )
        index = parse_timestamps(data["index"], name="date")
        if not isinstance(index, pd.DatetimeIndex):
            index = index.rename("step")
        extra = data.get("extra")
        frame = (
            None
            if extra is None
            else pd.DataFrame(
                {name: _column_from_json(name, values, index) for name, values in extra.items()},
                index=index,
            )
        )
        return cls(
            data["values"],
            index,
            data.get("freq"),
            data.get("name", "value"),
            tuple(Repair.from_dict(repair) for repair in data.get("repairs", ())),
            frame,
        )


def column_type(column: pd.Series) -> str:
    """'numeric' for a column of numbers, 'categorical' for text (categories)."""
    return "numeric" if pd.api.types.is_numeric_dtype(column.dtype) else "categorical"


def _column_json(column: pd.Series) -> list:
    """A column of `extra` as JSON values: floats or str, None where missing."""
    if column_type(column) == "numeric":
        return [None if math.isnan(v) else v for v in column.astype("float64").tolist()]
    return [None if pd.isna(v) else str(v) for v in column.tolist()]


def _column_from_json(name: str, values: list, index: pd.Index) -> pd.Series:
    """A column back from `_column_json`: object dtype when it holds text, else float64."""
    text = [isinstance(v, str) for v in values]
    if any(text):
        if not all(is_text or v is None for is_text, v in zip(text, values, strict=True)):
            raise ConfigError(
                f"The extra column {name!r} mixes text and numbers. A column holds numbers "
                "or text (categories), and None where a cell is missing."
            )
        return pd.Series(values, index=index, dtype=object, name=name)
    numbers = np.array([np.nan if v is None else v for v in values], dtype="float64")
    return pd.Series(numbers, index=index, name=name)


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
