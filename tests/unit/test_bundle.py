"""Bundles: exact round trip, forecasting from newer data, and every refusal (with nothing
inside the refused file run)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pandas as pd
import pytest

from forecasting import bundle_archive
from forecasting.bundle import Bundle, BundleManifest, load_bundle
from forecasting.bundle_archive import MANIFEST
from forecasting.covariates import Roles
from forecasting.errors import BundleError, DataError
from forecasting.series import TimeSeries


@pytest.fixture(scope="module")
def bundle_bytes(monthly_run) -> bytes:
    return Bundle.from_run(monthly_run, {"date_col": "date"}).to_bytes()


@pytest.fixture
def load_spy(monkeypatch):
    """Records every call of keras.saving.load_model (a refused bundle must never reach it)."""
    calls = []
    real = keras.saving.load_model

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(keras.saving, "load_model", spy)
    return calls


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _rebuild(
    data: bytes,
    change_manifest=None,
    change_members=None,
    model: bytes | None = None,
    rehash: bool = True,
) -> bytes:
    """A copy of a bundle with its manifest / members / model file changed."""
    members = _members(data)
    manifest = json.loads(members[MANIFEST])
    if model is not None:
        members["model_1.keras"] = model
        if rehash:
            manifest["models"][0]["sha256"] = hashlib.sha256(model).hexdigest()
    if change_manifest:
        change_manifest(manifest)
    members[MANIFEST] = json.dumps(manifest).encode()
    if change_members:
        change_members(members)
    return _zip(members)


def _keras_config_changed(keras_bytes: bytes, change) -> bytes:
    inner = _members(keras_bytes)
    config = json.loads(inner["config.json"])
    change(config)
    inner["config.json"] = json.dumps(config).encode()
    return _zip(inner)


def _dense_layer(config: dict) -> dict:
    return next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")


# --------------------------------------------------------------- round trip
def test_round_trip_forecast_equals_the_run(monthly_run, bundle_bytes, tmp_path, load_spy):
    loaded = load_bundle(bundle_bytes)
    assert len(load_spy) == 1 and load_spy[0][1]["safe_mode"] is True
    pd.testing.assert_frame_equal(loaded.forecast(), monthly_run.forecast, check_exact=True)
    assert loaded.config == monthly_run.config
    assert loaded.config.model.scaling == "window"  # resolved, never "auto"
    assert loaded.period == monthly_run.plan.period
    assert loaded.data_options == {"date_col": "date"}
    assert loaded.metrics["test"]["model"] == pytest.approx(
        monthly_run.metrics_dict()["test"]["model"]
    )
    np.testing.assert_array_equal(loaded.widths, monthly_run.widths)
    assert loaded.intervals.relative == monthly_run.intervals.relative
    for level, widths in monthly_run.intervals.widths.items():
        np.testing.assert_array_equal(loaded.intervals.widths[level], widths)
    # ...and from a file on disk.
    path = Bundle.from_run(monthly_run).save(tmp_path / "model.zip")
    pd.testing.assert_frame_equal(
        load_bundle(path).forecast(), monthly_run.forecast, check_exact=True
    )
    assert set(_members(bundle_bytes)) == {MANIFEST, "model_1.keras"}


def test_the_manifest_is_a_record(monthly_run, monthly_series, bundle_bytes):
    manifest = BundleManifest.from_json(_members(bundle_bytes)[MANIFEST].decode())
    assert manifest.format_version == 2 and manifest.data_options == {"date_col": "date"}
    # Without covariates: no roles, no encoding, no covariate values.
    assert manifest.roles == {"past": [], "future": [], "static": [], "calendar": False}
    assert manifest.covariates is None and manifest.last_covariates is None
    assert manifest.series["first"] == "2000-01-01" and manifest.series["last"] == "2012-06-01"
    assert pd.Timestamp(manifest.created) <= pd.Timestamp.now("UTC").tz_localize(None)
    assert manifest.preprocessor == monthly_run.forecaster.preprocessor_.to_dict()
    # The history a chart draws before the forecast: the stored window, dates rebuilt.
    history = load_bundle(bundle_bytes).history_frame()
    assert list(history.columns) == ["date", "actual"]
    assert list(history["date"]) == list(monthly_series.index[-12:])
    np.testing.assert_array_equal(history["actual"], monthly_series.values[-12:])
    recent = load_bundle(bundle_bytes).history_frame(monthly_series, 30)
    assert list(recent["date"]) == list(monthly_series.index[-30:])


def test_a_bundle_written_by_the_previous_version_loads(monthly_run, bundle_bytes):
    """Earlier writers put ISO times with a clock and an offset in bundle.json."""

    def older(manifest):
        manifest["created"] = "2025-01-02T03:04:05+00:00"
        manifest["series"].update(first="2000-01-01T00:00:00", last="2012-06-01T00:00:00")

    loaded = load_bundle(_rebuild(bundle_bytes, change_manifest=older))
    pd.testing.assert_frame_equal(loaded.forecast(), monthly_run.forecast, check_exact=True)


def test_a_version_1_bundle_from_before_covariates_loads(monthly_run, bundle_bytes):
    def version_1(manifest):
        manifest["format_version"] = 1
        for key in ("roles", "covariates", "last_covariates"):
            del manifest[key]

    loaded = load_bundle(_rebuild(bundle_bytes, change_manifest=version_1))
    assert loaded.roles == Roles() and loaded.last_covariates is None
    pd.testing.assert_frame_equal(loaded.forecast(), monthly_run.forecast, check_exact=True)
    # A version 1 bundle never held covariates.
    with pytest.raises(BundleError, match="version 1 bundle holds no covariates.*roles"):
        load_bundle(_rebuild(bundle_bytes, change_manifest=lambda m: m.update(format_version=1)))


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_a_bundle_forecasts_the_same_on_either_backend(backend, monthly_run, tmp_path):
    """A model trained on one Keras backend loads and forecasts the same on the other."""
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    path = Bundle.from_run(monthly_run).save(tmp_path / "model.zip")
    script = (
        "import sys, keras; from forecasting.bundle import load_bundle; "
        "print(keras.backend.backend()); "
        "print(load_bundle(sys.argv[1]).forecast().to_json(date_format='iso'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, KERAS_BACKEND=backend),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    used, frame = done.stdout.strip().splitlines()[-2:]
    assert used == backend
    other = pd.read_json(io.StringIO(frame))
    np.testing.assert_allclose(other["forecast"], monthly_run.forecast["forecast"], rtol=1e-4)


def test_forecast_from_newer_data(monthly_run, monthly_series, bundle_bytes):
    loaded = load_bundle(bundle_bytes)
    extra = np.array([131.0, 128.0, 125.0, 127.0, 133.0])
    newer = TimeSeries.from_values(np.r_[monthly_series.values, extra], freq="MS")
    frame = loaded.forecast(newer)
    horizon = monthly_run.config.horizon
    assert len(frame) == horizon
    assert (
        frame["date"].iloc[0] == newer.last + pd.DateOffset(months=1) == pd.Timestamp("2012-12-01")
    )
    assert list(frame["date"]) == list(newer.future_index(horizon))
    # The newest window is used, with the right seasonal phase.
    np.testing.assert_allclose(
        frame["forecast"], monthly_run.forecaster.forecast(newer.values), rtol=1e-12
    )
    assert not np.allclose(frame["forecast"], monthly_run.forecast["forecast"])
    # Only the recent stretch, dated: the same forecast (positions from the dates).
    recent = TimeSeries.from_values(newer.values[-30:], freq="MS", start=newer.index[-30])
    np.testing.assert_allclose(loaded.forecast(recent)["forecast"], frame["forecast"], rtol=1e-9)
    np.testing.assert_allclose(loaded.forecast(recent)["upper"], frame["upper"], rtol=1e-9)


def test_newer_data_of_another_frequency_or_too_short(bundle_bytes, monthly_series):
    loaded = load_bundle(bundle_bytes)
    with pytest.raises(DataError, match="frequency"):
        loaded.forecast(TimeSeries.from_values(monthly_series.values, freq="D"))
    with pytest.raises(DataError, match="window of 12"):
        loaded.forecast(TimeSeries.from_values(monthly_series.values[:5], freq="MS"))


# ----------------------------------------------------------------- refusals
def _del_key(key):
    return lambda manifest: manifest.pop(key)


def _set_key(key, value, part=None):
    def change(manifest):
        (manifest[part] if part else manifest)[key] = value

    return change


REFUSALS = {
    "extra member": (
        dict(change_members=lambda m: m.update({"evil.py": b"import os"})),
        r"Member check failed.*'evil\.py'",
    ),
    "missing manifest": (
        dict(change_members=lambda m: m.pop(MANIFEST)),
        "Member check failed.*no bundle.json",
    ),
    "path member": (
        dict(change_members=lambda m: m.update({"../model_2.keras": b"x"})),
        "Member check failed",
    ),
    "format version": (
        dict(change_manifest=_set_key("format_version", 99)),
        "Version check failed.*version 99; this app reads versions 1 and 2",
    ),
    "format version bool": (
        dict(change_manifest=_set_key("format_version", True)),
        "Version check failed.*version True",
    ),
    "roles type": (
        dict(change_manifest=_set_key("roles", ["x"])),
        r"Schema check failed: bundle.json\['roles'\] has the wrong type",
    ),
    "roles without encoding": (
        dict(change_manifest=_set_key("roles", {"past": ["x"]})),
        "Schema check failed: the roles say the network reads covariates",
    ),
    "covariate values without encoding": (
        dict(change_manifest=_set_key("last_covariates", {"x": [1.0]})),
        "Schema check failed: the roles say the network reads covariates",
    ),
    "format name": (dict(change_manifest=_set_key("format", "other")), "Schema check failed"),
    "missing key": (
        dict(change_manifest=_del_key("intervals")),
        "Schema check failed: bundle.json lacks 'intervals'",
    ),
    "wrong type": (
        dict(change_manifest=_set_key("period", "12")),
        r"Schema check failed: bundle.json\['period'\] has the wrong type",
    ),
    "bool for int": (
        dict(change_manifest=_set_key("last_position", True)),
        "Schema check failed.*last_position",
    ),
    "preprocessor type": (
        dict(change_manifest=_set_key("scale_", "big", "preprocessor")),
        r"Schema check failed: preprocessor\['scale_'\]",
    ),
    "config value": (
        dict(change_manifest=_set_key("config", {"horizon": -1})),
        "Schema check failed: the stored configuration is invalid",
    ),
    "config part": (
        dict(change_manifest=_set_key("config", {"model": "gru"})),
        "Schema check failed: the stored configuration is invalid",
    ),
    "no models": (dict(change_manifest=_set_key("models", [])), "Schema check failed"),
    "model list": (
        dict(change_manifest=_set_key("models", [{"file": "../x.keras"}])),
        "Schema check failed: the model list is malformed",
    ),
    "window mismatch": (
        dict(change_manifest=_set_key("last_values", [1.0, 2.0])),
        "Schema check failed: the last window",
    ),
    "not json": (
        dict(change_members=lambda m: m.update({MANIFEST: b"{not json"})),
        "Schema check failed: bundle.json is not valid JSON",
    ),
    "unknown key": (
        dict(change_manifest=_set_key("loader", "evil.py")),
        r"Schema check failed: Unknown setting\(s\) loader",
    ),
    "data options type": (
        dict(change_manifest=_set_key("data_options", "x")),
        "Schema check failed.*data_options",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_name_the_check(case, bundle_bytes, load_spy):
    changes, pattern = REFUSALS[case]
    data = _rebuild(bundle_bytes, **changes)
    with pytest.raises(BundleError, match=pattern):
        load_bundle(data)
    if case not in {"config value", "config part", "window mismatch"}:
        assert load_spy == []  # refused before Keras read anything


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (b"hello, this is not a zip", "not a valid .zip"),
        (b"\x89HDF\r\n\x1a\n" + b"\0" * 100, r"legacy Keras \.h5"),
        (b"", "not a valid .zip"),
    ],
)
def test_not_a_bundle(data, pattern, load_spy):
    with pytest.raises(BundleError, match=pattern):
        load_bundle(data)
    assert load_spy == []


def test_truncated_bundle(bundle_bytes, load_spy):
    for cut in (len(bundle_bytes) // 2, len(bundle_bytes) - 10, 30):
        with pytest.raises(BundleError, match="not a valid .zip; it may be truncated"):
            load_bundle(bundle_bytes[:cut])
    assert load_spy == []


def test_oversized_member(bundle_bytes, monkeypatch, load_spy):
    monkeypatch.setattr(bundle_archive, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(BundleError, match="Size check failed.*over the"):
        load_bundle(bundle_bytes)
    assert load_spy == []


def test_oversized_bundle(bundle_bytes, monkeypatch, load_spy):
    monkeypatch.setattr(bundle_archive, "MAX_BUNDLE_BYTES", len(bundle_bytes) - 1)
    with pytest.raises(BundleError, match="limit"):
        load_bundle(bundle_bytes)
    assert load_spy == []


def test_modified_model_file_fails_the_hash_check(bundle_bytes, load_spy):
    model = _members(bundle_bytes)["model_1.keras"]
    tampered = _keras_config_changed(
        model, lambda c: _dense_layer(c)["config"].update({"activation": "relu"})
    )
    with pytest.raises(BundleError, match="Hash check failed: model_1.keras"):
        load_bundle(_rebuild(bundle_bytes, model=tampered, rehash=False))
    flipped = bytearray(model)
    flipped[len(flipped) // 2] ^= 0xFF
    with pytest.raises(BundleError, match="Hash check failed"):
        load_bundle(_rebuild(bundle_bytes, model=bytes(flipped), rehash=False))
    assert load_spy == []


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (
            lambda c: _dense_layer(c).update({"module": "evil.layers"}),
            r"Layer check failed.*'Dense' from 'evil\.layers'",
        ),
        (
            lambda c: _dense_layer(c).update({"registered_name": "evil>Dense"}),
            "Layer check failed.*'Dense'",
        ),
        (
            lambda c: _dense_layer(c)["config"].update(
                {"kernel_initializer": {"module": "evil", "class_name": "Backdoor", "config": {}}}
            ),
            r"Layer check failed.*'Backdoor'",
        ),
        (
            lambda c: _dense_layer(c).update({"class_name": "TFSMLayer"}),
            r"Layer check failed.*'TFSMLayer' layer",
        ),
    ],
)
def test_custom_classes_are_refused(change, pattern, bundle_bytes, load_spy):
    model = _keras_config_changed(_members(bundle_bytes)["model_1.keras"], change)
    with pytest.raises(BundleError, match=pattern):
        load_bundle(_rebuild(bundle_bytes, model=model))
    assert load_spy == []


def test_unexpected_files_inside_the_keras_file(bundle_bytes, load_spy):
    inner = _members(_members(bundle_bytes)["model_1.keras"])
    inner["assets/evil.py"] = b"import os"
    with pytest.raises(BundleError, match="Model check failed.*unexpected files"):
        load_bundle(_rebuild(bundle_bytes, model=_zip(inner)))
    assert load_spy == []


def test_lambda_layer_is_refused_and_never_runs(bundle_bytes, monthly_run, tmp_path, load_spy):
    marker = tmp_path / "pwned"
    window, horizon = monthly_run.config.model.window, monthly_run.config.horizon

    # A Python lambda (Keras stores its bytecode) that writes a file when the layer runs.
    payload = eval(
        f"lambda t: (__import__('pathlib').Path({str(marker)!r})"  # noqa: S307
        f".write_text('pwned'), t)[1]"
    )

    inputs = keras.Input(shape=(window, 1), name="window")
    x = keras.layers.Lambda(payload)(inputs)
    x = keras.layers.GRU(2)(x)
    outputs = keras.layers.Dense(horizon)(x)
    evil = keras.Model(inputs, outputs)
    path = tmp_path / "evil.keras"
    evil.save(path)
    marker.unlink(missing_ok=True)
    evil_bytes = path.read_bytes()
    config = json.loads(_members(evil_bytes)["config.json"])
    assert any(layer["class_name"] == "Lambda" for layer in config["config"]["layers"])

    data = _rebuild(bundle_bytes, model=evil_bytes)  # a correct SHA-256 of the evil model
    with pytest.raises(BundleError, match="Layer check failed.*'Lambda' layer"):
        load_bundle(data)
    assert not marker.exists()
    assert load_spy == []
    # The payload is live: loading the same file without the checks and with safe_mode off
    # runs it (so the assertions above really test something).
    keras.saving.load_model(path, safe_mode=False)
    assert marker.read_text() == "pwned"


def _weights_bomb(keras_bytes: bytes, tmp_path) -> bytes:
    """The model file with its weights replaced by an HDF5 file of a few KB whose one
    gzip-compressed, chunked array of zeros unpacks to 1 GiB."""
    import h5py

    inner = _members(keras_bytes)
    path = tmp_path / "bomb.weights.h5"
    with h5py.File(path, "w") as weights:
        weights.create_dataset(
            "layers/dense/vars/0",
            shape=(2**28,),
            dtype="float32",
            chunks=(2**20,),
            compression="gzip",
            fillvalue=0.0,
        )
    inner["model.weights.h5"] = path.read_bytes()
    return _zip(inner)


# Loads the bundle given and prints the error, the seconds and the peak memory growth (MB).
_MEASURE = """
import json, resource, sys, time
from forecasting.bundle import load_bundle
from forecasting.errors import BundleError
import keras  # the backend's own memory is not the bundle's
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    load_bundle(sys.argv[1])
    error = None
