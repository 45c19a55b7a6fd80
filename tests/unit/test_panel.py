"""Many series: the Panel, the global network's windows and scaling, the panel pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.config import ModelConfig, RunConfig, TrainConfig
from forecasting.errors import DataError
from forecasting.global_forecaster import GlobalForecaster
from forecasting.panel import Panel
from forecasting.panel_pipeline import m4_aggregate, panel_split, plan_panel, train_panel
from forecasting.series import TimeSeries

HORIZON = 4


def make_panel(lengths=(60, 70, 80), short: int | None = None) -> Panel:
    rng = np.random.default_rng(1)
    series, ids = [], []
    for k, n in enumerate([*lengths, *([short] if short else [])]):
        steps = np.arange(n)
        values = (k + 1) * 100 + 5 * np.sin(steps * 2 * np.pi / 7) + rng.normal(0, 1, n)
        series.append(TimeSeries.from_values(values, "D", start="2022-01-01", name="sales"))
        ids.append((f"S{k}",))
    return Panel(tuple(series), tuple(ids), ("store",))


def config(**model) -> RunConfig:
    return RunConfig(
        horizon=HORIZON,
        model=ModelConfig(window=8, units=4, ensemble=1, **model),
        train=TrainConfig(epochs=1),
    )


def test_a_panel_refuses_repeated_ids_and_mixed_frequencies() -> None:
    one = TimeSeries.from_values(np.arange(10.0), "D")
    with pytest.raises(DataError, match="share an id"):
        Panel((one, one), (("a",), ("a",)), ("id",))
    weekly = TimeSeries.from_values(np.arange(10.0), "W-SUN")
    with pytest.raises(DataError, match="different frequencies"):
        Panel((one, weekly), (("a",), ("b",)), ("id",))


def test_panel_round_trip_and_unknown_ids() -> None:
    panel = make_panel()
    again = Panel.from_dict(panel.to_dict())
    assert again.labels == panel.labels == ["S0", "S1", "S2"]
    np.testing.assert_array_equal(again["S1"].values, panel["S1"].values)
    with pytest.raises(DataError, match="No series has the id 'S9'"):
        panel.position("S9")
    assert panel.subset(["S2", "S0"]).labels == ["S2", "S0"]


def test_from_long_groups_by_several_id_columns() -> None:
    rows = [
        {"store": s, "item": i, "date": d, "v": float(n)}
        for s in ("A", "B")
        for i in ("x", "y")
        for n, d in enumerate(pd.date_range("2022-01-01", periods=5, freq="D"))
    ]
    panel = Panel.from_long(pd.DataFrame(rows), ["store", "item"], "date", "v", "D")
    assert panel.labels == ["A / x", "A / y", "B / x", "B / y"]
    assert panel.id_cols == ("store", "item")


def _fitted(panel: Panel):
    plan = plan_panel(panel, config())
    labels = list(plan.splits)
    forecaster = GlobalForecaster(plan.config.model, plan.config.train, HORIZON, plan.period)
    values = [panel[label].values for label in labels]
    splits = [plan.splits[label] for label in labels]
    forecaster.fit(values, splits)
    return forecaster, values, splits


def test_no_window_crosses_a_series_boundary() -> None:
    """The pooled training windows are exactly each series' own windows (plain loop)."""
    panel = make_panel()
    forecaster, values, splits = _fitted(panel)
    expected = []
    for prep, v, split in zip(forecaster.preprocessors_, values, splits, strict=True):
        level = prep.to_level(v[: split.fit_end])
        for i in range(split.train_end - 8 - HORIZON + 1):
            x = level[i : i + 8]
            expected.append((x - x[-1]) / prep.scale_)
    pooled = np.concatenate(
        [
            forecaster._windows(prep, prep.to_level(v[: s.fit_end])[: s.train_end])[0]
            for prep, v, s in zip(forecaster.preprocessors_, values, splits, strict=True)
        ]
    )
    np.testing.assert_allclose(pooled, np.array(expected))
    assert forecaster.windows_ == len(expected)


