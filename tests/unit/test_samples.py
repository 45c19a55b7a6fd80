"""The built-in samples: deterministic, small, and loaded through the ordinary loader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import DataError
from forecasting.loading import load_series, summarize
from forecasting.samples import SAMPLES, get_sample, list_samples, load_sample, sample_csv_bytes

EXPECTED = {  # name: (frequency, minimum length, maximum length)
    "Noisy sine wave": (None, 900, 1200),
    "Monthly sales (seasonal)": ("MS", 170, 220),
    "Daily temperatures (with gaps)": ("D", 1700, 1900),
    "Hourly air quality (multi-column)": ("h", 1300, 1500),
}


def test_the_required_samples_exist_with_descriptions() -> None:
    assert set(EXPECTED) <= set(list_samples())
    for name in list_samples():
        sample = get_sample(name)
        assert sample.name == name and len(sample.description) > 20
        assert sample.filename.endswith(".csv")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_sample_loads_with_its_frequency_and_size(name: str) -> None:
    freq, low, high = EXPECTED[name]
    series = load_sample(name)
    assert series.freq == freq
    assert low <= len(series) <= high
    assert np.isfinite(series.values).all() and np.ptp(series.values) > 0


@pytest.mark.parametrize("name", list(EXPECTED))
def test_samples_are_deterministic(name: str) -> None:
    assert sample_csv_bytes(name) == sample_csv_bytes(name)
    np.testing.assert_array_equal(load_sample(name).values, load_sample(name).values)


def test_csv_bytes_load_like_an_upload() -> None:
    for name in list_samples():
        uploaded = load_series(sample_csv_bytes(name), SAMPLES[name].options)
        np.testing.assert_array_equal(uploaded.values, load_sample(name).values)


def test_daily_temperatures_show_gap_and_cell_repairs() -> None:
    summary = summarize(load_sample("Daily temperatures (with gaps)"))
    assert summary["missing_filled"] > 0
    assert any("missing timestamps" in r for r in summary["repairs"])
    assert any("missing values in 'temp'" in r for r in summary["repairs"])


def test_air_quality_splits_dates_and_keeps_other_columns() -> None:
    text = sample_csv_bytes("Hourly air quality (multi-column)").decode()
    assert text.splitlines()[0] == "year,month,day,hour,pm25,temp,pressure,wind"
    series = load_sample("Hourly air quality (multi-column)")
    assert series.name == "pm25"
    assert list(series.extra.columns) == ["temp", "pressure", "wind"]
    assert series.extra.index.equals(series.index)
    assert any("pm25" in r.sentence for r in series.repairs)


def test_monthly_sales_grow_with_a_yearly_pattern() -> None:
    series = load_sample("Monthly sales (seasonal)")
    yearly = pd.Series(series.values, index=series.index).groupby(series.index.year).mean()
    assert yearly.iloc[-2] > 2 * yearly.iloc[1]
    assert series.season_length == 12


def test_unknown_sample_is_a_data_error() -> None:
    with pytest.raises(DataError, match="Samples: 'Noisy sine wave'"):
        load_sample("Lottery numbers")
