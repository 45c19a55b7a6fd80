"""Many-series results for the pages: the M4 aggregate as a table and a sentence, the
per-series metrics, the distribution of per-series skill against the best baseline, one
series' test part and forecast, and the long forecast CSV.

Plain data in (the aggregate dict and the frames of a `PanelResult`), tables, sentences and
Plotly figures out, in the look of `forecasting.plots`; nothing here imports Streamlit or
TensorFlow. Series ids are user text: they go through `ui_text.plot_text` in figures (the
pages escape them in Markdown) and through `export.safe_cell` in the CSV.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from forecasting.export import FORECAST_COLUMNS
from forecasting.panel import ID_SEPARATOR
from forecasting.plots import ACTUAL, MODEL, _band, _layout, _x_title, method_name
from forecasting.tables import display_number

NETWORK = "model"
NAIVE2 = "naive2"
HIGHLIGHT = "background-color: rgba(37, 99, 235, 0.12); font-weight: 600"
SKILL_AXIS = "Skill against the best baseline (1 − network MASE ÷ best baseline MASE)"


# ---------------------------------------------------------------------- the aggregate
def aggregate_table(aggregate: Mapping[str, Mapping[str, float | None]]) -> pd.DataFrame:
    """The M4 aggregate, one row per method: the network first, then the baselines from the
    lowest OWA. Numbers stay numeric (NaN where undefined) so the table sorts.

    Columns: Method, Mean sMAPE %, Mean MASE, OWA.
    """
    others = sorted(
        (m for m in aggregate if m != NETWORK),
        key=lambda m: (aggregate[m].get("owa") is None, display_number(aggregate[m].get("owa"))),
    )
    rows = [
        {
            "Method": method_name(method),
            "Mean sMAPE %": display_number(aggregate[method].get("smape")),
            "Mean MASE": display_number(aggregate[method].get("mase")),
            "OWA": display_number(aggregate[method].get("owa")),
        }
        for method in ([NETWORK] if NETWORK in aggregate else []) + others
    ]
    return pd.DataFrame(rows, columns=["Method", "Mean sMAPE %", "Mean MASE", "OWA"])


def highlight_network(table: pd.DataFrame):
    """The table as a pandas Styler with the network's row highlighted."""
    network = method_name(NETWORK)

    def row_style(row: pd.Series) -> list[str]:
        return [HIGHLIGHT if row["Method"] == network else ""] * len(row)

    return table.style.apply(row_style, axis=1).format(
        {"Mean sMAPE %": "{:.2f}", "Mean MASE": "{:.3f}", "OWA": "{:.3f}"}, na_rep="n/a"
    )


def aggregate_sentence(
    aggregate: Mapping[str, Mapping[str, float | None]], series: int
) -> tuple[str, bool]:
    """The network's OWA against Naive2 and the best method, in plain words.

    Returns:
        `(sentence, beats)`: `beats` is True when the network has the lowest OWA of all.
    """
    scope = f" Means over the {series:,} series the network forecast (M4 rules)."
    network = aggregate.get(NETWORK, {})
    owa = network.get("owa")
    if owa is None or not np.isfinite(owa):
        mase = network.get("mase")
        shown = "n/a" if mase is None else f"{mase:.2f}"
        return (
            "The global network's OWA cannot be computed: Naive2's errors are zero or "
            f"undefined on the test parts. Its mean MASE is {shown}; compare the table." + scope,
            False,
        )
    change = 1 - owa
    if round(abs(change), 2) == 0:
        relation = "level with Naive2"
    else:
        relation = f"{abs(change):.0%} {'better' if change > 0 else 'worse'} than Naive2"
    text = f"The global network's OWA is {owa:.2f}: {relation}"
    rivals = {
        m: v["owa"]
        for m, v in aggregate.items()
        if m != NETWORK and v.get("owa") is not None and np.isfinite(v["owa"])
    }
    if not rivals:
        return text + "." + scope, change > 0
    best = min(rivals, key=rivals.get)
    if owa < rivals[best]:
        return (
            f"{text}, and the best of every method (next: {method_name(best)} with "
            f"{rivals[best]:.2f})." + scope,
            True,
        )
    joiner = ", but" if change > 0 else ";"
    tie = "ties with it at" if owa == rivals[best] else "is best with"
    return f"{text}{joiner} {method_name(best)} {tie} {rivals[best]:.2f}." + scope, False


def coverage_sentence(coverage: Mapping, level: float) -> str | None:
    """How many test values the band at the run's level held, pooled over the series."""
    found = {round(float(k), 4): v for k, v in coverage.items() if v is not None}
    share = found.get(round(float(level), 4))
    if share is None:
        return None
    return (
        f"Pooled over the series, {share:.0%} of the test values fell inside the "
        f"{level:.0%} prediction band (calibrated on the validation parts)."
    )


