"""Update with new data: the continuation checks, three candidates scored only on data none of
them trained on, seeded fine-tuning, the lineage round trip (and bundles without one), the
drift check, and the update job."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest

from forecasting.baselines import QUICK_BASELINES
from forecasting.bundle import Bundle, load_bundle
from forecasting.bundle_archive import MANIFEST
from forecasting.drift import check_drift
from forecasting.errors import BundleError, ConfigError, DataError
from forecasting.evaluation import INTERVAL_LEVELS, Intervals, non_negative, reference_rows
from forecasting.lineage import Lineage, LineageStep
from forecasting.series import TimeSeries
from forecasting.update import (
    UpdateOptions,
    _drift,
    continue_series,
    read_parent,
    update,
    update_bytes,
)
from forecasting.update_fit import fine_tune

N, OLD = 150, 126  # the model saw the first 126 months; the new data runs to 150
FAST = UpdateOptions(epochs=1, folds=1)


@pytest.fixture(scope="module")
def full(make_values) -> TimeSeries:
    return TimeSeries.from_values(make_values(N), freq="MS")


@pytest.fixture(scope="module")
def parent_bytes(full, tiny_config) -> bytes:
    from forecasting import pipeline

    config = tiny_config.with_settings(epochs=2)
    run = pipeline.train(full.head(OLD), config, baselines=QUICK_BASELINES)
    return Bundle.from_run(run, {"date_col": "date"}).to_bytes()


@pytest.fixture(scope="module")
def parent(parent_bytes) -> Bundle:
    return load_bundle(parent_bytes)


def changed(series: TimeSeries, at, add: float, name: str | None = None) -> TimeSeries:
    values = np.array(series.values)
    values[at] += add
    return TimeSeries(values, series.index, series.freq, name or series.name)


# ------------------------------------------------------------------ continuation
def test_conflicting_overlap_is_refused_naming_the_first_timestamp(parent, full) -> None:
    # 118 and 122 lie in the stored last window (months 114..125); 118 is 2009-11-01
    bad = changed(changed(full, 122, 5.0), 118, 3.0)
    with pytest.raises(DataError, match=r"contradicts the model's data at 2009-11-01"):
        continue_series(parent, bad)
    # the same values continue cleanly
    joined = continue_series(parent, full)
    assert joined.new_start == OLD and len(joined.series) == N and joined.offset == 0
    np.testing.assert_array_equal(joined.series.values, full.values)


def test_foreign_columns_and_frequencies_are_refused(parent, full) -> None:
    renamed = TimeSeries(full.values, full.index, full.freq, "temperature")
    with pytest.raises(DataError, match=r"'temperature'.*forecasts 'value'.*--value-col value"):
        continue_series(parent, renamed)
    daily = TimeSeries.from_values(full.values, freq="D", start="2010-01-01")
    with pytest.raises(DataError, match="frequency D but the model was trained on MS"):
        continue_series(parent, daily)
    with pytest.raises(DataError, match="already seen"):
        continue_series(parent, full.head(OLD))


def test_only_the_new_part_continues_the_stored_window(parent, full) -> None:
    tail = TimeSeries(full.values[OLD:], full.index[OLD:], "MS")
    joined = continue_series(parent, tail)
    window = parent.config.model.window
    assert len(joined.series) == window + N - OLD and joined.new_start == window
    np.testing.assert_array_equal(joined.series.values, full.values[OLD - window :])
    assert joined.offset == OLD - window  # positions keep the seasonal phase


def test_a_gap_is_named_and_refused_or_filled(parent, full) -> None:
    later = TimeSeries(full.values[OLD + 3 :], full.index[OLD + 3 :], "MS")
    with pytest.raises(DataError, match=r"2010-07-01, 2010-08-01, 2010-09-01 are missing"):
        continue_series(parent, later, fill="none")
    joined = continue_series(parent, later, fill="linear")
    assert "Filled 3 missing timestamp(s)" in joined.notes[0]
    (repair,) = joined.series.repairs
    assert repair.sentence == joined.notes[0] and repair.count == 3
    assert repair.stamps == ("2010-07-01", "2010-08-01", "2010-09-01")
    assert np.all(np.isfinite(joined.series.values))


def test_too_few_new_points_and_panel_bundles_are_refused(parent_bytes, full) -> None:
    with pytest.raises(DataError, match="at least one horizon"):
        update_bytes(parent_bytes, full.head(OLD + 2), FAST)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(MANIFEST, json.dumps({"kind": "panel"}))
    with pytest.raises(BundleError, match="works on single-series bundles"):
        read_parent(buffer.getvalue())
    with pytest.raises(ConfigError, match="`keep` must be one of"):
        UpdateOptions(keep="best")


def test_a_cancel_makes_no_bundle(parent, full) -> None:
    from forecasting.errors import ForecastingError

    with pytest.raises(ForecastingError, match="Cancelled"):
        update(parent, full, "0" * 64, FAST, should_stop=lambda: True)


# ------------------------------------------------------------------ candidates
@pytest.fixture(scope="module")
def clean(parent, parent_bytes, full):
    return update(
        parent, full, hashlib.sha256(parent_bytes).hexdigest(), FAST, baselines=QUICK_BASELINES
    )


def test_candidates_are_scored_only_on_data_they_did_not_train_on(parent, full, clean) -> None:
    """Poison the held-out part: every candidate forecasts it exactly as before (none of them
    read it), only the scores move."""
    horizon = parent.config.horizon
    held_out = slice(N - horizon, N)
    poisoned = changed(full, held_out, 1000.0)
    again = update(
        parent,
        poisoned,
        clean.report.parent_sha256,
        FAST.replace(keep="unchanged"),
        baselines=QUICK_BASELINES,
    )
    assert list(clean.origins) == [N - horizon] == list(again.origins)
    assert set(clean.forecasts) == {"unchanged", "fine-tuned", "retrained"}
    for name, forecasts in clean.forecasts.items():
        np.testing.assert_array_equal(forecasts, again.forecasts[name], err_msg=name)
    before = {s.name: s.mase for s in clean.report.candidates}
    after = {s.name: s.mase for s in again.report.candidates}
    assert all(after[name] > 10 * before[name] for name in before)
    assert again.report.chosen == "unchanged"  # kept as asked, whatever the scores
    assert clean.report.chosen == clean.report.best


def test_a_thin_held_out_part_calibrates_the_bands_with_seasonal_naive_rows(
    parent, full, clean
) -> None:
    """One held-out forecast is too few errors for a band: seasonal naive's forecasts over the
    data before the held-out part join each candidate's, and the report says so."""
    horizon, end = parent.config.horizon, N - parent.config.horizon
    values = full.values
    more_actual, more_predicted = reference_rows(values[:end], horizon, parent.period)
    assert len(more_actual) > 1
    assert any(
        note.startswith("Band: the held-out part holds 1 forecast, too few errors")
        and f"from {len(more_actual)} forecasts over the data before it" in note
        for note in clean.report.notes
    )
    actual = values[end:][None, :]
    for name, bundle in clean.bundles.items():
        expected = Intervals.calibrate(
            np.vstack([actual, more_actual]),
            np.vstack([clean.forecasts[name], more_predicted]),
            (*INTERVAL_LEVELS, parent.config.level),
            relative=bool(np.all(values[:end] > 0)),
            non_negative=non_negative(values),
        )
        assert bundle.intervals.widths.keys() == expected.widths.keys()
        for level, widths in expected.widths.items():
            np.testing.assert_allclose(bundle.intervals.widths[level], widths, err_msg=name)


