"""Who won on the test part: the network or the best baseline, by MASE.

One rule for the dashboard and the CLI: the network is compared with the best baseline that
forecast the same test origins, not only with seasonal naive. A baseline that wins has its own
future forecast (`baseline_future`), with a band calibrated on its test-part errors. "The
network" is the forecast a run delivers, named by `model_label`: the network alone ("GRU") or
its mean with Theta and ETS ("GRU + Theta", `forecasting.combination`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from forecasting.baselines import BASELINE_NAMES

if TYPE_CHECKING:
    import pandas as pd

    from forecasting.config import RunConfig
    from forecasting.pipeline import TrainedRun

MODEL = "model"


def model_label(config: RunConfig, network: str | None = None) -> str:
    """The model's name wherever it is shown: "GRU", "GRU + Theta", "LSTM + ETS + Theta"
    (`network` names the network instead of its cell: "Network + Theta" in tables)."""
    from forecasting.combination import label
    from forecasting.config import CELL_NAMES

    return label(config.combine, network or CELL_NAMES.get(config.model.cell, "network"))


@dataclass(frozen=True)
class Verdict:
    """The network against the best baseline on the test part.

    Attributes:
        model: The network's MASE (None when undefined).
        best: The baseline with the lowest MASE ("" when none has one).
        best_mase: That baseline's MASE.
        winner: "model", the best baseline's name, or "" when MASE cannot compare them.
    """

    model: float | None
    best: str = ""
    best_mase: float | None = None
    winner: str = ""

    @property
    def best_label(self) -> str:
        """The best baseline's display name ("ETS (Holt-Winters)")."""
        return BASELINE_NAMES.get(self.best, self.best)

    def to_dict(self) -> dict:
        """JSON for scripts: {"best_baseline": {"name", "mase"} or None, "winner"}."""
        best = {"name": self.best, "mase": self.best_mase} if self.best else None
        return {"best_baseline": best, "winner": self.winner or None}


def verdict(mase: Mapping[str, float | None]) -> Verdict:
    """Judge method name -> test MASE ("model" is the network). A tie goes to the baseline
    (the simpler method); the network wins only with a strictly lower MASE."""
    scored = {
        name: value
        for name, value in mase.items()
        if name != MODEL and value is not None and np.isfinite(value)
    }
    model = mase.get(MODEL)
    if not scored:
        return Verdict(model)
    best = min(scored, key=scored.get)
    if model is None or not np.isfinite(model):
        return Verdict(model, best, scored[best])
    return Verdict(model, best, scored[best], MODEL if model < scored[best] else best)


def baseline_future(run: TrainedRun, name: str) -> pd.DataFrame | None:
    """Baseline `name`'s forecast from the end of the series: date, forecast, lower, upper,
    the band calibrated (split-conformal) on its own test-part forecasts, which used nothing
    after their origins. None when the baseline fails on this series."""
    import pandas as pd

    from forecasting.baselines import ALL_BASELINES
    from forecasting.evaluation import Intervals

    evaluation, values, level = run.evaluation, run.series.values, run.config.level
    if name not in ALL_BASELINES or name not in evaluation.forecasts:
        return None
    forecast = np.asarray(
        ALL_BASELINES[name](values, run.config.horizon, run.plan.period), dtype=float
    )
    tested = evaluation.forecasts[name]
    if not (np.all(np.isfinite(forecast)) and np.all(np.isfinite(tested))):
        return None
    intervals = Intervals.calibrate(
        evaluation.actual,
        tested,
        [level],
        relative=bool(np.all(values > 0)),
        non_negative=run.intervals.non_negative,
    )
    forecast = intervals.clip(forecast)
    lower, upper = intervals.bounds(forecast, level)
    return pd.DataFrame(
        {
            "date": run.series.future_index(run.config.horizon),
            "forecast": forecast,
            "lower": lower,
            "upper": upper,
        }
    )


def offer_sentence(
    name: str, mase: float | None, model_mase: float | None, combine: str = "none"
) -> str:
    """Why a baseline's forecast is offered beside the model's, in one plain sentence
    (`combine`: the run's combination, named when the network is not alone)."""
    from forecasting.combination import describe, members

    label = BASELINE_NAMES.get(name, name)
    figures = ""
    if mase is not None and model_mase is not None:
        figures = (
            f" (MASE {mase:.2f} against {model_mase:.2f} for {describe(combine)})"
            if members(combine)
            else f" (MASE {mase:.2f} against the network's {model_mase:.2f})"
        )
    return (
        f"On this series {label} had the lower error on the test part{figures}: its "
        f"forecast is offered below."
    )
