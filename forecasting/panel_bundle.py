"""Bundles of a global model (many series, one network): one `.zip` with the `.keras`
network(s) and `bundle.json` (kind "panel") holding everything else.

`bundle.json` records the id columns, every series' label and id values, the global model's
per-series preprocessing (`GlobalForecaster.get_state`), each trained series' last window,
last timestamp and MASE scale (the band widths are in units of it), the widths per level, the
frequency and the configuration. Series too short for the network (the fallback ones) are
stored whole: they are shorter than the window plus three horizons, so this stays small, and
their fallback forecast after the bundle's own data is exactly the training run's.

Loading makes the same archive checks as `forecasting.bundle`, from
`forecasting.bundle_archive` (member names and sizes, the SHA-256 of every model file, the
layer classes inside each model, Keras' `safe_mode=True`), checks a strict schema, and checks
the per-series state before Keras reads a byte. No pickle.
"""

from __future__ import annotations

import copy
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from forecasting.bundle import PREPROCESSOR_SCHEMA, input_shapes, parse_last
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
from forecasting.config import RunConfig
from forecasting.errors import BundleError, ConfigError, DataError
from forecasting.evaluation import mase_scale
from forecasting.keras_file import MAX_MEMBER_BYTES, read_member
from forecasting.panel import ID_SEPARATOR, Panel
from forecasting.records import format_timestamp
from forecasting.series import TimeSeries, future_index, periods_between

FORMAT = "forecasting-panel-bundle"
FORMAT_VERSION = 1
KIND = "panel"
MAX_PANEL_MANIFEST_BYTES = MAX_MEMBER_BYTES  # per-series state: about 30,000 series
_SCHEMA = {
    **dict.fromkeys(("format", "kind", "created"), str),
    **dict.fromkeys(("format_version", "period"), int),
    **dict.fromkeys(("config", "history", "widths", "aggregate", "versions"), dict),
    **dict.fromkeys(("id_cols", "series", "fallback", "preprocessors", "models"), list),
    **dict.fromkeys(("freq",), (str, type(None))),
    **dict.fromkeys(("data_options",), (dict, type(None))),
}
_FALLBACK = {"label": str, "ids": list, "last": (str, int), "values": list}
_SERIES_SCHEMA = {**_FALLBACK, "position": int, "scale": (int, float), "non_negative": bool}


@dataclass(frozen=True)
class SeriesState:
    """What forecasting one series needs besides the network.

    Attributes:
        label: The series' ids joined by " / ".
        ids: Its id values, one per id column.
        last: Its last timestamp (or integer step).
        values: Its last `window` values (a trained series) or all of them (a fallback one).
        position: Position of its last value counted from its first training point.
        scale: Its MASE scale: the band widths are in units of it (trained series).
        non_negative: Its data never went below 0, so neither do its forecasts.
    """

    label: str
    ids: tuple[str, ...]
    last: str | int
    values: np.ndarray
    position: int = 0
    scale: float = 1.0
    non_negative: bool = False

    def to_dict(self, trained: bool) -> dict:
        data = {
            "label": self.label,
            "ids": list(self.ids),
            "last": self.last,
            "values": [float(v) for v in self.values],
        }
        if trained:
            data.update(position=self.position, scale=self.scale, non_negative=self.non_negative)
        return data


