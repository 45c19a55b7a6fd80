"""Covariate columns and calendar cycles as the float features a network reads.

`CovariateData` holds the raw columns of one series (its history, and the future covariates'
values after its end); `CovariateEncoder`, fit on the training rows only, turns them into two
arrays: **past** features (rows aligned with the series: read only before an origin) and
**known** features (future covariates and calendar cycles, rows continuing past the end: read up
to the last step of a horizon).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.covariates import Roles, is_categorical
from forecasting.errors import DataError
from forecasting.records import stamp_texts
from forecasting.series import TimeSeries

CYCLES = ("hour of day", "day of week", "day of year", "month of year")
MAX_CATEGORIES = 50


def calendar_cycles(index: pd.DatetimeIndex) -> tuple[str, ...]:
    """The cycles finer than the data's step: hourly data gets hour of day, day of week and
    day of year; daily data day of week and day of year; weekly day of year; monthly and
    quarterly month of year; yearly none.

    Raises:
        DataError: For yearly or coarser data, where no cycle is finer than a step.
    """
    step = (index[1:] - index[:-1]).median() if len(index) > 1 else pd.Timedelta(days=1)
    days = step / pd.Timedelta(days=1)
    if days < 1:
        return CYCLES[:3]
    if days < 7:
        return CYCLES[1:3]
    if days < 28:
        return CYCLES[2:3]
    if days < 365:
        return CYCLES[3:]
    raise DataError(
        "Calendar features need data finer than yearly (a year has no cycle to show). "
        "Turn calendar features off."
    )


def cycle_phases(index: pd.DatetimeIndex, cycles: tuple[str, ...]) -> np.ndarray:
    """Sine and cosine of each cycle's phase at every timestamp: shape (len(index), 2 x cycles)."""
    hours = index.hour + index.minute / 60
    phase = {
        "hour of day": hours / 24,
        "day of week": (index.dayofweek + hours / 24) / 7,
        "day of year": (index.dayofyear - 1 + hours / 24) / 365.25,
        "month of year": (index.month - 1) / 12,
    }
    columns = []
    for cycle in cycles:
        angle = 2 * np.pi * np.asarray(phase[cycle], dtype=float)
        columns += [np.sin(angle), np.cos(angle)]
    return np.stack(columns, axis=1) if columns else np.empty((len(index), 0))


@dataclass(frozen=True, eq=False)
class CovariateData:
    """The raw covariate columns of one series.

    Attributes:
        roles: Which columns are past and future covariates, and whether calendar is on.
        history: The role columns on the series' timestamps (rows aligned with its values).
        ahead: The future covariates on the timestamps after the end (index continues the
            series; no rows when nothing is forecast beyond the data).
    """

    roles: Roles
    history: pd.DataFrame
    ahead: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def of(cls, series: TimeSeries, roles: Roles, ahead: pd.DataFrame | None = None):
        """The role columns of `series`, and `ahead` (from `covariates.future_values`)."""
        columns = list(roles.columns)
        history = (series.extra[columns] if columns else pd.DataFrame(index=series.index)).set_axis(
            series.index
        )
        if ahead is None:
            ahead = history.iloc[:0]
        return cls(roles, history, ahead[list(roles.future)])

    @property
    def index(self) -> pd.Index:
        """The timestamps of the history and then of the rows ahead."""
        return self.history.index.append(self.ahead.index)

    def head(self, n: int) -> CovariateData:
        """The first `n` rows of the history, nothing ahead (a backtest fold's view)."""
        history = self.history.iloc[:n]
        return CovariateData(self.roles, history, history.iloc[:0][list(self.roles.future)])


@dataclass(frozen=True)
class Features:
    """Encoded covariates: `past` (n, P) aligned with the values, `known` (n + ahead, K)."""

    past: np.ndarray
    known: np.ndarray


