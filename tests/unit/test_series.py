"""The validated series and its repair records: guarantees and the JSON payload."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import ConfigError
from forecasting.series import Repair, TimeSeries


def round_trip(series: TimeSeries) -> TimeSeries:
    return TimeSeries.from_dict(json.loads(json.dumps(series.to_dict())))


def test_repair_is_a_record_whose_text_is_its_sentence() -> None:
    repair = Repair("sorted", 2, ["2020-01-01", "2020-01-02"], "Sorted 2 rows.")
    assert str(repair) == "Sorted 2 rows."
    assert repair.stamps == ("2020-01-01", "2020-01-02")
    assert Repair.from_json(repair.to_json()) == repair
    with pytest.raises(ConfigError, match="Unknown"):
        Repair.from_dict({**repair.to_dict(), "rows": 1})


def test_payload_round_trips_sub_second_dates_repairs_and_extra() -> None:
    index = pd.date_range("2024-03-01 12:00:00.250", periods=4, freq="250ms", name="date")
    extra = pd.DataFrame({"temp": [1.5, np.nan, 3.0, 4.0], "wind": [0.0, 1, 2, 3]}, index=index)
    repairs = (Repair("timestamps_filled", 1, ("2024-03-01T12:00:00.500",), "Filled 1 gap."),)
    series = TimeSeries([1.0, 2.5, 3.0, 4.0], index, "250ms", "load", repairs, extra)
    back = round_trip(series)
    np.testing.assert_array_equal(back.values, series.values)
    assert back.index.equals(series.index) and back.index.name == "date"
    assert (back.freq, back.name, back.repairs) == ("250ms", "load", repairs)
    pd.testing.assert_frame_equal(back.extra, extra, check_freq=False)
    assert series.to_dict()["extra"]["temp"][1] is None


def test_payload_round_trips_integer_steps_without_extra() -> None:
    series = TimeSeries.from_values([3.0, 1.0, 2.0])
    back = round_trip(series)
    assert list(back.index) == [0, 1, 2] and back.index.name == "step"
    assert back.freq is None and back.extra is None and back.repairs == ()


def test_payload_refuses_unknown_fields() -> None:
    data = {**TimeSeries.from_values([1.0, 2.0]).to_dict(), "colour": "red"}
    with pytest.raises(ConfigError, match="colour"):
        TimeSeries.from_dict(data)


def test_payload_round_trips_text_columns_as_object_dtype() -> None:
    index = pd.date_range("2024-03-01", periods=3, freq="D", name="date")
    extra = pd.DataFrame(
        {
            "temp": [1.5, np.nan, 3.0],
            "wind": pd.Series(["NW", None, "cv"], index=index, dtype=object),
        },
        index=index,
    )
    series = TimeSeries([1.0, 2.0, 4.0], index, "D", "load", (), extra)
    assert series.column_types == {"temp": "numeric", "wind": "categorical"}
    payload = series.to_dict()
    assert payload["extra"] == {"temp": [1.5, None, 3.0], "wind": ["NW", None, "cv"]}
    back = round_trip(series)
    assert back.extra["wind"].dtype == object and back.extra["temp"].dtype == np.float64
    assert list(back.extra["wind"]) == ["NW", None, "cv"]
    pd.testing.assert_frame_equal(back.extra, extra, check_freq=False)


def test_payload_refuses_a_column_mixing_text_and_numbers() -> None:
    data = {**TimeSeries.from_values([1.0, 2.0]).to_dict(), "extra": {"wind": ["NW", 3.0]}}
    with pytest.raises(ConfigError, match="'wind' mixes text and numbers"):
        TimeSeries.from_dict(data)