@dataclass
class PanelBundle:
    """A trained global model with what it needs to forecast every series again.

    Attributes:
        forecaster: The fitted `GlobalForecaster` (its preprocessors in `series` order).
        config: The resolved run configuration.
        period: Seasonal period shared by the series.
        freq: The series' frequency (None for integer steps).
        id_cols: The id column names.
        series: The series the network forecasts.
        fallback: The series too short for it (forecast by `panel_pipeline.FALLBACK`).
        widths: Level -> band half-widths per lead, in units of each series' MASE scale.
        aggregate: The M4 aggregate of the training run (for reading, not used).
        data_options: How the data file was read, or None.
        versions: Versions of the libraries that wrote the bundle.
    """

    forecaster: object
    config: RunConfig
    period: int
    freq: str | None
    id_cols: tuple[str, ...]
    series: list[SeriesState]
    fallback: list[SeriesState]
    widths: dict[float, np.ndarray]
    aggregate: dict = field(default_factory=dict)
    data_options: dict | None = None
    versions: dict = field(default_factory=dict)

    @classmethod
    def from_run(cls, run, data_options: dict | None = None) -> PanelBundle:
        """Collect what a `PanelRun` needs to forecast again."""
        plan, panel = run.plan, run.panel
        window, where = plan.config.model.window, {label: i for i, label in enumerate(panel.labels)}
        trained = []
        for label, split in plan.splits.items():
            series, ids = panel.series[where[label]], panel.ids[where[label]]
            scale = mase_scale(series.values[: split.fit_end], plan.period) or 1.0  # as trained
            trained.append(
                SeriesState(
                    label,
                    ids,
                    format_timestamp(series.last),
                    np.asarray(series.values[-window:], float),
                    len(series) - 1,
                    float(scale),
                    bool(np.min(series.values) >= 0),
                )
            )
        fallback = [
            SeriesState(
                label,
                panel.ids[where[label]],
                format_timestamp(panel.series[where[label]].last),
                np.asarray(panel.series[where[label]].values, float),
            )
            for label in plan.fallback
        ]
        return cls(
            run.forecaster,
            plan.config,
            plan.period,
            panel.freq,
            tuple(panel.id_cols),
            trained,
            fallback,
            {float(level): np.asarray(w, float) for level, w in run.widths.items()},
            {m: {k: _finite(v) for k, v in row.items()} for m, row in run.aggregate.items()},
            data_options,
        )

    @property
    def labels(self) -> list[str]:
        """Every series the bundle forecasts: the network's, then the fallback ones."""
        return [s.label for s in (*self.series, *self.fallback)]

    # ----------------------------------------------------------------- forecasting
    def forecast(self, panel: Panel | None = None, labels: list[str] | None = None) -> pd.DataFrame:
        """Forecast `horizon` steps of every series (or of `labels`) after the bundle's own
        data, or after `panel` (newer data of the same series; each one's last window is read).

        Returns:
            One row per series and step: the id columns, date, forecast, lower, upper (the
            band at the configured level). Fallback series get the fallback method's forecast
            from their stored values, or from `panel`'s.

        Raises:
            DataError: An id the bundle does not know (named), a label not in `panel`, a
                panel of another frequency or other id columns, or a series shorter than the
                window.
        """
        known = {s.label: s for s in (*self.series, *self.fallback)}
        wanted = list(labels) if labels is not None else (panel.labels if panel else self.labels)
        unknown = [label for label in wanted if label not in known]
        if unknown:
            raise DataError(
                f"The model was not trained on the series {_names(unknown)}. It knows "
                f"{len(known)} series: {_names(list(known))}. Forecast those, or train again "
                "with the new series."
            )
        given = None if panel is None else self._given(panel, wanted)
        network = {s.label for s in self.series}
        frames = self._network_forecasts([label for label in wanted if label in network], given)
        short = [known[label] for label in wanted if label not in frames]
        frames.update(self._fallback_forecasts(short, given))
        return pd.concat([frames[label] for label in wanted], ignore_index=True)

    def _given(self, panel: Panel, wanted: list[str]) -> dict[str, TimeSeries]:
        """The panel's series by label, checked against the bundle."""
        if tuple(panel.id_cols) != self.id_cols:
            raise DataError(
                f"The data's id column(s) {', '.join(panel.id_cols)} differ from the model's "
                f"{', '.join(self.id_cols)}. Read the data with the same id column(s)."
            )
        if panel.freq != self.freq:
            raise DataError(
                f"The new data has frequency {panel.freq or 'integer steps'} but the model "
                f"was trained on {self.freq or 'integer steps'}. Upload data of the same "
                "frequency."
            )
        given = dict(zip(panel.labels, panel.series, strict=True))
        missing = [label for label in wanted if label not in given]
        if missing:
            raise DataError(
                f"The data holds no series {_names(missing)}. Choose series the data holds."
            )
        return given

    def _network_forecasts(self, labels: list[str], given: dict | None) -> dict:
        """The network's forecasts of the trained series `labels`, one frame each."""
        if not labels:
            return {}
        window, horizon = self.config.model.window, self.config.horizon
        where = {s.label: i for i, s in enumerate(self.series)}
        picked = [where[label] for label in labels]
        values, starts, lasts = [], [], []
        for i in picked:
            state = self.series[i]
            if given is None:
                v, last, end = state.values, state.last, state.position
            else:
                series = given[state.label]
                if len(series) < window:
                    raise DataError(
                        f"The series {state.label!r} has {len(series)} points; the model "
                        f"needs at least its window of {window}. Upload a longer stretch."
                    )
                v, last = series.values[-window:], series.last
                end = state.position + periods_between(
                    parse_last(state.last, self.freq), last, self.freq
                )
            values.append(np.asarray(v, float))
            starts.append(end - window + 1)
            lasts.append(last)
        forecaster = copy.copy(self.forecaster)  # the same networks, the picked series' scaling
        forecaster.preprocessors_ = [self.forecaster.preprocessors_[i] for i in picked]
        predicted = forecaster.predict(values, [[window]] * len(values), starts)
        widths = self.widths[float(self.config.level)]
        frames = {}
        for i, forecast, last in zip(picked, predicted, lasts, strict=True):
            state = self.series[i]
            point, band = _floor(forecast[0], state), widths * state.scale
            dates = future_index(parse_last(last, self.freq), horizon, self.freq)
            frames[state.label] = self._frame(
                state, dates, point, _floor(point - band, state), point + band
            )
        return frames

    def _fallback_forecasts(self, states: list[SeriesState], given: dict | None) -> dict:
        """The fallback method's forecasts of the series too short for the network, one frame
        each (`panel_baselines.fallback_forecasts`, as the training run made them)."""
        from forecasting.panel_baselines import fallback_forecasts
        from forecasting.panel_pipeline import FALLBACK

        if not states:
            return {}
        series = [self._stored_series(s) if given is None else given[s.label] for s in states]
        done = fallback_forecasts(
            series, self.config.horizon, self.config.level, self.period, FALLBACK
        )
        return {
            s.label: self._frame(s, f["date"], f["forecast"], f["lower"], f["upper"])
            for s, (f, _) in zip(states, done, strict=True)
        }

    def _stored_series(self, state: SeriesState) -> TimeSeries:
        last, n = parse_last(state.last, self.freq), len(state.values)
        index = (
            pd.date_range(end=last, periods=n, freq=self.freq, name="date")
            if self.freq
            else pd.RangeIndex(last - n + 1, last + 1, name="step")
        )
        return TimeSeries(state.values, index, self.freq, state.label)

    def _frame(self, state: SeriesState, dates, forecast, lower, upper) -> pd.DataFrame:
        frame = pd.DataFrame(
            {
                "date": list(dates),
                "forecast": np.asarray(forecast, float),
                "lower": np.asarray(lower, float),
                "upper": np.asarray(upper, float),
            }
        )
        for name, value in reversed(list(zip(self.id_cols, state.ids, strict=True))):
            frame.insert(0, name, value)
        return frame

    # ----------------------------------------------------------------- writing
    def to_bytes(self) -> bytes:
        """The bundle as `.zip` bytes."""
        state, networks = self.forecaster.get_state()
        models, files = save_networks(networks)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": KIND,
            "created": format_timestamp(pd.Timestamp.now("UTC").tz_localize(None).floor("s")),
            "config": self.config.to_dict(),
            "period": int(self.period),
            "freq": self.freq,
            "id_cols": list(self.id_cols),
            "series": [s.to_dict(trained=True) for s in self.series],
            "fallback": [s.to_dict(trained=False) for s in self.fallback],
            "preprocessors": state["preprocessors"],
            "history": state["history"],
            "widths": {str(level): [float(w) for w in v] for level, v in self.widths.items()},
            "aggregate": self.aggregate,
            "models": models,
            "versions": self.versions or library_versions(),
            "data_options": self.data_options,
        }
        return zip_bytes(manifest, files)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_bytes(self.to_bytes())
        return path