@dataclass
class CovariateEncoder:
    """Numbers centred and scaled, categories one-hot, calendar as sine-cosine pairs; every
    statistic (centre, scale, the categories) from the training rows only.

    Attributes:
        roles: The roles it encodes.
        numeric: Numeric column -> [centre, scale].
        categories: Categorical column -> the categories seen in training, in order.
        cycles: Calendar cycles (empty without calendar features).
    """

    roles: Roles
    numeric: dict[str, list[float]] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)
    cycles: tuple[str, ...] = ()

    @classmethod
    def fit(cls, data: CovariateData, train_end: int) -> CovariateEncoder:
        """Fit on the first `train_end` rows of the history.

        Raises:
            DataError: A categorical column with more than `MAX_CATEGORIES` categories.
        """
        numeric, categories = {}, {}
        for column in data.roles.columns:
            values = data.history[column].iloc[:train_end]
            if is_categorical(values):
                seen = sorted({str(v) for v in values.dropna()})
                if len(seen) > MAX_CATEGORIES:
                    raise DataError(
                        f"Column {column!r} holds {len(seen)} categories; at most "
                        f"{MAX_CATEGORIES} can be encoded. Set it to ignore."
                    )
                categories[column] = seen
            else:
                values = values.to_numpy(dtype=float)
                numeric[column] = [float(np.mean(values)), float(np.std(values)) or 1.0]
        cycles = calendar_cycles(data.history.index) if data.roles.calendar else ()
        return cls(data.roles, numeric, categories, tuple(cycles))

    def _column(self, column: str, values: pd.Series) -> np.ndarray:
        if column in self.numeric:
            centre, scale = self.numeric[column]
            return ((values.to_numpy(dtype=float) - centre) / scale)[:, None]
        known = self.categories[column]
        text = values.astype(object).where(values.notna(), None)
        unseen = [(stamp, v) for stamp, v in text.items() if v is not None and str(v) not in known]
        if unseen:
            stamp, value = unseen[0]
            raise DataError(
                f"Column {column!r} holds the category {value!r} at "
                f"{stamp_texts(pd.Index([stamp]))[0]}, never seen in training (known: "
                f"{', '.join(known)}). Map it to a known category, or train again with data "
                "that holds it."
            )
        codes = np.array([known.index(str(v)) if v is not None else -1 for v in text])
        return (codes[:, None] == np.arange(len(known))[None, :]).astype(float)

    def _block(self, columns, frame: pd.DataFrame) -> np.ndarray:
        parts = [self._column(c, frame[c]) for c in columns]
        return np.concatenate(parts, axis=1) if parts else np.empty((len(frame), 0))

    def encode(self, data: CovariateData) -> Features:
        """The past and known features of `data` (float32)."""
        past = self._block(self.roles.past, data.history)
        known_rows = pd.concat([data.history[list(self.roles.future)], data.ahead])
        known = self._block(self.roles.future, known_rows)
        if self.cycles:
            known = np.concatenate([known, cycle_phases(data.index, self.cycles)], axis=1)
        return Features(past.astype("float32"), known.astype("float32"))

    def width(self, column: str) -> int:
        return len(self.categories[column]) if column in self.categories else 1

    @property
    def n_past(self) -> int:
        return sum(self.width(c) for c in self.roles.past)

    @property
    def n_known(self) -> int:
        return sum(self.width(c) for c in self.roles.future) + 2 * len(self.cycles)

    def groups(self) -> dict[str, tuple[str, np.ndarray]]:
        """Each input (a column, or "calendar") -> (the array it is in, its feature columns):
        what a permutation importance shuffles together."""
        found, start = {}, 0
        for column in self.roles.past:
            found[column] = ("past", np.arange(start, start + self.width(column)))
            start += self.width(column)
        start = 0
        for column in self.roles.future:
            found[column] = ("known", np.arange(start, start + self.width(column)))
            start += self.width(column)
        if self.cycles:
            found["calendar"] = ("known", np.arange(start, start + 2 * len(self.cycles)))
        return found

    def to_dict(self) -> dict:
        return {
            "roles": self.roles.to_dict(),
            "numeric": self.numeric,
            "categories": self.categories,
            "cycles": list(self.cycles),
        }

    @classmethod
    def from_dict(cls, data: dict) -> CovariateEncoder:
        return cls(
            Roles.from_dict(data["roles"]),
            {k: [float(x) for x in v] for k, v in data["numeric"].items()},
            {k: [str(x) for x in v] for k, v in data["categories"].items()},
            tuple(data["cycles"]),
        )
