"""The forecast delivered: the network alone or its mean with Theta (and ETS), chosen on the
validation part. The choice rule and its leak check, then one real combined run end to end:
its test and future forecasts, its bands, the bundle (round trip, new data, refusals), the
CLI's `forecast --model` against the HTTP API, and an update that keeps the combination."""

from __future__ import annotations

import dataclasses
import io
import json
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

from forecasting import pipeline
from forecasting.baselines import ALL_BASELINES, QUICK_BASELINES
from forecasting.bundle import Bundle, load_bundle
from forecasting.bundle_archive import MANIFEST
from forecasting.combination import (
    COMBINATIONS,
    HISTORY_POINTS,
    check_history,
    choose,
    combine_future,
    describe,
    known_forecasts,
    label,
    mean_forecast,
    member_forecasts,
    minimum_history,
)
from forecasting.config import COMBINES, RunConfig
from forecasting.errors import BundleError, ConfigError, DataError
from forecasting.evaluation import Intervals, evaluate, evaluation_origins
from forecasting.records import format_timestamps
from forecasting.series import TimeSeries
from forecasting.update import UpdateOptions, update
from forecasting.verdict import model_label
from forecasting.windows import Split

HORIZON = 6
SPLIT = Split(n=150, train_end=102, fit_end=120)


def network_like(values: np.ndarray):
    """A stand-in for the network's forecasts (a choice rule's input): seasonal naive from
    each origin, shifted up by 3 so that averaging with the simple methods helps."""
    return lambda origins: np.array(
        [ALL_BASELINES["seasonal_naive"](values[:o], HORIZON, 12) + 3.0 for o in origins]
    )


# ----------------------------------------------------------------------- the rule
def test_the_setting_and_the_combinations_are_declared_once():
    assert ("auto", *COMBINATIONS) == COMBINES
    assert RunConfig().combine == "auto"
    assert RunConfig().with_settings(combine="none").combine == "none"
    with pytest.raises(ConfigError, match="`combine` must be one of auto, none, theta"):
        RunConfig().with_settings(combine="median")
    assert label("none", "GRU") == "GRU" and label("ets_theta") == "network + ETS + Theta"
    assert describe("theta") == "the mean of the network and Theta"
    assert describe("none") == "the network alone"
    assert model_label(RunConfig().replace(combine="theta")) == "GRU + Theta"


