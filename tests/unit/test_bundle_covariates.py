"""Bundles of networks that read covariates: the roles, the encoding and the last window of
the covariates travel in the bundle; forecasting after the bundle's own data or after newer
data; every missing column or future value is refused with a DataError naming it."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from forecasting import pipeline
from forecasting.baselines import QUICK_BASELINES
from forecasting.bundle import Bundle, load_bundle
from forecasting.bundle_archive import MANIFEST
from forecasting.config import RunConfig
from forecasting.covariates import Roles
from forecasting.errors import BundleError, DataError
from forecasting.registry import frame_to_dict
from forecasting.results import RunResult, run_result
from forecasting.series import TimeSeries

HORIZON = 6
TINY = {"units": 4, "epochs": 1, "batch_size": 32, "window": 12, "patience": 0, "ensemble": 1}


def hourly(n: int = 300, start: str = "2020-01-01") -> TimeSeries:
    """A target driven by a random walk `x` and the daily cycle, with a text column `kind`."""
    idx = pd.date_range(start, periods=n, freq="h", name="date")
    rng = np.random.default_rng(0)
    x = rng.normal(size=n).cumsum()
    y = 10 + 3 * np.sin(2 * np.pi * np.arange(n) / 24) + 0.3 * x + rng.normal(0, 0.2, n)
    extra = pd.DataFrame(
        {"x": x, "kind": np.where(np.arange(n) % 24 < 8, "night", "day")}, index=idx
    )
    return TimeSeries(y, idx, "h", "y", (), extra)


def future_kind(series: TimeSeries, horizon: int = HORIZON) -> pd.DataFrame:
    """A future file's table: `kind` over the horizon after the series."""
    stamps = series.future_index(horizon)
    return pd.DataFrame({"kind": np.where(stamps.hour < 8, "night", "day")}, index=stamps)


@pytest.fixture(scope="module")
def series() -> TimeSeries:
    return hourly()


@pytest.fixture(scope="module")
def config() -> RunConfig:
    return RunConfig(horizon=HORIZON).with_settings(cell="gru", strategy="direct", **TINY)


@pytest.fixture(scope="module")
def roles() -> Roles:
    return Roles(past=("x",), future=("kind",), calendar=True)


@pytest.fixture(scope="module")
def run(series, config, roles):
    """Past, categorical future and calendar covariates."""
    return pipeline.train(
        series, config, roles=roles, future=future_kind(series), baselines=QUICK_BASELINES
    )


@pytest.fixture(scope="module")
def past_run(series, config):
    """Past covariates and calendar only: nothing needs to be supplied to forecast."""
    return pipeline.train(
        series, config, roles=Roles(past=("x",), calendar=True), baselines=QUICK_BASELINES
    )


@pytest.fixture(scope="module")
def data(run) -> bytes:
    return Bundle.from_run(run, {"value_col": "y"}).to_bytes()


def manifest_of(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return json.loads(archive.read(MANIFEST))


def with_manifest(data: bytes, change) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members[MANIFEST])
    change(manifest)
    members[MANIFEST] = json.dumps(manifest).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, member in members.items():
            archive.writestr(name, member)
    return buffer.getvalue()


# --------------------------------------------------------------- round trip
def test_round_trip_with_covariates_forecasts_the_same(run, data, series, roles):
    loaded = load_bundle(data)
    assert loaded.roles == roles
    assert loaded.encoder.to_dict() == run.forecaster.encoder_.to_dict()
    future = future_kind(series)
    pd.testing.assert_frame_equal(loaded.forecast(future=future), run.forecast, check_exact=True)
    # After the same data given as a series: the same forecast.
    pd.testing.assert_frame_equal(loaded.forecast(series, future), run.forecast, check_exact=True)
    # Extra rows and columns in the future table are ignored.
    wider = future_kind(series, 30).assign(other=1.0)
    pd.testing.assert_frame_equal(loaded.forecast(future=wider), run.forecast, check_exact=True)


def test_the_manifest_records_roles_encoding_and_the_last_window(data, run, series, roles):
    manifest = manifest_of(data)
    assert manifest["format_version"] == 2
    assert Roles.from_dict(manifest["roles"]) == roles
    assert manifest["covariates"] == json.loads(json.dumps(run.forecaster.encoder_.to_dict()))
    assert set(manifest["covariates"]["categories"]["kind"]) == {"day", "night"}
    window = run.config.model.window
    last = manifest["last_covariates"]
    assert set(last) == {"x", "kind"}
    assert last["x"] == pytest.approx(series.extra["x"].to_numpy()[-window:].tolist())
    assert last["kind"] == series.extra["kind"].tolist()[-window:]
    assert all(isinstance(v, str) for v in last["kind"])


def test_a_model_without_future_covariates_forecasts_from_the_bundle_alone(past_run, series):
    loaded = load_bundle(Bundle.from_run(past_run).to_bytes())
    assert loaded.roles == Roles(past=("x",), calendar=True)
    pd.testing.assert_frame_equal(loaded.forecast(), past_run.forecast, check_exact=True)
    # Newer data: its own last window of x and its own dates drive the forecast.
    newer = hourly(320)
    frame = loaded.forecast(newer)
    assert list(frame["date"]) == list(newer.future_index(HORIZON))
    assert not np.allclose(frame["forecast"], past_run.forecast["forecast"])
    # A stretch of the newer data ending at the same point forecasts the same.
    stretch = TimeSeries(
        newer.values[-40:], newer.index[-40:], "h", "y", (), newer.extra.iloc[-40:]
    )
    np.testing.assert_allclose(loaded.forecast(stretch)["forecast"], frame["forecast"], rtol=1e-9)