def _floor(values: np.ndarray, state: SeriesState) -> np.ndarray:
    """Forecasts of a series that never went below 0 stay at or above 0 (as in training)."""
    return np.maximum(values, 0.0) if state.non_negative else np.asarray(values, float)


def _finite(value) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _names(labels: list[str], shown: int = 5) -> str:
    return ", ".join(repr(label) for label in labels[:shown]) + (
        f" and {len(labels) - shown} more" if len(labels) > shown else ""
    )


# --------------------------------------------------------------------- reading
def bundle_kind(source: bytes | str | Path) -> str:
    """ "panel" for a many-series bundle, "series" for any other `.zip` (which
    `bundle.load_bundle` then checks); reads only `bundle.json`'s kind.

    Raises:
        BundleError: Not a zip, too large, or a legacy `.h5` file.
    """
    with open_archive(source) as archive:
        if MANIFEST not in archive.namelist():
            return "series"
        try:
            manifest = json.loads(read_member(archive, MANIFEST, MAX_PANEL_MANIFEST_BYTES))
        except (BundleError, UnicodeDecodeError, json.JSONDecodeError):
            return "series"
    return KIND if isinstance(manifest, dict) and manifest.get("kind") == KIND else "series"


def load_panel_bundle(source: bytes | str | Path) -> PanelBundle:
    """Check a many-series bundle completely, then load it.

    Raises:
        BundleError: Naming the check that failed (members and sizes, JSON schema, format
            version, hashes, layer classes, the per-series state).
    """
    from forecasting.global_forecaster import GlobalForecaster

    with open_archive(source) as archive:
        manifest = _read_manifest(archive)
        files = read_models(archive, SimpleNamespace(models=manifest["models"]))
    config, period = _check_config(manifest)
    series = [_series_state(s, manifest, config, trained=True) for s in manifest["series"]]
    fallback = [_series_state(s, manifest, config, trained=False) for s in manifest["fallback"]]
    labels = [state.label for state in series + fallback]
    if len(set(labels)) != len(labels):
        raise BundleError("Schema check failed: two stored series have the same label.")
    widths = _widths(manifest["widths"], config)
    _check_preprocessors(manifest["preprocessors"], len(series), period)
    networks = load_networks(files)  # only now does Keras read the checked files
    if any(input_shapes(n) != [(None, config.model.window, 1)] for n in networks):
        raise BundleError("Model check failed: the network's input does not match the window.")
    state = {
        "model": config.model.to_dict(),
        "train": config.train.to_dict(),
        "horizon": config.horizon,
        "period": period,
        "preprocessors": manifest["preprocessors"],
        "history": manifest["history"],
    }
    try:
        forecaster = GlobalForecaster.from_state(state, networks)
    except ConfigError as exc:
        raise BundleError(f"Schema check failed: the model state is invalid ({exc}).") from None
    return PanelBundle(
        forecaster,
        config,
        period,
        manifest["freq"],
        tuple(manifest["id_cols"]),
        series,
        fallback,
        widths,
        manifest["aggregate"],
        manifest["data_options"],
        manifest["versions"],
    )


