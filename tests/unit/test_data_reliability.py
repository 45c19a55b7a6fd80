"""Loader defects of issue 19: stacked series, Excel sheets, invented fills, dates out of
pandas' range, sub-second steps, day-first by regularity, and messages on tiny or wide files."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.errors import DataError
from forecasting.export import forecast_csv
from forecasting.frequency import infer_frequency
from forecasting.loading import (
    AmbiguousDatesError,
    LoadOptions,
    load_series,
    read_table,
    summarize,
    workbook_sheets,
)


def csv(header: str, rows) -> bytes:
    return (header + "\n" + "\n".join(rows) + "\n").encode()


def stacked_by_counter(series: int, length: int) -> bytes:
    return csv(
        "series_id,t,value",
        (f"s{k},{t},{k * 100 + t * 1.5}" for k in range(series) for t in range(1, length + 1)),
    )


def stacked_by_date(series: int, length: int, with_id: bool = True) -> bytes:
    dates = pd.date_range("2020-01-01", periods=length, freq="D").strftime("%Y-%m-%d")
    rng = np.random.default_rng(series * 100 + length)
    head = "series_id,date,value" if with_id else "date,value"
    return csv(
        head,
        (
            (f"{k}," if with_id else "") + f"{d},{i * 10 + rng.random():.4f}"
            for i, k in enumerate("abcdefgh"[:series])
            for d in dates
        ),
    )


# ------------------------------------------------------------------ item 4: stacked series


def test_a_counter_that_restarts_per_group_is_refused_naming_the_id_column() -> None:
    with pytest.raises(DataError) as info:
        load_series(stacked_by_counter(3, 60))
    message = str(info.value)
    assert "3 series stacked by 'series_id'" in message and "'t'" in message
    assert "as many series by 'series_id' (--id-col series_id" in message
    assert "choose one series" in message


def test_dates_that_repeat_per_group_are_refused_not_averaged() -> None:
    with pytest.raises(DataError) as info:
        load_series(stacked_by_date(3, 80))
    message = str(info.value)
    assert "The file holds 3 series stacked by 'series_id'" in message
    assert "repeats 3 times" in message and "'a'" in message


def test_blocks_of_dates_without_an_id_column_are_refused() -> None:
    with pytest.raises(DataError, match="3 series one after another"):
        load_series(stacked_by_date(3, 30, with_id=False))


@settings(max_examples=25, deadline=None)
@given(series=st.integers(2, 6), length=st.integers(4, 40))
def test_stacked_files_are_always_refused(series: int, length: int) -> None:
    for data in (stacked_by_date(series, length), stacked_by_counter(series, length)):
        with pytest.raises(DataError, match=f"{series} series stacked by 'series_id'"):
            load_series(data)


def test_a_few_real_duplicates_are_still_merged_with_a_note() -> None:
    dates = [*pd.date_range("2020-01-01", periods=20, freq="D").strftime("%Y-%m-%d")]
    rows = [f"{d},{i},ok" for i, d in enumerate(dates)] + [f"{dates[3]},99,late"]
    series = load_series(csv("date,value,note", rows))
    assert len(series) == 20
    assert [r.kind for r in series.repairs if r.kind == "duplicates_merged"] == [
        "duplicates_merged"
    ]


def test_interleaved_repeated_measurements_are_merged() -> None:
    dates = pd.date_range("2020-01-01", periods=10, freq="D").strftime("%Y-%m-%d")
    rows = [f"{d},{i + k}" for i, d in enumerate(dates) for k in range(3)]
    series = load_series(csv("date,value", rows))
    assert len(series) == 10 and series.values[0] == 1.0


def test_a_value_column_is_preferred_to_an_integer_counter() -> None:
    rows = [f"{t},{i * 7 % 11 + 0.5},{np.sin(i):.3f}" for i, t in enumerate([*range(1, 7)] * 4)]
    table = read_table(csv("t,price,value", rows))
    assert table.value_candidates[0] == "value"
    assert table.value_candidates[-1] == "t"  # restarting counter ranked last
    series = load_series(csv("t,price,value", rows))
    assert series.name == "value" and series.extra is not None
    assert "t" not in series.extra.columns


def test_hours_within_days_are_not_taken_for_stacked_series() -> None:
    rows = [f"{d},{h},{d * 24 + h}" for d in range(1, 4) for h in range(24)]
    assert len(load_series(csv("day,hour,value", rows))) == 72


# ------------------------------------------------------------------ item 6: Excel sheets


def workbook() -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.DataFrame({"About": ["Sales by month", "Version 2", "Source: shop"]}).to_excel(
            writer, sheet_name="Notes", index=False
        )
        pd.DataFrame(
            {
                "date": pd.date_range("2020-01-01", periods=6, freq="MS"),
                "sales": [1.0, 2, 4, 3, 5, 6],
            }
        ).to_excel(writer, sheet_name="Data", index=False)
        pd.DataFrame().to_excel(writer, sheet_name="Empty")
    return buffer.getvalue()


def test_the_first_sheet_that_holds_data_is_read_and_named() -> None:
    table = read_table(workbook())
    assert (table.sheets, table.sheet) == (("Notes", "Data", "Empty"), "Data")
    assert any("'Data'" in note and "'Notes'" in note for note in table.notes)
    np.testing.assert_allclose(load_series(workbook()).values, [1, 2, 4, 3, 5, 6])
    assert workbook_sheets(workbook()) == ("Notes", "Data", "Empty")
    assert workbook_sheets(b"a,b\n1,2\n") == ()


def test_a_chosen_sheet_is_read_even_when_it_holds_notes() -> None:
    table = read_table(workbook(), LoadOptions(sheet="Notes"))
    assert table.sheet == "Notes" and table.value_candidates == ()
    with pytest.raises(DataError, match="'Empty' is empty. Choose the sheet"):
        read_table(workbook(), LoadOptions(sheet="Empty"))


# ------------------------------------------------------------------ item 8: invented fills


def test_a_fill_that_would_invent_most_of_the_series_is_refused() -> None:
    data = csv("date,value", ["1900-01-01,1", "1900-01-02,2", "1900-01-03,3", "2000-01-01,4"])
    with pytest.raises(DataError) as info:
        load_series(data)
    message = str(info.value)
    assert "36,521 of the 36,525 points" in message and "only 4" in message
    assert "coarser frequency" in message


@settings(max_examples=30, deadline=None)
@given(kept=st.lists(st.booleans(), min_size=6, max_size=40))
def test_fills_invent_at_most_half_of_the_points(kept: list[bool]) -> None:
    kept = [True, True, *kept, True]
    dates = pd.date_range("2021-01-01", periods=len(kept), freq="D")
    rows = [
        f"{d:%Y-%m-%d},{i % 7 + i}" for i, (d, k) in enumerate(zip(dates, kept, strict=True)) if k
    ]
    invented = kept.count(False)
    if invented * 2 > len(kept):
        with pytest.raises(DataError, match="invent"):
            load_series(csv("date,value", rows))
    else:
        series = load_series(csv("date,value", rows))
        assert len(series) == len(kept)
        assert summarize(series)["missing_filled"] == invented


# ------------------------------------------------------------------ item 9: dates


@pytest.mark.parametrize(
    ("header", "cells", "example"),
    [
        ("date", ["0001-01-01", "0001-01-02", "0001-01-03", "0001-01-04"], "0001-01-01"),
        ("year", ["1600", "1601", "1602", "1603"], "1600"),
        ("date", ["2300-01-01", "2300-02-01", "2300-03-01", "2300-04-01"], "2300-01-01"),
        ("date", ["01/01/9990", "02/01/9990", "03/01/9990", "04/01/9990"], "01/01/9990"),
    ],
)
def test_dates_outside_pandas_range_are_named_not_read_as_steps(header, cells, example) -> None:
    data = csv(f"{header},value", (f"{c},{i * 1.5 + 1}" for i, c in enumerate(cells)))
    with pytest.raises(DataError) as info:
        load_series(data)
    assert "outside the years 1677 to 2262" in str(info.value)
    assert repr(example) in str(info.value)


def test_one_date_beyond_2262_in_a_dated_file_is_named() -> None:
    rows = ["2020-01-01,1", "2020-01-02,2", "3020-01-03,3", "2020-01-04,5"]
    with pytest.raises(DataError, match="'3020-01-03'.*Fix those cells"):
        load_series(csv("date,value", rows))


def test_sub_second_steps_survive_loading_summary_and_export() -> None:
    stamps = pd.date_range("2020-01-01 10:00", periods=30, freq="100ms").delete([7])
    rows = (
        f"{d.isoformat(sep=' ', timespec='milliseconds')},{i % 5}" for i, d in enumerate(stamps)
    )
    series = load_series(csv("time,value", rows))
    assert series.freq == "100ms" and len(series) == 30
    summary = summarize(series)
    assert summary["end"] == "2020-01-01 10:00:02.900" and summary["span"] == "3 seconds"
    future = series.future_index(3)
    text = forecast_csv(pd.DataFrame({"date": future, "forecast": [1.0, 2.0, 3.0]}))
    assert text.splitlines()[1:] == [
        "2020-01-01T10:00:03.000,1",
        "2020-01-01T10:00:03.100,2",
        "2020-01-01T10:00:03.200,3",
    ]


def test_sub_second_steps_with_gaps_have_a_frequency() -> None:
    index = pd.date_range("2020-01-01", periods=12, freq="250ms").delete([2, 3, 4])
    assert infer_frequency(index) == "250ms"


def test_european_monthly_dates_take_the_only_regular_reading() -> None:
    months = pd.date_range("1991-07-01", periods=30, freq="MS")
    series = load_series(csv("date;value", (f"{d:%d.%m.%Y};{i}" for i, d in enumerate(months))))
    assert series.freq == "MS" and series.index[0] == pd.Timestamp("1991-07-01")
    note = next(r for r in series.repairs if r.kind == "dayfirst_chosen")
    assert "day-first" in note.sentence and "regular" in note.sentence


def test_dates_regular_both_ways_stay_a_question() -> None:
    rows = [f"0{m}/01/2020,{m}" for m in range(1, 10)]  # monthly or the first 9 days
    with pytest.raises(AmbiguousDatesError):
        load_series(csv("date,value", rows))


# ------------------------------------------------------------------ item 11: wording


def test_a_single_row_says_how_many_points_are_needed() -> None:
    with pytest.raises(DataError) as info:
        load_series(csv("date,value", ["2020-01-01,1"]))
    assert "1 point; at least 3" in str(info.value) and "such as )" not in str(info.value)


def test_a_very_wide_file_reports_its_true_column_count() -> None:
    header = ",".join(f"c{i}" for i in range(10_000))
    with pytest.raises(DataError, match="has 10,000 columns, over the limit of 500"):
        load_series(csv(header, [",".join("1" for _ in range(10_000))]))
