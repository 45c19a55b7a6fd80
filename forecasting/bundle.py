"""Model bundles: one `.zip` with the `.keras` network(s) and a JSON file of everything else.

No pickle anywhere. This module packs, verifies and unpacks files: the forecaster exports and
imports its own fitted state (`RNNForecaster.get_state` / `from_state`), everything else is
the `BundleManifest` record (`bundle.json`), which also records every column's role, the
covariates' fitted encoding and the last window of their values (so a network that reads no
future covariates forecasts after its own data alone). Loading checks the JSON schema and
format version, and the declared input shapes of each network against the stored
configuration; the checks of the archive itself (the whole file, the zip members and their
sizes, the SHA-256 of every model file and the layer classes inside each model before Keras
reads it with `safe_mode=True`) live in `forecasting.bundle_archive`, those of the covariates
and the input shapes in `forecasting.bundle_covariates`. A bundle that fails a check is
refused with a `BundleError` naming the check, and nothing inside it runs. A bundle made by
an update (`forecasting.update`) also records its lineage (`forecasting.lineage`). A bundle
whose forecast is the network's mean with Theta (and ETS) (`forecasting.combination`) records
the methods and the last values of the series they are fitted on.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.bundle_archive import (
    MANIFEST,
    check_schema,
    library_versions,
    load_networks,
    open_archive,
    read_manifest,
    read_models,
    save_networks,
    zip_bytes,
)
from forecasting.bundle_combination import combination_history
from forecasting.bundle_covariates import (
    _check_covariates,
    _expected_inputs,
    _last_covariates,
    input_shapes,
    read_covariates,
)
from forecasting.combination import HISTORY_POINTS as COMBINATION_POINTS
from forecasting.combination import check_history, combine_future, members, minimum_history
from forecasting.config import RunConfig
from forecasting.covariates import Roles
from forecasting.errors import BundleError, ConfigError, DataError, ForecastingError
from forecasting.evaluation import Intervals
from forecasting.features import CovariateData, CovariateEncoder
from forecasting.forecaster import RNNForecaster
from forecasting.keras_file import MAX_MANIFEST_BYTES
from forecasting.lineage import Lineage, read_lineage
from forecasting.pipeline import TrainedRun, forecast_frame
from forecasting.records import JsonRecord, format_timestamp
from forecasting.results import HISTORY_POINTS, recent_frame
from forecasting.series import TimeSeries, _column_json, future_index, periods_between

FORMAT = "forecasting-bundle"
FORMAT_VERSION = 2  # 2: covariates (roles, their encoding, the last window of their values)
READ_VERSIONS = (1, 2)  # version 1 bundles (no covariates) still load
_COVARIATE_KEYS = ("roles", "covariates", "last_covariates")  # new in version 2
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
PREPROCESSOR_SCHEMA = {
    "log": bool,
    "period": int,
    "deseasonalize": bool,
    "scaling": str,
    "seasonal_": (list, type(None)),
    "multiplicative_": bool,
    "center_": (int, float),
    "scale_": (int, float),
}


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
        roles: Every column's role (`Roles.to_dict`); None in version 1 bundles (no
            covariates).
        covariates: The fitted covariate encoding (`CovariateEncoder.to_dict`: centre and
            scale of each numeric column, the categories of each text column, the calendar
            cycles), or None when the network reads no covariates.
        last_covariates: The last `window` values of each past and future covariate
            (column -> numbers or text, None where missing), beside `last_values`; None
            when the network reads no covariates.
        lineage: The chain of updates that made this bundle (`Lineage.to_dict`); None for a
            bundle written by a training (and by versions before lineage existed).
        combination: When the forecast is the network's mean with simple methods:
            `{"members": ["theta"], "history": [...]}`, the methods (as `config.combine`
            says) and the last values of the series they are fitted on (at most
            `combination.HISTORY_POINTS`); None for the network alone (and in bundles
            written before combinations existed).
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
    roles: dict | None = None
    covariates: dict | None = None
    last_covariates: dict | None = None
    lineage: dict | None = None
    combination: dict | None = None

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
            "covariates": self.covariates,
        }


@dataclass
class Bundle:
    """A trained forecaster with what it needs to forecast again without retraining.

    Attributes:
        forecaster: The fitted forecaster (its networks, preprocessor and covariate encoding).
        config: The resolved run configuration.
        period: Seasonal period.
        series: name, freq, first and last timestamp, length of the training series.
        last_values: The last `window` values of the training series.
        last_position: Position of the last value counted from the first training point.
        intervals: Prediction intervals per level.
        metrics: Test metrics and timings of the run.
        history: Loss curves of the first network.
        data_options: How the data file was read (for reproducing the run), or None.
        versions: Versions of the libraries that wrote the bundle.
        roles: Every other column's role (no covariates by default).
        last_covariates: The last `window` rows of the past and future covariates, on the
            timestamps of `last_values`; None when the network reads no covariates.
        lineage: The updates that made this bundle from a trained one (None: trained).
        combination_history: The last values of the series (at most
            `combination.HISTORY_POINTS`) that Theta and ETS are fitted on when the forecast
            is the network's mean with them (`config.combine`); None for the network alone.
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
    roles: Roles = field(default_factory=Roles)
    last_covariates: pd.DataFrame | None = None
    lineage: Lineage | None = None
    combination_history: np.ndarray | None = None

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
        last_covariates = None
        if run.forecaster.encoder_ is not None:
            columns = list(run.forecaster.encoder_.roles.columns)
            last_covariates = (
                series.extra[columns] if columns else pd.DataFrame(index=series.index)
            ).iloc[-window:]
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
            roles=run.plan.roles,
            last_covariates=last_covariates,
            combination_history=(
                np.asarray(series.values[-COMBINATION_POINTS:])
                if members(run.config.combine)
                else None
            ),
        )

    @property
    def combination(self) -> tuple[str, ...]:
        """The simple methods averaged with the network (empty: the network alone)."""
        return members(self.config.combine)

    @property
    def min_history(self) -> int:
        """The fewest values of new data a forecast reads (`combination.minimum_history`)."""
        return minimum_history(self.config.combine, self.config.model.window, self.period)

    @property
    def encoder(self) -> CovariateEncoder | None:
        """The covariate encoding the network reads (None without covariates)."""
        return self.forecaster.encoder_

    def forecast(
        self, series: TimeSeries | None = None, future: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Forecast `horizon` steps after the training data, or after `series` (newer data
        of the same series, whose own last window is then used).

        A bundle whose network reads covariates reads their last window from `series.extra`,
        or (without a series) from the values it stores; calendar features come from the
        timestamps. With future covariates, their values over the horizon come from `future`
        (a future file's table, indexed by timestamp). A combination's simple methods are
        fitted on the stored history, or on the values of `series`.

        Raises:
            DataError: When `series` has another frequency, is shorter than the window (or
                than a combination's methods need, `min_history`) or
                lacks a covariate column the network reads (named, with the columns it has);
                a covariate missing a value in the window read; future covariates without
                `future`, or a `future` that lacks a column or timestamps of the horizon.
        """
        window = self.config.model.window
        history = self.combination_history
        if series is None:
            values, last = self.last_values, self.series["last"]
            end_position = self.last_position
            freq = self.series["freq"]
            if self.encoder is not None:
                series = self._stored_series()
        else:
            if series.freq != self.series["freq"]:
                raise DataError(
                    f"The new data has frequency {series.freq or 'integer steps'} "
                    f"but the model was trained on "
                    f"{self.series['freq'] or 'integer steps'}. Upload data of "
                    f"the same frequency."
                )
            if len(series) < window:
                raise DataError(
                    f"The new data has {len(series)} points; the model needs at "
                    f"least its window of {window}. Upload a longer stretch."
                )
            check_history(self.config.combine, len(series), window, self.period)
            history = series.values
            if self.encoder is not None:
                series = _tail(series, window)  # only the last window is read
            values, last, freq = series.values, series.last, series.freq
            end_position = self.last_position + periods_between(self.series["last"], last, freq)
        covariates = None if self.encoder is None else self._covariates(series, future)
        start = end_position - (len(values) - 1)
        forecast = self.forecaster.forecast(np.asarray(values), start, covariates)
        if self.combination:
            forecast = combine_future(
                self.config.combine, forecast, history, self.config.horizon, self.period
            )
        index = future_index(parse_last(last, freq), len(forecast), freq)
        return forecast_frame(index, forecast, self.intervals, self.config.level)

    def _stored_series(self) -> TimeSeries:
        """The stored last window as a series, with the stored covariates as its columns."""
        frame = self.history_frame()
        return TimeSeries(
            frame["actual"].to_numpy(),
            pd.Index(frame["date"], name="date" if self.series["freq"] else "step"),
            self.series["freq"],
            str(self.series.get("name", "value")),
            (),
            self.last_covariates.set_axis(pd.Index(frame["date"])),
        )

    def _covariates(self, series: TimeSeries, future: pd.DataFrame | None) -> CovariateData:
        """The covariates the network reads at the end of `series` and over the horizon."""
        return read_covariates(
            self.encoder, self.config.model.window, self.config.horizon, series, future
        )

    @property
    def widths(self) -> np.ndarray:
        """Half-widths at the configured level."""
        return self.intervals.widths[self.config.level]

    def history_frame(
        self, series: TimeSeries | None = None, points: int | None = HISTORY_POINTS
    ) -> pd.DataFrame:
        """The history a chart draws before `forecast(series)`: columns date, actual.

        The last `points` values of `series`, or (without a series) the stored values with
        their timestamps rebuilt from the last timestamp and the frequency: the last window,
        or a combination's longer history (its last `points`, at least the window; None:
        all of it).
        """
        if series is not None:
            return recent_frame(series, points)
        stored = self.last_values
        if self.combination_history is not None:
            keep = len(self.combination_history) if points is None else points
            stored = self.combination_history[-max(keep, len(self.last_values)) :]
        last, freq = parse_last(self.series["last"], self.series["freq"]), self.series["freq"]
        n = len(stored)
        index = (
            pd.date_range(end=last, periods=n, freq=freq)
            if freq
            else pd.RangeIndex(last - n + 1, last + 1)
        )
        return pd.DataFrame({"date": index, "actual": np.asarray(stored, float)})

    # ----------------------------------------------------------------- writing
    def to_bytes(self) -> bytes:
        """The bundle as `.zip` bytes."""
        state, networks = self.forecaster.get_state()
        models, files = save_networks(networks)
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
            versions=self.versions or library_versions(),
            roles=_json_roles(self.roles),
            covariates=state["covariates"],
            last_covariates=(
                None
                if self.last_covariates is None
                else {
                    str(name): _column_json(column) for name, column in self.last_covariates.items()
                }
            ),
            lineage=None if self.lineage is None else self.lineage.to_dict(),
            combination=(
                {
                    "members": list(self.combination),
                    "history": [float(v) for v in self.combination_history],
                }
                if self.combination
                else None
            ),
        )
        data = manifest.to_dict()
        for optional in ("lineage", "combination"):
            if data[optional] is None:
                del data[optional]  # such a bundle reads as before in earlier versions
        return zip_bytes(data, files)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_bytes(self.to_bytes())
        return path


def parse_last(last, freq):
    return int(last) if freq is None else pd.Timestamp(last)


def _json_roles(roles: Roles) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in roles.to_dict().items()}


def _tail(series: TimeSeries, n: int) -> TimeSeries:
    """The last `n` points of a series, with its other columns."""
    extra = None if series.extra is None else series.extra.iloc[-n:]
    return TimeSeries(
        series.values[-n:], series.index[-n:], series.freq, series.name, series.repairs, extra
    )


# --------------------------------------------------------------------- reading
def load_bundle(source: bytes | str | Path) -> Bundle:
    """Check a bundle completely, then load it.

    Raises:
        BundleError: Naming the check that failed: not a zip / `.h5` file, unexpected or
            oversized members, bad JSON or schema, wrong format version, hash mismatch,
            a layer class the project does not create.
    """
    with open_archive(source) as archive:
        manifest = _read_manifest(archive)
        files = read_models(archive, manifest)
    return _build(manifest, files)


def _read_manifest(archive: zipfile.ZipFile) -> BundleManifest:
    manifest = read_manifest(archive, MAX_MANIFEST_BYTES)
    if manifest.get("kind") == "panel":
        raise BundleError(
            "This is a many-series model bundle. Load the many-series file on the Data page "
            "and train there, or forecast with it on the command line: forecasting forecast "
            "DATA --id-col ID --model BUNDLE."
        )
    if manifest.get("format") != FORMAT:
        raise BundleError(f"Schema check failed: this is not a {FORMAT} file.")
    version = manifest.get("format_version")
    if isinstance(version, bool) or version not in READ_VERSIONS:
        raise BundleError(
            f"Version check failed: bundle format version {version!r}; this app reads "
            f"versions {' and '.join(map(str, READ_VERSIONS))}. Retrain the model with this "
            "version."
        )
    if version == 1 and any(key in manifest for key in _COVARIATE_KEYS):
        raise BundleError(
            f"Schema check failed: a version 1 bundle holds no covariates, yet {MANIFEST} "
            f"has {', '.join(k for k in _COVARIATE_KEYS if k in manifest)}."
        )
    for key in (*_COVARIATE_KEYS, "lineage", "combination"):
        if not isinstance(manifest.get(key), (dict, type(None))):
            raise BundleError(f"Schema check failed: {MANIFEST}[{key!r}] has the wrong type.")
    check_schema(manifest, _SCHEMA, MANIFEST)
    check_schema(manifest["preprocessor"], PREPROCESSOR_SCHEMA, "preprocessor")
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


def _build(manifest: BundleManifest, files: list[bytes]) -> Bundle:
    try:
        config = RunConfig.from_dict(manifest.config)
    except (ConfigError, TypeError) as exc:
        raise BundleError(
            f"Schema check failed: the stored configuration is invalid ({exc})."
        ) from None
    roles, encoder = _check_covariates(manifest, config)  # before Keras reads a byte
    window = config.model.window
    last_covariates = (
        None if encoder is None else _last_covariates(manifest.last_covariates, encoder, window)
    )
    networks = load_networks(files)
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
    for network in networks:
        if input_shapes(network) != _expected_inputs(config, encoder):
            raise BundleError(
                "Model check failed: the network's input does not match the stored window "
                "and covariates."
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
        future_index(parse_last(series["last"], series["freq"]), 1, series["freq"])
    except (ValueError, TypeError):
        raise BundleError(
            "Schema check failed: the last timestamp or frequency is invalid."
        ) from None
    if roles.calendar and series["freq"] is None:
        raise BundleError(
            "Schema check failed: calendar features are recorded for a series without dates."
        )
    history = combination_history(manifest.combination, config, last_values)
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
        roles,
        last_covariates,
        read_lineage(manifest.lineage),
        history,
    )


__all__ = ["Bundle", "BundleError", "BundleManifest", "ForecastingError", "load_bundle"]
