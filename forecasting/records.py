"""One JSON rule for everything that crosses a process or file boundary, and one way to
write timestamps as text.

`JsonRecord` gives frozen dataclasses `to_dict` / `from_dict` / `to_json` / `from_json`:
nested records are found from the field annotations, unknown keys are refused with the
known ones named, and a value of the wrong type becomes a `ConfigError`, never a traceback.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from functools import cache
from typing import Any

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
        raise ConfigError(f"{what} is not valid JSON ({exc.msg} at line {exc.lineno}). "
                          f"Download it again from the dashboard.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} must hold a JSON object.")
    return data


@cache
def _nested_records(cls: type) -> dict[str, type]:
    """Fields of `cls` whose annotation is itself a `JsonRecord` (read once per class)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)
            if isinstance(hints.get(f.name), type) and issubclass(hints[f.name], JsonRecord)}


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
            raise ConfigError(f"The settings of {cls.__name__} must be an object of settings. "
                              f"Received: {type(data).__name__} {data!r:.40}")
        data = dict(data or {})
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ConfigError(
                f"Unknown setting(s) {', '.join(unknown)} for {cls.__name__}. "
                f"Known settings: {', '.join(names)}."
            )
        nested = _nested_records(cls)
        kwargs = {name: nested[name].from_dict(value) if name in nested else value
                  for name, value in data.items()}
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
    nanos = index.asi8 % 1_000_000_000
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
