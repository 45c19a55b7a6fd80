"""One JSON rule for everything that crosses a process or file boundary, and one way to
write timestamps as text.

`JsonRecord` gives frozen dataclasses `to_dict` / `from_dict` / `to_json` / `from_json`:
nested records (also in lists, dicts and optional fields) are found from the field
annotations, unknown keys are refused with the known ones named, and a value of the wrong
type becomes a `ConfigError`, never a traceback. `FrameRecord` stores a table as column lists.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from forecasting.errors import ConfigError


def parse_json_object(text: str, what: str = "The configuration") -> dict:
    """Parse text that must hold one JSON object.

    Raises:
        ConfigError: Not JSON, or JSON that is not an object.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} is not valid JSON ({exc.msg} at line {exc.lineno}). "
            f"Download it again from the dashboard."
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} must hold a JSON object.")
    return data


@cache
def _decoders(cls: type) -> dict[str, Callable[[Any], Any]]:
    """Fields of `cls` that hold records (a record, a list or dict of records, or an optional
    one), each with the function that rebuilds it from JSON (read once per class)."""
    hints = typing.get_type_hints(cls)
    found = {
        f.name: _decoder(hints.get(f.name), f"{cls.__name__}.{f.name}")
        for f in dataclasses.fields(cls)
    }
    return {name: decode for name, decode in found.items() if decode is not None}


def _decoder(hint, where: str) -> Callable[[Any], Any] | None:
    """How to rebuild a value annotated `hint` from JSON; None when it is plain JSON."""
    if isinstance(hint, type) and issubclass(hint, JsonRecord):
        return hint.from_dict
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in args if arg is not type(None)]
        decode = _decoder(inner[0], where) if len(inner) == 1 else None
        return None if decode is None else (lambda v: None if v is None else decode(v))
    if origin is list and args and (decode := _decoder(args[0], where)) is not None:
        return lambda v: [decode(item) for item in _expect(v, list, where)]
    if origin is dict and len(args) == 2 and (decode := _decoder(args[1], where)) is not None:
        return lambda v: {key: decode(item) for key, item in _expect(v, dict, where).items()}
    return None


def _expect(value, kind: type, where: str):
    if not isinstance(value, kind):
        raise ConfigError(
            f"`{where}` must be a JSON {'list' if kind is list else 'object'}. "
            f"Received: {type(value).__name__} {value!r:.40}"
        )
    return value


class JsonRecord:
    """`to_dict` / `from_dict` / `to_json` / `from_json` for (nested) frozen dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None):
        """Build from a plain dict; nested records from nested dicts.

        Raises:
            ConfigError: Not a dict, an unknown key, or an invalid value.
        """
        if data is not None and not isinstance(data, dict):
            raise ConfigError(
                f"The settings of {cls.__name__} must be an object of settings. "
                f"Received: {type(data).__name__} {data!r:.40}"
            )
        data = dict(data or {})
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ConfigError(
                f"Unknown setting(s) {', '.join(unknown)} for {cls.__name__}. "
                f"Known settings: {', '.join(names)}."
            )
        decoders = _decoders(cls)
        kwargs = {
            name: decoders[name](value) if name in decoders else value
            for name, value in data.items()
        }
        try:
            return cls(**kwargs)
        except TypeError as exc:  # a value of the wrong type deep inside __post_init__
            raise ConfigError(f"Invalid settings for {cls.__name__}: {exc}") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(parse_json_object(text))

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def json_number(value) -> float | None:
    """A finite float, or None (None, NaN and infinities are not JSON numbers)."""
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def format_timestamps(index: pd.Index) -> list:
    """Timestamps as ISO text, integer steps as ints: the one text form of a time axis.

    Dates only when every time is midnight; seconds when any is off the minute; fractions of a
    second (milliseconds, microseconds or nanoseconds, as fine as the data) when any has them.
    """
    if not isinstance(index, pd.DatetimeIndex):
        return [int(v) for v in index]
    if len(index) == 0:
        return []
    if (index == index.normalize()).all():
        return list(index.strftime("%Y-%m-%d"))
    nanos = (index - index.floor("s")).as_unit("ns").asi8  # any unit (pandas 3: us)
    if not nanos.any():
        return list(index.strftime("%Y-%m-%dT%H:%M:%S"))
    digits = 3 if not (nanos % 1_000_000).any() else 6 if not (nanos % 1000).any() else 9
    seconds = index.strftime("%Y-%m-%dT%H:%M:%S")
    return [f"{s}.{n:09d}"[: len(s) + 1 + digits] for s, n in zip(seconds, nanos, strict=True)]


def format_timestamp(stamp) -> str | int:
    """One timestamp (or integer step) as `format_timestamps` writes it."""
    if isinstance(stamp, pd.Timestamp):
        return format_timestamps(pd.DatetimeIndex([stamp]))[0]
    return int(stamp)


def parse_timestamps(values: list, name: str = "date") -> pd.Index:
    """Inverse of `format_timestamps`: text parsed to a DatetimeIndex, ints to steps."""
    if values and isinstance(values[0], str):
        return pd.DatetimeIndex(pd.to_datetime(values, format="ISO8601"), name=name)
    return pd.Index([int(v) for v in values], name=name, dtype="int64")


class FrameRecord(JsonRecord):
    """A table as column lists: the first field is the time axis (text by `format_timestamps`),
    every other field a column of floats. The field names are the column names."""

    @classmethod
    def from_frame(cls, frame: pd.DataFrame):
        """The record of a frame holding (at least) the record's columns."""
        first, *rest = (f.name for f in dataclasses.fields(cls))
        return cls(
            **{
                first: format_timestamps(pd.Index(frame[first])),
                **{name: [float(v) for v in frame[name]] for name in rest},
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """The table again: dates parsed back, values as floats, columns in field order."""
        first, *rest = (f.name for f in dataclasses.fields(self))
        return pd.DataFrame(
            {
                first: parse_timestamps(getattr(self, first), first),
                **{name: np.asarray(getattr(self, name), dtype=float) for name in rest},
            }
        )

    def __len__(self) -> int:
        return len(getattr(self, dataclasses.fields(self)[0].name))


def stamp_texts(index) -> list[str]:
    """Timestamps for sentences: dates alone at midnight, '2020-01-01 10:30' on the minute,
    else seconds and fractions as fine as the data (as `format_timestamps` writes them);
    integer steps as numbers."""
    index = pd.Index(index)
    if pd.api.types.is_integer_dtype(index):
        return [str(step) for step in index]
    index = pd.DatetimeIndex(index)
    if (index == index.normalize()).all():
        return list(index.strftime("%Y-%m-%d"))
    if (index == index.floor("min")).all():
        return list(index.strftime("%Y-%m-%d %H:%M"))
    return [text.replace("T", " ") for text in format_timestamps(index)]
