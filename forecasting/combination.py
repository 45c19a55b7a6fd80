"""The forecast a run delivers: the network alone, or its mean with Theta (and ETS).

The M4 competition's lesson is that a mean of methods often beats each of them. With
`combine="auto"` a run compares on its validation part three candidates (`COMBINATIONS`): the
network alone, the mean of the network and Theta, and the mean of the network, ETS and Theta.
Each is scored by its mean absolute error over at most `CHOICE_ORIGINS` forecasts spread over
the validation part (`evaluation_origins`); the lowest is kept, a tie keeps the simpler. (The
MASE of one series divides every candidate's error by the same in-sample scale, so it would
rank them alike.) Every forecast compared starts at a validation origin and reads only the
values before it: nothing from the test part takes part in the choice. A validation part of
`evaluation.FEW_VALIDATION_FORECASTS` forecasts or fewer is too small a sample to choose on:
the mean of all three is delivered (20 M1 monthly and 20 M1 quarterly series, each with 1
to 4 validation forecasts: OWA 0.924 and 0.749 chosen, 0.888 and 0.735 with the mean). A
network that reads covariates is not combined: Theta and ETS read the target alone, and a
mean with them would dilute what the covariates add (a holiday's spike halved).

Theta and ETS forecast from each origin with the values before it (`baseline_forecasts`, as
the evaluation does); beyond the data they read the last `HISTORY_POINTS` values, which a
bundle stores so that it forecasts again without the data. The choice is a
`CombinationChoice` record; `CombinationChoice.sentences` is the one place it becomes prose.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from forecasting import evaluation
from forecasting.baselines import ALL_BASELINES, Baseline
from forecasting.errors import DataError
from forecasting.evaluation import baseline_forecasts, evaluation_origins
from forecasting.records import JsonRecord
from forecasting.windows import Split

NETWORK = "none"  # the network alone
# Combination -> the simple methods averaged with the network (the setting's values).
COMBINATIONS: dict[str, tuple[str, ...]] = {
    NETWORK: (),
    "theta": ("theta",),
    "ets_theta": ("ets", "theta"),
}
CHOICE_ORIGINS = 20  # validation forecasts the choice is scored on, at most
HISTORY_POINTS = 10_000  # the most recent values Theta and ETS read beyond the data
MIN_POINTS = 10  # the fewest values Theta and ETS are fitted on (without a season)
SHORT_NAMES = {"ets": "ETS", "theta": "Theta"}
# Why a combination is used: named in the configuration, compared on the validation part,
# the network alone because it reads covariates, or all three because the validation part
# is too small to choose on.
REQUESTED, COMPARED, COVARIATES = "requested", "compared", "covariates"
TOO_FEW = "too_few_forecasts"
SAFE = "ets_theta"  # delivered when there are too few validation forecasts to choose


def members(combine: str) -> tuple[str, ...]:
    """The simple methods averaged with the network ("auto" before the choice: none)."""
    return COMBINATIONS.get(combine, ())


def label(combine: str, network: str = "network") -> str:
    """The model's short name: "network", "network + Theta", "GRU + ETS + Theta"."""
    return " + ".join([network, *(SHORT_NAMES[m] for m in members(combine))])


def describe(combine: str, network: str = "network") -> str:
    """The forecast in words: "the network alone", "the mean of the network and Theta"."""
    names = [f"the {network}", *(SHORT_NAMES[m] for m in members(combine))]
    if len(names) == 1:
        return f"the {network} alone"
    return "the mean of " + ", ".join(names[:-1]) + " and " + names[-1]


def minimum_history(combine: str, window: int, period: int) -> int:
    """The fewest values a forecast reads: the network's window, and for a combination three
    seasonal cycles (what Theta and ETS need to find the season; `MIN_POINTS` without one)."""
    if not members(combine):
        return window
    return max(window, 3 * period if period > 1 else MIN_POINTS)


def check_history(combine: str, length: int, window: int, period: int) -> None:
    """Refuse a history too short for the combination's methods.

    Raises:
        DataError: Naming the minimum length and why.
    """
    need = minimum_history(combine, window, period)
    if length < need:
        raise DataError(
            f"The history has {length} points, but this model ({label(combine)}) needs at "
            f"least {need}: Theta and ETS are fitted on the history"
            + (f" and need three seasonal cycles of {period}" if period > 1 else "")
            + ". Send a longer history."
        )