def _read_manifest(archive: zipfile.ZipFile) -> dict:
    manifest = read_manifest(archive, MAX_PANEL_MANIFEST_BYTES)
    if manifest.get("format") != FORMAT or manifest.get("kind") != KIND:
        raise BundleError(
            "Schema check failed: this is not a many-series bundle (a bundle of one series "
            "forecasts one series: load it as such)."
        )
    version = manifest.get("format_version")
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise BundleError(
            f"Version check failed: many-series bundle format version {version!r}; this app "
            f"reads version {FORMAT_VERSION}. Retrain the model with this version."
        )
    unknown = sorted(set(manifest) - set(_SCHEMA))
    if unknown:
        raise BundleError(f"Schema check failed: {MANIFEST} has unknown key(s) {unknown}.")
    check_schema(manifest, _SCHEMA, MANIFEST)
    if not 1 <= len(manifest["models"]) <= 10:
        raise BundleError("Schema check failed: a bundle holds 1 to 10 models.")
    return manifest


def _check_config(manifest: dict) -> tuple[RunConfig, int]:
    """The stored configuration (a resolved global model's), period, frequency, id columns."""
    try:
        config = RunConfig.from_dict(manifest["config"])
        freq = manifest["freq"]
        future_index(pd.Timestamp("2000-01-01") if freq else 0, 1, freq)
    except (ConfigError, TypeError, ValueError) as exc:
        raise BundleError(f"Schema check failed: the configuration is invalid ({exc}).") from None
    model, id_cols = config.model, manifest["id_cols"]
    if (
        not isinstance(model.window, int)
        or min(model.window, config.horizon, manifest["period"]) < 1
        or model.strategy != "direct"
        or model.scaling == "auto"
        or not id_cols
        or not all(isinstance(c, str) for c in id_cols)
    ):
        raise BundleError(
            "Schema check failed: the configuration or id columns are not a global model's."
        )
    return config, manifest["period"]