# ---------------------------------------------------------------------- per series
def skill_by_series(scores: pd.DataFrame) -> pd.DataFrame:
    """Each series' network scores beside its best baseline (lowest MASE) and the skill
    1 - network MASE / best baseline MASE (NaN where a MASE is undefined or zero).

    Columns: label, mase, smape, mae, best, best_mase, skill.
    """
    columns = ["label", "mase", "smape", "mae", "best", "best_mase", "skill"]
    if scores.empty:
        return pd.DataFrame(columns=columns)
    frame = scores.copy()
    frame["mase"] = pd.to_numeric(frame["mase"], errors="coerce")
    network = frame[frame["method"] == NETWORK].set_index("label")
    baselines = frame[(frame["method"] != NETWORK) & np.isfinite(frame["mase"])]
    best_rows = baselines.loc[baselines.groupby("label", sort=False)["mase"].idxmin()]
    best = best_rows.set_index("label")[["method", "mase"]]
    out = pd.DataFrame({"label": network.index})
    out["mase"] = network["mase"].to_numpy(dtype=float)
    out["smape"] = pd.to_numeric(network["smape"], errors="coerce").to_numpy(dtype=float)
    out["mae"] = pd.to_numeric(network["mae"], errors="coerce").to_numpy(dtype=float)
    out["best"] = [best["method"].get(label, "") for label in out["label"]]
    out["best_mase"] = [float(best["mase"].get(label, np.nan)) for label in out["label"]]
    valid = out["best_mase"] > 0
    out["skill"] = np.where(valid, 1 - out["mase"] / out["best_mase"].where(valid), np.nan)
    return out[columns].reset_index(drop=True)


def series_table(scores: pd.DataFrame) -> pd.DataFrame:
    """The per-series metrics for display, numbers kept numeric so the table sorts.

    Columns: Series, Network MASE, Network sMAPE %, Network MAE, Best baseline, Best baseline
    MASE, Skill (1 - network MASE / best baseline MASE; above 0: the network did better).
    """
    found = skill_by_series(scores)
    return pd.DataFrame(
        {
            "Series": found["label"],
            "Network MASE": found["mase"],
            "Network sMAPE %": found["smape"],
            "Network MAE": found["mae"],
            "Best baseline": [method_name(m) if m else "n/a" for m in found["best"]],
            "Best baseline MASE": found["best_mase"],
            "Skill": found["skill"],
        }
    )


def search_series(table: pd.DataFrame, query: str, column: str = "Series") -> pd.DataFrame:
    """The rows whose `column` holds every word of `query` (case-insensitive)."""
    words = str(query).lower().split()
    if not words:
        return table
    labels = table[column].astype(str).str.lower()
    keep = np.ones(len(table), dtype=bool)
    for word in words:
        keep &= labels.str.contains(word, regex=False).to_numpy()
    return table[keep]


def series_skill_sentence(skill: Sequence[float] | pd.Series) -> str:
    """How many series the network forecast better than their best baseline."""
    values = np.asarray(skill, dtype=float)
    values = values[np.isfinite(values)]
    if not values.size:
        return "No series has a skill that can be computed (a MASE is undefined or zero)."
    better = int((values > 0).sum())
    return (
        f"The network beats the best baseline on {better:,} of {values.size:,} series "
        f"({better / values.size:.0%}); median skill {np.median(values):+.0%}."
    )


def skill_histogram(skill: Sequence[float] | pd.Series, title: str | None = None) -> go.Figure:
    """The distribution of per-series skill, with a line at 0 (no better, no worse)."""
    values = np.asarray(skill, dtype=float)
    values = values[np.isfinite(values)]
    fig = go.Figure()
    fig.add_trace(
        go.Histogram(
            x=values,
            nbinsx=min(40, max(5, int(np.sqrt(values.size)) * 2)),
            marker=dict(color=MODEL, line=dict(color="white", width=1)),
            name="Series",
            hovertemplate="Skill %{x}<br>%{y} series<extra></extra>",
        )
    )
    fig.add_vline(x=0, line=dict(color=ACTUAL, dash="dash", width=1.2))
    fig.update_xaxes(tickformat=".0%")
    fig.update_layout(showlegend=False, bargap=0.05, hovermode="closest")
    return _layout(
        fig, title or "Per-series skill against the best baseline", SKILL_AXIS, "Series", 360
    )


# ---------------------------------------------------------------------- one series
def labels_of(frame: pd.DataFrame, id_cols: Sequence[str]) -> pd.Series:
    """Each row's series label: its id values joined as `Panel.labels` joins them."""
    if not len(id_cols):
        return pd.Series([""] * len(frame), index=frame.index)
    parts = [frame[c].astype(str) for c in id_cols]
    label = parts[0]
    for part in parts[1:]:
        label = label + ID_SEPARATOR + part
    return label


