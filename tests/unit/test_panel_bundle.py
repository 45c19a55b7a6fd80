"""Many-series bundles and results: the round trip of a global model (the same forecast before
and after), forecasting a subset or after newer data, an unknown id refused by name, every
tampered bundle refused before Keras reads it; `PanelResult` as JSON."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import keras
import numpy as np
import pandas as pd
import pytest

from forecasting.bundle import load_bundle
from forecasting.bundle_archive import MANIFEST
from forecasting.config import RunConfig
from forecasting.errors import BundleError, DataError
from forecasting.panel import Panel
from forecasting.panel_bundle import PanelBundle, bundle_kind, load_panel_bundle
from forecasting.panel_pipeline import train_panel
from forecasting.results import PanelResult
from forecasting.series import TimeSeries

HORIZON = 6
NUMBERS = ["forecast", "lower", "upper"]


def make_panel(short: bool = True) -> Panel:
    """Five monthly series of 120 points (two id columns), and one too short for the window."""
    rng = np.random.default_rng(3)
    series, ids = [], []
    for i in range(5 + short):
        n = 120 if i < 5 else 20
        t = np.arange(n)
        values = 50 + 10 * i + 0.1 * t + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
        index = pd.date_range("2010-01-01", periods=n, freq="MS", name="date")
        series.append(TimeSeries(values, index, "MS", "sales"))
        ids.append((f"store{i % 2}", f"item{i}"))
    return Panel(tuple(series), tuple(ids), ("store", "item"))


def tiny_config(epochs: int = 1) -> RunConfig:
    return RunConfig(horizon=HORIZON).with_settings(
        cell="gru", units=4, epochs=epochs, window=12, patience=0, ensemble=1, batch_size=32
    )


@pytest.fixture(scope="module")
def run():
    return train_panel(make_panel(), tiny_config())


@pytest.fixture(scope="module")
def bundle_bytes(run) -> bytes:
    return PanelBundle.from_run(run, {"id_cols": ["store", "item"]}).to_bytes()


@pytest.fixture(scope="module")
def loaded(bundle_bytes) -> PanelBundle:
    return load_panel_bundle(bundle_bytes)


@pytest.fixture
def load_spy(monkeypatch):
    """Records every call of keras.saving.load_model (a refused bundle must never reach it)."""
    calls = []
    real = keras.saving.load_model

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(keras.saving, "load_model", spy)
    return calls


def rows_of(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    store, item = label.split(" / ")
    return frame[(frame["store"] == store) & (frame["item"] == item)].reset_index(drop=True)


def test_the_bundle_forecasts_exactly_what_the_run_forecast_before_and_after_saving(
    run, loaded, bundle_bytes
):
    assert bundle_kind(bundle_bytes) == "panel"
    fallback = "store1 / item5"
    assert run.plan.fallback == (fallback,)
    assert loaded.labels == [*run.plan.splits, fallback]
    assert loaded.id_cols == ("store", "item")
    assert [s.label for s in loaded.fallback] == [fallback]

    before = PanelBundle.from_run(run).forecast()
    after = loaded.forecast()
    assert list(after.columns) == ["store", "item", "date", *NUMBERS]
    assert len(after) == 6 * HORIZON
    pd.testing.assert_frame_equal(after[["store", "item"]], run.forecast[["store", "item"]])
    assert (pd.DatetimeIndex(after["date"]) == pd.DatetimeIndex(run.forecast["date"])).all()
    np.testing.assert_allclose(after[NUMBERS], before[NUMBERS], rtol=1e-6)
    np.testing.assert_allclose(after[NUMBERS], run.forecast[NUMBERS], rtol=1e-6)
    # The same data sent again gives the same forecast.
    again = loaded.forecast(run.panel)
    np.testing.assert_allclose(again[NUMBERS], after[NUMBERS], rtol=1e-6)
    assert loaded.data_options == {"id_cols": ["store", "item"]}


def test_a_subset_of_the_series_is_forecast_alone(loaded):
    everything = loaded.forecast()
    picked = ["store0 / item2", "store1 / item5", "store1 / item1"]
    subset = loaded.forecast(labels=picked)
    assert len(subset) == 3 * HORIZON
    for at, label in enumerate(picked):
        part = subset.iloc[at * HORIZON : (at + 1) * HORIZON].reset_index(drop=True)
        np.testing.assert_allclose(part[NUMBERS], rows_of(everything, label)[NUMBERS], rtol=1e-6)
        assert " / ".join(part.loc[0, ["store", "item"]]) == label


def test_newer_data_moves_the_origin_with_the_seasonal_phase(run, loaded):
    """Data ending 6 steps earlier: each series is forecast from there, exactly as the trained
    model forecasts from that origin."""
    earlier = tuple(s.head(len(s) - 6) for s in run.panel.series)
    cut = Panel(earlier, run.panel.ids, ("store", "item"))
    frame = loaded.forecast(cut, labels=["store0 / item0", "store1 / item3"])
    for label in ("store0 / item0", "store1 / item3"):
        full = run.panel[label].values
        expected = run.forecaster.predict(
            [run.panel[name].values for name in run.plan.splits],
            [[len(run.panel[name]) - 6] for name in run.plan.splits],
        )[list(run.plan.splits).index(label)][0]
        rows = rows_of(frame, label)
        np.testing.assert_allclose(rows["forecast"], np.maximum(expected, 0), rtol=1e-5)
        assert rows["date"].iloc[0] == run.panel[label].index[len(full) - 6]


def test_an_unknown_id_is_refused_by_name(loaded, run):
    with pytest.raises(DataError, match="not trained on the series 'store9 / item9'"):
        loaded.forecast(labels=["store0 / item0", "store9 / item9"])
    stranger = TimeSeries(
        np.arange(40.0), pd.date_range("2010-01-01", periods=40, freq="MS", name="date"), "MS"
    )
    panel = Panel(
        (*run.panel.series, stranger), (*run.panel.ids, ("store7", "itemX")), ("store", "item")
    )
    with pytest.raises(DataError, match="store7 / itemX"):
        loaded.forecast(panel)
    with pytest.raises(DataError, match="holds no series 'store0 / item2'"):
        loaded.forecast(run.panel.subset(["store0 / item0"]), labels=["store0 / item2"])
    other = Panel(run.panel.series, run.panel.ids, ("shop", "sku"))
    with pytest.raises(DataError, match="id column"):
        loaded.forecast(other)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _changed(data: bytes, manifest=None, members=None) -> bytes:
    found = _members(data)
    stored = json.loads(found[MANIFEST])
    if manifest:
        manifest(stored)
    found[MANIFEST] = json.dumps(stored).encode()
    if members:
        members(found)
    return _zip(found)


def _flip_model(found: dict) -> None:
    model = bytearray(found["model_1.keras"])
    model[len(model) // 2] ^= 0xFF
    found["model_1.keras"] = bytes(model)


def _rehashed_bad_model(found: dict) -> None:
    found["model_1.keras"] = b"not a keras file"
    stored = json.loads(found[MANIFEST])
    stored["models"][0]["sha256"] = hashlib.sha256(b"not a keras file").hexdigest()
    found[MANIFEST] = json.dumps(stored).encode()


@pytest.mark.parametrize(
    ("manifest", "members", "words"),
    [
        (None, _flip_model, "Hash check failed"),
        (None, lambda m: m.update({"evil.py": b"import os"}), "Member check failed"),
        (None, _rehashed_bad_model, "not a Keras file"),
        (lambda m: m.update(format="forecasting-bundle"), None, "not a many-series bundle"),
        (lambda m: m.update(format_version=99), None, "Version check failed"),
        (lambda m: m.update(extra=1), None, "unknown key"),
        (lambda m: m["series"][0]["values"].pop(), None, "Schema check failed"),
        (lambda m: m["series"][0].update(label="someone else"), None, "Schema check failed"),
        (lambda m: m["series"][0].update(scale=float("nan")), None, "Schema check failed"),
        (lambda m: m["fallback"][0]["values"].append("1"), None, "Schema check failed"),
        (lambda m: m["preprocessors"].pop(), None, "one preprocessing per trained"),
        (lambda m: m["preprocessors"][0].update(seasonal_=[1.0]), None, "preprocessing"),
        (lambda m: m["widths"].clear(), None, "no band widths"),
        (lambda m: m["widths"].update({"0.8": [1.0]}), None, "band widths"),
        (lambda m: m.update(series=m["series"] + m["series"][:1]), None, "same label"),
    ],
)
def test_a_tampered_bundle_is_refused_before_keras_reads_it(
    bundle_bytes, load_spy, manifest, members, words
):
    with pytest.raises(BundleError, match=words):
        load_panel_bundle(_changed(bundle_bytes, manifest, members))
    assert load_spy == []


def test_the_two_kinds_of_bundle_do_not_load_as_each_other(bundle_bytes, load_spy):
    with pytest.raises(BundleError, match="many-series model bundle.*--id-col"):
        load_bundle(bundle_bytes)
    with pytest.raises(BundleError, match="not a valid .zip"):
        load_panel_bundle(b"not a zip")
    assert bundle_kind(_changed(bundle_bytes, lambda m: m.pop("kind"))) == "series"
    assert load_spy == []


def test_a_panel_result_round_trips_as_json(run):
    result = PanelResult.from_run(run, {"wide": False}, "five stores")
    again = PanelResult.from_json(json.dumps(result.to_dict()))
    assert again == result
    assert again.labels == list(run.plan.splits) and again.fallback == ["store1 / item5"]
    assert again.all_labels[-1] == "store1 / item5"
    assert again.config.model.window == 12 and again.history.epochs_run == 1
    scores = again.scores_frame()
    assert set(scores["label"]) == set(run.plan.splits)
    assert set(scores["method"]) == {"model", "naive", "seasonal_naive", "naive2", "ets", "theta"}
    assert scores["mase"].dtype == float
    forecast = again.forecast_frame()
    assert list(forecast.columns) == ["store", "item", "date", *NUMBERS]
    np.testing.assert_allclose(forecast[NUMBERS], run.forecast[NUMBERS])
    assert (pd.DatetimeIndex(forecast["date"]) == pd.DatetimeIndex(run.forecast["date"])).all()
    test = again.test_frame()
    assert list(test.columns) == ["label", "date", "actual", *NUMBERS]
    assert len(test) == 5 * HORIZON
    assert set(again.aggregate) >= {"model", "naive2"} and again.aggregate["naive2"]["owa"] == 1
    assert set(again.coverage) == {str(level) for level in run.coverage}
