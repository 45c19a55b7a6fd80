"""What the covariates did to a run: the network with and without them, permutation
importance, and a what-if forecast beside the original.

Plain data in (a `RunResult`, frames), tables, sentences and Plotly figures out, in the look of
`forecasting.plots`; nothing here imports Streamlit or TensorFlow. Column names are user text:
they go through `ui_text.plot_text` in figures (and the pages escape them in Markdown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from forecasting.plots import MODEL, VALIDATION, _frame, _layout, forecast_figure
from forecasting.records import FrameRecord
from forecasting.results import Scores
from forecasting.ui_text import plot_text

WITHOUT = "#6b7280"  # the twin network without covariates
WHAT_IF = "#d97706"
SAME_WITHIN = 0.02  # MASE within 2% of each other: no real difference
CALENDAR = "calendar"
COMPARED = (("mase", "MASE"), ("smape", "sMAPE %"), ("rmse", "RMSE"))


def input_name(name: str) -> str:
    """Display name of an importance entry: "calendar" -> "Calendar features"."""
    return "Calendar features" if name == CALENDAR else name


# ---------------------------------------------------------------------- with / without
def comparison_table(with_scores: Scores, without: Scores | None) -> pd.DataFrame:
    """MASE, sMAPE and RMSE of the network with its covariates beside the same network
    trained on the target alone (scored on the same origins), as display text ("n/a" where
    undefined).

    Columns: Metric, With covariates, Without covariates, Change (with minus without, in
    percent of the value without).
    """
    without = without or Scores()
    rows = []
    for key, label in COMPARED:
        a, b = getattr(with_scores, key), getattr(without, key)
        rows.append(
            {
                "Metric": label,
                "With covariates": _text(a),
                "Without covariates": _text(b),
                "Change": "n/a" if a is None or b is None or b == 0 else f"{(a - b) / b:+.1%}",
            }
        )
    return pd.DataFrame(rows)


def _text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.3f}"


@dataclass(frozen=True)
class CovariateVerdict:
    """Whether the covariates helped.

    Attributes:
        outcome: "better", "worse", "same" or "unknown" (MASE undefined).
        sentence: The finding in plain words, with the figures.
    """

    outcome: str
    sentence: str


def covariate_verdict(
    with_scores: Scores, without: Scores | None, where: str = "on the test part"
) -> CovariateVerdict:
    """Which network did better, with or without the covariates, and by how much (relative
    MASE); says so plainly when the covariates do not help.

    Args:
        with_scores: The network with its covariates.
        without: The same network trained on the target alone.
        where: Where they were scored ("on the test part", "over the 3 folds").
    """
    with_mase = with_scores.mase
    without_mase = (without or Scores()).mase
    if with_mase is None or without_mase is None or without_mase <= 0:
        return CovariateVerdict(
            "unknown",
            f"The MASE with and without the covariates cannot be compared {where} (the "
            "scale of the errors is zero or undefined); compare RMSE in the table.",
        )
    change = (with_mase - without_mase) / without_mase
    figures = f"MASE {with_mase:.2f} with them against {without_mase:.2f} without"
    if abs(change) < SAME_WITHIN:
        return CovariateVerdict(
            "same",
            f"The covariates make no real difference {where}: {figures} "
            f"({abs(change):.1%} apart). The simpler network without them does as well.",
        )
    if change < 0:
        return CovariateVerdict(
            "better",
            f"The covariates help {where}: {figures}, {-change:.0%} lower error.",
        )
    return CovariateVerdict(
        "worse",
        f"The covariates do not help {where}: {figures}, {change:.0%} higher error. The "
        "network does better on the target alone; consider giving these columns the role "
        "ignore on the Data page.",
    )


def covariate_lead_figure(
    by_lead: Mapping[str, Sequence[float]],
    title: str | None = "Error by lead time, with and without covariates",
) -> go.Figure:
    """Mean absolute error at each step ahead of the network with its covariates ("model")
    and of its twin without them ("without_covariates"), e.g. `RunResult.by_lead`."""
    fig = go.Figure()
    lines = (
        ("model", "With covariates", MODEL, None),
        ("without_covariates", "Without covariates", WITHOUT, "dash"),
    )
    longest = 0
    for key, name, color, dash in lines:
        errors = by_lead.get(key)
        if errors is None:
            continue
        longest = max(longest, len(errors))
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(errors) + 1)),
                y=list(errors),
                mode="lines+markers",
                name=name,
                line=dict(color=color, width=2.4, dash=dash),
                marker=dict(size=5),
            )
        )
    fig.update_xaxes(dtick=1 if longest <= 24 else None)
    return _layout(fig, title, "Steps ahead", "Mean absolute error", height=360)


IMPORTANCE_AXIS = "MASE increase when the column is shuffled"


def importance_figure(
    importance: Mapping[str, float],
    title: str | None = "Permutation importance on the test part",
) -> go.Figure:
    """Horizontal bars: each input's test MASE increase when its values are shuffled, the
    largest on top; inputs whose shuffling lowered the error are drawn in red."""
    items = sorted(importance.items(), key=lambda item: item[1])  # Plotly draws bottom-up
    names = [plot_text(input_name(name)) for name, _ in items]
    values = [float(value) for _, value in items]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=names,
            orientation="h",
            marker_color=[MODEL if v >= 0 else VALIDATION for v in values],
            name=IMPORTANCE_AXIS,
            hovertemplate="%{y}: %{x:+.3f}<extra></extra>",
        )
    )
    fig.add_vline(x=0, line=dict(color="#6b7280", width=1))
    fig.update_layout(showlegend=False, hovermode="closest")
    height = max(240, 90 + 34 * len(items))
    return _layout(fig, title, IMPORTANCE_AXIS, "Input", height=height)


# ---------------------------------------------------------------------- what-if
def what_if_table(
    table: pd.DataFrame, column: str, *, offset: float | None = None, category: str | None = None
) -> pd.DataFrame:
    """A copy of a future file's table with one column changed over every row: `offset`
    added to a numeric column, or every value set to `category`."""
    changed = table.copy()
    if category is not None:
        changed[column] = pd.Series(str(category), index=changed.index, dtype=object)
    elif offset is not None:
        changed[column] = pd.to_numeric(changed[column], errors="coerce") + float(offset)
    return changed


def what_if_label(column: str, *, offset: float | None = None, category: str | None = None) -> str:
    """Short description of a change: "TEMP +2" or "holiday = yes"."""
    if category is not None:
        return f"{column} = {category}"
    return f"{column} {float(offset or 0.0):+g}"


def what_if_figure(
    recent: FrameRecord | pd.DataFrame,
    original: FrameRecord | pd.DataFrame,
    changed: FrameRecord | pd.DataFrame,
    label: str,
    level: float | None = None,
    name: str = "value",
    history: int | None = None,
    title: str | None = "What-if forecast beside the original",
) -> go.Figure:
    """The original forecast with its band (`plots.forecast_figure`) and the what-if
    forecast beside it as a dashed line, with its own band lightly shaded.

    Args:
        recent: History frame (date, actual).
        original: The run's forecast (date, forecast, lower, upper).
        changed: The what-if forecast, same columns.
        label: What was changed (`what_if_label`), user text.
    """
    fig = forecast_figure(recent, original, level, name, history=history, title=title)
    frame = _frame(changed)
    x = list(frame[frame.columns[0]])
    if {"lower", "upper"} <= set(frame.columns):
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=list(frame["upper"]) + list(frame["lower"])[::-1],
                fill="toself",
                fillcolor="rgba(217, 119, 6, 0.10)",
                line=dict(width=0),
                hoverinfo="skip",
                name="What-if band",
                showlegend=False,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=list(frame["forecast"]),
            mode="lines+markers",
            name=plot_text(f"What-if: {label}"),
            line=dict(color=WHAT_IF, width=2.2, dash="dash"),
            marker=dict(size=5, symbol="diamond"),
        )
    )
    for trace in fig.data:  # the run's own forecast, named as such beside the what-if
        if trace.name == "Forecast":
            trace.name = "Original forecast"
    return fig


def what_if_difference(
    original: FrameRecord | pd.DataFrame, changed: FrameRecord | pd.DataFrame
) -> pd.DataFrame:
    """Date, original forecast, what-if forecast and their difference, step by step."""
    a, b = _frame(original), _frame(changed)
    n = min(len(a), len(b))
    before = a["forecast"].to_numpy(dtype=float)[:n]
    after = b["forecast"].to_numpy(dtype=float)[:n]
    return pd.DataFrame(
        {
            "date": a[a.columns[0]].to_numpy()[:n],
            "original": before,
            "what-if": after,
            "difference": after - before,
        }
    )