def test_fine_tuning_with_a_seed_repeats(parent, full) -> None:
    joined = continue_series(parent, full)
    values, end = joined.series.values, N - parent.config.horizon

    def tuned():
        forecaster = fine_tune(parent.forecaster, values, end, joined.offset, None, 2, 48)
        return forecaster.predict(values, [end], joined.offset)

    first = tuned()
    np.testing.assert_array_equal(first, tuned())
    unchanged = parent.forecaster.predict(values, [end], joined.offset)
    assert not np.array_equal(first, unchanged)  # it did train


def test_the_report_holds_what_the_json_promises(clean) -> None:
    data = json.loads(json.dumps(clean.report.to_dict()))
    assert [c["name"] for c in data["candidates"]] == ["unchanged", "fine-tuned", "retrained"]
    for candidate in data["candidates"]:
        assert {"name", "mase", "smape", "seconds"} <= set(candidate)
        assert candidate["mase"] > 0 and candidate["seconds"] > 0
    assert data["chosen"] in ("unchanged", "fine-tuned", "retrained")
    assert {"coverage", "nominal", "error_ratio", "warning"} <= set(data["drift"])
    assert {b["name"] for b in data["baselines"]} == set(QUICK_BASELINES)
    assert type(clean.report).from_dict(data) == clean.report


