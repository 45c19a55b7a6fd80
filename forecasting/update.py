"""Update a bundle with newer data: three candidates compared on the newest part, the best kept.

`update_data.continue_series` checks that the new data continues the model's data (same
frequency, the target and the covariates the network reads, values that agree with the stored
last window where they overlap; a gap between them refused or filled as the Data page fills
gaps) and stitches the two. `update` then holds out the newest part (up to `folds` horizons of
the new points, leaving one horizon of them to train on when there is room; at least one) and
makes three candidates from the data before it (`forecasting.update_fit`):

- **unchanged**: the saved networks, forecasting from the longer history;
- **fine-tuned**: the saved networks trained a few more epochs on the recent windows (seeded
  with the saved seed: the same data gives the same networks);
- **retrained**: new networks trained from scratch with the saved configuration.

A bundle whose forecast is the network's mean with Theta (and ETS) keeps that combination:
each candidate's forecast is its networks' mean with the same methods, fitted on the values
before each origin. (The held-out part, one to three horizons, already picks the candidate
and calibrates the bands; choosing the combination there too would fit it to a few
forecasts.) Each is scored on the held-out part beside the baselines from the same origins
(MASE, sMAPE, seconds); the lowest MASE is kept unless the user picks another; the kept
model's bands are recalibrated on its residuals there (joined by seasonal naive's over the data
before it when the part holds `evaluation.FEW_VALIDATION_FORECASTS` forecasts or fewer, as a
thin validation part is); the parent's own forecasts of the new data give the drift check
(`forecasting.drift`). The result is a new `Bundle` whose lineage names its parent's SHA-256.
Nothing in the held-out part reaches a network's training.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.bundle import Bundle, load_bundle, parse_last
from forecasting.bundle_archive import sha256_hex
from forecasting.combination import (
    HISTORY_POINTS,
    combine_at,
    describe,
    known_forecasts,
    mean_forecast,
    member_forecasts,
)
from forecasting.drift import Drift, check_drift
from forecasting.errors import BundleError, ConfigError, DataError, ForecastingError
from forecasting.evaluation import (
    INTERVAL_LEVELS,
    Intervals,
    evaluate,
    evaluation_origins,
    mase_scale,
    metrics,
    non_negative,
    reference_note,
    thin_reference,
)
from forecasting.features import CovariateData
from forecasting.forecaster import NotFittedError, RNNForecaster
from forecasting.lineage import FINE_TUNED, METHODS, RETRAINED, UNCHANGED, Lineage, LineageStep
from forecasting.records import JsonRecord, format_timestamp, format_timestamps, stamp_texts
from forecasting.series import TimeSeries, periods_between
from forecasting.training import EpochEvent
from forecasting.update_data import FILLS, Continuation, continue_series
from forecasting.update_fit import fine_tune, retrain

MAX_FOLDS = 3  # horizons held out at most (fewer when the new data is shorter)
FINE_TUNE_EPOCHS = 5
RECENT_HORIZONS = 8  # fine-tuning reads at least this many horizons of recent targets


@dataclass(frozen=True)
class UpdateOptions(JsonRecord):
    """An update's own settings (a job's `options`).

    Attributes:
        keep: The candidate to keep whatever the scores ("unchanged", "fine-tuned",
            "retrained"); None keeps the lowest MASE.
        epochs: Epochs of fine-tuning.
        fill: How a gap between the model's data and the new data is filled ("linear",
            "time", "seasonal", "ffill"), or "none" to refuse it.
        folds: Most horizons held out to compare the candidates on.
    """

    keep: str | None = None
    epochs: int = FINE_TUNE_EPOCHS
    fill: str = "linear"
    folds: int = MAX_FOLDS

    def __post_init__(self) -> None:
        if self.keep is not None and self.keep not in METHODS:
            raise ConfigError(
                f"`keep` must be one of {', '.join(METHODS)}. Received: keep={self.keep!r}"
            )
        for name, low, high in (("epochs", 1, 1000), ("folds", 1, 20)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(
                    f"`{name}` must be a whole number from {low} to {high}. Received: "
                    f"{name}={value!r}"
                )
        if self.fill not in FILLS:
            raise ConfigError(
                f"`fill` must be one of {', '.join(FILLS)}. Received: fill={self.fill!r}"
            )


@dataclass(frozen=True)
class Score(JsonRecord):
    """One candidate's (or baseline's) errors on the held-out newest part.

    Attributes:
        name: unchanged, fine-tuned, retrained, or a baseline's name.
        mase: MASE (None when undefined or when the candidate could not be made).
        smape: sMAPE in %.
        mae: Mean absolute error.
        seconds: Wall time to make and forecast with it (None for baselines).
        note: Why the candidate could not be made ("" when it was).
    """

    name: str
    mase: float | None
    smape: float | None
    mae: float | None
    seconds: float | None = None
    note: str = ""


@dataclass(frozen=True)
class HeldOut(JsonRecord):
    """The first held-out forecast of each candidate beside the actual values (what the
    figure of `forecasting.update_plots` draws).

    Attributes:
        dates: The horizon's timestamps (`records.format_timestamps`).
        actual: The actual values there.
        forecasts: Candidate -> its forecast from the first held-out origin.
        history_dates: Timestamps of the points before it (up to three horizons).
        history: Their values.
    """

    dates: list
    actual: list[float]
    forecasts: dict[str, list[float]]
    history_dates: list = field(default_factory=list)
    history: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class UpdateReport(JsonRecord):
    """What an update did (the CLI's `--json`, the job's result).

    Attributes:
        candidates: The three candidates' scores, in the order unchanged, fine-tuned,
            retrained.
        baselines: The baselines' scores from the same origins.
        chosen: The candidate kept.
        best: The candidate with the lowest MASE (what is kept without a choice).
        parent_sha256: SHA-256 of the parent bundle file.
        drift: The parent's drift check on the new data.
        lineage: The new bundle's chain of updates.
        name: The series' name.
        held_out: First and last timestamp of the held-out part, as text.
        held_out_points: Points in it.
        origins: Forecasts scored in it.
        new_points: Points after the parent's last timestamp.
        notes: Repairs and remarks in plain words.
        held_out_forecasts: The candidates' first held-out forecasts beside the actual
            values (None in reports that lack them).
    """

    candidates: list[Score]
    baselines: list[Score]
    chosen: str
    best: str
    parent_sha256: str
    drift: Drift
    lineage: Lineage
    name: str = ""
    held_out: list = field(default_factory=list)
    held_out_points: int = 0
    origins: int = 0
    new_points: int = 0
    notes: list[str] = field(default_factory=list)
    held_out_forecasts: HeldOut | None = None


@dataclass
class UpdateResult:
    """An update's report, a new bundle per candidate made and their held-out forecasts.

    Attributes:
        report: The scores, the choice, the drift check and the kept bundle's lineage.
        bundles: Candidate -> its bundle (its bands recalibrated on its own held-out
            residuals, its lineage step naming it): any can be kept instead of the choice.
        origins: The held-out origins (indices into `series`).
        forecasts: Candidate -> forecasts from `origins` (rows x horizon).
        series: The stitched series the update read.
    """

    report: UpdateReport
    bundles: dict[str, Bundle]
    origins: np.ndarray
    forecasts: dict[str, np.ndarray]
    series: TimeSeries

    @property
    def bundle(self) -> Bundle:
        """The kept candidate's bundle."""
        return self.bundles[self.report.chosen]