# ----------------------------------------------------------------- refusals
def test_future_covariates_without_their_values_are_refused(data, series):
    loaded = load_bundle(data)
    with pytest.raises(DataError, match="kind.*2020-01-13 12:00"):
        loaded.forecast()
    short = future_kind(series).iloc[:-1]
    with pytest.raises(DataError, match="no value of 'kind' for 2020-01-13 17:00"):
        loaded.forecast(future=short)
    with pytest.raises(DataError, match="lacks the column.*kind"):
        loaded.forecast(future=short.rename(columns={"kind": "holiday"}))


def test_data_lacking_a_column_the_model_reads_is_refused(data, series):
    loaded = load_bundle(data)
    lacking = TimeSeries(
        series.values, series.index, "h", "y", (), series.extra[["kind"]].assign(z=1.0)
    )
    with pytest.raises(DataError, match=r"lacks the column\(s\) x.*The data has: kind, z"):
        loaded.forecast(lacking, future_kind(series))
    bare = TimeSeries(series.values, series.index, "h", "y")
    with pytest.raises(DataError, match=r"lacks the column\(s\) x, kind.*no other column"):
        loaded.forecast(bare, future_kind(series))


def test_covariates_of_another_type_or_with_gaps_are_refused(data, series):
    loaded = load_bundle(data)
    future = future_kind(series)
    texts = series.extra.assign(x=series.extra["x"].round(1).astype(str).astype(object))
    with pytest.raises(DataError, match="'x' holds text.*as numbers"):
        loaded.forecast(TimeSeries(series.values, series.index, "h", "y", (), texts), future)
    gap = series.extra.copy()
    gap.iloc[-2, gap.columns.get_loc("x")] = np.nan
    with pytest.raises(DataError, match="'x' has no value at 2020-01-13 10:00"):
        loaded.forecast(TimeSeries(series.values, series.index, "h", "y", (), gap), future)
    unseen = future.assign(kind="holiday")
    with pytest.raises(DataError, match="category 'holiday'"):
        loaded.forecast(future=unseen)


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda m: m["last_covariates"]["x"].pop(), "last window of 'x'"),
        (lambda m: m["last_covariates"].pop("kind"), "last window of the covariates"),
        (lambda m: m["last_covariates"]["kind"].__setitem__(0, 3.0), "last window of 'kind'"),
        (lambda m: m["roles"].update(past=[]), "does not match the stored roles"),
        (lambda m: m.update(covariates=None), "holds no covariate encoding"),
        (lambda m: m["covariates"]["cycles"].append("moon phase"), "does not match"),
        (lambda m: m["roles"].update(colour="red"), "stored roles are invalid"),
        (lambda m: m.update(format_version=1), "version 1 bundle holds no covariates"),
    ],
)
def test_a_tampered_covariate_record_is_refused(data, change, pattern):
    with pytest.raises(BundleError, match=f"check failed.*{pattern}"):
        load_bundle(with_manifest(data, change))


def test_a_network_declaring_absurd_inputs_is_refused(data):
    """The weights budget follows the declared inputs; shapes beyond the bounds are refused
    before Keras reads the file."""
    from forecasting.keras_file import check_keras_file

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        model = archive.read("model_1.keras")
    check_keras_file(model, "model_1.keras")  # two inputs, many features: within budget
    with zipfile.ZipFile(io.BytesIO(model)) as inner:
        members = {name: inner.read(name) for name in inner.namelist()}
    config = json.loads(members["config.json"])
    ahead = next(
        layer for layer in config["config"]["layers"] if layer["config"].get("name") == "ahead"
    )
    ahead["config"]["batch_shape"] = [None, HORIZON, 20_000]
    members["config.json"] = json.dumps(config).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as inner:
        for name, member in members.items():
            inner.writestr(name, member)
    with pytest.raises(BundleError, match="Input check failed.*20,000 features"):
        check_keras_file(buffer.getvalue(), "model_1.keras")


# ---------------------------------------------------------- the run's record
def test_the_run_result_carries_roles_twin_scores_and_importance(run, roles):
    result = run_result(run, None, "covariates")
    assert result.roles == roles
    assert result.without_covariates.mase == run.without_covariates.metrics["model"]["mase"]
    assert set(result.importance) == {"x", "kind", "calendar"}
    assert result.by_lead["model"] == run.evaluation.by_lead("model")
    assert result.by_lead["without_covariates"] == run.without_covariates.by_lead("model")
    assert RunResult.from_json(result.to_json()) == result


# ------------------------------------------------------------ both backends
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_a_covariate_bundle_forecasts_the_same_on_either_backend(
    backend, run, data, series, tmp_path
):
    """A model with covariates trained on one Keras backend loads and forecasts the same
    on the other (the future table crosses as JSON, as in a forecast job)."""
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    path = tmp_path / "model.zip"
    path.write_bytes(data)
    (tmp_path / "future.json").write_text(json.dumps(frame_to_dict(future_kind(series))))
    script = (
        "import json, sys, keras; from forecasting.bundle import load_bundle; "
        "from forecasting.registry import frame_from_dict; "
        "print(keras.backend.backend()); "
        "future = frame_from_dict(json.load(open(sys.argv[2]))); "
        "print(load_bundle(sys.argv[1]).forecast(future=future).to_json(date_format='iso'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), str(tmp_path / "future.json")],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, KERAS_BACKEND=backend),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    used, frame = done.stdout.strip().splitlines()[-2:]
    assert used == backend
    other = pd.read_json(io.StringIO(frame))
    np.testing.assert_allclose(other["forecast"], run.forecast["forecast"], rtol=1e-4)