def test_the_figure_draws_each_candidate_on_the_held_out_part(clean) -> None:
    from forecasting.update_plots import held_out_figure

    held = clean.report.held_out_forecasts
    assert held.dates[0] == clean.report.held_out[0] and len(held.actual) == 6
    for name, forecasts in clean.forecasts.items():
        np.testing.assert_array_equal(held.forecasts[name], forecasts[0])
    figure = held_out_figure(clean.report, "unchanged", "value <b>")
    names = [trace.name for trace in figure.data]
    assert names == ["before", "actual (held out)", "unchanged (kept)", "fine-tuned", "retrained"]
    assert figure.layout.title.text == "value &lt;b&gt;"


# ------------------------------------------------------------------ lineage
def test_lineage_round_trip_and_a_chain_of_two(parent_bytes, full, clean, tmp_path) -> None:
    data = clean.bundle.to_bytes()
    child = load_bundle(data)
    (step,) = child.lineage.steps
    assert step.parent_sha256 == hashlib.sha256(parent_bytes).hexdigest()
    assert step.method == clean.report.chosen and step.new_points == N - OLD
    assert (step.first, step.last) == ("2000-01-01", "2012-06-01")
    assert child.series["last"] == "2012-06-01" and child.series["length"] == N
    forecast = child.forecast()
    assert str(forecast["date"].iloc[0].date()) == "2012-07-01"
    # every candidate's bundle names its own method
    for name, bundle in clean.bundles.items():
        assert load_bundle(bundle.to_bytes()).lineage.last.method == name
    # a second update appends to the chain
    longer = TimeSeries.from_values(
        np.concatenate([full.values, full.values[-12:] + 2.0]), freq="MS"
    )
    grandchild = update_bytes(data, longer, FAST, baselines=QUICK_BASELINES)
    steps = load_bundle(grandchild.bundle.to_bytes()).lineage.steps
    assert len(steps) == 2 and steps[0] == step
    assert steps[1].parent_sha256 == hashlib.sha256(data).hexdigest()


def test_bundles_without_lineage_still_load_and_bad_lineage_is_refused(parent_bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(parent_bytes)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members[MANIFEST])
    assert "lineage" not in manifest and manifest["format_version"] == 2  # as before
    assert load_bundle(parent_bytes).lineage is None

    def rebuilt(lineage) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in members.items():
                if name == MANIFEST:
                    data = json.dumps({**manifest, "lineage": lineage}).encode()
                archive.writestr(name, data)
        return buffer.getvalue()

    assert load_bundle(rebuilt(None)).lineage is None
    good = Lineage([LineageStep("a" * 64, "fine-tuned", "2000-01-01", "2010-06-01", 3, "x")])
    assert load_bundle(rebuilt(good.to_dict())).lineage == good
    with pytest.raises(BundleError, match="lineage is malformed"):
        load_bundle(rebuilt({"steps": [{**good.steps[0].to_dict(), "method": "guessed"}]}))
    with pytest.raises(BundleError, match="wrong type"):
        load_bundle(rebuilt([1, 2]))


