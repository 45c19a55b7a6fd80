"""Focused tests of the loader's API: detection, options, repairs text and summaries."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import ConfigError, DataError
from forecasting.loading import (
    AmbiguousDatesError,
    LoadOptions,
    Table,
    limits,
    load_series,
    read_table,
    series_from_table,
    summarize,
)
from forecasting.series import Repair, TimeSeries


def csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def daily(values, start="2020-01-01", header="date,value") -> bytes:
    dates = pd.date_range(start, periods=len(values), freq="D").strftime("%Y-%m-%d")
    return csv(header, *[f"{d},{v}" for d, v in zip(dates, values, strict=True)])


# --------------------------------------------------------------------------- options


def test_options_round_trip_through_json() -> None:
    options = LoadOptions(
        date_col="Month",
        value_col="Sales",
        sep=";",
        decimal=",",
        dayfirst=True,
        fill="seasonal",
        resample="QS",
        resample_how="sum",
    )
    assert LoadOptions.from_dict(json.loads(json.dumps(options.to_dict()))) == options


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"fill": "cubic"}, "`fill` must be one of"),
        ({"aggregate": "median"}, "`aggregate` must be one of"),
        ({"resample_how": "first"}, "`resample_how`"),
        ({"sep": ";;"}, "`sep` must be one character"),
        ({"decimal": ";"}, "`decimal`"),
        ({"encoding": "klingon-8"}, "`encoding`"),
        ({"resample": "fortnightly"}, "`resample`"),
        ({"dayfirst": "yes"}, "`dayfirst`"),
    ],
)
def test_invalid_options_name_the_setting(kwargs, fragment) -> None:
    with pytest.raises(ConfigError, match=fragment):
        LoadOptions(**kwargs)


def test_from_dict_refuses_unknown_keys() -> None:
    with pytest.raises(ConfigError, match="Unknown load options: colour"):
        LoadOptions.from_dict({"colour": "red"})


# --------------------------------------------------------------------------- detection


def test_read_table_lists_candidates_with_counters_last() -> None:
    table = read_table(
        csv("No,Month,Sales,Returns", "1,2020-01,10,1", "2,2020-02,12,2", "3,2020-03,9,1")
    )
    assert isinstance(table, Table)
    assert table.date_candidates == ("Month",)
    assert table.value_candidates == ("Sales", "Returns", "No")
    assert table.frame["Sales"].dtype == np.float64


def test_split_date_columns_become_one_date_column() -> None:
    rows = [f"2010,1,1,{h},{10 + h},{-h}" for h in range(24)]
    table = read_table(csv("year,month,day,hour,pm2.5,TEMP", *rows))
    assert table.date_candidates[0] == "date"
    assert table.value_candidates == ("pm2.5", "TEMP")
    assert any("Combined the columns 'year', 'month', 'day', 'hour'" in n for n in table.notes)
    series = load_series(csv("year,month,day,hour,pm2.5,TEMP", *rows))
    assert series.freq == "h" and series.name == "pm2.5"
    assert list(series.extra.columns) == ["TEMP"]


def test_separator_and_decimal_comma_are_reported_in_notes() -> None:
    table = read_table(csv("date;value", "2020-01-01;1,5", "2020-01-02;2,5", "2020-01-03;3,25"))
    assert any("';' (semicolon)" in note for note in table.notes)
    assert any("decimal mark" in note for note in table.notes)
    np.testing.assert_allclose(table.frame["value"], [1.5, 2.5, 3.25])


def test_dotted_dates_beside_grouped_decimal_comma_numbers_stay_dates() -> None:
    """'.' as the thousands separator only groups three digits: '01.02.2020' is a date,
    not 1,022,020, and '1.2345,0' is an unreadable cell, not 12,345."""
    raw = csv(
        "Datum;Umsatz",
        "01.01.2020;1.234,5",
        "01.02.2020;1.310,0",
        "01.03.2020;1.2345,0",
        "01.04.2020;1.402,25",
        "Quelle: Buchhaltung",
    )
    table = read_table(raw)
    assert table.date_candidates[0] == "Datum" and table.value_candidates == ("Umsatz",)
    assert table.bad_cells["Umsatz"] == ((3, "1.2345,0"),)
    series = load_series(raw, LoadOptions(dayfirst=True))
    assert series.index[0] == pd.Timestamp("2020-01-01") and series.freq == "MS"
    np.testing.assert_allclose(series.values[[0, 1, 3]], [1234.5, 1310.0, 1402.25])


def test_options_override_detection() -> None:
    raw = csv("date|value", "2020-01-01|1,5", "2020-01-02|2,5", "2020-01-03|4,0")
    series = load_series(raw, LoadOptions(sep="|", decimal=","))
    np.testing.assert_allclose(series.values, [1.5, 2.5, 4.0])


def test_explicit_date_format_is_used() -> None:
    raw = csv("when,v", "2020~01~05,1", "2020~01~06,2", "2020~01~07,4")
    series = load_series(raw, LoadOptions(date_col="when", date_format="%Y~%m~%d"))
    assert series.index[0] == pd.Timestamp("2020-01-05") and series.freq == "D"


def test_ambiguous_dates_ask_the_user_and_dayfirst_resolves_them() -> None:
    raw = csv("date,v", *[f"01/{m:02d}/2020,{m}" for m in range(1, 7)])
    with pytest.raises(AmbiguousDatesError) as caught:
        load_series(raw)
    assert caught.value.choices == ("day-first", "month-first")
    assert "1 January 2020 (day-first) or January 1 2020 (month-first)" in str(caught.value)
    assert load_series(raw, LoadOptions(dayfirst=True)).freq == "MS"
    assert load_series(raw, LoadOptions(dayfirst=False)).freq == "D"


def test_epoch_numbers_without_a_date_name_are_read_as_times() -> None:
    rows = [f"{1_700_000_000 + 900 * i},{i % 4}" for i in range(12)]
    series = load_series(csv("t0,kw", *rows))
    assert series.freq == "15min" and series.index[0] == pd.Timestamp(1_700_000_000, unit="s")
    big_counts = [f"{100_000_000 + 7 * i**2},{i}" for i in range(12)]  # not clock times
    assert load_series(csv("count,x", *big_counts)).freq is None


def test_file_without_dates_uses_integer_steps() -> None:
    series = load_series(csv("value", "3", "NA", "5", "6"))
    assert isinstance(series.index, pd.RangeIndex) and series.freq is None
    np.testing.assert_allclose(series.values, [3, 4, 5, 6])
    (repair,) = series.repairs
    assert str(repair) == "Filled 1 missing value in 'value' (steps 1) by linear interpolation."
    assert (repair.kind, repair.count, repair.stamps) == ("values_filled", 1, (1,))


def test_path_and_str_sources(tmp_path) -> None:
    path = tmp_path / "sales.csv"
    path.write_bytes(daily([1, 2, 4]))
    assert len(load_series(path)) == len(load_series(str(path))) == 3
    with pytest.raises(DataError, match="Cannot open"):
        load_series(tmp_path / "missing.csv")


def test_xlsx_sheet_choice_and_missing_sheet() -> None:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.DataFrame({"a": [1]}).to_excel(writer, sheet_name="Notes", index=False)
        pd.DataFrame(
            {"date": ["2020-01-01", "2020-01-02", "2020-01-03"], "sales": [1.0, 2.0, 4.0]}
        ).to_excel(writer, sheet_name="Data", index=False)
    raw = buffer.getvalue()
    np.testing.assert_allclose(load_series(raw, LoadOptions(sheet="Data")).values, [1, 2, 4])
    with pytest.raises(DataError, match="Sheets: Notes, Data"):
        load_series(raw, LoadOptions(sheet="Summary"))


def test_utf16_without_bom_and_wrong_encoding_option() -> None:
    raw = "date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,4\n"
    assert len(load_series(raw.encode("utf-16-le"))) == 3
    with pytest.raises(DataError, match="not valid ascii text"):
        load_series("date,v\n2020-01-01,é\n".encode(), LoadOptions(encoding="ascii"))


def test_hostile_column_names_stay_plain_strings() -> None:
    raw = csv(
        'date,"<script>alert(1)</script>","=HYPERLINK(""x"")"',
        "2020-01-01,1,5",
        "2020-01-02,2,6",
        "2020-01-03,4,8",
    )
    series = load_series(raw, LoadOptions(value_col='=HYPERLINK("x")'))
    assert series.name == '=HYPERLINK("x")'
    assert list(series.extra.columns) == ["<script>alert(1)</script>"]


def test_extra_columns_are_aligned_and_filled() -> None:
    raw = csv("date,load,temp", "2020-01-01,1,10", "2020-01-02,2,", "2020-01-04,4,13")
    series = load_series(raw)
    assert series.extra.index.equals(series.index)
    np.testing.assert_allclose(series.extra["temp"], [10, 11, 12, 13])
    assert any("other columns ('temp')" in r.sentence for r in series.repairs)


def test_series_from_table_switches_columns_without_rereading() -> None:
    table = read_table(csv("date,a,b", "2020-01-01,1,9", "2020-01-02,2,8", "2020-01-03,4,5"))
    assert series_from_table(table).name == "a"
    np.testing.assert_allclose(
        series_from_table(table, LoadOptions(value_col="b")).values, [9, 8, 5]
    )


# --------------------------------------------------------------------------- repairs


def test_gap_repair_lists_the_dates() -> None:
    dates = pd.date_range("1984-12-29", "1985-01-02", freq="D").delete(2)
    raw = csv("date,temp", *[f"{d:%Y-%m-%d},{i}" for i, d in enumerate(dates)])
    series = load_series(raw)
    assert [r.sentence for r in series.repairs] == [
        "Filled 1 missing timestamp (1984-12-31) by linear interpolation."
    ]
    assert series.repairs[0].stamps == ("1984-12-31",)


def test_long_lists_are_cut_with_a_count() -> None:
    values = [str(i) if i % 2 == 0 else "" for i in range(30)]
    series = load_series(daily(values))
    sentence = next(
        r.sentence for r in series.repairs if r.sentence.startswith("Filled 14 missing values")
    )
    assert sentence.endswith("and 9 more) by linear interpolation.")


def test_time_fill_weights_by_elapsed_time() -> None:
    raw = csv("date,v", "2021-01-01,0", "2021-02-01,", "2021-03-01,59")
    series = load_series(raw, LoadOptions(fill="time"))
    assert series.values[1] == pytest.approx(31.0)


def test_unsorted_rows_refused_when_sorting_is_off() -> None:
    with pytest.raises(DataError, match="out of date order"):
        load_series(
            csv("date,v", "2020-01-02,1", "2020-01-01,2", "2020-01-03,3"), LoadOptions(sort=False)
        )


def test_duplicates_last_keeps_the_last_row() -> None:
    raw = csv("date,v", "2020-01-01,1", "2020-01-01,9", "2020-01-02,2", "2020-01-03,3")
    np.testing.assert_allclose(load_series(raw, LoadOptions(aggregate="last")).values, [9, 2, 3])


def test_resample_must_be_coarser() -> None:
    with pytest.raises(DataError, match="coarser"):
        load_series(daily([1, 2, 3, 4]), LoadOptions(resample="h"))


def test_caps_are_enforced(monkeypatch) -> None:
    monkeypatch.setattr(limits, "MAX_ROWS", 5)
    with pytest.raises(DataError, match="more than 5 rows"):
        load_series(daily(list(range(10))))
    monkeypatch.setattr(limits, "MAX_BYTES", 20)
    with pytest.raises(DataError, match="MiB"):
        load_series(daily(list(range(10))))


# --------------------------------------------------------------------------- summary


def test_summarize_counts_repairs() -> None:
    raw = csv(
        "date,v",
        "2020-01-03,3",
        "2020-01-01,1",
        "2020-01-01,1",
        "2020-01-05,x",
        "2020-01-06,6",
        "2020-01-07,7",
    )
    summary = summarize(load_series(raw))
    assert summary["rows"] == 7
    assert summary["start"] == "2020-01-01" and summary["end"] == "2020-01-07"
    assert summary["span"] == "7 days"
    assert summary["frequency"] == "daily" and summary["freq"] == "D"
    assert summary["duplicates_merged"] == 1
    assert summary["non_numeric"] == 1
    assert summary["missing_filled"] == 3  # 01-02 and 01-04 absent, 01-05 not a number
    assert summary["repairs"][0] == "Read 1 non-numeric cell in 'v' as missing (rows 4: 'x')."
    json.dumps(summary)


def test_summarize_reads_the_counts_from_the_repair_records() -> None:
    series = TimeSeries(
        np.arange(4.0),
        pd.RangeIndex(4, name="step"),
        repairs=(
            Repair("values_filled", 2, (1, 2), "Any wording at all."),
            Repair("timestamps_filled", 3, (), "Rewritten: three gaps closed."),
            Repair("duplicates_merged", 4, (), "Combined repeated stamps."),
            Repair("bad_cells", 5, (), "Cells that were words."),
            Repair("sorted", 7, (), "Put in order."),
        ),
    )
    summary = summarize(series)
    assert summary["missing_filled"] == 5
    assert summary["duplicates_merged"] == 4
    assert summary["non_numeric"] == 5
    assert summary["repairs"][0] == "Any wording at all."


def test_every_repair_is_a_record_with_its_affected_stamps() -> None:
    raw = csv(
        "date,v",
        "2020-01-03,3",
        "2020-01-01,1",
        "2020-01-01,1",
        "2020-01-05,x",
        "2020-01-06,6",
        "2020-01-07,7",
    )
    repairs = {r.kind: r for r in load_series(raw).repairs}
    assert set(repairs) == {
        "bad_cells",
        "sorted",
        "duplicates_merged",
        "timestamps_filled",
        "values_filled",
    }
    assert repairs["duplicates_merged"].stamps == ("2020-01-01",)
    assert repairs["timestamps_filled"].stamps == ("2020-01-02", "2020-01-04")
    assert repairs["values_filled"].stamps == ("2020-01-05",)
    assert all(r.count >= 1 and str(r) == r.sentence for r in repairs.values())


def test_summarize_integer_steps() -> None:
    summary = summarize(load_series(csv("v", "1", "2", "5", "3")))
    assert summary["start"] == 0 and summary["end"] == 3
    assert summary["span"] == "4 steps" and summary["freq"] is None


def test_hundred_thousand_rows_parse() -> None:
    """Speed is measured in benchmarks/dashboard.py (load_series on 100,000 rows, < 2 s)."""
    n = 100_000
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2000-01-01", periods=n, freq="h").strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "load": np.random.default_rng(0).normal(size=n).round(3),
            "site": "north",
        }
    )
    raw = frame.to_csv(index=False).encode()
    series = load_series(raw)
    assert len(series) == n and series.freq == "h"