def mean_forecast(
    network: np.ndarray, found: Mapping[str, np.ndarray], names: tuple[str, ...]
) -> np.ndarray:
    """The mean of the network's forecasts and those of `names` (same shapes); a method
    whose forecast from an origin is not finite (its fit failed) is left out of that mean."""
    parts = np.stack([np.asarray(network, float), *(np.asarray(found[n], float) for n in names)])
    usable = np.all(np.isfinite(parts), axis=-1, keepdims=True)
    usable[0] = True  # the network always counts (the guard checks its forecasts)
    return np.where(usable, parts, 0.0).sum(axis=0) / usable.sum(axis=0)


def member_forecasts(
    values: np.ndarray, origins: np.ndarray, horizon: int, period: int, names: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Forecasts `(len(origins), horizon)` of each method in `names`, each from the values
    before its origin."""
    if not names or not len(origins):
        return {n: np.empty((len(origins), horizon)) for n in names}
    chosen = {n: ALL_BASELINES[n] for n in names}
    return baseline_forecasts(
        np.asarray(values, float), np.asarray(origins), horizon, period, chosen
    )


def known_forecasts(
    found: Mapping[str, np.ndarray],
    origins: np.ndarray,
    methods: Mapping[str, Baseline] | None = None,
) -> Mapping[str, Baseline] | None:
    """`methods` (the evaluation's baselines, all of them when None) where those in `found`
    answer from the forecasts already made from `origins` (found by the length of the
    history given: the origin); any other history is forecast by the method itself. Spares
    the evaluation fitting Theta and ETS again. `methods` as given when nothing was found."""
    if not found:
        return methods
    if methods is None:
        methods = evaluation.ALL_BASELINES  # read here: what `evaluate` would use
    rows = {int(origin): i for i, origin in enumerate(origins)}

    def answering(name: str, method: Baseline) -> Baseline:
        def known(history: np.ndarray, horizon: int, period: int = 1) -> np.ndarray:
            row = rows.get(len(history))
            if row is None or found[name].shape[1] != horizon:
                return method(history, horizon, period)
            return found[name][row]

        return known

    return {n: answering(n, m) if n in found else m for n, m in methods.items()}


def combine_at(
    combine: str,
    network: np.ndarray,
    values: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    period: int,
) -> np.ndarray:
    """The combination's forecasts from `origins`, given the network's from the same ones."""
    names = members(combine)
    if not names:
        return np.asarray(network, float)
    return mean_forecast(network, member_forecasts(values, origins, horizon, period, names), names)


def combine_future(
    combine: str, network: np.ndarray, history: np.ndarray, horizon: int, period: int
) -> np.ndarray:
    """The combination's forecast after the end of `history` (Theta and ETS fitted on its
    last `HISTORY_POINTS` values), given the network's."""
    names = members(combine)
    if not names:
        return np.asarray(network, float)
    recent = np.asarray(history, float)[-HISTORY_POINTS:]
    found = {n: np.asarray(ALL_BASELINES[n](recent, horizon, period), float) for n in names}
    return mean_forecast(network, found, names)


@dataclass(frozen=True)
class CombinationChoice(JsonRecord):
    """Which forecast a run delivers, and why.

    Attributes:
        why: "requested" (named in the configuration), "compared" (automatic: the lowest
            validation error), "covariates" (automatic, but the network reads covariates)
            or "too_few_forecasts" (automatic, but too few validation forecasts to choose on:
            the mean of all three).
        chosen: The combination kept (a key of `COMBINATIONS`).
        errors: Candidate -> mean absolute error on the validation forecasts (the candidates
            compared, or the one requested).
        origins: Validation forecasts scored.
    """

    why: str
    chosen: str
    errors: dict[str, float] = field(default_factory=dict)
    origins: int = 0

    def sentences(self) -> tuple[str, ...]:
        """The choice in plain words, for the plan shown after training."""
        chosen = describe(self.chosen)
        if self.why == COVARIATES:
            return (
                "Forecast: the network alone. It reads covariates; a mean with Theta or ETS, "
                "which read the target alone, would dilute what they add.",
            )
        if self.why == REQUESTED:
            if self.chosen == NETWORK:
                return ()
            error = self.errors.get(self.chosen)
            figure = (
                ""
                if error is None
                else f" (mean absolute error {error:.4g} on the validation part)"
            )
            return (f"Forecast: {chosen}, as requested{figure}.",)
        if self.why == TOO_FEW:
            return (
                f"Forecast: {chosen}. The validation part holds {self.origins} "
                f"forecast{'s' if self.origins != 1 else ''}, too few to choose between the "
                "network alone and its means with Theta and ETS; the mean of all three is the "
                "safer choice (the M4 competition's lesson).",
            )
        if self.chosen not in self.errors:
            return (f"Forecast: {chosen}.",)
        against = ", ".join(
            f"{error:.4g} for {describe(name)}"
            for name, error in self.errors.items()
            if name != self.chosen
        )
        return (
            f"Forecast: {chosen}. On the validation part ({self.origins} forecasts) its mean "
            f"absolute error was {self.errors[self.chosen]:.4g}"
            + (f", against {against}." if against else "."),
        )


@dataclass(frozen=True)
class Checked:
    """The validation forecasts the choice was made on.

    Attributes:
        origins: Their origins (at most `CHOICE_ORIGINS`, spread over the validation part).
        actual: The actual values `(len(origins), horizon)`.
        forecasts: Candidate -> its forecasts from `origins`.
    """

    origins: np.ndarray
    actual: np.ndarray
    forecasts: dict[str, np.ndarray]


def choose(
    combine: str,
    values: np.ndarray,
    split: Split,
    horizon: int,
    period: int,
    network: Callable[[np.ndarray], np.ndarray],
    covariates: bool = False,
) -> tuple[CombinationChoice, Checked]:
    """Choose the combination on the validation part (see the module's docstring).

    Args:
        combine: The setting: "auto", or a key of `COMBINATIONS`.
        values: The series; only `values[:split.fit_end]` is read.
        split: Its split.
        horizon: Steps per forecast.
        period: Seasonal period.
        network: The network's forecasts `(len(origins), horizon)` from given origins.
        covariates: Whether the network reads covariates (then "auto" keeps it alone).

    Returns:
        The choice and the validation forecasts it was made on (the chosen one's give the
        residuals its bands are calibrated on).
    """
    seen = np.asarray(values, float)[: split.fit_end]  # nothing from the test part
    origins = evaluation_origins(split.origins("val", horizon), CHOICE_ORIGINS)
    actual = seen[origins[:, None] + np.arange(horizon)]
    if combine == "auto" and covariates:
        return CombinationChoice(COVARIATES, NETWORK), Checked(origins, actual, {})
    candidates = tuple(COMBINATIONS) if combine == "auto" else (combine,)
    if candidates == (NETWORK,):
        return CombinationChoice(REQUESTED, NETWORK), Checked(origins, actual, {})
    net = np.asarray(network(origins), float)
    names = tuple(dict.fromkeys(m for c in candidates for m in members(c)))
    found = member_forecasts(seen, origins, horizon, period, names)
    forecasts = {c: mean_forecast(net, found, members(c)) for c in candidates}
    errors = {c: _mae(actual, f) for c, f in forecasts.items()}
    if combine != "auto":
        chosen, why = combine, REQUESTED
    elif len(origins) <= evaluation.FEW_VALIDATION_FORECASTS:
        chosen, why = SAFE, TOO_FEW
    else:  # ties keep the earlier, simpler one
        chosen, why = min(candidates, key=lambda c: errors[c]), COMPARED
    return CombinationChoice(why, chosen, errors, len(origins)), Checked(origins, actual, forecasts)


def _mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    error = float(np.mean(np.abs(actual - forecast)))
    return error if np.isfinite(error) else float("inf")


__all__ = [
    "COMBINATIONS",
    "Checked",
    "CombinationChoice",
    "check_history",
    "choose",
    "combine_at",
    "combine_future",
    "describe",
    "known_forecasts",
    "label",
    "mean_forecast",
    "member_forecasts",
    "members",
    "minimum_history",
]
