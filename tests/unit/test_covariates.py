"""Covariate roles, the leak guard, future values, encoding and the multivariate windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.config import ModelConfig, TrainConfig
from forecasting.covariates import Roles, check_roles, default_roles, future_values
from forecasting.errors import ConfigError, DataError
from forecasting.features import CovariateData, CovariateEncoder, calendar_cycles, cycle_phases
from forecasting.forecaster import RNNForecaster
from forecasting.series import TimeSeries
from forecasting.windows import chronological_split, row_windows

N = 240


def make_series(n: int = N) -> TimeSeries:
    rng = np.random.default_rng(0)
    idx = pd.date_range("2021-03-01", periods=n, freq="h", name="date")
    x = rng.normal(size=n).cumsum()
    y = 10 + np.sin(np.arange(n) * 2 * np.pi / 24) + 0.3 * np.roll(x, 1)
    extra = pd.DataFrame(
        {
            "x": x,
            "kind": np.where(np.arange(n) % 24 < 8, "night", "day"),
            "site": "A",
        },
        index=idx,
    )
    return TimeSeries(y, idx, "h", "y", (), extra)


def test_default_roles_take_numeric_columns_as_past_covariates() -> None:
    assert default_roles(make_series()) == Roles(past=("x",))


def test_a_column_with_two_roles_is_refused() -> None:
    with pytest.raises(ConfigError, match="'x' has two roles"):
        Roles(past=("x",), future=("x",))


def test_an_unknown_column_is_named_with_the_columns_that_exist() -> None:
    with pytest.raises(DataError, match=r"Unknown column 'nope'.*x, kind, site"):
        check_roles(make_series(), Roles(past=("nope",)))


def test_a_static_column_must_be_constant() -> None:
    check_roles(make_series(), Roles(static=("site",)))
    with pytest.raises(DataError, match="Static column 'x' changes"):
        check_roles(make_series(), Roles(static=("x",)))


@pytest.mark.parametrize("shift", [1, 3, 24])
def test_the_leak_guard_refuses_the_target_moved_forward(shift: int) -> None:
    series = make_series()
    extra = series.extra.copy()
    extra["tomorrow"] = np.roll(series.values, -shift)
    leaky = TimeSeries(series.values, series.index, "h", "y", (), extra)
    with pytest.raises(DataError, match=rf"Leak: past covariate 'tomorrow' is the target {shift}"):
        check_roles(leaky, Roles(past=("tomorrow",)))


def test_the_leak_guard_refuses_an_exact_copy_in_any_role() -> None:
    series = make_series()
    extra = series.extra.copy()
    extra["copy"] = series.values
    leaky = TimeSeries(series.values, series.index, "h", "y", (), extra)
    for roles in (Roles(past=("copy",)), Roles(future=("copy",))):
        with pytest.raises(DataError, match="'copy' is the target itself"):
            check_roles(leaky, roles)


def test_the_leak_guard_lets_a_genuine_driver_through() -> None:
    check_roles(make_series(), Roles(past=("x",), future=("kind",), calendar=True))


def test_calendar_features_need_dates() -> None:
    plain = TimeSeries.from_values(np.arange(50.0))
    with pytest.raises(DataError, match="Calendar features need dates"):
        check_roles(plain, Roles(calendar=True))


def _future(series: TimeSeries, horizon: int, drop: int | None = None) -> pd.DataFrame:
    stamps = series.future_index(horizon)
    table = pd.DataFrame({"kind": ["day"] * horizon}, index=stamps)
    return table.drop(stamps[drop]) if drop is not None else table


def test_future_values_cover_every_horizon_timestamp() -> None:
    series = make_series()
    roles = Roles(future=("kind",))
    table = future_values(series, roles, _future(series, 12), 12)
    assert list(table.index) == list(series.future_index(12))
    with pytest.raises(DataError, match=r"no value of 'kind' for 2021-03-11 05:00"):
        future_values(series, roles, _future(series, 12, drop=5), 12)
    with pytest.raises(DataError, match="Upload a future file"):
        future_values(series, roles, None, 12)
    with pytest.raises(DataError, match="lacks the column"):
        future_values(series, roles, pd.DataFrame(index=series.future_index(12)), 12)


def test_categories_unseen_in_training_are_refused_by_name() -> None:
    series = make_series()
    roles = Roles(future=("kind",))
    data = CovariateData.of(series, roles)
    encoder = CovariateEncoder.fit(data, 100)
    assert encoder.categories == {"kind": ["day", "night"]}
    extra = series.extra.copy()
    extra.loc[extra.index[150], "kind"] = "dusk"
    odd = TimeSeries(series.values, series.index, "h", "y", (), extra)
    with pytest.raises(DataError, match=r"category 'dusk' at 2021-03-07 06:00, never seen"):
        encoder.encode(CovariateData.of(odd, roles))


def test_encoder_statistics_come_from_the_training_rows_only() -> None:
    series = make_series()
    data = CovariateData.of(series, Roles(past=("x",)))
    encoder = CovariateEncoder.fit(data, 100)
    x = series.extra["x"].to_numpy()[:100]
    assert encoder.numeric["x"] == pytest.approx([x.mean(), x.std()])
    assert CovariateEncoder.from_dict(encoder.to_dict()) == encoder


def test_calendar_cycles_follow_the_frequency() -> None:
    hourly = pd.date_range("2021-01-01", periods=5, freq="h")
    assert calendar_cycles(hourly) == ("hour of day", "day of week", "day of year")
    assert calendar_cycles(pd.date_range("2021-01-01", periods=5, freq="MS")) == ("month of year",)
    with pytest.raises(DataError, match="finer than yearly"):
        calendar_cycles(pd.date_range("2001-01-01", periods=5, freq="YS"))
    phases = cycle_phases(hourly, ("hour of day",))
    assert phases[0] == pytest.approx([0.0, 1.0])
    assert phases[:, 0] ** 2 + phases[:, 1] ** 2 == pytest.approx(np.ones(5))


def test_row_windows_match_a_plain_loop() -> None:
    rows = np.arange(40.0).reshape(20, 2)
    starts = np.array([0, 3, 11])
    out = row_windows(rows, 5, starts)
    for i, s in enumerate(starts):
        np.testing.assert_array_equal(out[i], rows[s : s + 5])


def _fitted(series: TimeSeries, roles: Roles, window: int = 24, horizon: int = 6):
    split = chronological_split(len(series), window, horizon, 0.2, 0.2, horizon)
    forecaster = RNNForecaster(
        ModelConfig(window=window, units=4, scaling="window"), TrainConfig(epochs=1), horizon, 24
    )
    forecaster.fit(series.values, split, covariates=CovariateData.of(series, roles))
    return forecaster, split


def test_network_inputs_line_up_with_the_rows_of_each_window() -> None:
    series = make_series()
    roles = Roles(past=("x",), future=("kind",), calendar=True)
    forecaster, split = _fitted(series, roles)
    features = forecaster.features(CovariateData.of(series, roles))
    level = forecaster.preprocessor_.to_level(series.values)
    x, y = forecaster._training_windows(level[: split.train_end], features, 0)
    window, horizon = forecaster.window, forecaster.horizon
    assert x[0].shape == (len(y), window, 1 + 1 + 2 + 6)
    assert x[1].shape == (len(y), horizon, 2 + 6)
    for i in (0, 7, len(y) - 1):  # a plain loop over the rows
        np.testing.assert_allclose(x[0][i, :, 1], features.past[i : i + window, 0])
        np.testing.assert_allclose(x[0][i, :, 2:], features.known[i : i + window])
        np.testing.assert_allclose(x[1][i], features.known[i + window : i + window + horizon])
        scale = forecaster.preprocessor_.scale_
        expected = (level[i + window : i + window + horizon] - level[i + window - 1]) / scale
        np.testing.assert_allclose(y[i], expected)


def test_nothing_after_the_origin_or_beyond_the_horizon_reaches_the_model() -> None:
    """Poison the target and past covariates from the origin on, and the future covariates
    beyond the horizon: the forecast does not move."""
    series = make_series()
    roles = Roles(past=("x",), future=("kind",), calendar=True)
    forecaster, split = _fitted(series, roles)
    origin, horizon = split.fit_end, forecaster.horizon
    clean = forecaster.predict(series.values, [origin], covariates=CovariateData.of(series, roles))
    values = series.values.copy()
    values[origin:] = 1e9
    extra = series.extra.copy()
    extra.iloc[origin:, extra.columns.get_loc("x")] = -1e9
    extra.iloc[origin + horizon :, extra.columns.get_loc("kind")] = "night"
    poisoned = TimeSeries(values, series.index, "h", "y", (), extra)
    after = forecaster.predict(values, [origin], covariates=CovariateData.of(poisoned, roles))
    np.testing.assert_allclose(after, clean, rtol=1e-6)
    # and the future covariate inside the horizon does reach it
    kind = extra.columns.get_loc("kind")
    flipped = {"day": "night", "night": "day"}
    extra.iloc[origin : origin + horizon, kind] = extra.iloc[origin : origin + horizon, kind].map(
        flipped
    )
    changed = TimeSeries(values, series.index, "h", "y", (), extra)
    moved = forecaster.predict(values, [origin], covariates=CovariateData.of(changed, roles))
    assert not np.allclose(moved, clean)


def test_covariates_need_the_direct_strategy() -> None:
    series = make_series()
    split = chronological_split(len(series), 24, 6, 0.2, 0.2, 1)
    forecaster = RNNForecaster(
        ModelConfig(window=24, units=4, strategy="recursive", scaling="window"),
        TrainConfig(epochs=1),
        6,
        24,
    )
    with pytest.raises(ConfigError, match="Covariates need the direct strategy"):
        forecaster.fit(series.values, split, covariates=CovariateData.of(series, Roles(("x",))))
