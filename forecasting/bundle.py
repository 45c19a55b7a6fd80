"""Model bundles: one `.zip` with the `.keras` network(s) and a JSON file of everything else.

No pickle anywhere. This module packs, verifies and unpacks files: the forecaster exports and
imports its own fitted state (`RNNForecaster.get_state` / `from_state`), everything else is
the `BundleManifest` record (`bundle.json`). Loading checks the zip members and their sizes,
the JSON schema and format version, the SHA-256 of every model file and the layer classes
inside each model before Keras reads it with `safe_mode=True`. A bundle that fails a check is
refused with a `BundleError` naming the check, and nothing inside it runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.config import RunConfig
from forecasting.errors import BundleError, ConfigError, ForecastingError
from forecasting.evaluation import Intervals
from forecasting.forecaster import RNNForecaster
from forecasting.keras_file import (
    MAX_MANIFEST_BYTES,
    MAX_MEMBER_BYTES,
    check_keras_file,
    read_member,
)
from forecasting.native import install as install_native_kernels
from forecasting.pipeline import TrainedRun, forecast_frame
from forecasting.records import JsonRecord, format_timestamp
from forecasting.results import HISTORY_POINTS, recent_frame
from forecasting.series import TimeSeries, future_index, periods_between

FORMAT = "forecasting-bundle"
FORMAT_VERSION = 1
MANIFEST = "bundle.json"
MAX_BUNDLE_BYTES = 100 * 1024 * 1024
_MODEL_NAME = re.compile(r"^model_([1-9]|10)\.keras$")
_SCHEMA = {
    "format": str,
    "format_version": int,
    "config": dict,
    "period": int,
    "preprocessor": dict,
    "series": dict,
    "last_values": list,
    "last_position": int,
    "intervals": dict,
    "metrics": dict,
    "models": list,
    "history": dict,
    "versions": dict,
}
_PREPROCESSOR_SCHEMA = {
    "log": bool,
    "period": int,
    "deseasonalize": bool,
    "scaling": str,
    "seasonal_": (list, type(None)),
    "multiplicative_": bool,
    "center_": (int, float),
    "scale_": (int, float),
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _versions() -> dict[str, str]:
    import keras

    from forecasting import __version__

    versions = {
        "forecasting": __version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
    }
    try:
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    except ImportError:  # pragma: no cover - another Keras backend without TensorFlow
        pass
    return versions


@dataclass(frozen=True)
class BundleManifest(JsonRecord):
    """`bundle.json`: everything in a bundle but the networks.

    Attributes:
        format: Always `FORMAT`.
        format_version: `FORMAT_VERSION` of the writer.
        created: When the bundle was written (UTC, ISO text).
        config: The resolved run configuration (`RunConfig.to_dict`).
        period: Seasonal period.
        preprocessor: The fitted preprocessing (`Preprocessor.to_dict`).
        series: name, freq, length, first and last timestamp of the training series.
        last_values: The last `window` values of the training series.
        last_position: Position of the last value counted from the first training point.
        intervals: Prediction intervals per level (`Intervals.to_dict`).
        metrics: Test metrics and timings of the run.
        history: Loss curves of the first network (`History.to_dict`).
        models: `{"file": "model_<i>.keras", "sha256": ...}` per network.
        versions: Versions of the libraries that wrote the bundle.
        data_options: How the data file was read (for reproducing the run), or None.
    """

    format: str
    format_version: int
    config: dict
    period: int
    preprocessor: dict
    series: dict
    last_values: list
    last_position: int
    intervals: dict
    metrics: dict
    history: dict
    models: list
    versions: dict
    created: str = ""
    data_options: dict | None = None

    def forecaster_state(self) -> dict:
        """The state `RNNForecaster.from_state` reads, from the stored configuration."""
        config = RunConfig.from_dict(self.config)
        return {
            "model": config.model.to_dict(),
            "train": config.train.to_dict(),
            "horizon": config.horizon,
            "period": self.period,
            "preprocessor": self.preprocessor,
            "history": self.history,
        }


@dataclass
class Bundle:
    """A trained forecaster with what it needs to forecast again without retraining.

    Attributes:
        forecaster: The fitted forecaster (its networks and preprocessor).
        config: The resolved run configuration.
        period: Seasonal period.
        series: name, freq, first and last timestamp, length of the training series.
        last_values: The last `window` values of the training series.
        last_position: Position of the last value counted from the first training point.
        intervals: Prediction intervals per level.
        metrics: Test metrics and timings of the run.
        history: Loss curves of the first network.
        data_options: How the data file was read (for reproducing the run), or None.
    """

    forecaster: RNNForecaster
    config: RunConfig
    period: int
    series: dict
    last_values: np.ndarray
    last_position: int
    intervals: Intervals
    metrics: dict
    history: dict
    data_options: dict | None = None
    versions: dict = field(default_factory=dict)

    @classmethod
    def from_run(cls, run: TrainedRun, data_options: dict | None = None) -> Bundle:
        """Collect what a run needs to forecast again."""
        series, window = run.series, run.config.model.window
        meta = {
            "name": series.name,
            "freq": series.freq,
            "length": len(series),
            "first": format_timestamp(series.index[0]),
            "last": format_timestamp(series.last),
        }
        return cls(
            run.forecaster,
            run.config,
            run.plan.period,
            meta,
            np.asarray(series.values[-window:]),
            len(series) - 1,
            run.intervals,
            run.metrics_dict(),
            run.forecaster.history_.to_dict(),
            data_options,
        )

    def forecast(self, series: TimeSeries | None = None) -> pd.DataFrame:
        """Forecast `horizon` steps after the training data, or after `series` (newer data
        of the same series, whose own last window is then used).

        Raises:
            DataError: When `series` has another frequency or is shorter than the window.
        """
        from forecasting.errors import DataError

        if series is None:
            values, last = self.last_values, self.series["last"]
            end_position = self.last_position
            freq = self.series["freq"]
        else:
            if series.freq != self.series["freq"]:
                raise DataError(
                    f"The new data has frequency {series.freq or 'integer steps'} "
                    f"but the model was trained on "
                    f"{self.series['freq'] or 'integer steps'}. Upload data of "
                    f"the same frequency."
                )
            window = self.config.model.window
            if len(series) < window:
                raise DataError(
                    f"The new data has {len(series)} points; the model needs at "
                    f"least its window of {window}. Upload a longer stretch."
                )
            values, last, freq = series.values, series.last, series.freq
            end_position = self.last_position + periods_between(self.series["last"], last, freq)
        start = end_position - (len(values) - 1)
        forecast = self.forecaster.forecast(np.asarray(values), start)
        index = future_index(_parse_last(last, freq), len(forecast), freq)
        return forecast_frame(index, forecast, self.intervals, self.config.level)

    @property
    def widths(self) -> np.ndarray:
        """Half-widths at the configured level."""
        return self.intervals.widths[self.config.level]

    def history_frame(
        self, series: TimeSeries | None = None, points: int = HISTORY_POINTS
    ) -> pd.DataFrame:
        """The history a chart draws before `forecast(series)`: columns date, actual.

        The last `points` values of `series`, or (without a series) the stored last window
        with its timestamps rebuilt from the last timestamp and the frequency.
        """
        if series is not None:
            return recent_frame(series, points)
        last, freq = _parse_last(self.series["last"], self.series["freq"]), self.series["freq"]
        n = len(self.last_values)
        index = (
            pd.date_range(end=last, periods=n, freq=freq)
            if freq
            else pd.RangeIndex(last - n + 1, last + 1)
        )
        return pd.DataFrame({"date": index, "actual": np.asarray(self.last_values, float)})

    # ----------------------------------------------------------------- writing
    def to_bytes(self) -> bytes:
        """The bundle as `.zip` bytes."""
        state, networks = self.forecaster.get_state()
        models, files = [], {}
        with tempfile.TemporaryDirectory() as tmp:
            for i, network in enumerate(networks, start=1):
                path = Path(tmp) / f"model_{i}.keras"
                network.save(path)
                data = path.read_bytes()
                files[path.name] = data
                models.append({"file": path.name, "sha256": _sha256(data)})
        manifest = BundleManifest(
            format=FORMAT,
            format_version=FORMAT_VERSION,
            created=format_timestamp(pd.Timestamp.now("UTC").tz_localize(None).floor("s")),
            config=self.config.to_dict(),
            period=state["period"],
            preprocessor=state["preprocessor"],
            series=self.series,
            last_values=[float(v) for v in self.last_values],
            last_position=int(self.last_position),
            intervals=self.intervals.to_dict(),
            metrics=self.metrics,
            history=self.history,
            data_options=self.data_options,
            models=models,
            versions=self.versions or _versions(),
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                MANIFEST, json.dumps(manifest.to_dict(), indent=2, default=_json_default)
            )
            for name, data in files.items():
                archive.writestr(name, data)
        return buffer.getvalue()

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_bytes(self.to_bytes())
        return path


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a bundle")


def _parse_last(last, freq):
    return int(last) if freq is None else pd.Timestamp(last)


# --------------------------------------------------------------------- reading
def load_bundle(source: bytes | str | Path) -> Bundle:
    """Check a bundle completely, then load it.

    Raises:
        BundleError: Naming the check that failed: not a zip / `.h5` file, unexpected or
            oversized members, bad JSON or schema, wrong format version, hash mismatch,
            a layer class the project does not create.
    """
    data = Path(source).read_bytes() if isinstance(source, (str, Path)) else bytes(source)
    if data[:8] == b"\x89HDF\r\n\x1a\n":
        raise BundleError(
            "This is a legacy Keras .h5 file. Only bundles (.zip) made by this "
            "app or the `forecasting train` command can be loaded."
        )
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(
            f"The bundle is {len(data) / 1e6:.0f} MB, over the "
            f"{MAX_BUNDLE_BYTES // 2**20} MB limit."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BundleError(
            "This file is not a model bundle (not a valid .zip; it may be "
            "truncated). Download the bundle again."
        ) from None
    with archive:
        manifest = _read_manifest(archive)
        files = _read_models(archive, manifest)
    return _build(manifest, files)


def _check_members(archive: zipfile.ZipFile, allowed: set[str]) -> None:
    names = [info.filename for info in archive.infolist()]
    unexpected = sorted(set(names) - allowed)
    if unexpected or len(names) != len(set(names)):
        raise BundleError(
            f"Member check failed: unexpected file(s) in the bundle: "
            f"{', '.join(repr(n) for n in unexpected[:5]) or 'duplicates'}."
        )
    for info in archive.infolist():
        if info.file_size > MAX_MEMBER_BYTES:
            raise BundleError(
                f"Size check failed: {info.filename!r} unpacks to "
                f"{info.file_size / 1e6:.0f} MB, over the "
                f"{MAX_MEMBER_BYTES // 2**20} MB limit."
            )


def _read_manifest(archive: zipfile.ZipFile) -> BundleManifest:
    names = {info.filename for info in archive.infolist()}
    if MANIFEST not in names:
        raise BundleError(
            f"Member check failed: the bundle has no {MANIFEST}. Is this a bundle made by this app?"
        )
    _check_members(archive, {MANIFEST} | {n for n in names if _MODEL_NAME.match(n)})
    try:
        manifest = json.loads(read_member(archive, MANIFEST, MAX_MANIFEST_BYTES))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError(f"Schema check failed: {MANIFEST} is not valid JSON.") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"Schema check failed: {MANIFEST} must hold an object.")
    if manifest.get("format") != FORMAT:
        raise BundleError(f"Schema check failed: this is not a {FORMAT} file.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"Version check failed: bundle format version "
            f"{manifest.get('format_version')!r}; this app reads version "
            f"{FORMAT_VERSION}. Retrain the model with this version."
        )
    _check_schema(manifest, _SCHEMA, MANIFEST)
    _check_schema(manifest["preprocessor"], _PREPROCESSOR_SCHEMA, "preprocessor")
    if not 1 <= len(manifest["models"]) <= 10:
        raise BundleError("Schema check failed: a bundle holds 1 to 10 models.")
    if not isinstance(manifest.get("data_options"), (dict, type(None))) or not isinstance(
        manifest.get("created", ""), str
    ):
        raise BundleError(
            f"Schema check failed: {MANIFEST} has a malformed data_options or created."
        )
    try:
        return BundleManifest.from_dict(manifest)
    except ConfigError as exc:  # unknown keys
        raise BundleError(f"Schema check failed: {exc}") from None


def _check_schema(data: dict, schema: dict, where: str) -> None:
    for key, kind in schema.items():
        if key not in data:
            raise BundleError(f"Schema check failed: {where} lacks {key!r}.")
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BundleError(f"Schema check failed: {where}[{key!r}] has the wrong type.")


def _read_models(archive: zipfile.ZipFile, manifest: BundleManifest) -> list[bytes]:
    files = []
    for i, entry in enumerate(manifest.models, start=1):
        if (
            not isinstance(entry, dict)
            or entry.get("file") != f"model_{i}.keras"
            or not isinstance(entry.get("sha256"), str)
        ):
            raise BundleError("Schema check failed: the model list is malformed.")
        data = read_member(archive, entry["file"], MAX_MEMBER_BYTES)
        if _sha256(data) != entry["sha256"]:
            raise BundleError(
                f"Hash check failed: {entry['file']} does not match the "
                f"SHA-256 recorded in {MANIFEST}; the bundle was modified or "
                f"damaged."
            )
        check_keras_file(data, entry["file"])
        files.append(data)
    return files


def _build(manifest: BundleManifest, files: list[bytes]) -> Bundle:
    import keras

    try:
        config = RunConfig.from_dict(manifest.config)
    except (ConfigError, TypeError) as exc:
        raise BundleError(
            f"Schema check failed: the stored configuration is invalid ({exc})."
        ) from None
    install_native_kernels()
    networks = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, data in enumerate(files, start=1):
            path = Path(tmp) / f"model_{i}.keras"
            path.write_bytes(data)
            try:
                networks.append(keras.saving.load_model(path, safe_mode=True, compile=False))
            except Exception as exc:  # Keras raises many types for damaged files
                raise BundleError(
                    f"Model check failed: Keras could not load model_{i}.keras "
                    f"({type(exc).__name__})."
                ) from None
    window = config.model.window
    for network in networks:
        if tuple(network.input_shape) != (None, window, 1):
            raise BundleError(
                "Model check failed: the network's input does not match the stored window."
            )
    last_values = np.asarray(manifest.last_values, dtype=float)
    try:
        intervals = Intervals.from_dict(manifest.intervals)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BundleError("Schema check failed: the prediction intervals are malformed.") from None
    if (
        last_values.shape != (window,)
        or not np.all(np.isfinite(last_values))
        or config.level not in intervals.widths
        or any(w.shape != (config.horizon,) for w in intervals.widths.values())
    ):
        raise BundleError(
            "Schema check failed: the last window or the interval widths do "
            "not match the configuration."
        )
    try:
        forecaster = RNNForecaster.from_state(manifest.forecaster_state(), networks)
    except ConfigError as exc:
        raise BundleError(
            f"Schema check failed: the stored model state is invalid ({exc})."
        ) from None
    series = manifest.series
    if not isinstance(series.get("freq"), (str, type(None))) or "last" not in series:
        raise BundleError("Schema check failed: the series description is malformed.")
    try:
        future_index(_parse_last(series["last"], series["freq"]), 1, series["freq"])
    except (ValueError, TypeError):
        raise BundleError(
            "Schema check failed: the last timestamp or frequency is invalid."
        ) from None
    return Bundle(
        forecaster,
        config,
        manifest.period,
        series,
        last_values,
        manifest.last_position,
        intervals,
        manifest.metrics,
        manifest.history,
        manifest.data_options,
        manifest.versions,
    )


__all__ = ["Bundle", "BundleError", "BundleManifest", "ForecastingError", "load_bundle"]
