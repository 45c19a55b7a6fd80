"""One training run end to end: plan, forecast frame and dates, metrics, test frames."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting import pipeline
from forecasting.baselines import QUICK_BASELINES
from forecasting.config import RunConfig
from forecasting.errors import DataError
from forecasting.evaluation import (
    FEW_VALIDATION_FORECASTS,
    METRICS,
    Intervals,
    conformal_widths,
    reference_rows,
)
from forecasting.selection import MIN_ORIGINS_TO_CHOOSE, ScalingChoice, plan_scaling
from forecasting.series import TimeSeries, future_index
from forecasting.windows import chronological_split, minimum_length


def test_forecast_frame_columns_dates_and_order(monthly_run, monthly_series):
    frame = monthly_run.forecast
    horizon = monthly_run.config.horizon
    assert list(frame.columns) == ["date", "forecast", "lower", "upper"]
    assert len(frame) == horizon == 6
    dates = pd.DatetimeIndex(frame["date"])
    assert dates[0] == monthly_series.last + pd.DateOffset(months=1)
    expected = pd.date_range(monthly_series.last, periods=horizon + 1, freq="MS")[1:]
    assert list(dates) == list(expected)
    assert monthly_series.last == pd.Timestamp("2012-06-01")
    assert dates[-1] == pd.Timestamp("2012-12-01")
    values = frame[["forecast", "lower", "upper"]].to_numpy()
    assert np.all(np.isfinite(values))
    assert np.all(frame["lower"] <= frame["forecast"])
    assert np.all(frame["forecast"] <= frame["upper"])
    # The forecast is the fitted forecaster's forecast from the end of the series.
    np.testing.assert_allclose(
        frame["forecast"], monthly_run.forecaster.forecast(monthly_series.values)
    )
    # A positive series gets relative bands: forecast x exp(+-width).
    assert monthly_run.intervals.relative
    np.testing.assert_allclose(frame["upper"] / frame["forecast"], np.exp(monthly_run.widths))
    np.testing.assert_allclose(frame["lower"] / frame["forecast"], np.exp(-monthly_run.widths))


def test_intervals_are_calibrated_on_the_validation_part(monthly_run, monthly_series):
    split, horizon = monthly_run.plan.split, monthly_run.config.horizon
    values = monthly_series.values
    origins = split.origins("val", horizon)
    actual = values[origins[:, None] + np.arange(horizon)]
    residuals = np.log(actual / monthly_run.forecaster.predict(values, origins))
    for level in (0.8, 0.95, monthly_run.config.level):
        np.testing.assert_array_equal(
            monthly_run.intervals.widths[level], conformal_widths(residuals, level)
        )
        assert 0.0 <= monthly_run.test_coverage[level] <= 1.0
    assert np.all(monthly_run.widths > 0)
    assert np.all(monthly_run.intervals.widths[0.95] >= monthly_run.intervals.widths[0.8])


def test_metrics_dict(monthly_run):
    metrics = monthly_run.metrics_dict()
    json.dumps(metrics)  # JSON-ready
    assert metrics["epochs_run"] == 3
    assert metrics["train_seconds"] > 0
    assert metrics["seconds_per_epoch"] == pytest.approx(metrics["train_seconds"] / 3)
    assert metrics["total_seconds"] >= metrics["train_seconds"]
    assert (metrics["window"], metrics["horizon"], metrics["period"]) == (12, 6, 12)
    assert metrics["test_points"] == monthly_run.plan.split.n_test
    for method in ("model", "naive", "seasonal_naive"):
        assert set(metrics["test"][method]) == set(METRICS)
        assert all(np.isfinite(metrics["test"][method][m]) for m in METRICS)
    assert metrics["test"]["model"] == monthly_run.evaluation.metrics["model"]


def test_evaluation_uses_the_test_part_only(monthly_run, monthly_series):
    split, horizon = monthly_run.plan.split, monthly_run.config.horizon
    origins = monthly_run.evaluation.origins
    assert origins.min() == split.fit_end
    assert origins.max() + horizon == len(monthly_series)
    np.testing.assert_array_equal(
        monthly_run.evaluation.forecasts["model"],
        monthly_run.forecaster.predict(monthly_series.values, origins),
    )
    for name in ("naive", "seasonal_naive"):
        assert monthly_run.evaluation.forecasts[name].shape == (origins.size, horizon)


def test_one_step_and_test_forecast_frames(monthly_run, monthly_series):
    split, horizon = monthly_run.plan.split, monthly_run.config.horizon
    values, index = monthly_series.values, monthly_series.index
    one_step = monthly_run.one_step
    assert list(one_step.columns) == ["date", "actual", "predicted"]
    assert len(one_step) == split.n_test
    assert list(one_step["date"]) == list(index[split.fit_end :])
    np.testing.assert_array_equal(one_step["actual"], values[split.fit_end :])
    origins = np.arange(split.fit_end, len(values))
    np.testing.assert_allclose(
        one_step["predicted"], monthly_run.forecaster.predict(values, origins)[:, 0]
    )

    test_forecast = monthly_run.test_forecast
    assert list(test_forecast.columns) == ["date", "actual", "forecast", "lower", "upper"]
    assert list(test_forecast["date"]) == list(index[split.fit_end : split.fit_end + horizon])
    np.testing.assert_array_equal(
        test_forecast["actual"], values[split.fit_end : split.fit_end + horizon]
    )
    np.testing.assert_allclose(
        test_forecast["forecast"], monthly_run.forecaster.predict(values, [split.fit_end])[0]
    )
    assert np.all(test_forecast["lower"] <= test_forecast["upper"])


def test_automatic_window_is_two_seasons_and_explained(monthly_series):
    plan = pipeline.plan_run(monthly_series, RunConfig())
    assert plan.period == 12
    assert plan.config.horizon == 12 and plan.config.model.window == 24
    text = " ".join(plan.reasons)
    assert "Window 24 = two seasonal cycles of 12." in plan.reasons
    assert "Horizon 12 = one seasonal cycle of 12." in plan.reasons
    assert "year of months" in text


def test_automatic_window_falls_back_to_one_season_on_short_series(make_values):
    config = RunConfig(horizon=6)
    need_two = minimum_length(24, 6, config.test_size, config.train.validation_fraction, 6)
    series = TimeSeries.from_values(make_values(need_two - 1), freq="MS")
    plan = pipeline.plan_run(series, config)
    assert plan.config.model.window == 12
    assert any("one seasonal cycle" in reason for reason in plan.reasons)


def test_explicit_window_is_kept(monthly_series):
    plan = pipeline.plan_run(monthly_series, RunConfig().with_settings(window=5, horizon=3))
    assert plan.config.model.window == 5 and plan.config.horizon == 3
    assert not any(reason.startswith("Window") for reason in plan.reasons)


def test_too_short_series_fails_before_training(make_values):
    series = TimeSeries.from_values(make_values(30), freq="MS")
    events = []
    with pytest.raises(DataError, match="at least .* points"):
        pipeline.train(series, RunConfig(horizon=12), on_epoch=events.append)
    assert events == []


def test_integer_step_series_continues_the_steps(make_values, tiny_config):
    values = make_values(140, seed=5)
    series = TimeSeries.from_values(values)  # no dates: integer steps 0 ... 139
    assert series.freq is None
    run = pipeline.train(
        series, tiny_config.with_settings(horizon=5, cell="rnn"), baselines=QUICK_BASELINES
    )
    frame = run.forecast
    assert list(frame["date"]) == [140, 141, 142, 143, 144]
    assert np.all(np.isfinite(frame[["forecast", "lower", "upper"]].to_numpy()))
    assert run.plan.period == 12  # found in the autocorrelation
    assert "autocorrelation" in run.plan.reasons[0]
    assert list(run.one_step["date"]) == list(range(run.plan.split.fit_end, 140))


@pytest.mark.parametrize(
    ("last", "freq", "expected"),
    [
        ("2008-06-01", "MS", ["2008-07-01", "2008-08-01", "2008-09-01"]),
        ("2020-01-31", "ME", ["2020-02-29", "2020-03-31", "2020-04-30"]),
        ("2020-12-30", "D", ["2020-12-31", "2021-01-01", "2021-01-02"]),
        ("2020-03-01 22:00", "h", ["2020-03-01 23:00", "2020-03-02 00:00", "2020-03-02 01:00"]),
        ("2021-12-26", "W-SUN", ["2022-01-02", "2022-01-09", "2022-01-16"]),
        ("2021-10-01", "QS-OCT", ["2022-01-01", "2022-04-01", "2022-07-01"]),
        ("2024-02-28", "D", ["2024-02-29", "2024-03-01", "2024-03-02"]),
    ],
)
def test_future_dates_continue_the_frequency(last, freq, expected):
    index = future_index(pd.Timestamp(last), 3, freq)
    assert list(index) == [pd.Timestamp(e) for e in expected]


def test_future_steps_without_dates():
    assert list(future_index(99, 4, None)) == [100, 101, 102, 103]


@pytest.mark.parametrize(
    ("freq", "n", "step"), [("D", 60, pd.Timedelta(days=1)), ("h", 100, pd.Timedelta(hours=1))]
)
def test_series_future_index_daily_and_hourly(freq, n, step):
    series = TimeSeries.from_values(np.arange(n, dtype=float), freq=freq, start="2021-03-27")
    future = series.future_index(5)
    assert future[0] == series.last + step
    assert all(later - earlier == step for earlier, later in zip(future, future[1:], strict=False))
    assert len(future) == 5


def test_automatic_scaling_is_per_window_on_short_series(monthly_run):
    assert monthly_run.config.model.scaling == "window"
    assert any(
        reason.startswith("Scaling: per window") and "50 needed" in reason
        for reason in monthly_run.plan.reasons
    )


def test_automatic_scaling_keeps_the_lower_validation_error(make_values, tiny_config):
    """On a long series, 'auto' trains one network per candidate scaling, keeps the scaling
    whose network forecast the validation part better, and trains the rest of the ensemble
    with it: the same networks as asking for that scaling by name."""
    series = TimeSeries.from_values(make_values(600), freq="MS")
    config = tiny_config.with_settings(ensemble=2)
    events = []
    run = pipeline.train(series, config, on_epoch=events.append, baselines=QUICK_BASELINES)
    assert config.model.scaling == "auto"
    assert {(e.member, e.members) for e in events} == {(1, 3), (2, 3), (3, 3)}
    assert run.timings["epochs_run"] == 3 * config.train.epochs
    values, split, horizon = series.values, run.plan.split, run.config.horizon
    origins = split.origins("val", horizon)
    actual = values[origins[:, None] + np.arange(horizon)]
    errors = {}
    for scaling in ("window", "standard"):
        single = pipeline.train(
            series, config.with_settings(scaling=scaling, ensemble=1), baselines=QUICK_BASELINES
        )
        errors[scaling] = np.mean(np.abs(single.forecaster.predict(values, origins) - actual))
    kept = min(errors, key=errors.get)
    assert run.config.model.scaling == kept and run.config.model.ensemble == 2
    named = pipeline.train(series, config.with_settings(scaling=kept), baselines=QUICK_BASELINES)
    np.testing.assert_allclose(named.forecast["forecast"], run.forecast["forecast"], rtol=1e-6)
    reason = run.plan.reasons[-1]
    assert reason.startswith("Scaling kept: ") and "validation part" in reason
    assert any(reason.startswith("Scaling: automatic") for reason in run.plan.reasons)


def test_the_scaling_choice_is_a_record_turned_into_prose_in_one_place():
    split = chronological_split(600, 12, 6, 0.2, 0.15, 6)
    choice = plan_scaling("auto", split, 6)
    assert (choice.why, choice.chosen, tuple(choice.candidates)) == (
        "compared",
        "",
        ("window", "standard"),
    )
    assert choice.origins >= MIN_ORIGINS_TO_CHOOSE
    assert [s.split(".")[0] for s in choice.sentences()] == ["Scaling: automatic"]
    done = choice.replace(chosen="standard", errors={"window": 2.0, "standard": 1.5})
    assert done.sentences()[-1] == (
        "Scaling kept: global (standardized), mean absolute error "
        "1.5 on the validation part (against 2 per window)."
    )
    assert ScalingChoice.from_json(done.to_json()).sentences() == done.sentences()
    assert plan_scaling("minmax", split, 6) == ScalingChoice(
        "requested", "minmax", origins=choice.origins
    )
    assert plan_scaling("minmax", split, 6).sentences() == ()
    short = plan_scaling("auto", chronological_split(150, 12, 6, 0.2, 0.15, 6), 6)
    assert short.why == "too_few_forecasts" and short.chosen == "window"


# ---------------------------------------------------------------- non-negative series (issue 19)
def intermittent_values(n: int = 160, seed: int = 3) -> np.ndarray:
    """A non-negative series that is 0 a third of the time (like sunspots at a minimum)."""
    rng = np.random.default_rng(seed)
    values = np.maximum(0.0, 20 * np.sin(2 * np.pi * np.arange(n) / 12) + rng.normal(0, 8, n))
    assert (values == 0).mean() > 0.3
    return values


def test_forecasts_and_bands_of_a_non_negative_series_stay_at_or_above_zero(tiny_config):
    from forecasting.results import run_result

    series = TimeSeries.from_values(intermittent_values(), freq="MS")
    run = pipeline.train(series, tiny_config, baselines=QUICK_BASELINES)
    for frame in (run.forecast, run.test_forecast):
        assert (frame[["forecast", "lower", "upper"]].to_numpy() >= 0).all()
    assert (run.one_step["predicted"] >= 0).all()
    assert (run.evaluation.forecasts["model"] >= 0).all()
    for band in run_result(run).intervals.values():
        assert min(band.lower + band.test_lower) >= 0
    assert run.plan.reasons.count(pipeline.CLIP_NOTE) == 1  # said once


def test_clipping_happens_in_one_place_and_only_without_negative_values():
    from forecasting.evaluation import Intervals

    actual = np.array([[0.0, 1.0], [5.0, 0.0], [2.0, 3.0]])
    predicted = np.array([[2.0, 2.0], [2.0, 2.0], [2.0, 2.0]])
    clipped = Intervals.calibrate(actual, predicted, [0.9], relative=False, non_negative=True)
    lower, upper = clipped.bounds(np.array([-1.0, 0.5]), 0.9)
    assert (lower >= 0).all() and (upper >= 0).all()
    assert clipped.clips(np.array([0.5, 0.5]), 0.9)
    frame = pipeline.forecast_frame(pd.RangeIndex(2), np.array([-1.0, 0.5]), clipped, 0.9)
    assert (frame[["forecast", "lower"]].to_numpy() >= 0).all()
    assert Intervals.from_dict(clipped.to_dict()).non_negative  # kept in bundles
    free = Intervals.calibrate(actual - 10, predicted, [0.9], relative=False)
    assert free.bounds(np.array([-1.0, 0.5]), 0.9)[0].min() < 0
    assert not free.clips(np.array([-1.0, 0.5]), 0.9)


def test_fallback_forecast_of_a_non_negative_series_is_clipped_and_says_so():
    series = TimeSeries.from_values(np.array([0.0, 3.0, 0.0, 0.0, 5.0, 0.0, 1.0, 0.0]))
    frame, note = pipeline.fallback_forecast(series, 3, 0.9, method="naive")
    assert (frame[["forecast", "lower"]].to_numpy() >= 0).all()
    assert "clipped at 0" in note


# ------------------------------------------------------- long trainings warned of (issue 19)
def test_the_plan_of_a_huge_series_warns_before_training(capsys):
    from forecasting import cli

    n = 1_000_000
    values = 100 + 10 * np.sin(2 * np.pi * np.arange(n) / 24)
    series = TimeSeries.from_values(values, freq="h")
    plan = pipeline.plan_run(series, RunConfig())
    assert plan.estimate.networks == RunConfig().model.members + 1  # + a scaling candidate
    assert plan.estimate.long and len(plan.warnings) == 1
    assert "resample" in plan.warnings[0]
    cli._on_plan(plan)  # the CLI prints it before training
    assert capsys.readouterr().err == f"note: {plan.warnings[0]}\n"


def test_the_plan_of_a_small_series_has_no_warning(monthly_series):
    assert pipeline.plan_run(monthly_series, RunConfig()).warnings == ()


@pytest.mark.slow
def test_a_thin_calibration_adds_seasonal_naive_rows_and_never_the_test_part(
    tiny_config, make_values
):
    """Few validation forecasts: the band is calibrated on them and on seasonal naive's
    errors over the fit part; a poisoned test part changes nothing."""
    values = make_values(60)
    config = tiny_config.replace(combine="none")
    run = pipeline.train(
        TimeSeries.from_values(values, freq="MS"), config, baselines=QUICK_BASELINES
    )
    split, horizon = run.plan.split, run.config.horizon
    origins = split.origins("val", horizon)
    assert 1 <= len(origins) <= FEW_VALIDATION_FORECASTS
    more_actual, more_predicted = reference_rows(values[: split.fit_end], horizon, 12)
    assert len(more_actual) > 10
    (note,) = [n for n in run.plan.notes if n.startswith("Band:")]
    assert f"holds {len(origins)} forecast" in note and f"from {len(more_actual)} forecasts" in note
    expected = Intervals.calibrate(
        np.vstack([values[origins[:, None] + np.arange(horizon)], more_actual]),
        np.vstack([run.forecaster.predict(values, origins), more_predicted]),
        run.intervals.widths,
        relative=True,
    )
    poisoned = values.copy()
    poisoned[split.fit_end :] *= 40.0
    dirty = pipeline.train(
        TimeSeries.from_values(poisoned, freq="MS"), config, baselines=QUICK_BASELINES
    )
    for level, widths in run.intervals.widths.items():
        np.testing.assert_allclose(widths, expected.widths[level])
        np.testing.assert_allclose(dirty.intervals.widths[level], widths)
