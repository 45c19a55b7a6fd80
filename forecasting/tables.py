"""Tables of runs and results for display (pandas frames the pages show as they are):
metrics beside the baselines, runs side by side, a ranking, a backtest's folds. Numbers stay
numeric where the table sorts (`display_number`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from forecasting.plots import method_name
from forecasting.results import BacktestSummary, RunResult, Scores


def metrics_table(result: RunResult) -> pd.DataFrame:
    """Test metrics of the network and every baseline, one row each, as display text
    ("n/a" where a metric is undefined, such as MAPE with zeros in the data).

    Columns: Method, then the metric display names of `evaluation.METRIC_NAMES`.
    """
    from forecasting.evaluation import METRIC_NAMES

    test = result.metrics.test
    rows = []
    for method in ["model", *[m for m in test if m != "model"]]:
        values = test.get(method, Scores())
        row = {"Method": _model_name(result, method)}
        for key, label in METRIC_NAMES.items():
            value = getattr(values, key)
            row[label] = "n/a" if value is None else f"{value:,.3f}"
        rows.append(row)
    return pd.DataFrame(rows)


def runs_table(runs: Mapping[str, RunResult]) -> pd.DataFrame:
    """One row per finished run, numbers kept numeric (NaN when undefined) so the table
    sorts: cell, window, units, layers, epochs run, test MASE and sMAPE, skill vs seasonal
    naive (%), seconds per epoch.

    Args:
        runs: Run label -> run result.
    """
    from forecasting.config import CELL_NAMES

    rows = []
    for label, result in runs.items():
        config, metrics = result.config, result.metrics
        skill = metrics.skill_vs_seasonal_naive
        rows.append(
            {
                "Run": label,
                "Cell": CELL_NAMES.get(config.model.cell, config.model.cell),
                "Window": config.model.window,
                "Units": config.model.units,
                "Layers": config.model.layers,
                "Horizon": config.horizon,
                "Epochs run": metrics.epochs_run,
                "Test MASE": display_number(metrics.model.mase),
                "Test sMAPE %": display_number(metrics.model.smape),
                "Skill vs seasonal naive %": display_number(None if skill is None else 100 * skill),
                "Seconds/epoch": display_number(metrics.seconds_per_epoch),
            }
        )
    return pd.DataFrame(rows)


def display_number(value) -> float:
    """A number for a sortable table: NaN where undefined."""
    return np.nan if value is None else float(value)


def ranking_table(runs: Mapping[str, RunResult]) -> pd.DataFrame | None:
    """The runs ranked together with the baselines by test MASE, when they were scored on
    the same test part (same series, horizon and test points); None otherwise.

    Args:
        runs: Run label -> run result.
    """
    results = list(runs.values())
    if not results or len({r.test_part() for r in results}) != 1:
        return None
    rows = [
        {"Method": label, "Kind": "network", **_scores(result.metrics.model)}
        for label, result in runs.items()
    ]
    rows += [
        {"Method": method_name(name), "Kind": "baseline", **_scores(values)}
        for name, values in results[0].metrics.test.items()
        if name != "model"
    ]
    table = pd.DataFrame(rows).sort_values("Test MASE", na_position="last")
    table.insert(0, "Rank", range(1, len(table) + 1))
    return table


def _model_name(result: RunResult, method: str) -> str:
    """A method's display name, the model's label (`verdict.model_label`) for "model"."""
    from forecasting.verdict import model_label

    return model_label(result.config, "Network") if method == "model" else method_name(method)


def _scores(values: Scores) -> dict[str, float]:
    return {
        "Test MASE": display_number(values.mase),
        "Test sMAPE %": display_number(values.smape),
        "Test MAE": display_number(values.mae),
    }


def backtest_table(backtest: BacktestSummary) -> pd.DataFrame:
    """Mean test MASE and sMAPE over the folds per method, best first, with the MASE of
    every fold."""
    folds = backtest.folds_frame()
    per_fold = folds.pivot(index="method", columns="fold", values="mase")
    per_fold.columns = [f"MASE fold {fold}" for fold in per_fold.columns]
    summary = folds.groupby("method")[["mase", "smape"]].mean()
    table = summary.join(per_fold).sort_values("mase", na_position="last")
    table.index = [method_name(name) for name in table.index]
    table = table.rename(columns={"mase": "Mean MASE", "smape": "Mean sMAPE %"})
    return table.rename_axis("Method").reset_index().round(3)
