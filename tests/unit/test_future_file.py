"""The future file: a date column plus the future covariates over the horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import DataError
from forecasting.loading import LoadOptions, read_future


def csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_a_csv_future_file_gives_dated_float_columns() -> None:
    future = read_future(
        csv(
            "date,TEMP,holiday",
            "2015-01-01 00:00,-3,0",
            "2015-01-01 01:00,-4.5,0",
            "2015-01-01 02:00,,1",
        ),
        filename="future.csv",
    )
    assert isinstance(future.index, pd.DatetimeIndex) and future.index.name == "date"
    assert list(future.index) == list(pd.date_range("2015-01-01", periods=3, freq="h"))
    assert list(future.columns) == ["TEMP", "holiday"]
    assert (future.dtypes == np.float64).all()
    np.testing.assert_allclose(future["TEMP"], [-3, -4.5, np.nan])
    np.testing.assert_allclose(future["holiday"], [0, 0, 1])


def test_a_single_row_is_enough() -> None:
    future = read_future(csv("date,TEMP,holiday", "2015-01-01 00:00,-3,0"))
    assert future.index[0] == pd.Timestamp("2015-01-01") and future["TEMP"].iloc[0] == -3.0


def test_semicolons_decimal_commas_and_day_first_dates() -> None:
    raw = csv(
        "Datum;TEMP;holiday",
        "13.01.2015 00:00;-3,5;0",
        "13.01.2015 01:00;-2,25;1",
        "13.01.2015 02:00;1.234,5;1",
    )
    future = read_future(raw)
    assert future.index[0] == pd.Timestamp("2015-01-13 00:00")
    np.testing.assert_allclose(future["TEMP"], [-3.5, -2.25, 1234.5])
    ambiguous = csv("date;TEMP", "01.02.2015;-3,5", "02.02.2015;-2,25")
    with pytest.raises(DataError, match="day-first or month-first"):
        read_future(ambiguous)
    future = read_future(ambiguous, LoadOptions(dayfirst=True))
    assert list(future.index) == [pd.Timestamp("2015-02-01"), pd.Timestamp("2015-02-02")]
    fmt = read_future(ambiguous, LoadOptions(date_format="%m.%d.%Y"))
    assert fmt.index[0] == pd.Timestamp("2015-01-02")


def test_a_text_column_stays_text() -> None:
    future = read_future(
        csv(
            "date,cbwd,TEMP",
            "2015-01-03,SE,1",
            "2015-01-01,NW,bad",
            "2015-01-02,,3",
        )
    )
    assert list(future.index) == list(pd.date_range("2015-01-01", periods=3, freq="D"))
    assert future["cbwd"].dtype == object
    assert list(future["cbwd"]) == ["NW", None, "SE"]
    np.testing.assert_allclose(future["TEMP"], [np.nan, 3, 1])
    assert any("non-numeric" in note for note in future.attrs["notes"])


def test_a_file_without_a_date_column_is_refused() -> None:
    with pytest.raises(DataError, match="needs a date column plus the future covariate") as info:
        read_future(csv("step,TEMP", "1,3", "2,4"), filename="f.csv")
    assert "'f.csv' has no date column" in str(info.value)
    with pytest.raises(DataError, match="only the date column"):
        read_future(csv("date", "2015-01-01", "2015-01-02"))
    with pytest.raises(DataError, match="no column 'when'"):
        read_future(csv("date,TEMP", "2015-01-01,1"), LoadOptions(date_col="when"))


def test_a_repeated_timestamp_is_refused_by_name() -> None:
    raw = csv("date,TEMP", "2015-01-01,1", "2015-01-03,2", "2015-01-02,3", "2015-01-03,4")
    with pytest.raises(DataError, match=r"more than one row for 2015-01-03\. Keep one row"):
        read_future(raw)


def test_unreadable_files_raise_data_errors_not_tracebacks() -> None:
    for raw in (b"", b"\x00\x01\x02binary", csv("date,TEMP", "tomorrow,1", "later,2", "soon,3")):
        with pytest.raises(DataError):
            read_future(raw)


def test_dates_split_into_parts_are_joined_and_the_parts_dropped() -> None:
    future = read_future(csv("year,month,day,hour,TEMP", "2015,1,1,0,3", "2015,1,1,1,4"))
    assert list(future.columns) == ["TEMP"]
    assert future.index[1] == pd.Timestamp("2015-01-01 01:00")