@dataclass
class _Candidate:
    name: str
    forecaster: RNNForecaster | None
    start: int = 0  # position of series[0] in the forecaster's preprocessing
    seconds: float = 0.0
    forecasts: np.ndarray | None = None
    metrics: dict = field(default_factory=dict)
    note: str = ""


# --------------------------------------------------------------------- update
def update(
    bundle: Bundle,
    new: TimeSeries,
    parent_sha256: str,
    options: UpdateOptions | None = None,
    *,
    baselines=None,
    on_epoch: Callable[[EpochEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> UpdateResult:
    """Update `bundle` with `new` (see the module's docstring).

    Args:
        bundle: The loaded parent bundle (`load_bundle`).
        new: Newer data of the same series (it may repeat the model's data; where it does,
            the values must agree).
        parent_sha256: SHA-256 of the parent bundle file (recorded in the lineage).
        options: Which candidate to keep, fine-tuning epochs, gap filling, folds.
        baselines: Name -> baseline method beside the candidates; all baselines when None.
        on_epoch: Receives an `EpochEvent` after every epoch of fine-tuning and retraining.
        should_stop: Polled during training; True cancels the update (nothing is made).

    Raises:
        DataError: The new data does not continue the model's data, or adds fewer points
            than one horizon.
        ConfigError: The candidate asked for in `options.keep` could not be made.
        ForecastingError: Cancelled.
    """
    options = options or UpdateOptions()
    joined = continue_series(bundle, new, options.fill)
    series, new_start, offset = joined.series, joined.new_start, joined.offset
    values, n = series.values, len(series)
    config, period = bundle.config, bundle.period
    horizon = config.horizon
    new_points = n - new_start
    if new_points < horizon:
        seen = stamp_texts(series.index[new_start - 1 : new_start])[0]
        raise DataError(
            f"The new data adds {new_points} point(s) after the model's last timestamp "
            f"({seen}); an update needs at least one horizon "
            f"({horizon}) of new points to compare the candidates on data none of them "
            "trained on."
        )
    # at least one horizon of new points is left to fine-tune and retrain on when there is room
    folds = max(1, min(options.folds, new_points // horizon - 1))
    end = n - folds * horizon  # the held-out newest part starts here
    origins = evaluation_origins(np.arange(end, n - horizon + 1))
    covariates = (
        CovariateData.of(series, bundle.roles, None) if bundle.encoder is not None else None
    )
    clip = bundle.intervals.clip
    names = bundle.combination  # the parent's: every candidate is combined the same way
    found = member_forecasts(values, origins, horizon, period, names)

    def scored(candidate: _Candidate, make: Callable[[], RNNForecaster | None]) -> _Candidate:
        started = time.perf_counter()
        try:
            made = make()
        except (DataError, NotFittedError) as exc:
            candidate.note = str(exc)
            return candidate
        _stop_if_asked(should_stop)
        if made is not None:
            candidate.forecaster = made
        network = candidate.forecaster.predict(values, origins, candidate.start, covariates)
        candidate.forecasts = clip(mean_forecast(network, found, names))
        candidate.seconds = time.perf_counter() - started
        return candidate

    parent = bundle.forecaster
    recent = max(RECENT_HORIZONS * horizon, end - new_start)
    candidates = [
        scored(_Candidate(UNCHANGED, parent, offset), lambda: None),
        scored(
            _Candidate(FINE_TUNED, None, offset),
            lambda: fine_tune(
                parent,
                values,
                end,
                offset,
                covariates,
                options.epochs,
                recent,
                on_epoch,
                should_stop,
            ),
        ),
        scored(
            _Candidate(RETRAINED, None, 0),
            lambda: retrain(bundle, values, end, covariates, on_epoch, should_stop),
        ),
    ]
    _stop_if_asked(should_stop)
    made = [c for c in candidates if c.forecasts is not None]
    evaluation = evaluate(
        made[0].forecasts,
        values,
        origins,
        horizon,
        period,
        end,
        known_forecasts(found, origins, baselines),
    )
    scale = mase_scale(values[:end], period)
    for candidate in made:
        candidate.metrics = metrics(evaluation.actual, candidate.forecasts, scale)
    best = min(made, key=_rank).name
    chosen_name = options.keep or best
    chosen = next(c for c in candidates if c.name == chosen_name)
    if chosen.forecasts is None:
        raise ConfigError(
            f"The {chosen_name} candidate could not be made: {chosen.note} Keep "
            f"{' or '.join(c.name for c in made)} instead."
        )
    drift = _drift(bundle, values, new_start, offset, covariates)
    baseline_scores = [
        _score(name, evaluation.metrics[name]) for name in evaluation.metrics if name != "model"
    ]
    # a held-out part of few forecasts: seasonal naive's errors over the data before it join
    # the bands' calibration, as on a thin validation part (`pipeline`)
    more_actual, more_predicted = thin_reference(len(origins), values[:end], horizon, period)
    band_note = (
        [reference_note(len(origins), len(more_actual), "held-out part", "the data before it")]
        if len(more_actual)
        else []
    )
    first_seen = _first_seen(bundle, series)
    made_at = format_timestamp(pd.Timestamp.now("UTC").tz_localize(None).floor("s"))
    lineages = {
        c.name: (bundle.lineage or Lineage()).then(
            LineageStep(
                parent_sha256,
                c.name,
                first_seen,
                format_timestamp(series.last),
                int(new_points),
                made_at,
            )
        )
        for c in made
    }
    report = UpdateReport(
        [
            _score(c.name, c.metrics, c.seconds if c.forecasts is not None else None, c.note)
            for c in candidates
        ],
        baseline_scores,
        chosen_name,
        best,
        parent_sha256,
        drift,
        lineages[chosen_name],
        str(series.name),
        [format_timestamp(series.index[end]), format_timestamp(series.last)],
        n - end,
        len(origins),
        int(new_points),
        [*joined.notes, *_combination_note(bundle, len(origins)), *band_note],
        _held_out(series, end, horizon, made),
    )
    bundles = {}
    for candidate in made:
        intervals = Intervals.calibrate(
            np.vstack([evaluation.actual, more_actual]),
            np.vstack([candidate.forecasts, more_predicted]),
            (*INTERVAL_LEVELS, config.level),
            relative=bool(np.all(values[:end] > 0)),
            non_negative=non_negative(values),
        )
        test = {"model": candidate.metrics}
        test.update({s.name: evaluation.metrics[s.name] for s in baseline_scores})
        bundles[candidate.name] = _new_bundle(
            bundle, candidate, series, intervals, test, report, lineages[candidate.name]
        )
    forecasts = {c.name: c.forecasts for c in made}
    return UpdateResult(report, bundles, origins, forecasts, series)


def read_parent(data: bytes) -> tuple[Bundle, str]:
    """The parent bundle of an update, checked and loaded by `load_bundle`, and the SHA-256
    of its file (recorded in the lineage). A many-series bundle is refused: update works on
    single-series bundles.

    Raises:
        BundleError: The bundle fails a check, or holds many series.
    """
    from forecasting.panel_bundle import bundle_kind

    try:
        kind = bundle_kind(data)
    except ForecastingError:
        kind = None  # load_bundle names what is wrong
    if kind == "panel":
        raise BundleError(
            "This is a many-series model bundle; updating with new data works on "
            "single-series bundles for now. Train the many-series model again on the new data."
        )
    return load_bundle(data), sha256_hex(data)


def update_bytes(
    data: bytes, new: TimeSeries, options: UpdateOptions | None = None, **kwargs
) -> UpdateResult:
    """`update` of the bundle file `data` (`read_parent`); `kwargs` go to `update`."""
    bundle, digest = read_parent(data)
    return update(bundle, new, digest, options, **kwargs)


def _stop_if_asked(should_stop) -> None:
    if should_stop is not None and should_stop():
        raise ForecastingError("Cancelled: the update was stopped; no new bundle was made.")


def _rank(candidate: _Candidate) -> tuple:
    """Lower is better: MASE, then MAE; ties keep the simpler candidate (list order)."""
    mase, mae = candidate.metrics.get("mase"), candidate.metrics.get("mae")
    return (
        mase is None,
        math.inf if mase is None else mase,
        math.inf if mae is None else mae,
        METHODS.index(candidate.name),
    )


def _score(name: str, found: dict, seconds: float | None = None, note: str = "") -> Score:
    return Score(name, found.get("mase"), found.get("smape"), found.get("mae"), seconds, note)


def _combination_note(bundle: Bundle, origins: int) -> tuple[str, ...]:
    """Why the candidates keep the parent's combination (nothing for the network alone)."""
    if not bundle.combination:
        return ()
    return (
        f"Each candidate's forecast is {describe(bundle.config.combine, 'networks')}, as "
        f"the parent's: the held-out part ({origins} forecast(s)) picks the candidate and "
        "calibrates its bands, too few to choose the combination again.",
    )


def _drift(bundle, values, new_start, offset, covariates) -> Drift:
    """The parent's forecasts of every new point it can reach, against what it promised."""
    horizon = bundle.config.horizon
    origins = evaluation_origins(np.arange(new_start, len(values) - horizon + 1))
    network = bundle.forecaster.predict(values, origins, offset, covariates)
    forecasts = bundle.intervals.clip(
        combine_at(bundle.config.combine, network, values, origins, horizon, bundle.period)
    )
    actual = values[origins[:, None] + np.arange(horizon)]
    return check_drift(
        actual,
        forecasts,
        bundle.intervals,
        bundle.config.level,
        (bundle.metrics.get("test") or {}).get("model") or {},
        values[:new_start],
        bundle.period,
    )


def _held_out(series: TimeSeries, end: int, horizon: int, made: list) -> HeldOut:
    back = max(0, end - 3 * horizon)
    return HeldOut(
        format_timestamps(series.index[end : end + horizon]),
        series.values[end : end + horizon].tolist(),
        {c.name: c.forecasts[0].tolist() for c in made},
        format_timestamps(series.index[back:end]),
        series.values[back:end].tolist(),
    )


def _first_seen(bundle: Bundle, series: TimeSeries):
    """The first timestamp of all the data the new bundle has seen (the parent's or the
    new data's, whichever is earlier)."""
    first = bundle.series.get("first")
    if first is None:
        return format_timestamp(series.index[0])
    parent_first = parse_last(first, series.freq)
    return format_timestamp(min(parent_first, series.index[0]))


def _new_bundle(bundle, chosen, series, intervals, test, report, lineage) -> Bundle:
    """A candidate as a bundle that forecasts after the end of `series`."""
    config, window = bundle.config, bundle.config.model.window
    forecaster = chosen.forecaster
    last_covariates = None
    if forecaster.encoder_ is not None:
        columns = list(bundle.roles.columns)
        table = series.extra[columns] if columns else pd.DataFrame(index=series.index)
        last_covariates = table.iloc[-window:]
    first = lineage.last.first
    meta = {
        "name": series.name,
        "freq": series.freq,
        "length": periods_between(parse_last(first, series.freq), series.last, series.freq) + 1,
        "first": first,
        "last": format_timestamp(series.last),
    }
    dropped = ("interval_coverage_test", "interval_coverage_by_level")
    figures = {k: v for k, v in bundle.metrics.items() if k not in dropped}
    figures.update(
        test=test,
        test_points=report.held_out_points,
        test_origins=report.origins,
        update={
            "method": chosen.name,
            "chosen": report.chosen,
            "candidates": [score.to_dict() for score in report.candidates],
            "drift": report.drift.to_dict(),
        },
    )
    return Bundle(
        forecaster,
        config,
        bundle.period,
        meta,
        np.asarray(series.values[-window:]),
        chosen.start + len(series) - 1,
        intervals,
        figures,
        forecaster.history_.to_dict(),
        bundle.data_options,
        roles=bundle.roles,
        last_covariates=last_covariates,
        lineage=lineage,
        combination_history=(
            np.asarray(series.values[-HISTORY_POINTS:]) if bundle.combination else None
        ),
    )


__all__ = [
    "FINE_TUNED",
    "RETRAINED",
    "UNCHANGED",
    "Continuation",
    "Score",
    "UpdateOptions",
    "UpdateReport",
    "UpdateResult",
    "continue_series",
    "read_parent",
    "update",
    "update_bytes",
]
