"""The guard: a forecast off the series' scale is replaced by the best-validated baseline, with
a note; healthy forecasts pass untouched."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting import pipeline
from forecasting.baselines import ALL_BASELINES, QUICK_BASELINES
from forecasting.config import RunConfig
from forecasting.evaluation import evaluation_origins
from forecasting.guard import guard_forecasts, off_scale
from forecasting.samples import load_sample
from forecasting.series import TimeSeries
from forecasting.windows import Split

RNG = np.random.default_rng(3)


def level_shift(n: int = 360, tail: int = 60) -> np.ndarray:
    """About 100, then the last `tail` points about 800 (8x), with noise."""
    rng = np.random.default_rng(0)
    values = 100 + rng.normal(0, 3, n)
    values[-tail:] = 800 + rng.normal(0, 24, tail)
    return values


def rising(n: int = 400) -> np.ndarray:
    """A steady rise that ends 8x above the first fifth of the series."""
    rng = np.random.default_rng(1)
    return np.geomspace(100, 800, n) * (1 + rng.normal(0, 0.01, n))


def test_an_order_of_magnitude_off_is_caught():
    values = rising()
    assert off_scale(np.full(12, values[-1] / 10), values, 12, 1)
    assert off_scale(np.full(12, values[-1] * 10), values, 12, 1)
    assert off_scale(np.full(12, np.nan), values, 12, 1)
    # The old level of a series that jumped 8x.
    shifted = level_shift()
    assert off_scale(np.full(12, 110.0), shifted, 12, 1)


@pytest.mark.parametrize(
    "name", ["naive", "seasonal_naive", "drift", "theta", "ets", "naive2", "moving_average"]
)
@pytest.mark.parametrize(
    "values",
    [
        rising(),
        level_shift(),
        100 + 10 * np.sin(np.arange(300) * 2 * np.pi / 12) + RNG.normal(0, 1, 300),
    ],
    ids=["rising", "shifted", "seasonal"],
)
def test_healthy_forecasts_pass(name, values):
    """Every baseline's forecast is a healthy forecast: the guard never fires on one."""
    forecast = ALL_BASELINES[name](values, 12, 12)
    assert not off_scale(forecast, values, 12, 12)


def test_healthy_shapes_pass():
    flat = np.r_[100 + RNG.normal(0, 2, 200), 150.0]  # a spike last: a return is healthy
    assert not off_scale(np.full(6, 100.0), flat, 6, 1)
    intermittent = np.where(RNG.random(300) < 0.2, 5.0, 0.0)
    intermittent[-10:] = 0.0  # a quiet stretch: a forecast of the mean demand is healthy
    assert not off_scale(np.full(6, 1.0), intermittent, 6, 1)
    trend = np.arange(200.0)  # carrying a trend on over the horizon is healthy
    assert not off_scale(trend[-1] + np.arange(1, 13) * 1.0, trend, 12, 1)


def test_a_new_trend_carried_on_passes(make_climb):
    """A series that turned from flat to climbing: most of the recent changes are the flat
    ones, yet the climb carried on over 13 weeks is a healthy forecast (M4 W211's network
    forecast was replaced by a far worse one before the recent drift became a reference)."""
    values = make_climb()
    carried_on = values[-1] + 150 * np.arange(1, 14)
    assert not off_scale(carried_on, values, 13, 52)
    assert off_scale(np.full(13, values[-1] / 10), values, 13, 52)
    assert off_scale(values[-1] + 1_500 * np.arange(1, 14), values, 13, 52)


def test_guard_replaces_with_the_best_validated_baseline_and_says_so():
    values = level_shift()
    split = Split(n=360, train_end=230, fit_end=288)
    origins = evaluation_origins(split.origins("test", 12))
    test = np.array([ALL_BASELINES["naive"](values[:o], 12, 1) for o in origins])
    future = np.full(12, 105.0)  # the old level: what a saturated network returns
    guarded = guard_forecasts(values, split, 12, 1, origins, test, future, QUICK_BASELINES)
    assert "Guard:" in guarded.note and "final forecast" in guarded.note
    assert abs(guarded.future.mean() / values[-1] - 1) < 0.2
    np.testing.assert_array_equal(guarded.test, test)  # healthy rows are kept as they were


def test_a_replacement_off_the_scale_itself_is_passed_over_and_the_note_says_so():
    """The replacement is checked by the same rule: a best-validated baseline whose own
    forecast is off the scale (ETS on a steep climb did that: 17 times naive's error) gives
    way to the next one (M4 weekly W211)."""
    values = level_shift()
    split = Split(n=360, train_end=230, fit_end=288)
    origins = evaluation_origins(split.origins("test", 12))
    test = np.array([ALL_BASELINES["naive"](values[:o], 12, 1) for o in origins])
    future = np.full(12, 105.0)

    def exploding(history, horizon, period=1):  # validates best, forecasts off the scale
        return ALL_BASELINES["naive"](history, horizon, period) * (1 if len(history) < 300 else 50)

    baselines = {"ets": exploding, "naive": ALL_BASELINES["naive"]}
    guarded = guard_forecasts(values, split, 12, 1, origins, test, future, baselines)
    assert abs(guarded.future.mean() / values[-1] - 1) < 0.2
    assert "Naive method's forecast (the best-validated baseline whose own forecast" in (
        guarded.note
    )


def test_guard_leaves_healthy_forecasts_alone():
    values = rising()
    split = Split(n=400, train_end=260, fit_end=320)
    origins = evaluation_origins(split.origins("test", 12))
    test = np.array([ALL_BASELINES["drift"](values[:o], 12, 1) for o in origins])
    future = ALL_BASELINES["drift"](values, 12, 1)
    guarded = guard_forecasts(values, split, 12, 1, origins, test, future, QUICK_BASELINES)
    assert guarded.note == ""
    np.testing.assert_array_equal(guarded.future, future)


SMALL = {"units": 8, "epochs": 10, "ensemble": 1, "patience": 0, "window": 24}


@pytest.mark.slow
@pytest.mark.parametrize("make", [level_shift, rising], ids=["shift-in-test-part", "rising"])
@pytest.mark.parametrize("scaling", ["auto", "standard"])
def test_late_rise_is_forecast_at_the_new_level(make, scaling):
    """8x above the training range at the end: the forecast stays near the last value, and
    either the scaling avoided the global scale or the guard replaced the forecast, saying so."""
    series = TimeSeries.from_values(make(), freq="W")
    config = RunConfig(horizon=12).with_settings(scaling=scaling, **SMALL)
    run = pipeline.train(series, config, baselines=QUICK_BASELINES)
    ratio = run.forecast["forecast"].mean() / series.values[-1]
    assert 0.5 < ratio < 2
    band = run.forecast
    assert np.all((band["lower"] <= band["forecast"]) & (band["forecast"] <= band["upper"]))
    reasons = " ".join(run.plan.reasons)
    assert run.config.model.scaling == "window" or "Guard:" in reasons
    if make is rising:  # the level before the test origin is already off the range
        assert "outside the range the network is trained on" in reasons


@pytest.mark.slow
def test_healthy_sample_gets_no_guard_note():
    series = load_sample("Monthly sales (seasonal)")
    config = RunConfig().with_settings(**{k: v for k, v in SMALL.items() if k != "window"})
    run = pipeline.train(series, config, baselines=QUICK_BASELINES)
    assert not any("Guard:" in reason for reason in run.plan.reasons)