# ------------------------------------------------------------------ drift
def test_a_level_jump_warns_and_suggests_retraining(parent, full) -> None:
    jumped = changed(full, slice(OLD, N), 60.0)
    joined = continue_series(parent, jumped)
    drift = _drift(parent, joined.series.values, joined.new_start, joined.offset, None)
    assert drift.suggestion == "retrain" and "retrain" in drift.warning
    assert drift.error_ratio >= 2 and drift.coverage < drift.nominal - 0.15
    joined = continue_series(parent, full)
    calm = _drift(parent, joined.series.values, joined.new_start, joined.offset, None)
    assert calm.error_ratio < 2


def test_the_drift_rule() -> None:
    actual = np.tile(np.arange(10.0, 16.0), (4, 1))
    band = Intervals({0.95: np.full(6, 1.0)})
    test = {"mase": 0.5, "mae": 0.5}
    held = check_drift(actual, actual + 0.5, band, 0.95, test, np.arange(30.0), 1)
    assert held.coverage == 1.0 and held.error_ratio == pytest.approx(1.0) and not held.warning
    worse = check_drift(actual, actual + 3.0, band, 0.95, test, np.arange(30.0), 1)
    assert worse.coverage == 0.0 and worse.error_ratio == pytest.approx(6.0)
    assert "band held 0%" in worse.warning and "6.0 times" in worse.warning


# ------------------------------------------------------------------ the job
def test_the_update_job_saves_every_candidate(parent_bytes, full, tmp_path) -> None:
    from forecasting.jobs import DONE, JobManager

    manager = JobManager(tmp_path / "jobs", runner="inline")
    job = manager.submit_update(parent_bytes, full, {"epochs": 1, "folds": 1}, "update")
    status = manager.status(job)
    assert status.state == DONE, status.message
    assert status.message == (manager.update_result(job).drift.warning)
    report = manager.update_result(job)
    kept = load_bundle(manager.bundle_bytes(job))
    assert kept.lineage.last.method == report.chosen
    for name in ("unchanged", "fine-tuned", "retrained"):
        assert load_bundle(manager.bundle_bytes(job, name)).lineage.last.method == name
    assert manager.bundle_bytes(job, "../spec.json") is None
    refused = manager.submit_update(b"not a bundle", full, None, "update")
    assert "not a valid .zip" in manager.status(refused).message
    with pytest.raises(ConfigError, match="needs the uploaded bundle"):
        manager.submit_update(None, full)


# ------------------------------------------------------------------ covariates
def test_a_model_with_covariates_is_updated_and_checked(make_values, tiny_config) -> None:
    import pandas as pd

    from forecasting import pipeline
    from forecasting.covariates import Roles

    index = pd.date_range("2000-01-01", periods=N, freq="MS", name="date")
    rng = np.random.default_rng(1)
    extra = pd.DataFrame(
        {"temp": rng.normal(size=N), "kind": np.where(np.arange(N) % 2, "a", "b")}, index=index
    ).astype({"kind": object})
    full = TimeSeries(make_values(N), index, "MS", "value", (), extra)
    roles = Roles(past=("temp", "kind"), calendar=True)
    run = pipeline.train(
        full.head(OLD), tiny_config.with_settings(epochs=2), roles=roles, baselines=QUICK_BASELINES
    )
    data = Bundle.from_run(run).to_bytes()
    with pytest.raises(DataError, match=r"lacks the column\(s\) temp.*It has: kind"):
        update_bytes(data, TimeSeries(full.values, index, "MS", "value", (), extra[["kind"]]))
    moved = extra.copy()
    moved.iloc[120, 0] += 1.0
    with pytest.raises(DataError, match=r"at 2010-01-01: 'temp'"):
        update_bytes(data, TimeSeries(full.values, index, "MS", "value", (), moved))
    result = update_bytes(data, full, FAST, baselines=QUICK_BASELINES)
    assert all(not score.note for score in result.report.candidates)
    for name, bundle in result.bundles.items():
        loaded = load_bundle(bundle.to_bytes())
        assert loaded.roles == roles and loaded.lineage.last.method == name
        assert list(loaded.last_covariates["kind"]) == list(extra["kind"].iloc[-12:])
        assert np.all(np.isfinite(loaded.forecast()["forecast"]))
