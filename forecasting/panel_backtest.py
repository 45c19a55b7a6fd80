"""Rolling-origin backtest of many series: K folds, each cutting every series at the fold origin.

Fold k of K holds back the last (K - k) horizons of every series and trains one global network
(`train_panel`) on what is left, whose last horizon is the fold's test part: the network and
the baselines forecast it from the same origin and are scored by the M4 rules. No fold sees a
series' points after its origin. The last fold tests each series' last horizon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from forecasting.config import RunConfig
from forecasting.errors import ConfigError, DataError, TrainingError
from forecasting.panel import Panel
from forecasting.panel_pipeline import plan_panel, train_panel
from forecasting.records import json_number
from forecasting.training import EpochEvent

FIGURES = ("smape", "mase", "owa")


@dataclass
class PanelBacktest:
    """The M4 aggregates of every fold.

    Attributes:
        horizon: Steps per forecast.
        folds: One row per fold and method: fold, method, smape, mase, owa.
        scored: Series scored in each fold (fold -> count).
        not_scored: Each fold's series too short to be scored there (fold -> labels): the
            fallback's series and those with nothing left before the fold's origin.
        scores: One row per fold, series and method: fold, label, method and every metric.
    """

    horizon: int
    folds: pd.DataFrame
    scored: dict[int, int]
    not_scored: dict[int, tuple[str, ...]]
    scores: pd.DataFrame

    def mean(self) -> pd.DataFrame:
        """Each figure's mean over the folds per method (rows), best OWA first."""
        table = self.folds.drop(columns="fold").groupby("method").mean()
        return table[list(FIGURES)].sort_values(["owa", "mase"], na_position="last")

    def to_dict(self) -> dict:
        """Plain JSON: horizon, per-fold aggregates (method -> figures) and their mean."""
        per_fold = []
        for fold, rows in self.folds.groupby("fold"):
            per_fold.append(
                {
                    "fold": int(fold),
                    "held_back": (len(self.scored) - int(fold)) * self.horizon,
                    "series_scored": self.scored[int(fold)],
                    "not_scored": list(self.not_scored[int(fold)]),
                    "aggregate": _figures(rows.set_index("method")),
                }
            )
        return {
            "horizon": self.horizon,
            "folds": len(per_fold),
            "per_fold": per_fold,
            "mean": _figures(self.mean()),
        }


def _figures(table: pd.DataFrame) -> dict:
    """method -> {"smape", "mase", "owa"}, NaN as None."""
    return {
        str(method): {name: json_number(row[name]) for name in FIGURES}
        for method, row in table.iterrows()
    }


def cut_panel(panel: Panel, held_back: int, keep: int) -> tuple[Panel | None, tuple[str, ...]]:
    """Every series without its last `held_back` points; series left with fewer than `keep`
    points are left out (their labels returned). None when no series is left."""
    picked, left_out = [], []
    for position, (label, series) in enumerate(zip(panel.labels, panel.series, strict=True)):
        if len(series) - held_back >= keep:
            picked.append(position)
        else:
            left_out.append(label)
    if not picked:
        return None, tuple(left_out)
    cut = Panel(
        tuple(panel.series[i].head(len(panel.series[i]) - held_back) for i in picked),
        tuple(panel.ids[i] for i in picked),
        panel.id_cols,
        panel.notes,
    )
    return cut, tuple(left_out)


def panel_backtest(
    panel: Panel,
    config: RunConfig,
    folds: int,
    *,
    on_fold: Callable[[int, int], None] | None = None,
    on_epoch: Callable[[EpochEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PanelBacktest:
    """Run a K-fold rolling-origin backtest of one global network over every series.

    Args:
        panel: The whole series.
        config: Run settings; `horizon` 0 derives it from the season (once, for every fold).
        folds: Number of folds (K >= 1).
        on_fold: Called with (fold, folds) before each fold trains.
        on_epoch: Receives each fold's epoch events.
        should_stop: Polled between folds and during training; True cancels the backtest.

    Raises:
        ConfigError: Fewer than one fold.
        DataError: A fold leaves no series long enough for a network.
        TrainingError: When cancelled, or the loss became NaN.
    """
    if folds < 1:
        raise ConfigError(f"`folds` must be at least 1. Received: folds={folds}")
    horizon = config.horizon or plan_panel(panel, config).config.horizon
    config = config.replace(horizon=horizon)
    rows, scores, scored, not_scored = [], [], {}, {}
    for k in range(1, folds + 1):
        if should_stop is not None and should_stop():
            raise TrainingError("The backtest was cancelled.")
        if on_fold is not None:
            on_fold(k, folds)
        held_back = (folds - k) * horizon
        fold_panel, left_out = cut_panel(panel, held_back, horizon + 2)
        try:
            if fold_panel is None:
                raise DataError("No series has points left before the fold's origin.")
            if not plan_panel(fold_panel, config).splits:
                raise DataError("No series is long enough there for a network to score.")
            run = train_panel(fold_panel, config, on_epoch=on_epoch, should_stop=should_stop)
        except DataError as exc:
            raise DataError(
                f"Fold {k} of {folds} holds back the last {held_back + horizon} points of "
                f"every series. {exc} Or use fewer folds."
            ) from None
        for method, figures in run.aggregate.items():
            rows.append({"fold": k, "method": method, **{n: figures[n] for n in FIGURES}})
        scores.append(run.scores.assign(fold=k))
        scored[k] = len(run.plan.splits)
        not_scored[k] = (*run.plan.fallback, *left_out)
    table = pd.DataFrame(rows).astype({n: float for n in FIGURES})
    return PanelBacktest(horizon, table, scored, not_scored, pd.concat(scores, ignore_index=True))