def series_forecast(forecast: pd.DataFrame, id_cols: Sequence[str], label: str) -> pd.DataFrame:
    """One series' rows of the long forecast: date, forecast, lower, upper."""
    rows = forecast[labels_of(forecast, id_cols) == label]
    return rows[list(FORECAST_COLUMNS)].reset_index(drop=True)


def series_test_figure(
    test: pd.DataFrame,
    label: str,
    level: float | None = None,
    history: pd.DataFrame | None = None,
    name: str = "value",
    title: str | None = None,
) -> go.Figure:
    """One series' test part: the actual values, the network's forecast from the test origin
    and its band, after some history when given.

    Args:
        test: The result's test frame (label, date, actual, forecast, lower, upper).
        label: The series.
        level: Nominal coverage of the band.
        history: The points before the test part (date, value), or None.
        name: What the values are (the y-axis title).
    """
    rows = test[test["label"] == label]
    fig = go.Figure()
    x = rows["date"]
    if history is not None and len(history):
        fig.add_trace(
            go.Scatter(
                x=history[history.columns[0]],
                y=history[history.columns[1]],
                mode="lines",
                name="History",
                line=dict(color="#9ca3af", width=1.3),
            )
        )
    _band(fig, x, rows["lower"], rows["upper"], _band_name(level))
    fig.add_trace(
        go.Scatter(
            x=x,
            y=rows["actual"],
            mode="lines+markers",
            name="Actual",
            line=dict(color=ACTUAL, width=1.8),
            marker=dict(size=5),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=rows["forecast"],
            mode="lines+markers",
            name=f"Network, {len(rows)} steps ahead",
            line=dict(color=MODEL, width=2),
            marker=dict(size=5),
        )
    )
    if history is not None and len(history) and len(rows):
        fig.add_vline(x=rows["date"].iloc[0], line=dict(color="#9ca3af", dash="dash", width=1))
    title = title or f"{label}: test part, actual and predicted"
    return _layout(fig, title, _x_title(x), name, height=420)


def _band_name(level: float | None) -> str:
    return f"{level:.0%} prediction band" if level else "Prediction band"


# ---------------------------------------------------------------------- the long CSV
def history_frame(index, values, points: int) -> pd.DataFrame:
    """The last `points` of a series as (date, value) for the charts."""
    frame = pd.DataFrame({"date": pd.Index(index), "value": np.asarray(values, dtype=float)})
    return frame.tail(points).reset_index(drop=True)


# ---------------------------------------------------------------------- the Runs page
def panel_run_name(result, job_id: str = "") -> str:
    """Short name of a many-series run: its label ("GRU 32×1, window 26, global on 6 series"),
    or "6 series, GRU 32×1" without one, and the time from the job id (" · 14:03:12")."""
    from forecasting.config import CELL_NAMES

    model = result.config.model
    count = len(result.labels) + len(result.fallback)
    cell = CELL_NAMES.get(model.cell, model.cell)
    text = result.label or f"{count:,} series, {cell} {model.units}×{model.layers}"
    stamp = job_id.split("-")[1] if job_id.count("-") >= 2 else ""
    if len(stamp) == 6:
        text += f" · {stamp[:2]}:{stamp[2:4]}:{stamp[4:]}"
    return text


def value_name(result) -> str:
    """The name of the forecast values (the file's value column when known)."""
    return str((result.data_options or {}).get("value_col") or "value")


def panel_runs_table(runs: Mapping) -> pd.DataFrame:
    """One row per finished many-series run (label -> `PanelResult`), numbers numeric so the
    table sorts: series, cell, window, units, layers, horizon, epochs run, the network's OWA
    and mean MASE, the best baseline by OWA and its OWA, seconds of training."""
    from forecasting.config import CELL_NAMES

    rows = []
    for label, result in runs.items():
        model, aggregate = result.config.model, result.aggregate
        network = aggregate.get(NETWORK, {})
        rivals = {m: v["owa"] for m, v in aggregate.items() if m != NETWORK and v.get("owa")}
        best = min(rivals, key=rivals.get, default="")
        rows.append(
            {
                "Run": label,
                "Series": len(result.labels) + len(result.fallback),
                "Cell": CELL_NAMES.get(model.cell, model.cell),
                "Window": model.window,
                "Units": model.units,
                "Layers": model.layers,
                "Horizon": result.config.horizon,
                "Epochs run": int(result.timings.get("epochs_run", len(result.history.loss))),
                "Network OWA": display_number(network.get("owa")),
                "Network mean MASE": display_number(network.get("mase")),
                "Best baseline": method_name(best) if best else "n/a",
                "Best baseline OWA": display_number(rivals.get(best)),
                "Training seconds": display_number(result.timings.get("train_seconds")),
            }
        )
    return pd.DataFrame(rows)
