"""Metrics and baselines against hand-computed values; evaluation without look-ahead;
conformal intervals."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from forecasting import baselines as bl
from forecasting.baselines import ALL_BASELINES
from forecasting.evaluation import (
    METRICS,
    baseline_forecasts,
    conformal_widths,
    coverage,
    evaluate,
    evaluation_origins,
    mase_scale,
    metrics,
    reference_rows,
)
from forecasting.seasonality import seasonal_indices


def ref_mase(actual, forecast, insample, period):
    """Plain-loop MASE: mean absolute error over the in-sample seasonal-naive error."""
    lag = period if period > 1 and len(insample) > period else 1
    total = 0.0
    for t in range(lag, len(insample)):
        total += abs(insample[t] - insample[t - lag])
    scale = total / (len(insample) - lag)
    errors = [abs(a - f) for a, f in zip(np.ravel(actual), np.ravel(forecast), strict=True)]
    return sum(errors) / len(errors) / scale


def ref_smape(actual, forecast):
    """M4 sMAPE in %: 200/n * sum |a - f| / (|a| + |f|)."""
    terms = [abs(a - f) / (abs(a) + abs(f)) for a, f in zip(actual, forecast, strict=True)]
    return 200 * sum(terms) / len(terms)


def test_metrics_by_hand():
    actual = np.array([1.0, 2.0, 3.0, 4.0])
    forecast = np.array([2.0, 2.0, 2.0, 2.0])
    result = metrics(actual, forecast, scale=2.0)
    assert set(result) == set(METRICS)
    assert result["mae"] == pytest.approx(1.0)
    assert result["rmse"] == pytest.approx(math.sqrt(1.5))
    assert result["mape"] == pytest.approx(100 * (1 + 0 + 1 / 3 + 2 / 4) / 4)
    assert result["smape"] == pytest.approx(100 * (2 / 3 + 0 + 2 / 5 + 4 / 6) / 4)
    assert result["smape"] == pytest.approx(ref_smape(actual, forecast))
    assert result["mase"] == pytest.approx(0.5)


def test_metrics_on_a_matrix_of_forecasts():
    rng = np.random.default_rng(0)
    actual = rng.uniform(50, 150, (7, 4))
    forecast = actual + rng.normal(0, 5, (7, 4))
    result = metrics(actual, forecast, scale=3.0)
    error = (actual - forecast).ravel()
    assert result["mae"] == pytest.approx(np.abs(error).mean())
    assert result["rmse"] == pytest.approx(math.sqrt((error**2).mean()))
    assert result["mape"] == pytest.approx(100 * np.mean(np.abs(error / actual.ravel())))
    assert result["smape"] == pytest.approx(ref_smape(actual.ravel(), forecast.ravel()))
    assert 0 <= result["smape"] <= 200


def test_mape_is_none_when_an_actual_is_zero():
    result = metrics(np.array([0.0, 2.0, 4.0]), np.array([1.0, 2.0, 3.0]), 1.0)
    assert result["mape"] is None
    assert result["mae"] == pytest.approx(2 / 3)
    assert result["smape"] == pytest.approx(100 * (2 + 0 + 2 / 7) / 3)


def test_undefined_metrics():
    assert metrics(np.array([1.0, 2.0]), np.array([1.0, np.nan]), 1.0) == dict.fromkeys(METRICS)
    assert metrics(np.array([1.0, 2.0]), np.array([1.0, 3.0]), 0.0)["mase"] is None
    assert metrics(np.array([1.0, 2.0]), np.array([1.0, 3.0]), math.nan)["mase"] is None
    both_zero = metrics(np.array([0.0, 1.0]), np.array([0.0, 1.0]), 1.0)
    assert both_zero["smape"] == 0.0 and both_zero["mae"] == 0.0


@pytest.mark.parametrize("period", [1, 4, 12])
def test_mase_scale_and_mase_against_a_plain_loop(period, make_values):
    values = make_values(80, seed=period)
    insample, actual = values[:60], values[60:72]
    forecast = actual + np.linspace(-3, 3, 12)
    scale = mase_scale(insample, period)
    loop_scale = np.mean([abs(insample[t] - insample[t - period]) for t in range(period, 60)])
    assert scale == pytest.approx(loop_scale)
    assert metrics(actual, forecast, scale)["mase"] == pytest.approx(
        ref_mase(actual, forecast, insample, period)
    )


def test_mase_scale_edge_cases():
    assert mase_scale(np.array([1.0, 3.0, 2.0]), 12) == pytest.approx(1.5)  # falls back to lag 1
    assert math.isnan(mase_scale(np.array([1.0]), 1))


# ---------------------------------------------------------------- baselines
def test_simple_baselines_by_hand():
    history = np.arange(1.0, 9.0)  # 1 ... 8
    np.testing.assert_array_equal(bl.naive(history, 3), [8, 8, 8])
    np.testing.assert_array_equal(bl.seasonal_naive(history, 6, 4), [5, 6, 7, 8, 5, 6])
    np.testing.assert_array_equal(bl.seasonal_naive(history, 2, 1), [8, 8])
    np.testing.assert_array_equal(bl.seasonal_naive(history[:3], 2, 4), [3, 3])  # too short
    np.testing.assert_allclose(bl.drift(np.array([1.0, 3.0, 5.0]), 3), [7, 9, 11])
    np.testing.assert_allclose(bl.drift(np.array([4.0]), 2), [4, 4])
    np.testing.assert_allclose(bl.moving_average(history, 2, 4), [6.5, 6.5])
    np.testing.assert_allclose(bl.moving_average(history, 2, 1), [7, 7])


def test_naive2_by_hand(make_values):
    history = make_values(72, amplitude=20, noise=0.5)
    indices = seasonal_indices(history, 12, multiplicative=True)
    n = history.size
    expected = [history[-1] / indices[(n - 1) % 12] * indices[(n + h) % 12] for h in range(5)]
    np.testing.assert_allclose(bl.naive2(history, 5, 12), expected)
    noise = np.random.default_rng(1).normal(100, 1, 72)
    np.testing.assert_array_equal(bl.naive2(noise, 4, 12), bl.naive(noise, 4))  # no season
    negative = history - 500
    np.testing.assert_array_equal(bl.naive2(negative, 4, 12), bl.naive(negative, 4))


@pytest.mark.parametrize("name", ["ets", "theta"])
def test_statistical_baselines_are_finite_and_seasonal(name, make_values):
    history = make_values(72, amplitude=20, noise=0.5)
    forecast = ALL_BASELINES[name](history, 12, 12)
    assert forecast.shape == (12,) and np.all(np.isfinite(forecast))
    future = make_values(84, amplitude=20, noise=0.5)[72:]
    # On a clean seasonal series they beat the naive forecast clearly.
    assert np.mean(np.abs(future - forecast)) < 0.5 * np.mean(np.abs(future - history[-1]))


def test_ets_refits_from_the_grid_when_the_quick_fit_did_not_converge(make_climb):
    """On a long history (no start grid) statsmodels' quick fit can stop far from the optimum:
    here it explains the series 4,000 times worse than naive and forecasts 3/4 of the level.
    Such a fit is refitted from the grid (M4 W211)."""
    values = make_climb(flat=600, climb=334)
    assert values.size > bl.ETS_GRID_MAX_POINTS
    seasonal = bl._ets_seasonal(values, 52)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels says it did not converge
        quick = bl._holt_winters(values, seasonal, 52).fit(use_brute=False)
    assert quick.forecast(1)[0] < 0.8 * values[-1]  # the premise: the quick fit failed
    forecast = bl.ets(values, 13, 52)
    assert np.all(np.abs(forecast - (values[-1] + 150 * np.arange(1, 14))) < 0.05 * values[-1])
    from_origins = bl.ets_from_origins(values, np.array([values.size]), 13, 52)
    np.testing.assert_allclose(from_origins[0], forecast)


def test_statistical_baseline_failure_gives_nan(monkeypatch, make_values):
    def failing_fit(*args, **kwargs):
        raise np.linalg.LinAlgError("singular matrix")

    monkeypatch.setattr(bl, "_holt_winters", failing_fit)
    history = make_values(60)
    forecast = bl.ets(history, 3, 12)
    assert forecast.shape == (3,) and np.all(np.isnan(forecast))
    from_origins = bl.ets_from_origins(history, np.array([40, 45]), 3, 12)
    assert from_origins.shape == (2, 3) and np.all(np.isnan(from_origins))
    # and a failed baseline scores None on every metric instead of breaking the evaluation
    result = evaluate(
        np.zeros((2, 3)),
        history,
        np.array([40, 45]),
        3,
        12,
        insample_end=40,
        baselines={"ets": bl.ets},
    )
    assert result.metrics["ets"] == dict.fromkeys(METRICS)
    assert result.metrics["model"]["mae"] is not None


# --------------------------------------------------------------- evaluation
def test_evaluate_uses_the_same_origins_for_every_method(make_values):
    values = make_values(120)
    origins = np.arange(96, 115, 3)
    horizon = 6
    forecasts = np.array([values[o - 1] + np.arange(horizon) for o in origins])
    result = evaluate(forecasts, values, origins, horizon, 12, insample_end=96)
    assert set(result.forecasts) == {"model", *ALL_BASELINES}
    np.testing.assert_array_equal(result.origins, origins)
    np.testing.assert_array_equal(result.actual, [values[o : o + horizon] for o in origins])
    for name, f in result.forecasts.items():
        assert f.shape == (origins.size, horizon), name
    np.testing.assert_array_equal(
        result.forecasts["naive"], [[values[o - 1]] * horizon for o in origins]
    )
    np.testing.assert_array_equal(
        result.forecasts["seasonal_naive"], [values[o - 12 : o - 6] for o in origins]
    )
    scale = mase_scale(values[:96], 12)
    for name, f in result.forecasts.items():
        assert result.metrics[name] == metrics(result.actual, f, scale), name
    assert result.metrics["model"]["mase"] == pytest.approx(
        ref_mase(result.actual, forecasts, values[:96], 12)
    )
    assert result.origins.size == origins.size and result.horizon == horizon


def test_no_baseline_sees_data_at_or_after_its_origin(make_values):
    values = make_values(120)
    horizon = 4
    for origin in (90, 101, 116):
        clean = baseline_forecasts(values, np.array([origin]), horizon, 12, ALL_BASELINES)
        poisoned_values = values.copy()
        poisoned_values[origin:] = 1e9
        poisoned = baseline_forecasts(
            poisoned_values, np.array([origin]), horizon, 12, ALL_BASELINES
        )
        for name in ALL_BASELINES:
            np.testing.assert_array_equal(poisoned[name], clean[name], err_msg=name)
            assert np.all(np.abs(clean[name]) < 1e6), name


def test_evaluate_baselines_use_only_the_past_through_evaluate(make_values):
    values = make_values(120)
    origin, horizon = 100, 6
    model = np.zeros((1, horizon))
    clean = evaluate(
        model, values, np.array([origin]), horizon, 12, 96, baselines=bl.QUICK_BASELINES
    )
    future_changed = values.copy()
    future_changed[origin:] += 1000
    changed = evaluate(
        model, future_changed, np.array([origin]), horizon, 12, 96, baselines=bl.QUICK_BASELINES
    )
    for name in bl.QUICK_BASELINES:
        np.testing.assert_array_equal(changed.forecasts[name], clean.forecasts[name])
    # ...while the actual values (and so the errors) do change.
    assert not np.array_equal(changed.actual, clean.actual)


def test_skill_and_by_lead():
    values = np.array([10.0, 12, 14, 16, 18, 20, 22, 24, 26, 28])
    origins = np.array([6, 7])
    forecasts = np.array([[22.0, 24.0], [24.0, 27.0]])
    result = evaluate(forecasts, values, origins, 2, 1, 6, baselines=bl.QUICK_BASELINES)
    assert result.by_lead("model") == pytest.approx([0.0, 0.5])
    assert result.by_lead("naive") == pytest.approx([2.0, 4.0])
    assert result.by_lead("naive", "rmse") == pytest.approx([2.0, 4.0])
    model_mase, base_mase = result.metrics["model"]["mase"], result.metrics["naive"]["mase"]
    assert result.skill("mase", "naive") == pytest.approx(1 - model_mase / base_mase)
    assert result.skill("mase", "naive") == pytest.approx(1 - 0.25 / 3)


def test_evaluation_origins_keep_first_and_last():
    origins = np.arange(100, 300)
    picked = evaluation_origins(origins, 40)
    assert picked.size <= 40 and picked[0] == 100 and picked[-1] == 299
    assert np.all(np.diff(picked) > 0)
    np.testing.assert_array_equal(evaluation_origins(origins[:10], 40), origins[:10])


# ---------------------------------------------------------------- intervals
@pytest.mark.parametrize("level", [0.8, 0.9, 0.95])
def test_conformal_widths_cover_gaussian_residuals(level):
    rng = np.random.default_rng(int(level * 100))
    sd = np.array([1.0, 2.0, 3.0])
    calibration = rng.normal(0, 1, (400, 3)) * sd
    widths = conformal_widths(calibration, level)
    z = {0.8: 1.2816, 0.9: 1.6449, 0.95: 1.96}[level]
    np.testing.assert_allclose(widths, z * sd, rtol=0.15)
    fresh = rng.normal(0, 1, (20_000, 3)) * sd
    for lead in range(3):
        share = coverage(fresh[:, lead], -widths[lead], widths[lead])
        assert abs(share - level) < 0.04, (lead, share)


def test_conformal_widths_pool_leads_when_few_rows():
    rng = np.random.default_rng(0)
    residuals = rng.normal(0, 1, (5, 4)) * np.sqrt(np.arange(1, 5))
    widths = conformal_widths(residuals, 0.9)
    ratios = widths / np.sqrt(np.arange(1, 5))
    np.testing.assert_allclose(ratios, ratios[0])  # one pooled width scaled by sqrt(lead)
    pooled = np.abs(residuals) / np.sqrt(np.arange(1, 5))
    assert np.mean(pooled <= ratios[0]) >= 0.9


def test_conformal_widths_finite_sample_quantile_by_hand():
    residuals = np.arange(1.0, 11.0)[:, None]  # 10 rows, 1 lead: |r| = 1 ... 10
    # ceil((10 + 1) * 0.8) / 10 = 0.9 -> the 9th smallest value with method "higher".
    assert conformal_widths(residuals, 0.8)[0] == 9.0
    # ceil(11 * 0.95) = 11 > 10 scores: the Student-t width, t(10, 0.975) x RMS, above 10
    t_width = 2.2281389 * np.sqrt(np.mean(np.arange(1.0, 11.0) ** 2))
    assert conformal_widths(-residuals, 0.95)[0] == pytest.approx(t_width)


def test_coverage_by_hand():
    actual = np.array([1.0, 2.0, 3.0, 4.0])
    assert coverage(actual, np.array([0.0, 2.0, 3.5, 0.0]), np.array([2.0, 2.0, 4.0, 3.0])) == 0.5
    assert coverage(actual, actual - 1, actual + 1) == 1.0


@pytest.mark.parametrize(
    ("rows", "level", "rank"),
    [(10, 0.8, 9), (19, 0.9, 18), (19, 0.95, 19), (99, 0.9, 90), (9, 0.8, 8), (5, 0.5, 3)],
)
def test_conformal_width_is_the_ceil_n_plus_1_level_order_statistic(rows, level, rank):
    """Split conformal: the ceil((n + 1) * level)-th smallest score, not the next one (it
    took the next one: over-wide intervals). Fewer than 10 rows take the pooled path."""
    scores = np.random.default_rng(rows).permutation(np.arange(1.0, rows + 1))
    assert conformal_widths(scores[:, None], level)[0] == rank


def test_too_few_scores_for_the_level_get_a_student_t_width():
    """One validation forecast of 8 quarters gives 8 scores: the largest covers about 8/9
    of new errors, short of 95%; the Student-t width keeps the promise (it delivered 87.5%
    on quarterly series)."""
    rng = np.random.default_rng(0)
    trials, n = 4000, 8
    calibration = rng.normal(0, 1, (trials, n))
    fresh = rng.normal(0, 1, trials)
    widths = np.array([conformal_widths(row[:, None], 0.95)[0] for row in calibration])
    largest = np.abs(calibration).max(axis=1)
    assert np.all(widths >= largest)
    assert np.mean(np.abs(fresh) <= largest) < 0.91  # the largest score alone falls short
    assert abs(np.mean(np.abs(fresh) <= widths) - 0.95) < 0.015
    # with enough scores the order statistic itself, unchanged
    scores = np.arange(1.0, 20.0)[:, None]
    assert conformal_widths(scores, 0.95)[0] == 19.0


def test_rough_intervals_from_changes_of_a_short_series():
    """Too few points to test forecasts on: the band comes from the step-to-step changes
    (never NaN, which left the forecast's band cells empty)."""
    from forecasting.evaluation import Intervals

    intervals = Intervals.from_changes(np.array([1.0, 3.0, 2.0, 5.0, 4.0]), 4, [0.9])
    widths = intervals.widths[0.9]
    # 4 changes (2, 1, 3, 1) are too few for 90%: t(4, 0.95) x their RMS, above the largest
    t_width = 2.1318468 * np.sqrt(np.mean(np.square([2.0, 1.0, 3.0, 1.0])))
    assert np.all(np.isfinite(widths)) and widths[0] == pytest.approx(t_width)
    assert np.allclose(widths, t_width * np.sqrt([1, 2, 3, 4]))
    lower, upper = intervals.bounds(np.array([4.0, 4.0, 4.0, 4.0]), 0.9)
    assert np.all(lower < 4.0) and np.all(upper > 4.0)
    flat = Intervals.from_changes(np.array([7.0]), 2, [0.8, 0.95])
    assert all(np.array_equal(w, [0.0, 0.0]) for w in flat.widths.values())


def test_reference_rows_are_seasonal_naive_forecasts_inside_the_history(make_values):
    history = make_values(60)
    actual, predicted = reference_rows(history, 6, 12)
    origins = range(24, 60 - 6 + 1)  # two seasons in, each forecast inside the history
    assert actual.shape == predicted.shape == (len(origins), 6)
    for row, origin in enumerate(origins):  # plain loop: the value one season earlier
        np.testing.assert_array_equal(actual[row], history[origin : origin + 6])
        np.testing.assert_array_equal(predicted[row], history[origin - 12 : origin - 6])
    long_actual, _ = reference_rows(make_values(400), 6, 12)
    assert len(long_actual) == 40  # at most MAX_EVAL_ORIGINS, spread evenly
    too_short, none = reference_rows(history[:25], 6, 12)
    assert too_short.shape == none.shape == (0, 6)
