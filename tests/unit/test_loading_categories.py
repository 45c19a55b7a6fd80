"""Categorical (text) columns travel in `TimeSeries.extra` beside the numeric ones, through
every repair, and round-trip through the JSON payload."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import DataError
from forecasting.loading import LoadOptions, load_series, read_table, summarize
from forecasting.series import TimeSeries

DIRECTIONS = ("NW", "NE", "SE", "cv")


def csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def pollution_like(hours: int = 48) -> list[str]:
    """Rows shaped like the Beijing file: a counter, split dates, NA cells, a wind direction."""
    rows = ["No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir"]
    for i in range(hours):
        day, hour = 1 + i // 24, i % 24
        pm = "NA" if i in (0, 1, 7) else str(50 + (i * 7) % 31)
        wind = "NA" if i == 10 else ("" if i == 20 else DIRECTIONS[(i // 5) % 4])
        rows.append(
            f"{i + 1},2010,1,{day},{hour},{pm},-{i % 9},{(i * 3) % 11 - 5},1020,{wind},1.79,0,0"
        )
    return rows


def test_pollution_wind_direction_travels_as_a_category() -> None:
    table = read_table(csv(*pollution_like()))
    assert table.categorical_candidates == ("cbwd",)
    assert table.date_parts == ("year", "month", "day", "hour")
    series = load_series(csv(*pollution_like()))
    assert series.name == "pm2.5" and series.freq == "h"
    assert list(series.extra.columns) == ["DEWP", "TEMP", "PRES", "Iws", "Is", "Ir", "cbwd"]
    assert "No" not in series.extra.columns
    cbwd = series.extra["cbwd"]
    assert cbwd.dtype == object and cbwd.index.equals(series.index)
    assert set(cbwd) == set(DIRECTIONS) and cbwd.notna().all()
    assert all(isinstance(v, str) for v in cbwd)
    assert (series.extra.drop(columns="cbwd").dtypes == np.float64).all()
    # Two leading hours without pm2.5 are trimmed: row 10 ('NA') and row 20 ('') take the
    # previous category.
    assert cbwd.iloc[10 - 2] == cbwd.iloc[9 - 2] and cbwd.iloc[20 - 2] == cbwd.iloc[19 - 2]
    assert any("categorical column 'cbwd'" in r.sentence for r in series.repairs)
    summary = summarize(series)
    assert summary["columns"][-1] == "cbwd"
    assert summary["column_types"]["cbwd"] == "categorical"
    assert summary["column_types"]["TEMP"] == "numeric"

    back = TimeSeries.from_dict(json.loads(json.dumps(series.to_dict())))
    assert series.to_dict()["extra"]["cbwd"][:3] == list(cbwd.iloc[:3])
    pd.testing.assert_frame_equal(
        back.extra, series.extra, check_freq=False, check_index_type=False
    )
    assert back.extra["cbwd"].dtype == object and back.column_types == series.column_types


def test_free_text_ids_and_dates_are_not_categories() -> None:
    rows = ["date,id,value,note,kind,when"]
    for d in range(1, 13):
        rows.append(
            f"2020-01-{d:02d},{'ab'[d % 2]},{d % 5 + 1},note {d},{'xy'[d % 2]},2021-02-{d:02d}"
        )
    table = read_table(csv(*rows))
    assert table.categorical_candidates == ("kind",)
    series = load_series(csv(*rows))
    assert list(series.extra.columns) == ["kind"]
    # Fewer distinct values than half the rows: 6 values over 12 rows is not a category.
    few = ["date,value,kind"] + [f"2020-01-{d:02d},{d % 5 + 1},k{d % 6}" for d in range(1, 13)]
    assert read_table(csv(*few)).categorical_candidates == ()


def test_duplicates_take_the_last_category_and_numbers_keep_their_aggregate() -> None:
    rows = [
        "date,y,t,wd",
        "2020-01-01,1,10,N",
        "2020-01-03,3,30,S",
        "2020-01-02,2,20,N",
        "2020-01-03,5,50,E",
        "2020-01-04,4,40,S",
        "2020-01-05,6,50,N",
        "2020-01-06,7,60,S",
        "2020-01-07,8,70,N",
        "2020-01-08,9,80,N",
    ]
    series = load_series(csv(*rows))
    assert series.extra.loc["2020-01-03", "wd"] == "E"
    assert series.extra.loc["2020-01-03", "t"] == 40.0  # mean, as for numbers alone
    assert series.values[2] == 4.0
    kinds = [r.kind for r in series.repairs]
    assert "sorted" in kinds and "duplicates_merged" in kinds


def test_resampling_takes_the_last_category_of_each_bin() -> None:
    days = pd.date_range("2020-01-01", periods=12, freq="D").strftime("%Y-%m-%d")
    winds = ["N", "S", "E", "", "N", "N", "S", "S", "E", "N", "E", "S"]
    rows = ["date,y,t,wd"] + [
        f"{d},{(i * 5) % 7 + 1},{2 * i + 0.5},{w}"
        for i, (d, w) in enumerate(zip(days, winds, strict=True))
    ]
    series = load_series(csv(*rows), LoadOptions(resample="3D", resample_how="sum"))
    assert len(series) == 4
    assert series.name == "y"
    np.testing.assert_allclose(series.values, [11, 14, 10, 13])
    np.testing.assert_allclose(series.extra["t"], [7.5, 25.5, 43.5, 61.5])
    assert list(series.extra["wd"]) == ["E", "N", "E", "S"]  # the blank 4th day is skipped


def test_gaps_forward_fill_then_back_fill_categories() -> None:
    rows = [
        "date,y,wd",
        "2020-01-01,1,",
        "2020-01-02,2,NE",
        "2020-01-04,4,SE",
        "2020-01-05,5,NA",
        "2020-01-06,6,cv",
        "2020-01-07,7,NE",
        "2020-01-08,8,cv",
    ]
    series = load_series(csv(*rows))
    assert list(series.extra["wd"]) == ["NE", "NE", "NE", "SE", "SE", "cv", "NE", "cv"]
    np.testing.assert_allclose(series.values, [1, 2, 3, 4, 5, 6, 7, 8])


def test_integer_steps_carry_categories_too() -> None:
    rows = ["value,wd"] + [f"{i % 4 + 1},{'NS'[i % 3 == 0]}" for i in range(10)]
    series = load_series(csv(*rows))
    assert not series.has_dates
    assert list(series.extra["wd"]) == ["NS"[i % 3 == 0] for i in range(10)]


def test_fill_none_names_the_missing_category_cells() -> None:
    rows = ["date,y,wd"] + [
        f"2020-01-{d:02d},{d % 4 + 1},{'' if d == 3 else 'N'}" for d in range(1, 9)
    ]
    with pytest.raises(DataError, match=r"1 cell of the other column 'wd' is missing"):
        load_series(csv(*rows), LoadOptions(fill="none"))


def test_numeric_extras_are_unchanged_beside_a_category() -> None:
    base = ["date,y,t"] + [
        f"2020-01-{d:02d},{d},{'' if d == 4 else d * 2}" for d in (1, 2, 3, 4, 6, 7)
    ]
    with_text = ["date,y,t,wd"] + [f"{row},{'NS'[i % 2]}" for i, row in enumerate(base[1:])]
    plain, mixed = load_series(csv(*base)), load_series(csv(*with_text))
    pd.testing.assert_frame_equal(plain.extra, mixed.extra[["t"]])
    np.testing.assert_array_equal(plain.values, mixed.values)
    assert [r.sentence for r in plain.repairs] == [
        r.sentence for r in mixed.repairs if "categorical" not in r.sentence
    ]
