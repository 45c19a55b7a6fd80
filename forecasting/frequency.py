"""Everything the project knows about frequencies: inferring one from timestamps, naming it in
plain words, and the seasonal period and default horizon it implies.

Frequencies are pandas offset aliases ("MS", "W-SUN", "15min", ...); None means integer steps.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

# Seasonal period per pandas frequency family (the part of the alias before any "-").
_SEASON_BY_FREQ = {
    "MS": 12,
    "ME": 12,
    "M": 12,
    "BMS": 12,
    "BME": 12,
    "SMS": 24,
    "SME": 24,
    "QS": 4,
    "QE": 4,
    "Q": 4,
    "BQS": 4,
    "BQE": 4,
    "W": 52,
    "D": 7,
    "B": 5,
    "C": 5,
    "h": 24,
    "H": 24,
    "bh": 8,
    "min": 60,
    "T": 60,
    "s": 60,
    "S": 60,
}
_SEASON_NAMES = {
    12: "year of months",
    4: "year of quarters",
    52: "year of weeks",
    7: "week of days",
    5: "week of working days",
    24: "day of hours",
    60: "hour of minutes",
}
# Steps in the longer cycle around the frequency's own season: hourly data repeat each day
# and again each week (energy, traffic, retail).
_WEEK_BY_FREQ = {"h": 168, "H": 168}
# Default forecast horizon per seasonal period (one cycle, as in the M4 competition).
_HORIZON_BY_SEASON = {12: 12, 4: 8, 52: 13, 7: 14, 5: 10, 24: 24, 60: 60, 1: 10}

_FREQ_WORDS = {
    "MS": "monthly (month starts)",
    "ME": "monthly (month ends)",
    "QS": "quarterly (quarter starts)",
    "QE": "quarterly (quarter ends)",
    "YS": "yearly (year starts)",
    "YE": "yearly (year ends)",
    "D": "daily",
    "B": "business days",
    "h": "hourly",
    "min": "every minute",
    "s": "every second",
    "W": "weekly",
}
_UNIT_WORDS = {
    "D": "days",
    "h": "hours",
    "min": "minutes",
    "s": "seconds",
    "W": "weeks",
    "ms": "milliseconds",
    "us": "microseconds",
}
_DAY_NAMES = {
    "MON": "Mondays",
    "TUE": "Tuesdays",
    "WED": "Wednesdays",
    "THU": "Thursdays",
    "FRI": "Fridays",
    "SAT": "Saturdays",
    "SUN": "Sundays",
}


# --------------------------------------------------------------------------- seasons


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


def week_steps(freq: str | None) -> int | None:
    """Steps in a week when the frequency's own season is a day (hourly: 168), else None."""
    family = freq_family(freq)
    if family is None or any(ch.isdigit() for ch in freq.split("-")[0]):
        return None
    return _WEEK_BY_FREQ.get(family)


def describe_season(period: int) -> str:
    """Plain words for a seasonal period: 12 -> "year of months"."""
    return _SEASON_NAMES.get(period, f"cycle of {period} steps") if period > 1 else "no season"


def default_horizon(period: int) -> int:
    """One seasonal cycle ahead, or 10 steps for series without a season."""
    return _HORIZON_BY_SEASON.get(period, max(period, 10))


# --------------------------------------------------------------------------- inference and words


def infer_frequency(index: pd.DatetimeIndex) -> str | None:
    """The pandas alias of the index's regular step, robust to gaps; None if irregular.

    Monthly data gives "MS" or "ME", quarterly "QS-<MON>"/"QE-<MON>", yearly "YS"/"YE",
    weekly "W-<DAY>"; otherwise the most common step ("D", "B", "h", "15min", ...).
    """
    if len(index) < 2:
        return None
    index = pd.DatetimeIndex(index).as_unit("ns")  # steps below are counted in nanoseconds
    if len(index) >= 3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = pd.infer_freq(index)
        if found is not None:
            return short_alias(getattr(found, "freqstr", found))
    for alias in _frequency_guesses(index):
        if index.isin(pd.date_range(index[0], index[-1], freq=alias)).all():
            return alias
    return None


def short_alias(alias: str) -> str:
    """The alias as the project writes it: "YS-JAN" -> "YS", "YE-DEC" -> "YE"."""
    return {"YS-JAN": "YS", "YE-DEC": "YE", "QS-JAN": "QS-JAN"}.get(alias, alias)


def _frequency_guesses(index: pd.DatetimeIndex) -> list[str]:
    """Aliases worth checking, from the most common step between timestamps."""
    counts = pd.Series(np.diff(index.asi8)).value_counts()
    steps = dict.fromkeys([*counts.index[:3], counts.index.min()])  # commonest, then smallest
    return [alias for step in steps for alias in _aliases_for_step(pd.Timedelta(int(step)), index)]


def _aliases_for_step(step: pd.Timedelta, index: pd.DatetimeIndex) -> list[str]:
    """The frequency aliases whose step is about `step`, anchored like the index."""
    days = step / pd.Timedelta(days=1)
    first = index[0]
    month = first.strftime("%b").upper()
    if 27 <= days <= 31:
        return ["MS", "ME"]
    if 88 <= days <= 92:
        return [f"QS-{month}", f"QE-{month}"]
    if 364 <= days <= 366:
        return ["YS", "YE"]
    if days == 7:
        return [f"W-{first.strftime('%a').upper()}"]
    if days == 1:
        return ["B", "D"] if (index.day_of_week < 5).all() else ["D"]
    nanos = step.value
    for unit, size in (
        ("D", 86_400 * 10**9),
        ("h", 3_600 * 10**9),
        ("min", 60 * 10**9),
        ("s", 10**9),
        ("ms", 10**6),
        ("us", 10**3),
    ):
        if nanos >= size and nanos % size == 0:
            count = nanos // size
            return [unit if count == 1 else f"{count}{unit}"]
    return []


def describe_frequency(freq: str | None) -> str:
    """Plain words for a pandas alias: "MS" -> "monthly (month starts)", None -> "steps"."""
    if freq is None:
        return "integer steps (no dates)"
    family = freq_family(freq) or freq
    count = freq.split("-")[0][: -len(family)] if freq.split("-")[0] != family else ""
    if count:
        return f"every {count} {_UNIT_WORDS.get(family, family)}"
    words = _FREQ_WORDS.get(family, freq)
    if family == "W" and "-" in freq:
        words = f"weekly ({_DAY_NAMES.get(freq.split('-')[1], freq)})"
    return words
