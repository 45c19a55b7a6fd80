"""Frequency knowledge: inference from timestamps, plain words, seasons and horizons."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting.frequency import (
    default_horizon,
    describe_frequency,
    describe_season,
    freq_family,
    infer_frequency,
    season_length,
    week_steps,
)


@pytest.mark.parametrize(
    ("freq", "expected"),
    [
        ("MS", "MS"),
        ("ME", "ME"),
        ("D", "D"),
        ("h", "h"),
        ("W-WED", "W-WED"),
        ("QS", "QS-JAN"),
        ("YS", "YS"),
        ("YE", "YE"),
        ("B", "B"),
        ("15min", "15min"),
    ],
)
def test_infer_frequency_survives_gaps(freq: str, expected: str) -> None:
    index = pd.date_range("2021-01-01", periods=30, freq=freq)
    assert infer_frequency(index) == expected
    assert infer_frequency(index.delete([3, 10, 11])) == expected


def test_describe_frequency_in_plain_words() -> None:
    assert describe_frequency("MS") == "monthly (month starts)"
    assert describe_frequency("W-SUN") == "weekly (Sundays)"
    assert describe_frequency("15min") == "every 15 minutes"
    assert describe_frequency(None) == "integer steps (no dates)"


@pytest.mark.parametrize(
    ("freq", "family", "period", "horizon"),
    [
        ("MS", "MS", 12, 12),
        ("W-SUN", "W", 52, 13),
        ("D", "D", 7, 14),
        ("h", "h", 24, 24),
        ("2h", "h", 1, 10),
        (None, None, 1, 10),
    ],
)
def test_season_and_horizon_follow_the_frequency(freq, family, period, horizon) -> None:
    assert freq_family(freq) == family
    assert season_length(freq) == period
    assert default_horizon(period) == horizon


def test_describe_season() -> None:
    assert describe_season(12) == "year of months"
    assert describe_season(9) == "cycle of 9 steps"
    assert describe_season(1) == "no season"


def test_only_hourly_data_have_a_week_beside_their_season() -> None:
    assert week_steps("h") == week_steps("H") == 168
    assert week_steps("2h") is week_steps("D") is week_steps("MS") is week_steps(None) is None