except BundleError as exc:
    error = str(exc)
seconds = time.perf_counter() - started
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"error": error, "seconds": seconds, "grown_mb": grown}))
"""


def test_a_weights_file_that_unpacks_to_gigabytes_is_refused_before_keras(
    bundle_bytes, tmp_path, load_spy
):
    model = _weights_bomb(_members(bundle_bytes)["model_1.keras"], tmp_path)
    bomb = _rebuild(bundle_bytes, model=model)
    assert len(bomb) < 100_000  # passes every zip-level size check
    with pytest.raises(
        BundleError,
        match=r"Size check failed: the weights array .* unpacks "
        r"to 268,435,456 numbers",
    ):
        load_bundle(bomb)
    assert load_spy == []
    (tmp_path / "bomb.zip").write_bytes(bomb)
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(tmp_path / "bomb.zip")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    assert measured["error"] and "Size check failed" in measured["error"]
    assert measured["grown_mb"] < 200


def test_a_layer_with_absurd_units_is_refused(bundle_bytes, load_spy):
    def huge(config):
        config["config"]["layers"][-1]["config"]["units"] = 10**9

    model = _keras_config_changed(_members(bundle_bytes)["model_1.keras"], huge)
    with pytest.raises(BundleError, match="1000000000 units"):
        load_bundle(_rebuild(bundle_bytes, model=model))
    assert load_spy == []


def _input_changed(keras_bytes: bytes, batch_shape) -> bytes:
    def change(config):
        layer = next(x for x in config["config"]["layers"] if x["class_name"] == "InputLayer")
        layer["config"]["batch_shape"] = batch_shape

    return _keras_config_changed(keras_bytes, change)


@pytest.mark.parametrize(
    ("batch_shape", "pattern"),
    [
        ([None, 12, 10_001], "declares inputs of 12 steps x 10,001 features"),
        ([None, 2_000_001, 1], "declares inputs of 2,000,001 steps x 1 features"),
        ([None, 12], "declares the input shape"),
        ([None, 12, 0], "declares the input shape"),
        ([None, 12, "1"], "declares the input shape"),
        ([4, 12, 1], "declares the input shape"),
    ],
)
def test_declared_inputs_beyond_the_bounds_are_refused(
    bundle_bytes, batch_shape, pattern, load_spy
):
    model = _input_changed(_members(bundle_bytes)["model_1.keras"], batch_shape)
    with pytest.raises(BundleError, match=f"Input check failed: model_1.keras {pattern}"):
        load_bundle(_rebuild(bundle_bytes, model=model))
    assert load_spy == []


def test_the_step_bound_is_the_longest_series_a_file_may_hold():
    from forecasting.keras_file import MAX_STEPS
    from forecasting.loading import limits

    assert MAX_STEPS == limits.MAX_ROWS


def test_layers_connected_to_layers_the_file_lacks_are_refused(bundle_bytes, load_spy):
    def dangling(config):
        dense = _dense_layer(config)
        dense["inbound_nodes"][0]["args"][0]["config"]["keras_history"][0] = "elsewhere"

    model = _keras_config_changed(_members(bundle_bytes)["model_1.keras"], dangling)
    with pytest.raises(BundleError, match="Model check failed.*not hold"):
        load_bundle(_rebuild(bundle_bytes, model=model))
    assert load_spy == []


def test_the_weights_budget_follows_the_declared_inputs():
    """A wide window input raises the first layer's budget; the known-ahead input, through
    Flatten and Concatenate, raises the head's."""
    from forecasting.keras_file import _weights_budget

    def tensor(source, shape):
        return {
            "class_name": "__keras_tensor__",
            "config": {"shape": shape, "keras_history": [source, 0, 0]},
        }

    def layer(kind, name, config, *sources):
        nodes = [{"args": [[tensor(s, None) for s in sources]], "kwargs": {}}] if sources else []
        return {"class_name": kind, "name": name, "config": config, "inbound_nodes": nodes}

    def network(features, known):
        layers = [
            layer("InputLayer", "window", {"batch_shape": [None, 24, features]}),
            layer("GRU", "gru_1", {"units": 8}, "window"),
            layer("Dense", "forecast", {"units": 6}, "gru_1"),
        ]
        if known:
            layers[2:2] = [
                layer("InputLayer", "ahead", {"batch_shape": [None, 6, known]}),
                layer("Flatten", "ahead_flat", {}, "ahead"),
                layer("Concatenate", "with_ahead", {"axis": -1}, "gru_1", "ahead_flat"),
            ]
            layers[-1] = layer("Dense", "forecast", {"units": 6}, "with_ahead")
        return layers

    gru, head = 4 * (1 + 8 + 2) * 8, 4 * (8 + 6 + 2) * 6
    assert _weights_budget(network(1, 0), "m") == 3 * (gru + head) + 64
    wide = 4 * (30 + 8 + 2) * 8
    ahead = 4 * (8 + 6 * 20 + 6 + 2) * 6
    assert _weights_budget(network(30, 20), "m") == 3 * (wide + ahead) + 64
