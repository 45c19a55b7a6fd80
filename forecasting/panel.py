"""Many series of one frequency, each named by its id: what a long file with an id column (or a
wide file with one column per series) holds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import ConfigError, DataError
from forecasting.series import TimeSeries

ID_SEPARATOR = " / "


@dataclass(frozen=True, eq=False)
class Panel:
    """Validated many-series data.

    Guarantees: at least one series; every series is a valid `TimeSeries` (sorted unique
    timestamps, finite values) and all share one frequency; ids are unique tuples of text, one
    value per id column.

    Attributes:
        series: The series, in the order of their ids.
        ids: Each series' id values (one per id column), as text.
        id_cols: The id column names ("series" for a wide file's columns).
        notes: How the file was read as many series (the id column found, ...).
    """

    series: tuple[TimeSeries, ...]
    ids: tuple[tuple[str, ...], ...]
    id_cols: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "series", tuple(self.series))
        object.__setattr__(self, "ids", tuple(tuple(str(v) for v in i) for i in self.ids))
        object.__setattr__(self, "id_cols", tuple(self.id_cols))
        object.__setattr__(self, "notes", tuple(self.notes))
        if not self.series:
            raise DataError("The file holds no series. Choose a file with data rows.")
        if len(self.ids) != len(self.series):
            raise DataError(f"{len(self.ids)} ids for {len(self.series)} series.")
        if any(len(i) != len(self.id_cols) for i in self.ids):
            raise DataError("Every series needs one id value per id column.")
        if len(set(self.ids)) != len(self.ids):
            raise DataError("Two series share an id; ids must tell the series apart.")
        freqs = {s.freq for s in self.series}
        if len(freqs) > 1:
            raise DataError(
                f"The series have different frequencies ({', '.join(map(str, freqs))}); "
                "one network forecasts series of one frequency. Resample them to one."
            )

    @property
    def freq(self) -> str | None:
        return self.series[0].freq

    @property
    def labels(self) -> list[str]:
        """Each series' name: its id values joined by " / "."""
        return [ID_SEPARATOR.join(i) for i in self.ids]

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.series])

    def __len__(self) -> int:
        return len(self.series)

    def __getitem__(self, label: str) -> TimeSeries:
        return self.series[self.position(label)]

    def position(self, label: str) -> int:
        """Where the series called `label` is.

        Raises:
            DataError: No series has that id (the first few ids named).
        """
        try:
            return self.labels.index(label)
        except ValueError:
            shown = ", ".join(self.labels[:5]) + (" ..." if len(self) > 5 else "")
            raise DataError(f"No series has the id {label!r}. The ids are: {shown}.") from None

    def subset(self, labels: list[str]) -> Panel:
        """The series with these ids, in this order."""
        picked = [self.position(label) for label in labels]
        return Panel(
            tuple(self.series[i] for i in picked),
            tuple(self.ids[i] for i in picked),
            self.id_cols,
            self.notes,
        )

    def to_dict(self) -> dict:
        """Plain JSON (what crosses the process boundary)."""
        return {
            "id_cols": list(self.id_cols),
            "ids": [list(i) for i in self.ids],
            "series": [s.to_dict() for s in self.series],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Panel:
        known = {"id_cols", "ids", "series", "notes"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"Unknown panel field(s) {', '.join(unknown)}.")
        return cls(
            tuple(TimeSeries.from_dict(s) for s in data["series"]),
            tuple(tuple(i) for i in data["ids"]),
            tuple(data["id_cols"]),
            tuple(data.get("notes", ())),
        )

    @classmethod
    def from_long(
        cls,
        frame: pd.DataFrame,
        id_cols: list[str] | tuple[str, ...],
        date_col: str,
        value_col: str,
        freq: str | None = None,
    ) -> Panel:
        """A panel from an already clean long table (one row per id and timestamp); for files
        use `forecasting.loading.load_panel`, which repairs and explains."""
        id_cols = list(id_cols)
        series, ids = [], []
        for key, rows in frame.groupby(id_cols, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            rows = rows.sort_values(date_col)
            index = pd.DatetimeIndex(pd.to_datetime(rows[date_col]), name="date")
            series.append(TimeSeries(rows[value_col].to_numpy(float), index, freq, value_col))
            ids.append(tuple(str(v) for v in key))
        return cls(tuple(series), tuple(ids), tuple(id_cols))
