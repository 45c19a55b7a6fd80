"""The automatic scaling choice, in one place: which scaling a run uses, and why.

With `scaling="auto"` and at least `MIN_ORIGINS_TO_CHOOSE` forecasts in the validation part,
one network per scaling of `AUTO_SCALINGS` is fitted (the ensemble's first seed) and the
scaling whose network forecast the validation part with the lower mean absolute error is kept;
the rest of the ensemble is trained with it. With fewer forecasts the comparison would be
noise, and per-window scaling (the safer with trends) is used. A global scaling is never
tried when the recent level lies outside what the network is trained on (`level_outside`): a
network fitted on one global scale saturates on levels it never saw and returns the old level.
The decision is a `ScalingChoice` record; `ScalingChoice.sentences` is the one place it becomes
prose.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from forecasting.config import AUTO_SCALINGS, ModelConfig, TrainConfig
from forecasting.features import CovariateData
from forecasting.forecaster import NotFittedError, RNNForecaster
from forecasting.records import JsonRecord
from forecasting.training import EpochEvent, History
from forecasting.windows import Split

# Validation forecasts needed before automatic scaling compares candidates.
MIN_ORIGINS_TO_CHOOSE = 50
FALLBACK_SCALING = "window"
SCALING_NAMES = {
    "window": "per window",
    "standard": "global (standardized)",
    "minmax": "global (min-max)",
}
GLOBAL_SCALINGS = ("standard", "minmax")
# The training part's range is widened by this share of its span on either side; a recent
# level beyond it is one the network never saw.
LEVEL_MARGIN = 0.25
# Why a scaling is used: named in the configuration, too few validation forecasts to
# compare, compared on the validation part, or the recent level is outside the training range.
REQUESTED, TOO_FEW, COMPARED = "requested", "too_few_forecasts", "compared"
LEVEL_OUTSIDE = "level_outside"


@dataclass(frozen=True)
class ScalingChoice(JsonRecord):
    """Which scaling a run uses, and why.

    Attributes:
        why: "requested" (named in the configuration), "too_few_forecasts" (automatic, but
            the validation part is too short to compare), "level_outside" (automatic, but the
            recent level lies outside the training range) or "compared" (automatic).
        chosen: The scaling used; "" while a comparison has not run yet.
        candidates: The scalings compared ("compared" only).
        errors: Candidate -> mean absolute error of its network on the validation part
            (filled once the comparison ran; a cancel may leave out a candidate).
        origins: Forecasts in the validation part.
        recent_level: The mean of the last horizon of values before the test part's origin,
            when it lies outside the training range; None otherwise.
        train_range: The training part's lowest and highest value ([] when not checked).
    """

    why: str
    chosen: str = ""
    candidates: tuple[str, ...] = ()
    errors: dict[str, float] = field(default_factory=dict)
    origins: int = 0
    recent_level: float | None = None
    train_range: list[float] = field(default_factory=list)

    @property
    def level_outside(self) -> bool:
        """Whether the recent level lies outside the training range (with its margin)."""
        return self.recent_level is not None and bool(self.train_range)

    def _level_text(self) -> str:
        low, high = self.train_range
        return (
            f"the recent level ({self.recent_level:.4g}) lies outside the range the "
            f"network is trained on ({low:.4g} to {high:.4g})"
        )

    def sentences(self) -> tuple[str, ...]:
        """The choice in plain words, for the plan shown before and after training."""
        if self.why == LEVEL_OUTSIDE:
            return (
                f"Scaling: per window (changes from the last value), because "
                f"{self._level_text()}: a network on one global scale would never have "
                f"seen such values.",
            )
        if self.why == REQUESTED and self.level_outside:
            return (
                f"Scaling: {SCALING_NAMES.get(self.chosen, self.chosen)}, as requested, "
                f"although {self._level_text()}; forecasts far off the series' recent "
                f"values are replaced by the best baseline's.",
            )
        if self.why == TOO_FEW:
            return (
                f"Scaling: per window (changes from the last value). The validation part "
                f"holds too few forecasts ({self.origins}, {MIN_ORIGINS_TO_CHOOSE} needed) "
                f"to compare it with one global scale.",
            )
        if self.why != COMPARED:
            return ()
        text = (
            "Scaling: automatic. One network sees each window as changes from its last "
            "value, another sees the series on one global scale; the scaling with the "
            "lower error on the validation part is kept (and used by the rest of the "
            "ensemble).",
        )
        if len(self.errors) < 2:
            return text
        others = ", ".join(
            f"{error:.4g} {SCALING_NAMES[name]}"
            for name, error in self.errors.items()
            if name != self.chosen
        )
        return (
            *text,
            f"Scaling kept: {SCALING_NAMES[self.chosen]}, mean absolute error "
            f"{self.errors[self.chosen]:.4g} on the validation part (against "
            f"{others}).",
        )


def level_outside(
    values: np.ndarray | None, split: Split, horizon: int
) -> tuple[float, list[float]] | None:
    """The recent level that lies outside the training part's range, or None.

    The recent level is the mean of the last `horizon` values before the test part's origin
    (`split.fit_end`): nothing after that origin may decide how the network is built, or the
    test scores would peek at the test part. It lies outside when it is beyond the training
    part's lowest or highest value by more than `LEVEL_MARGIN` of that range's span. A level
    that moves away later (inside the test part or before the final forecast) is the guard's
    job (`forecasting.guard`), which checks each forecast against the values before its origin.

    Returns:
        `(recent level, [low, high])` when it lies outside; None when it is inside (or no
        values were given).
    """
    if values is None:
        return None
    values = np.asarray(values, dtype=float)
    trained = values[: split.train_end]
    trained = trained[np.isfinite(trained)]
    if trained.size == 0:
        return None
    low, high = float(trained.min()), float(trained.max())
    margin = LEVEL_MARGIN * (high - low)
    recent = values[max(0, split.fit_end - max(horizon, 1)) : split.fit_end]
    level = float(np.nanmean(recent)) if recent.size else low
    outside = level < low - margin or level > high + margin
    return (level, [low, high]) if outside else None


def plan_scaling(
    scaling: str, split: Split, horizon: int, values: np.ndarray | None = None
) -> ScalingChoice:
    """The choice as far as it is known before training.

    Args:
        scaling: The configured scaling ("auto" or a scaling's name).
        split: The chronological split of the series.
        horizon: Steps forecast from each origin.
        values: The whole series; when given, a global scaling is not tried where the recent
            level lies outside the training range (`level_outside`).
    """
    origins = len(split.origins("val", horizon))
    outside = level_outside(values, split, horizon)
    level = {} if outside is None else {"recent_level": outside[0], "train_range": outside[1]}
    if scaling != "auto":
        return ScalingChoice(
            REQUESTED, scaling, origins=origins, **(level if scaling in GLOBAL_SCALINGS else {})
        )
    if outside is not None:
        return ScalingChoice(LEVEL_OUTSIDE, FALLBACK_SCALING, origins=origins, **level)
    if origins < MIN_ORIGINS_TO_CHOOSE:
        return ScalingChoice(TOO_FEW, FALLBACK_SCALING, origins=origins)
    return ScalingChoice(COMPARED, candidates=AUTO_SCALINGS, origins=origins)


@dataclass
class Selection:
    """A fitted forecaster and how its scaling was chosen.

    Attributes:
        forecaster: The fitted forecaster, its scaling resolved (never "auto").
        choice: The scaling used, and why.
        histories: Every network trained, the candidates left out included (for timings).
    """

    forecaster: RNNForecaster
    choice: ScalingChoice
    histories: list[History]


def fit_forecaster(
    model: ModelConfig,
    train: TrainConfig,
    horizon: int,
    period: int,
    values: np.ndarray,
    split: Split,
    *,
    covariates: CovariateData | None = None,
    on_epoch: Callable[[EpochEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Selection:
    """Fit a forecaster, choosing its scaling first when `model.scaling` is "auto".

    Nothing at or after `split.fit_end` (the test part) is fitted on or read: the level that
    keeps a global scaling away (`level_outside`) is the one before the test origin.

    Raises:
        NotFittedError: Cancelled before the first network finished an epoch.
        TrainingError: The loss became NaN.
    """
    choice = plan_scaling(model.scaling, split, horizon, values)
    if choice.chosen:
        forecaster = RNNForecaster(model.replace(scaling=choice.chosen), train, horizon, period)
        forecaster.fit(
            values, split, covariates=covariates, on_epoch=on_epoch, should_stop=should_stop
        )
        return Selection(forecaster, choice, list(forecaster.histories_))
    return _compare(
        choice, model, train, horizon, period, values, split, covariates, on_epoch, should_stop
    )


def _compare(
    choice: ScalingChoice,
    model: ModelConfig,
    train: TrainConfig,
    horizon: int,
    period: int,
    values: np.ndarray,
    split: Split,
    covariates: CovariateData | None,
    on_epoch,
    should_stop,
) -> Selection:
    """One network per candidate (the ensemble's first seed); the rest of the ensemble is
    trained with the scaling whose network forecast the validation part better."""
    members = len(choice.candidates) + model.members - 1
    origins = split.origins("val", horizon)
    actual = np.asarray(values, dtype=float)[origins[:, None] + np.arange(horizon)]
    fitted: dict[str, RNNForecaster] = {}
    errors: dict[str, float] = {}
    histories: list[History] = []

    def fit(scaling: str, networks: int, seed: int, offset: int) -> RNNForecaster | None:
        def event(e: EpochEvent) -> None:
            on_epoch(dataclasses.replace(e, member=offset + e.member, members=members))

        part = RNNForecaster(
            model.replace(scaling=scaling, ensemble=networks),
            train.replace(seed=seed),
            horizon,
            period,
        )
        try:
            part.fit(
                values,
                split,
                covariates=covariates,
                on_epoch=event if on_epoch else None,
                should_stop=should_stop,
            )
        except NotFittedError:  # cancelled before its first epoch: keep what was fitted
            if not fitted:
                raise
            return None
        histories.extend(part.histories_)
        return part

    for rank, scaling in enumerate(choice.candidates):
        candidate = fit(scaling, 1, train.seed, rank)
        if candidate is None:
            break
        predicted = candidate.predict(values, origins, covariates=covariates)
        error = float(np.mean(np.abs(predicted - actual)))
        fitted[scaling], errors[scaling] = candidate, error if np.isfinite(error) else np.inf
        if candidate.histories_[-1].stopped_by == "cancel":
            break
    chosen = min(errors, key=errors.get)
    best = fitted[chosen]
    if model.members > 1 and histories[-1].stopped_by != "cancel":
        rest = fit(chosen, model.members - 1, train.seed + 1, len(choice.candidates))
        if rest is not None:
            best.join(rest)
    forecaster = RNNForecaster(model.replace(scaling=chosen), train, horizon, period)
    forecaster.adopt(best)
    return Selection(
        forecaster, dataclasses.replace(choice, chosen=chosen, errors=errors), histories
    )