def test_a_failed_method_is_left_out_of_its_rows_mean():
    network = np.array([[1.0, 2.0], [3.0, 4.0]])
    theta = np.array([[3.0, 4.0], [np.nan, np.nan]])
    ets = np.array([[5.0, 6.0], [7.0, 8.0]])
    found = {"theta": theta, "ets": ets}
    mean = mean_forecast(network, found, ("ets", "theta"))
    np.testing.assert_allclose(mean, [[3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(mean_forecast(network, found, ()), network)


def test_the_lowest_validation_error_is_kept_and_said(make_values):
    values = make_values(150, noise=2.0)
    choice, checked = choose("auto", values, SPLIT, HORIZON, 12, network_like(values))
    origins = evaluation_origins(SPLIT.origins("val", HORIZON), 20)
    np.testing.assert_array_equal(checked.origins, origins)
    actual = values[origins[:, None] + np.arange(HORIZON)]
    net = network_like(values)(origins)
    found = member_forecasts(values[: SPLIT.fit_end], origins, HORIZON, 12, ("ets", "theta"))
    expected = {
        "none": np.mean(np.abs(net - actual)),
        "theta": np.mean(np.abs((net + found["theta"]) / 2 - actual)),
        "ets_theta": np.mean(np.abs((net + found["theta"] + found["ets"]) / 3 - actual)),
    }
    assert choice.errors == pytest.approx(expected, rel=1e-12)
    assert choice.chosen == min(expected, key=expected.get) != "none"
    assert (choice.why, choice.origins) == ("compared", len(origins))
    (sentence,) = choice.sentences()
    assert sentence.startswith(f"Forecast: {describe(choice.chosen)}.")
    assert f"{choice.errors[choice.chosen]:.4g}" in sentence
    assert f"{choice.errors['none']:.4g} for the network alone" in sentence


def test_too_few_validation_forecasts_deliver_the_mean_of_all_three(make_values):
    """A validation part of 1 to 4 forecasts is too small to choose on (a network that wins
    on one of them wins by chance): the mean of all three, and the sentence says why."""
    values = make_values(150, noise=2.0)
    network_alone = lambda origins: values[origins[:, None] + np.arange(HORIZON)]  # noqa: E731
    for fit_end, forecasts in ((108, 1), (111, 4)):
        split = Split(n=150, train_end=102, fit_end=fit_end)
        assert len(split.origins("val", HORIZON)) == forecasts
        choice, checked = choose("auto", values, split, HORIZON, 12, network_alone)
        assert choice.errors["none"] == 0.0  # the network alone was perfect there, yet
        assert (choice.why, choice.chosen, choice.origins) == (
            "too_few_forecasts",
            "ets_theta",
            forecasts,
        )
        assert set(checked.forecasts) == set(COMBINATIONS)
        (sentence,) = choice.sentences()
        assert sentence.startswith("Forecast: the mean of the network, ETS and Theta.")
        assert f"holds {forecasts} forecast" in sentence and "too few to choose" in sentence
    five = Split(n=150, train_end=102, fit_end=112)
    choice, _ = choose("auto", values, five, HORIZON, 12, network_alone)
    assert (choice.why, choice.chosen) == ("compared", "none")


def test_nothing_from_the_test_part_takes_part_in_the_choice(make_values):
    values = make_values(150, noise=2.0)
    poisoned = values.copy()
    poisoned[SPLIT.fit_end :] *= 50.0
    clean, _ = choose("auto", values, SPLIT, HORIZON, 12, network_like(values))
    dirty, _ = choose("auto", poisoned, SPLIT, HORIZON, 12, network_like(poisoned))
    assert dirty == clean


def test_requested_and_covariates(make_values):
    values = make_values(150)
    requested, checked = choose("theta", values, SPLIT, HORIZON, 12, network_like(values))
    assert (requested.why, requested.chosen, list(requested.errors)) == (
        "requested",
        "theta",
        ["theta"],
    )
    assert "as requested" in requested.sentences()[0]
    assert set(checked.forecasts) == {"theta"}
    alone, _ = choose("none", values, SPLIT, HORIZON, 12, network_like(values))
    assert (alone.chosen, alone.errors, alone.sentences()) == ("none", {}, ())
    covariates, _ = choose("auto", values, SPLIT, HORIZON, 12, network_like(values), True)
    assert covariates.chosen == "none" and "reads covariates" in covariates.sentences()[0]


def test_the_minimum_history_is_named():
    assert minimum_history("none", 24, 12) == 24
    assert minimum_history("theta", 24, 12) == 36 and minimum_history("theta", 16, 1) == 16
    with pytest.raises(DataError, match=r"30 points.*at least 36.*three seasonal cycles of 12"):
        check_history("ets_theta", 30, 24, 12)
    check_history("none", 24, 24, 12)


def test_known_forecasts_give_the_evaluation_its_own_numbers(make_values):
    values = make_values(150)
    origins = evaluation_origins(SPLIT.origins("test", HORIZON))
    found = member_forecasts(values, origins, HORIZON, 12, ("ets", "theta"))
    model = np.zeros((len(origins), HORIZON))
    plain = evaluate(model, values, origins, HORIZON, 12, SPLIT.fit_end)
    spared = evaluate(
        model, values, origins, HORIZON, 12, SPLIT.fit_end, known_forecasts(found, origins)
    )
    assert list(spared.forecasts) == list(plain.forecasts)
    for name, forecasts in plain.forecasts.items():
        np.testing.assert_array_equal(spared.forecasts[name], forecasts)


def test_covariates_with_a_named_combination_are_refused(monthly_series):
    from forecasting.covariates import Roles

    with pytest.raises(ConfigError, match="--combine auto or none"):
        pipeline.plan_run(monthly_series, RunConfig(combine="theta"), Roles(calendar=True))


def test_many_series_forecast_with_the_global_network_alone(make_values):
    from forecasting.panel import Panel
    from forecasting.panel_pipeline import plan_panel

    series = tuple(TimeSeries.from_values(make_values(80, seed=s), freq="MS") for s in (1, 2))
    panel = Panel(series, (("a",), ("b",)), ("store",))
    assert plan_panel(panel, RunConfig()).config.combine == "none"
    named = plan_panel(panel, RunConfig(combine="theta"))
    assert named.config.combine == "none"
    assert any(note.startswith("Forecast: the global network alone") for note in named.notes)


# ------------------------------------------------------------- a real combined run
@pytest.fixture(scope="module")
def combined_run(monthly_series, tiny_config):
    """The network's mean with ETS and Theta (requested: the same whatever the tiny
    network's accuracy)."""
    config = tiny_config.replace(combine="ets_theta")
    return pipeline.train(monthly_series, config, baselines=QUICK_BASELINES)


def test_the_run_delivers_the_mean_everywhere(combined_run, monthly_series):
    run, values = combined_run, monthly_series.values
    split, names = run.plan.split, ("ets", "theta")
    assert run.config.combine == "ets_theta" and run.plan.combination.why == "requested"
    assert any(
        r.startswith("Forecast: the mean of the network, ETS and Theta") for r in run.plan.reasons
    )
    # test part: the mean of the network and the methods from each test origin
    origins = run.evaluation.origins
    found = member_forecasts(values, origins, HORIZON, 12, names)
    expected = mean_forecast(run.forecaster.predict(values, origins), found, names)
    np.testing.assert_allclose(run.evaluation.forecasts["model"], expected, rtol=1e-12)
    np.testing.assert_allclose(run.test_forecast["forecast"], expected[0], rtol=1e-12)
    assert list(run.one_step["date"]) == list(monthly_series.index[origins])
    np.testing.assert_allclose(run.one_step["predicted"], expected[:, 0], rtol=1e-12)
    # beyond the data
    future = combine_future("ets_theta", run.forecaster.forecast(values), values, HORIZON, 12)
    np.testing.assert_allclose(run.forecast["forecast"], future, rtol=1e-12)
    # bands: calibrated on the mean's residuals on the validation forecasts
    val = evaluation_origins(split.origins("val", HORIZON), 20)
    val_found = member_forecasts(values[: split.fit_end], val, HORIZON, 12, names)
    val_mean = mean_forecast(run.forecaster.predict(values, val), val_found, names)
    actual = values[val[:, None] + np.arange(HORIZON)]
    again = Intervals.calibrate(actual, val_mean, (0.8, 0.95), relative=True, non_negative=True)
    for level in (0.8, 0.95):
        np.testing.assert_allclose(run.intervals.widths[level], again.widths[level])


def test_the_model_is_named_with_its_combination(combined_run):
    from forecasting import plots, tables
    from forecasting.results import run_result
    from forecasting.ui_text import skill_sentence

    result = run_result(combined_run)
    names = {trace.name for trace in plots.test_figure(result).data}
    assert {"Network + ETS + Theta, one step ahead", "Network + ETS + Theta, 6 steps ahead"} <= (
        names
    )
    assert tables.metrics_table(result)["Method"].iloc[0] == "Network + ETS + Theta"
    assert "GRU + ETS + Theta" in skill_sentence(result)[0]
    assert any(r.startswith("Forecast: the mean of") for r in result.reasons)


@pytest.mark.slow
def test_the_automatic_choice_ignores_the_test_part(monthly_series, tiny_config):
    """Two trainings, the second with its test part poisoned: the same choice, the same
    validation errors."""
    config = tiny_config.replace(combine="auto")
    clean = pipeline.train(monthly_series, config, baselines=QUICK_BASELINES)
    values = np.array(monthly_series.values)
    values[clean.plan.split.fit_end :] *= 40.0
    poisoned = TimeSeries(values, monthly_series.index, "MS")
    dirty = pipeline.train(poisoned, config, baselines=QUICK_BASELINES)
    assert clean.plan.combination.why == "compared"
    assert set(clean.plan.combination.errors) == set(COMBINATIONS)
    assert dirty.plan.combination == clean.plan.combination
    assert dirty.config.combine == clean.config.combine == clean.plan.combination.chosen


# ------------------------------------------------------------------------ the bundle
@pytest.fixture(scope="module")
def bundle_bytes(combined_run) -> bytes:
    return Bundle.from_run(combined_run).to_bytes()


def manifest_of(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return json.loads(archive.read(MANIFEST))


def with_manifest(data: bytes, change) -> bytes:
    manifest = manifest_of(data)
    change(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            body = json.dumps(manifest).encode() if info.filename == MANIFEST else old.read(info)
            new.writestr(info, body)
    return out.getvalue()


def test_the_bundle_forecasts_what_the_run_forecast(combined_run, bundle_bytes, monthly_series):
    manifest = manifest_of(bundle_bytes)
    assert manifest["combination"]["members"] == ["ets", "theta"]
    assert manifest["combination"]["history"] == list(monthly_series.values[-HISTORY_POINTS:])
    assert manifest["config"]["combine"] == "ets_theta" and manifest["format_version"] == 2
    bundle = load_bundle(bundle_bytes)
    assert bundle.combination == ("ets", "theta") and bundle.min_history == 36
    pd.testing.assert_frame_equal(bundle.forecast(), combined_run.forecast, check_exact=True)


def test_with_new_data_the_methods_are_fitted_on_it(bundle_bytes, monthly_series):
    bundle = load_bundle(bundle_bytes)
    later = TimeSeries.from_values(monthly_series.values[:100], freq="MS", start="2001-01-01")
    alone = dataclasses.replace(bundle, config=bundle.config.replace(combine="none"))
    network = alone.forecast(later)["forecast"].to_numpy()  # positive: nothing clipped
    expected = combine_future("ets_theta", network, later.values, HORIZON, 12)
    np.testing.assert_allclose(bundle.forecast(later)["forecast"], expected, rtol=1e-12)
    short = TimeSeries.from_values(monthly_series.values[:30], freq="MS")
    with pytest.raises(DataError, match=r"30 points.*at least 36.*three seasonal cycles of 12"):
        bundle.forecast(short)


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m["combination"].__setitem__("members", ["theta"]),
        lambda m: m.pop("combination"),
        lambda m: m["combination"]["history"].__setitem__(-1, 1.0),
        lambda m: m["combination"].__setitem__("history", "many"),
        lambda m: m["combination"].__setitem__("extra", 1),
    ],
    ids=["other members", "missing", "not ending with the window", "not a list", "extra key"],
)
def test_a_tampered_combination_is_refused(bundle_bytes, change):
    with pytest.raises(BundleError, match="Schema check failed"):
        load_bundle(with_manifest(bundle_bytes, change))


def test_a_bundle_from_before_combinations_loads_as_the_network_alone(monthly_run):
    def older(m):
        del m["config"]["combine"]

    bundle = load_bundle(with_manifest(Bundle.from_run(monthly_run).to_bytes(), older))
    assert bundle.combination == () and bundle.combination_history is None
    pd.testing.assert_frame_equal(bundle.forecast(), monthly_run.forecast)


# ------------------------------------------------------------- CLI, HTTP and update
def test_served_forecast_equals_the_cli_and_short_histories_are_refused(
    bundle_bytes, monthly_series, tmp_path, capsys
):
    from forecasting.cli import main
    from forecasting.serving import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        from fastapi.testclient import TestClient

    path = tmp_path / "combined.zip"
    path.write_bytes(bundle_bytes)
    later = monthly_series.values[:100]
    stamps = format_timestamps(pd.date_range("2001-01-01", periods=100, freq="MS"))
    csv = tmp_path / "later.csv"
    pd.DataFrame({"date": stamps, "value": later}).to_csv(csv, index=False)
    assert main(["forecast", str(csv), "--horizon", str(HORIZON), "--model", str(path)]) == 0
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out))

    client = TestClient(create_app({"combined": load_bundle(path)}))
    history = [{"date": d, "value": float(v)} for d, v in zip(stamps, later, strict=True)]
    response = client.post("/v1/models/combined/forecast", json={"history": history})
    assert response.status_code == 200
    served = pd.DataFrame(response.json()["forecast"])
    for column in ("forecast", "lower", "upper"):
        np.testing.assert_allclose(served[column], printed[column], rtol=1e-9)
    short = client.post("/v1/models/combined/forecast", json={"history": history[:30]})
    assert short.status_code == 422 and short.json()["field"] == "history"
    assert "needs at least 36 rows" in short.json()["detail"]
    (info,) = client.get("/v1/models").json()["models"]
    assert (info["model"], info["combination"], info["min_history"]) == (
        "GRU + ETS + Theta",
        ["ets", "theta"],
        36,
    )


def test_an_update_keeps_the_combination(monthly_series, tiny_config):
    old = monthly_series.head(126)
    run = pipeline.train(
        old, tiny_config.replace(combine="theta").with_settings(epochs=2), baselines=QUICK_BASELINES
    )
    parent = load_bundle(Bundle.from_run(run).to_bytes())
    new = TimeSeries(monthly_series.values[114:], monthly_series.index[114:], "MS")  # no history
    result = update(
        parent, new, "ab" * 32, UpdateOptions(epochs=1, folds=1), baselines=QUICK_BASELINES
    )
    values = result.series.values
    np.testing.assert_array_equal(values, monthly_series.values)  # stitched to the stored history
    found = member_forecasts(values, result.origins, HORIZON, 12, ("theta",))
    network = parent.forecaster.predict(values, result.origins, 0)
    expected = parent.intervals.clip(mean_forecast(network, found, ("theta",)))
    np.testing.assert_allclose(result.forecasts["unchanged"], expected, rtol=1e-12)
    assert any("as the parent's" in note for note in result.report.notes)
    kept = load_bundle(result.bundle.to_bytes())
    assert kept.combination == ("theta",) and kept.config.combine == "theta"
    np.testing.assert_array_equal(kept.combination_history, monthly_series.values)
    network = kept.forecaster.forecast(
        kept.last_values, kept.last_position - (len(kept.last_values) - 1)
    )
    expected = combine_future("theta", network, monthly_series.values, HORIZON, 12)
    np.testing.assert_allclose(
        kept.forecast()["forecast"], kept.intervals.clip(expected), rtol=1e-12
    )


def test_the_cli_trains_a_combination_and_says_so(monthly_series, tmp_path, capsys):
    from forecasting.cli import main

    csv = tmp_path / "monthly.csv"
    dates = format_timestamps(monthly_series.index)
    pd.DataFrame({"date": dates, "value": monthly_series.values}).to_csv(csv, index=False)
    tiny = ["--epochs", "2", "--units", "4", "--ensemble", "1", "--window", "12"]
    argv = ["train", str(csv), "--bundle", str(tmp_path / "b.zip"), "--horizon", "6", *tiny]
    argv += ["--combine", "theta", "--metrics-json", str(tmp_path / "m.json")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "note: Forecast: the mean of the network and Theta, as requested" in err
    assert "saved " in err and "GRU + Theta, test MASE" in err
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["combination"] == ["theta"] and metrics["model_label"] == "GRU + Theta"
    assert metrics["config"]["combine"] == "theta"
    assert load_bundle(tmp_path / "b.zip").combination == ("theta",)
