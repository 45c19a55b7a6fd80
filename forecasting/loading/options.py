"""How to read a file (`LoadOptions`) and the parsed file before columns are chosen (`Table`)."""

from __future__ import annotations

import codecs
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

import pandas as pd

from forecasting.errors import ConfigError
from forecasting.series import Repair

AGGREGATES = ("mean", "sum", "last")
FILLS = ("linear", "time", "seasonal", "ffill", "none")
RESAMPLE_HOWS = ("sum", "mean", "max", "min")


@dataclass(frozen=True)
class LoadOptions:
    """How to read a file. Every field is JSON-serialisable; None means detect.

    Attributes:
        date_col: Column holding the dates; None detects it.
        value_col: Column to forecast; None takes the first numeric column that is neither a
            date nor a row counter such as "No".
        sep: Field separator; None sniffs among , ; tab |.
        decimal: Decimal mark ("." or ","); None detects it.
        thousands: Thousands separator; None detects it.
        encoding: Text encoding; None tries the BOM, then UTF-8, Windows-1252 and Latin-1.
        date_format: Explicit strftime format such as "%d/%m/%Y".
        dayfirst: Read 03/04/2020 as 3 April (True) or 4 March (False); None detects it.
        sheet: Worksheet of an .xlsx file; None takes the first that holds data.
        aggregate: How duplicate timestamps are merged: mean, sum or last.
        fill: How gaps and missing values are filled: linear, time, seasonal, ffill, or none
            (refuse files with anything missing).
        resample: A coarser pandas frequency alias ("W", "MS", ...), or None to keep the data's.
        resample_how: How values are combined when resampling: sum, mean, max or min.
        sort: Sort rows by date (when False, unsorted dates are refused).
    """

    date_col: str | None = None
    value_col: str | None = None
    sep: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    dayfirst: bool | None = None
    sheet: str | None = None
    aggregate: str = "mean"
    fill: str = "linear"
    resample: str | None = None
    resample_how: str = "mean"
    sort: bool = True

    def __post_init__(self) -> None:
        for name in (
            "date_col",
            "value_col",
            "sep",
            "decimal",
            "thousands",
            "encoding",
            "date_format",
            "sheet",
            "resample",
        ):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"`{name}` must be text or None. Received: {name}={value!r}")
        for name in ("dayfirst", "sort"):
            value = getattr(self, name)
            if not (isinstance(value, bool) or (value is None and name == "dayfirst")):
                raise ConfigError(f"`{name}` must be True or False. Received: {name}={value!r}")
        _check_choice("aggregate", self.aggregate, AGGREGATES)
        _check_choice("fill", self.fill, FILLS)
        _check_choice("resample_how", self.resample_how, RESAMPLE_HOWS)
        if self.sep is not None and len(self.sep) != 1:
            raise ConfigError(f"`sep` must be one character. Received: sep={self.sep!r}")
        if self.decimal is not None and self.decimal not in (".", ","):
            raise ConfigError(f"`decimal` must be '.' or ','. Received: decimal={self.decimal!r}")
        if self.thousands is not None and (
            len(self.thousands) != 1 or self.thousands == self.decimal
        ):
            raise ConfigError(
                "`thousands` must be one character other than the decimal mark. "
                f"Received: thousands={self.thousands!r}"
            )
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ConfigError(
                    f"`encoding` is not a known text encoding. Received: encoding={self.encoding!r}"
                ) from None
        if self.resample is not None:
            _offset(self.resample)

    def to_dict(self) -> dict:
        """The options as a plain JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> LoadOptions:
        """Options from `to_dict()` output; unknown keys are refused.

        Raises:
            ConfigError: On unknown keys or invalid values.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"Unknown load options: {', '.join(map(str, unknown))}. "
                f"Known options: {', '.join(sorted(known))}."
            )
        return cls(**dict(data))


def _check_choice(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(
            f"`{name}` must be one of {', '.join(choices)}. Received: {name}={value!r}"
        )


def _offset(alias: str) -> pd.DateOffset:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.tseries.frequencies.to_offset(alias)
    except (ValueError, TypeError):
        raise ConfigError(
            f"`resample` must be a pandas frequency such as 'D', 'W', 'MS' or "
            f"'QS'. Received: resample={alias!r}"
        ) from None


DEFAULT_OPTIONS = LoadOptions()  # detect everything, the default policies


@dataclass(frozen=True)
class Table:
    """A parsed file before the date and value columns are chosen.

    Attributes:
        frame: One column per file column: float64 for numeric columns (unreadable cells are
            NaN), datetimes where the file stored them typed, text otherwise. Row i is data row
            i + 1 of the file.
        date_candidates: Columns that read as dates, best first (may include a "date" column
            assembled from year/month/day/hour columns).
        value_candidates: Numeric columns that can be forecast, best first.
        notes: What the parser did, in plain sentences.
        bad_cells: Per numeric column, the (row number, text) of cells that were not numbers.
        repairs: The changes made to the data while reading (skipped lines, ...), carried
            into the series' repairs.
        sheets: The sheet names of an .xlsx workbook (empty for other formats).
        sheet: The sheet that was read (None for other formats).
        categorical_candidates: Text columns with few distinct values (categories such as a
            wind direction), in file order; they travel in `TimeSeries.extra` as text.
        date_parts: The year/month/day/hour columns joined into an assembled date column
            (empty when the file has a date column of its own).
    """

    frame: pd.DataFrame
    date_candidates: tuple[str, ...]
    value_candidates: tuple[str, ...]
    notes: tuple[str, ...] = ()
    bad_cells: Mapping[str, tuple[tuple[int, str], ...]] = field(default_factory=dict)
    repairs: tuple[Repair, ...] = ()
    sheets: tuple[str, ...] = ()
    sheet: str | None = None
    categorical_candidates: tuple[str, ...] = ()
    date_parts: tuple[str, ...] = ()