def _series_state(data, manifest: dict, config: RunConfig, trained: bool) -> SeriesState:
    """One stored series, checked: ids, last timestamp, values (and scale, position)."""
    where, schema = ("a series", _SERIES_SCHEMA) if trained else ("a fallback series", _FALLBACK)
    if not isinstance(data, dict) or set(data) != set(schema):
        raise BundleError(f"Schema check failed: {where} entry has the wrong keys.")
    check_schema(data, schema, where)
    ids, window = data["ids"], config.model.window
    if (
        len(ids) != len(manifest["id_cols"])
        or not all(isinstance(v, str) for v in ids)
        or data["label"] != ID_SEPARATOR.join(ids)
        or not _numbers(data["values"], window if trained else None)
        or (trained and not (_numbers([data["scale"]]) and data["scale"] > 0))
        or (trained and data["position"] < window - 1)
    ):
        raise BundleError(
            f"Schema check failed: the stored state of {where} ({data['label']!r:.60}) does not "
            "match the configuration."
        )
    try:
        future_index(parse_last(data["last"], manifest["freq"]), 1, manifest["freq"])
    except (ValueError, TypeError):
        raise BundleError(
            f"Schema check failed: the last timestamp of {data['label']!r:.60} is invalid."
        ) from None
    return SeriesState(
        data["label"],
        tuple(ids),
        data["last"],
        np.asarray(data["values"], float),
        data.get("position", 0),
        float(data.get("scale", 1.0)),
        data.get("non_negative", False),
    )


def _numbers(values: list, length: int | None = None) -> bool:
    """A non-empty list of finite numbers (of `length` when given)."""
    return (
        bool(values)
        and (length is None or len(values) == length)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        and all(math.isfinite(v) for v in values)
    )


def _widths(stored: dict, config: RunConfig) -> dict[float, np.ndarray]:
    """Level -> per-lead widths, one per step of the horizon, the configured level among them."""
    widths = {}
    for key, values in stored.items():
        try:
            level = float(key)
        except ValueError:
            level = math.nan
        if not (0 < level < 1 and _numbers(values, config.horizon) and min(values) >= 0):
            raise BundleError("Schema check failed: the band widths do not match the horizon.")
        widths[level] = np.asarray(values, float)
    if float(config.level) not in widths:
        raise BundleError(f"Schema check failed: no band widths at the level {config.level}.")
    return widths


def _check_preprocessors(stored: list, count: int, period: int) -> None:
    """One preprocessing per trained series, with the keys and finite statistics that
    `Preprocessor` reads and a seasonal pattern of one value per step of the period."""
    if len(stored) != count:
        raise BundleError("Schema check failed: one preprocessing per trained series is needed.")
    for prep in stored:
        if not isinstance(prep, dict) or set(prep) != set(PREPROCESSOR_SCHEMA):
            raise BundleError("Schema check failed: a stored preprocessing has the wrong keys.")
        check_schema(prep, PREPROCESSOR_SCHEMA, "preprocessor")
        seasonal = prep["seasonal_"]
        if (
            prep["period"] != period
            or not _numbers([prep["center_"], prep["scale_"]])
            or prep["scale_"] == 0
            or prep["scaling"] not in ("window", "standard", "minmax")
            or (seasonal is not None and not _numbers(seasonal, period))
        ):
            raise BundleError(
                "Schema check failed: a stored preprocessing does not match the period."
            )


__all__ = ["PanelBundle", "SeriesState", "bundle_kind", "load_panel_bundle"]