def test_a_large_training_set_is_spread_over_epochs_without_keras_warnings(
    monkeypatch, recwarn
) -> None:
    """More windows than the cap: each epoch takes the next batches of one shuffled pass, the
    plan says so, and the epoch that reaches the end of a pass ends quietly."""
    import forecasting.global_forecaster as global_forecaster

    monkeypatch.setattr(global_forecaster, "MAX_WINDOWS_PER_EPOCH", 48)
    seen = {}
    real = global_forecaster.fit_ensemble

    def spy(*args, **kwargs):
        seen["steps"] = kwargs["steps_per_epoch"]
        return real(*args, **kwargs)

    monkeypatch.setattr(global_forecaster, "fit_ensemble", spy)
    panel = make_panel()
    plan = plan_panel(panel, config())
    assert "48 of them per epoch" in " ".join(plan.notes)
    cfg = plan.config.train.replace(epochs=6, batch_size=8, patience=0)
    forecaster = GlobalForecaster(plan.config.model, cfg, HORIZON, plan.period)
    labels = list(plan.splits)
    forecaster.fit([panel[k].values for k in labels], [plan.splits[k] for k in labels])
    assert seen["steps"] == 6  # 48 windows in batches of 8
    assert -(-forecaster.windows_ // 8) % 6  # batches of a pass: an epoch ends one part-way
    assert len(forecaster.history_.loss) == 6
    assert not [w for w in recwarn if "ran out of data" in str(w.message)]


def test_each_series_is_scaled_by_its_own_training_part() -> None:
    panel = make_panel()
    forecaster, values, splits = _fitted(panel)
    for prep, v, split in zip(forecaster.preprocessors_, values, splits, strict=True):
        train = prep.to_level(v[: split.train_end])
        assert prep.scale_ == pytest.approx(np.std(np.diff(train)))
    scales = [p.scale_ for p in forecaster.preprocessors_]
    assert len(set(np.round(scales, 6))) == len(scales)


def test_nothing_after_a_series_origin_reaches_its_forecast() -> None:
    panel = make_panel()
    forecaster, values, splits = _fitted(panel)
    origins = [[s.fit_end] for s in splits]
    clean = forecaster.predict(values, origins)
    poisoned = [v.copy() for v in values]
    for v, s in zip(poisoned, splits, strict=True):
        v[s.fit_end :] = 1e9
    after = forecaster.predict(poisoned, origins)
    for a, b in zip(clean, after, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_too_short_series_gets_the_named_fallback() -> None:
    panel = make_panel(short=12)
    plan = plan_panel(panel, config())
    assert plan.fallback == ("S3",)
    assert any("Theta method" in n and "S3" in n for n in plan.notes)
    assert panel_split(12, 8, HORIZON) is None


def test_train_panel_forecasts_every_series_and_scores_them_by_the_m4_rules() -> None:
    panel = make_panel(short=12)
    run = train_panel(panel, config())
    assert len(run.forecast) == 4 * HORIZON
    assert list(run.forecast.columns) == ["store", "date", "forecast", "lower", "upper"]
    first = run.forecast[run.forecast["store"] == "S1"]
    assert first["date"].iloc[0] == panel["S1"].future_index(1)[0]
    assert (first["lower"] <= first["forecast"]).all() and (
        first["forecast"] <= first["upper"]
    ).all()
    assert set(run.scores["label"]) == {"S0", "S1", "S2"}
    assert run.aggregate["naive2"]["owa"] == pytest.approx(1.0)
    assert set(run.coverage) >= {0.8, 0.95}


def test_m4_aggregate_is_mean_smape_and_mase_against_naive2() -> None:
    scores = pd.DataFrame(
        [
            {"label": "a", "method": "model", "smape": 10.0, "mase": 1.0},
            {"label": "b", "method": "model", "smape": 20.0, "mase": 3.0},
            {"label": "a", "method": "naive2", "smape": 20.0, "mase": 2.0},
            {"label": "b", "method": "naive2", "smape": 20.0, "mase": 2.0},
        ]
    )
    aggregate = m4_aggregate(scores)
    assert aggregate["model"]["owa"] == pytest.approx((15 / 20 + 2 / 2) / 2)


def test_when_every_series_is_too_short_all_get_the_named_fallback_and_no_network() -> None:
    panel = make_panel(lengths=(14, 16, 18))
    plan = plan_panel(panel, config())
    assert plan.splits == {} and plan.fallback == ("S0", "S1", "S2")
    assert any("Every series is too short" in n and "Theta method" in n for n in plan.notes)
    run = train_panel(panel, config())
    assert run.forecaster.history_.epochs_run == 0
    assert run.scores.empty and run.aggregate == {}
    assert len(run.forecast) == 3 * HORIZON
    assert np.isfinite(run.forecast[["forecast", "lower", "upper"]].to_numpy(float)).all()
    for label in panel.labels:
        rows = run.forecast[run.forecast["store"] == label]
        assert list(rows["date"]) == list(panel[label].future_index(HORIZON))


def _hourly_panel(points: int) -> Panel:
    values = 100 + np.sin(np.arange(points) * 2 * np.pi / 24)
    series = TimeSeries.from_values(values, "h", start="2024-01-01", name="load")
    return Panel((series, series), (("A",), ("B",)), ("meter",))


@pytest.mark.parametrize(
    ("points", "window", "words"),
    [(1000, 168, "a week"), (400, 48, "median series of 400")],
)
def test_the_automatic_window_of_long_hourly_series_is_a_week(points, window, words) -> None:
    plan = plan_panel(_hourly_panel(points), RunConfig(horizon=48))
    assert plan.config.model.window == window
    assert any(words in note for note in plan.notes)


def test_the_automatic_window_of_daily_series_stays_two_cycles() -> None:
    plan = plan_panel(make_panel(lengths=(400, 400)), RunConfig(horizon=HORIZON))
    assert plan.config.model.window == 14


def test_a_global_network_trains_on_the_absolute_error_unless_told_otherwise() -> None:
    panel = make_panel()
    plan = plan_panel(panel, RunConfig(horizon=HORIZON))
    assert plan.config.train.loss == "mae"
    assert any("mean absolute error" in note for note in plan.notes)
    chosen = RunConfig(horizon=HORIZON, train=TrainConfig(loss="huber"))
    assert plan_panel(panel, chosen).config.train.loss == "huber"


def test_the_automatic_ensemble_is_two_wider_networks_when_epochs_are_long() -> None:
    from forecasting.panel_pipeline import LONG_EPOCH_STEPS, panel_ensemble

    light, notes = panel_ensemble(ModelConfig(window=26), 8192)
    assert light.ensemble == 5 and notes == []
    heavy, notes = panel_ensemble(ModelConfig(window=168, units=32), 8192)
    assert heavy.ensemble == 2 and heavy.units == 64
    assert "8,192 windows of 168 steps" in notes[0] and "2 networks of 64 units" in notes[0]
    assert panel_ensemble(ModelConfig(window=168, units=1000), 8192)[0].units == 1024
    assert 8192 * 26 <= LONG_EPOCH_STEPS < 8192 * 168
    plan = plan_panel(make_panel(), RunConfig(horizon=HORIZON))  # small: the usual five
    assert plan.config.model.ensemble == 5
    chosen = RunConfig(horizon=HORIZON, model=ModelConfig(ensemble=3, window=168))
    assert plan_panel(_hourly_panel(1000), chosen).config.model.ensemble == 3
