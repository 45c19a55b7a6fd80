"""Transforms fit on the training part only, their inverses, and the seasonality helpers."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.config import ModelConfig, TrainConfig
from forecasting.errors import DataError
from forecasting.forecaster import RNNForecaster
from forecasting.preprocessing import Preprocessor
from forecasting.seasonality import (
    autocorrelation,
    detect_period,
    seasonal_indices,
    seasonality_test,
)
from forecasting.windows import chronological_split, sliding_windows

FITTED = ("seasonal_", "multiplicative_", "center_", "scale_")


def _fitted(pre: Preprocessor) -> dict:
    return {name: getattr(pre, name) for name in FITTED}


@pytest.mark.parametrize("scaling", ["standard", "minmax"])
def test_forecaster_fits_preprocessor_on_the_training_part_only(make_values, scaling):
    """Values after `train_end` (validation and test) never move a fitted statistic."""
    values = make_values(150)
    split = chronological_split(values.size, 6, 3, 0.2, 0.15, 3)
    changed = values.copy()
    rng = np.random.default_rng(1)
    changed[split.train_end :] = rng.uniform(1e3, 1e4, values.size - split.train_end)

    def fit(v):
        model = ModelConfig(cell="rnn", window=6, units=2, scaling=scaling)
        forecaster = RNNForecaster(model, TrainConfig(epochs=1, patience=0), 3, period=12)
        return forecaster.fit(v, split).preprocessor_

    original, other = fit(values), fit(changed)
    assert original.seasonal_ is not None  # the statistic under test is really fitted
    assert _fitted(original) == _fitted(other)
    # ...and they are the statistics of the training part, not of the whole series.
    direct = Preprocessor(period=12, scaling=scaling).fit(values[: split.train_end])
    assert _fitted(direct) == _fitted(original)
    assert _fitted(Preprocessor(period=12, scaling=scaling).fit(changed)) != _fitted(original)


@pytest.mark.parametrize("scaling", ["window", "standard", "minmax"])
def test_statistics_depend_only_on_what_fit_sees(make_values, scaling):
    values = make_values(120)
    pre = Preprocessor(period=12, scaling=scaling).fit(values[:80])
    tail_changed = values.copy()
    tail_changed[80:] *= 50
    again = Preprocessor(period=12, scaling=scaling).fit(tail_changed[:80])
    assert _fitted(pre) == _fitted(again)


# ------------------------------------------------------------- level round trip
CASES = {
    "log": dict(log=True, offset=0.0),  # additive season on the logarithm
    "multiplicative": dict(log=False, offset=0.0),  # positive series
    "additive": dict(log=False, offset=-300.0),  # negative values: additive season
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("start", [0, 5, 37])
def test_to_level_from_level_round_trip(make_values, case, start):
    log, offset = CASES[case]["log"], CASES[case]["offset"]
    values = make_values(200, amplitude=20) + offset
    pre = Preprocessor(log=log, period=12).fit(values[:120])
    assert pre.seasonal_ is not None and len(pre.seasonal_) == 12
    assert pre.multiplicative_ == (case == "multiplicative")
    part = values[start:]
    level = pre.to_level(part, start)
    positions = start + np.arange(part.size)
    np.testing.assert_allclose(pre.from_level(level, positions), part, rtol=1e-12)
    # The phase follows the position: a later stretch gives the same level values ...
    np.testing.assert_allclose(level, pre.to_level(values)[start:], rtol=1e-12)
    # ... and wrong positions give wrong values (the check above can fail).
    assert not np.allclose(pre.from_level(level, positions + 3), part)
    # The seasonal cycle is really removed: the level wiggles much less than the values.
    series = np.log(values) if log else values
    assert np.std(np.diff(level)) < 0.5 * np.std(np.diff(series))


def test_from_level_accepts_any_shape(make_values):
    values = make_values(120)
    pre = Preprocessor(period=12).fit(values[:90])
    level = pre.to_level(values)
    x, _ = sliding_windows(level, 10, 1)
    positions = np.arange(x.shape[0])[:, None] + np.arange(10)[None, :]
    np.testing.assert_allclose(
        pre.from_level(x, positions), sliding_windows(values, 10, 1)[0], rtol=1e-12
    )


def test_log_refuses_non_positive_values():
    with pytest.raises(DataError, match="log"):
        Preprocessor(log=True).fit(np.array([1.0, 2.0, 0.0, 3.0]))


def test_no_season_is_removed_when_none_is_found():
    noise = np.random.default_rng(3).normal(10, 1, 200)
    pre = Preprocessor(period=12).fit(noise)
    assert pre.seasonal_ is None
    np.testing.assert_array_equal(pre.to_level(noise), noise)
    assert Preprocessor(period=12, deseasonalize=False).fit(noise).seasonal_ is None


# ------------------------------------------------------------------ scaling
@pytest.mark.parametrize("scaling", ["window", "standard", "minmax"])
@pytest.mark.parametrize("offset", [0.0, -500.0])
def test_scale_windows_unscale_round_trip(make_values, scaling, offset):
    values = make_values(150) + offset
    pre = Preprocessor(period=12, scaling=scaling).fit(values[:100])
    level = pre.to_level(values)
    x, y = sliding_windows(level, 12, 4)
    zx, zy, anchor = pre.scale_windows(x, y)
    assert zx.shape == x.shape and zy.shape == y.shape
    np.testing.assert_allclose(pre.unscale(zy, anchor), y, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(pre.unscale(zx, anchor), x, rtol=1e-10, atol=1e-9)
    zx_only, none, anchor_only = pre.scale_windows(x)
    assert none is None
    np.testing.assert_array_equal(zx_only, zx)
    if scaling == "window":
        np.testing.assert_array_equal(anchor, x[:, -1:])
        np.testing.assert_allclose(zx[:, -1], 0.0, atol=1e-12)  # each window ends at 0
    else:
        assert anchor is None


def test_global_scalers_use_training_statistics(make_values):
    values = make_values(150)
    train = values[:100]
    standard = Preprocessor(period=12, scaling="standard").fit(train)
    level = standard.to_level(train)
    z = (level - standard.center_) / standard.scale_
    assert abs(z.mean()) < 1e-9 and abs(z.std() - 1) < 1e-9
    minmax = Preprocessor(period=12, scaling="minmax").fit(train)
    level = minmax.to_level(train)
    zx, _, _ = minmax.scale_windows(level[None, :])
    assert zx.min() == pytest.approx(-1) and zx.max() == pytest.approx(1)


def test_preprocessor_dict_round_trip(make_values):
    pre = Preprocessor(log=True, period=12, scaling="minmax").fit(make_values(100))
    again = Preprocessor.from_dict(pre.to_dict())
    assert again == pre
    np.testing.assert_array_equal(again.to_level(make_values(100)), pre.to_level(make_values(100)))


# -------------------------------------------------------------- seasonality
def test_detect_period_finds_a_monthly_pattern():
    rng = np.random.default_rng(0)
    pattern = np.array([1, 3, 5, 2, 7, 8, 9, 4, 3, 2, 1, 0.0])
    values = np.tile(pattern, 20) + rng.normal(0, 0.1, 240)
    assert detect_period(values) == 12


def test_detect_period_of_a_sine():
    t = np.arange(600)
    assert detect_period(np.sin(0.1 * t)) in (62, 63)  # 2 pi / 0.1 = 62.8


@pytest.mark.parametrize("n", [100, 200, 300, 600])
def test_detect_period_of_white_noise_is_one(n):
    """A search over many lags must not declare a season in pure noise (it used to find
    one in 9 of 10 series of 300 points: no multiple-testing correction)."""
    found = [detect_period(np.random.default_rng(seed).normal(size=n)) for seed in range(40)]
    assert sum(p > 1 for p in found) <= 4, found
    assert detect_period(np.random.default_rng(0).normal(size=n)) == 1


def test_detect_period_of_short_or_constant_series():
    assert detect_period(np.arange(10.0)) == 1
    assert detect_period(np.full(100, 3.0)) == 1


def test_seasonality_test():
    rng = np.random.default_rng(0)
    t = np.arange(120)
    seasonal = 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 120)
    assert seasonality_test(seasonal, 12)
    assert not seasonality_test(rng.normal(size=120), 12)
    assert not seasonality_test(seasonal[:35], 12)  # fewer than three cycles
    assert not seasonality_test(seasonal, 1)
    assert not seasonality_test(np.full(60, 2.0), 12)


def test_autocorrelation_by_hand():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    centered = values - values.mean()
    expected = [
        np.sum(centered[k:] * centered[: values.size - k]) / np.sum(centered**2) for k in range(4)
    ]
    np.testing.assert_allclose(autocorrelation(values, 3), expected, atol=1e-12)


@pytest.mark.parametrize("multiplicative", [True, False])
def test_seasonal_indices_recover_a_pattern(multiplicative):
    pattern = np.array([0.8, 0.9, 1.0, 1.3, 1.2, 0.8])
    base = 100 + np.arange(60.0)
    cycle = np.tile(pattern, 10)
    values = base * cycle if multiplicative else base + 10 * cycle
    indices = seasonal_indices(values, 6, multiplicative)
    expected = pattern / pattern.mean() if multiplicative else 10 * (pattern - pattern.mean())
    np.testing.assert_allclose(indices, expected, rtol=0.02, atol=0.05)
