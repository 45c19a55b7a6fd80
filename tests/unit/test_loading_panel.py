"""Many series from one file (issue 20): long files with detected or given id columns, wide
files, one series unchanged, per-series repairs, one frequency, and the M4 weekly panel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import ConfigError, DataError
from forecasting.loading import LoadOptions, detect_layout, load_panel, load_series

M4_WEEKLY = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "m4_weekly_dev100.csv"


def to_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def long_frame(ids=("north", "south", "west"), n: int = 40, freq: str = "D") -> pd.DataFrame:
    """One block of rows per id, each a different level with a weekly cycle."""
    dates = pd.date_range("2021-01-01", periods=n, freq=freq)
    rng = np.random.default_rng(0)
    return pd.concat(
        pd.DataFrame(
            {
                "store": key,
                "date": dates.strftime("%Y-%m-%d %H:%M"),
                "sales": (k + 1) * 100 + 5 * np.sin(np.arange(n)) + rng.normal(0, 1, n).round(3),
            }
        )
        for k, key in enumerate(ids)
    ).reset_index(drop=True)


def two_id_frame(n: int = 30) -> pd.DataFrame:
    """Stores x items, sorted by date first (the rows of a series interleave)."""
    dates = pd.date_range("2021-03-01", periods=n, freq="D").strftime("%Y-%m-%d")
    rows = [
        {"date": d, "store": s, "item": i, "units": 10 * k + t + (t % 7)}
        for t, d in enumerate(dates)
        for k, (s, i) in enumerate([("A", "x"), ("A", "y"), ("B", "x"), ("B", "y")])
    ]
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ long files


def test_a_long_file_has_its_id_column_detected_and_named() -> None:
    frame = long_frame()
    layout = detect_layout(to_csv(frame), filename="stores.csv")
    assert layout.kind == "long" and layout.id_cols == ("store",)
    assert layout.id_candidates[0] == "store" and layout.value_cols == ("sales",)
    assert "3 series told apart by 'store'" in layout.note

    panel = load_panel(to_csv(frame), filename="stores.csv")
    assert panel.id_cols == ("store",) and panel.labels == ["north", "south", "west"]
    assert panel.notes[0] == "Read as 3 series by 'store' (repeated timestamps)."
    assert panel.freq == "D" and list(panel.lengths) == [40, 40, 40]
    for key, rows in frame.groupby("store"):
        np.testing.assert_allclose(panel[key].values, rows["sales"].to_numpy())
        assert panel[key].index[0] == pd.Timestamp("2021-01-01") and not panel[key].repairs
        assert panel[key].extra is None  # the id column is no covariate


def test_a_given_id_column_reads_the_same_series_and_says_it_was_given() -> None:
    data = to_csv(long_frame())
    detected, given = load_panel(data), load_panel(data, id_cols="store")
    assert given.labels == detected.labels
    assert given.notes[0] == "Read as 3 series by 'store' (the id columns given)."
    for a, b in zip(detected.series, given.series, strict=True):
        np.testing.assert_array_equal(a.values, b.values)


def test_numeric_ids_read_as_plain_text() -> None:
    frame = long_frame(ids=(7, 12))
    panel = load_panel(to_csv(frame))
    assert panel.labels == ["7", "12"] and panel.id_cols == ("store",)


def test_two_id_columns_given_or_detected_tell_store_and_item_apart() -> None:
    frame = two_id_frame()
    panel = load_panel(to_csv(frame), id_cols=("store", "item"))
    assert panel.id_cols == ("store", "item")
    assert panel.ids == (("A", "x"), ("A", "y"), ("B", "x"), ("B", "y"))
    assert panel.labels[1] == "A / y" and list(panel.lengths) == [30] * 4
    rows = frame[(frame.store == "B") & (frame.item == "x")]
    np.testing.assert_allclose(panel["B / x"].values, rows["units"].to_numpy())
    assert detect_layout(to_csv(frame)).id_cols == ("store", "item")


def test_an_id_column_missing_from_the_given_ones_is_named() -> None:
    with pytest.raises(DataError, match=r"still repeat.*Add 'item' to the id columns"):
        load_panel(to_csv(two_id_frame()), id_cols=["store"])


def test_an_unknown_id_column_is_refused_naming_it_and_listing_the_columns() -> None:
    with pytest.raises(DataError) as info:
        load_panel(to_csv(long_frame()), id_cols=("shop",))
    message = str(info.value)
    assert "'shop'" in message and "'store', 'date', 'sales'" in message


def test_repeated_timestamps_without_an_id_column_ask_for_it_never_concatenate() -> None:
    data = to_csv(long_frame().drop(columns="store"))
    layout = detect_layout(data)
    assert layout.kind == "long" and layout.id_cols == ()
    with pytest.raises(DataError, match=r"no column tells the series apart.*id column"):
        load_panel(data)


def test_a_long_file_without_dates_is_split_at_its_restarting_counter() -> None:
    rows = [f"s{k},{t},{k * 100 + t * 1.5 + t % 3}" for k in range(3) for t in range(1, 31)]
    data = ("series_id,t,value\n" + "\n".join(rows) + "\n").encode()
    assert detect_layout(data).id_cols == ("series_id",)
    panel = load_panel(data)
    assert panel.labels == ["s0", "s1", "s2"] and panel.freq is None
    assert list(panel.lengths) == [30, 30, 30] and panel["s1"].values[0] == 101.5 + 1


# ------------------------------------------------------------------ repairs and frequency


def test_a_gap_in_one_series_is_filled_and_recorded_on_that_series_only() -> None:
    frame = long_frame()
    frame = frame[~((frame.store == "south") & frame.date.str.startswith("2021-01-10"))]
    panel = load_panel(to_csv(frame))
    south = panel["south"]
    assert [r.kind for r in south.repairs] == ["timestamps_filled"]
    assert south.repairs[0].stamps[0].startswith("2021-01-10")
    assert len(south) == 40 and not panel["north"].repairs and not panel["west"].repairs


def test_a_series_at_a_finer_frequency_is_resampled_to_the_common_one_and_said() -> None:
    daily = long_frame(ids=("a", "b"), n=30)
    hourly = long_frame(ids=("c",), n=30 * 24, freq="h")
    panel = load_panel(to_csv(pd.concat([daily, hourly])), id_cols="store")
    assert panel.freq == "D" and list(panel.lengths) == [30, 30, 30]
    assert [r.kind for r in panel["c"].repairs] == ["resampled"]
    assert any("Resampled 1 series" in note and "'c'" in note for note in panel.notes)


def test_a_series_that_would_have_to_become_finer_is_refused_clearly() -> None:
    hourly = long_frame(ids=("a", "b"), n=48, freq="h")
    daily = long_frame(ids=("c",), n=10)
    with pytest.raises(DataError, match=r"'c' is daily.*one frequency.*resample"):
        load_panel(to_csv(pd.concat([hourly, daily])), id_cols="store")


def test_a_series_that_cannot_be_used_is_left_out_and_named() -> None:
    frame = long_frame()
    frame.loc[frame.store == "west", "sales"] = 5.0
    panel = load_panel(to_csv(frame))
    assert panel.labels == ["north", "south"]
    assert any("Left out 1 series" in note and "'west'" in note for note in panel.notes)


# ------------------------------------------------------------------ wide and single


def test_a_wide_file_reads_each_numeric_column_as_a_series() -> None:
    dates = pd.date_range("2020-01-01", periods=36, freq="MS")
    t = np.arange(36)
    frame = pd.DataFrame(
        {"month": dates.strftime("%Y-%m"), "paris": 10 + t % 12, "lyon": 50 + t, "nice": 3 * t}
    )
    frame.loc[5, "lyon"] = np.nan
    data = to_csv(frame)
    layout = detect_layout(data)
    assert layout.kind == "wide" and layout.value_cols == ("paris", "lyon", "nice")
    assert "covariates" in layout.note
    panel = load_panel(data, wide=True)
    assert panel.id_cols == ("series",) and panel.labels == ["paris", "lyon", "nice"]
    assert panel.freq == "MS" and list(panel.lengths) == [36, 36, 36]
    np.testing.assert_allclose(panel["nice"].values, 3 * t)
    assert [r.kind for r in panel["lyon"].repairs] == ["values_filled"]
    assert not panel["paris"].repairs and panel["paris"].extra is None
    assert "(a wide file)" in panel.notes[0]
    # the same file without `wide`: one target and its covariates, as load_series reads it
    single = load_panel(data)
    assert len(single) == 1 and single.series[0].extra is not None


def test_a_single_series_file_gives_a_panel_of_one_equal_to_load_series() -> None:
    dates = pd.date_range("2019-01-01", periods=50, freq="W-SUN")
    frame = pd.DataFrame({"week": dates.strftime("%Y-%m-%d"), "visits": np.arange(50) % 9 + 1.0})
    frame = frame.drop(index=[7])  # a gap, repaired as for one series
    data = to_csv(frame)
    assert detect_layout(data).kind == "single"
    panel, series = load_panel(data), load_series(data)
    assert len(panel) == 1 and panel.id_cols == ("series",) and panel.labels == ["visits"]
    np.testing.assert_array_equal(panel.series[0].values, series.values)
    assert panel.series[0].index.equals(series.index) and panel.freq == series.freq
    assert panel.series[0].repairs == series.repairs


def test_id_columns_and_wide_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="not both"):
        load_panel(to_csv(long_frame()), id_cols="store", wide=True)


def test_a_chosen_value_column_is_read_for_every_series() -> None:
    frame = long_frame().assign(price=lambda f: f.sales / 10 + np.arange(len(f)) % 3)
    panel = load_panel(to_csv(frame), LoadOptions(value_col="price"))
    assert all(series.name == "price" for series in panel.series)
    np.testing.assert_allclose(panel["south"].values, frame[frame.store == "south"].price)


# ------------------------------------------------------------------ M4 weekly


@pytest.mark.skipif(not M4_WEEKLY.exists(), reason="the shared M4 dev file is not here")
def test_the_m4_weekly_train_rows_give_100_series_of_the_right_lengths(tmp_path) -> None:
    rows = pd.read_csv(M4_WEEKLY)
    train = rows[rows.split == "train"].drop(columns="split")
    path = tmp_path / "m4_weekly_train.csv"
    train.to_csv(path, index=False)
    panel = load_panel(path)
    lengths = train.groupby("series_id", sort=False).size()
    assert len(panel) == 100 and panel.id_cols == ("series_id",) and panel.freq == "W-SUN"
    assert panel.labels == list(lengths.index)
    np.testing.assert_array_equal(panel.lengths, lengths.to_numpy())
    first = train[train.series_id == panel.labels[0]]
    np.testing.assert_allclose(panel.series[0].values, first["value"].to_numpy())
    assert panel.series[0].index[0] == pd.Timestamp(first["date"].iloc[0])
