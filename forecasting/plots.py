"""Plotly figures of series, training and results, shared by the dashboard and reports.

Every function takes plain data (arrays, frames, the `RunResult` record of a run from
`forecasting.results.run_result`) and returns a `plotly.graph_objects.Figure`; nothing here
imports Streamlit or TensorFlow. Long series are thinned for display with a min/max envelope
(`downsample`) so peaks stay visible; the data itself is never changed. Tables for display:
`forecasting.tables`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from forecasting.baselines import BASELINE_NAMES
from forecasting.records import FrameRecord
from forecasting.results import OneStepFrame, RunResult, TrainingHistory
from forecasting.ui_text import plot_text

MAX_POINTS = 5000

# One colour per role, the same on every page.
ACTUAL = "#1f2937"
MODEL = "#2563eb"
ONE_STEP = "#f59e0b"
BAND = "rgba(37, 99, 235, 0.15)"
TRAIN = "#2563eb"
VALIDATION = "#dc2626"
PALETTE = (
    "#2563eb",
    "#dc2626",
    "#059669",
    "#d97706",
    "#7c3aed",
    "#db2777",
    "#0891b2",
    "#65a30d",
    "#4b5563",
    "#9333ea",
)
BASELINE_COLORS = {
    "naive": "#9ca3af",
    "seasonal_naive": "#059669",
    "naive2": "#a16207",
    "drift": "#7c3aed",
    "moving_average": "#db2777",
    "ets": "#0891b2",
    "theta": "#65a30d",
}


def method_name(name: str) -> str:
    """Display name of a method in a result: "model" -> "Network", "ets" -> "ETS ..."."""
    return "Network" if name == "model" else BASELINE_NAMES.get(name, name)


def downsample(
    x: Sequence | np.ndarray | pd.Index, y: Sequence | np.ndarray, max_points: int = MAX_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """Thin a line to about `max_points` points, keeping each bucket's minimum and maximum
    (in time order) so that spikes and troughs survive.

    Args:
        x: Positions (dates or steps).
        y: Values, same length.
        max_points: Most points returned (at least 4).

    Returns:
        `(x, y)` unchanged when short enough, else the thinned arrays.
    """
    x_arr, y_arr = np.asarray(x), np.asarray(y, dtype=float)
    n = y_arr.size
    max_points = max(4, int(max_points))
    if n <= max_points:
        return x_arr, y_arr
    size = -(-n // (max_points // 2))  # points per bucket, rounded up
    buckets = -(-n // size)
    padded = np.full(buckets * size, np.nan)
    padded[:n] = y_arr
    blocks = padded.reshape(buckets, size)
    filled = np.where(np.isnan(blocks), np.inf, blocks)
    low = np.argmin(filled, axis=1)
    high = np.argmax(np.where(np.isnan(blocks), -np.inf, blocks), axis=1)
    starts = np.arange(buckets) * size
    index = np.unique(np.concatenate([starts + low, starts + high]))
    index = index[index < n]
    return x_arr[index], y_arr[index]


def _layout(
    fig: go.Figure,
    title: str | None,
    x_title: str,
    y_title: str,
    height: int = 380,
    legend_below: bool = False,
) -> go.Figure:
    """The common look: white template, title top left, a horizontal legend above the plot
    (below it for long run labels), unified hover. The texts may hold user-provided names:
    they are shown literally (`plot_text`), never as Plotly's HTML."""
    if legend_below:
        legend = dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0)
        margin = dict(l=10, r=10, t=50 if title else 20, b=10)
    else:
        legend = dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1)
        margin = dict(l=10, r=10, t=80 if title else 40, b=10)
    fig.update_layout(
        title=dict(text=plot_text(title), x=0, xanchor="left", y=0.98, yanchor="top")
        if title
        else None,
        template="plotly_white",
        height=height,
        hovermode="x unified",
        margin=margin,
        legend=legend,
        xaxis_title=plot_text(x_title),
        yaxis_title=plot_text(y_title),
    )
    return fig


def _frame(table: FrameRecord | pd.DataFrame) -> pd.DataFrame:
    return table if isinstance(table, pd.DataFrame) else table.to_frame()


def _x_title(values) -> str:
    return "Date" if pd.api.types.is_datetime64_any_dtype(pd.Index(values)) else "Step"


def _band(
    fig: go.Figure, x, lower, upper, name: str, color: str = BAND, legendgroup: str | None = None
) -> None:
    """A shaded prediction band between `lower` and `upper`."""
    x = list(x)
    fig.add_trace(
        go.Scatter(
            x=x + x[::-1],
            y=list(upper) + list(lower)[::-1],
            fill="toself",
            fillcolor=color,
            line=dict(width=0),
            hoverinfo="skip",
            name=name,
            legendgroup=legendgroup,
        )
    )


def series_figure(
    index, values, name: str = "value", title: str | None = None, max_points: int = MAX_POINTS
) -> go.Figure:
    """The loaded series as a line, thinned for display when long (SVG: software WebGL in a
    GPU-less browser draws 5,000 points slower than SVG does).

    Args:
        index: Dates or steps.
        values: The observations.
        name: The value column's name (y-axis title).
        title: Figure title.
        max_points: Display limit (see `downsample`).
    """
    x, y = downsample(index, values, max_points)
    fig = go.Figure(
        go.Scatter(x=x, y=y, mode="lines", name=plot_text(name), line=dict(color=ACTUAL, width=1.3))
    )
    fig.update_layout(showlegend=False)
    return _layout(fig, title, _x_title(index), name)


def loss_figure(
    loss: Sequence[float],
    val_loss: Sequence[float | None] | None = None,
    best_epoch: int | None = None,
    total_epochs: int | None = None,
    title: str | None = "Loss per epoch",
) -> go.Figure:
    """Training and validation loss per epoch, with the kept (best) epoch marked.

    Args:
        loss: Training loss per epoch.
        val_loss: Validation loss per epoch (None entries are skipped).
        best_epoch: 1-based epoch whose weights were kept.
        total_epochs: Fix the x-axis to this many epochs (a live chart that fills up).
        title: Figure title.
    """
    epochs = list(range(1, len(loss) + 1))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=list(loss),
            mode="lines+markers",
            name="Training loss",
            line=dict(color=TRAIN),
            marker=dict(size=4),
        )
    )
    if val_loss is not None and any(v is not None for v in val_loss):
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[np.nan if v is None else v for v in val_loss],
                mode="lines+markers",
                name="Validation loss",
                line=dict(color=VALIDATION),
                marker=dict(size=4),
            )
        )
    if best_epoch:
        fig.add_vline(
            x=best_epoch,
            line=dict(color="#6b7280", dash="dot", width=1),
            annotation_text=f"kept: epoch {best_epoch}",
            annotation_position="top left",
        )
    if total_epochs:
        fig.update_xaxes(range=[0.5, max(total_epochs, len(loss)) + 0.5])
    return _layout(fig, title, "Epoch", "Loss (scaled units)", height=340)


def loss_overlay(
    histories: Mapping[str, TrainingHistory], title: str | None = "Loss per epoch"
) -> go.Figure:
    """Validation loss (solid) and training loss (dotted) of several runs.

    Args:
        histories: Run label -> its training history.
    """
    fig = go.Figure()
    for i, (label, history) in enumerate(histories.items()):
        color = PALETTE[i % len(PALETTE)]
        loss = history.loss
        epochs = list(range(1, len(loss) + 1))
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=loss,
                mode="lines",
                name=plot_text(f"{label} (training)"),
                line=dict(color=color, dash="dot"),
                legendgroup=label,
            )
        )
        val = history.val_loss
        if any(v is not None for v in val):
            fig.add_trace(
                go.Scatter(
                    x=list(range(1, len(val) + 1)),
                    y=[np.nan if v is None else v for v in val],
                    mode="lines",
                    name=plot_text(f"{label} (validation)"),
                    line=dict(color=color),
                    legendgroup=label,
                )
            )
    return _layout(fig, title, "Epoch", "Loss (scaled units)", height=460, legend_below=True)


def test_figure(
    result: RunResult,
    baselines: Sequence[str] = (),
    context: int | None = None,
    title: str | None = "Test period: actual and predicted",
) -> go.Figure:
    """Actual values over the test period (with some history before it), the network's
    one-step-ahead predictions, its full-horizon forecast from the first test origin with
    the prediction band, and chosen baselines from the same origin.

    Args:
        result: A run result (`forecasting.results.run_result`).
        baselines: Baseline names (keys of `result.baselines_test`) to draw.
        context: History points shown before the test period (default: two horizons).
    """
    recent = result.recent.to_frame()
    one_step = result.one_step.to_frame()
    test = result.test_forecast.to_frame()
    date, value = recent.columns[0], recent.columns[1]
    level = result.metrics.interval_level
    horizon = result.horizon or len(test)
    context = 2 * horizon if context is None else context
    first = one_step[one_step.columns[0]].iloc[0] if len(one_step) else None
    if first is not None:
        before = recent[recent[date] < first].tail(context)
        shown = pd.concat([before, recent[recent[date] >= first]])
    else:
        shown = recent
    from forecasting.verdict import model_label

    model = model_label(result.config, "Network")  # "Network + Theta" for a combination
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=shown[date],
            y=shown[value],
            mode="lines",
            name="Actual",
            line=dict(color=ACTUAL, width=1.6),
        )
    )
    test_x = test[test.columns[0]]
    band_name = f"{level:.0%} prediction band" if level else "Prediction band"
    _band(fig, test_x, test["lower"], test["upper"], band_name)
    fig.add_trace(
        go.Scatter(
            x=test_x,
            y=test["forecast"],
            mode="lines+markers",
            name=f"{model}, {horizon} steps ahead",
            line=dict(color=MODEL, width=2),
            marker=dict(size=5),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=one_step[one_step.columns[0]],
            y=one_step["predicted"],
            mode="lines",
            name=f"{model}, one step ahead",
            line=dict(color=ONE_STEP, width=1.4, dash="dash"),
        )
    )
    for name in baselines:
        values = result.baselines_test.get(name)
        if values is None:
            continue
        fig.add_trace(
            go.Scatter(
                x=test_x,
                y=values,
                mode="lines",
                name=f"{method_name(name)}, {horizon} steps ahead",
                line=dict(color=BASELINE_COLORS.get(name, "#6b7280"), width=1.3, dash="dot"),
            )
        )
    if first is not None:
        fig.add_vline(x=first, line=dict(color="#9ca3af", dash="dash", width=1))
    return _layout(fig, title, _x_title(shown[date]), result.series.name or value, height=440)


def residuals_figure(
    one_step: OneStepFrame | pd.DataFrame,
    title: str | None = "Residuals of the one-step-ahead predictions",
) -> go.Figure:
    """Actual minus predicted over the test period, as bars around zero."""
    frame = _frame(one_step)
    x = frame[frame.columns[0]]
    residual = frame["actual"] - frame["predicted"]
    colors = np.where(residual >= 0, MODEL, VALIDATION)
    fig = go.Figure(go.Bar(x=x, y=residual, marker_color=colors, name="Actual − predicted"))
    fig.add_hline(y=0, line=dict(color="#6b7280", width=1))
    fig.update_layout(showlegend=False, bargap=0.1)
    return _layout(fig, title, _x_title(x), "Actual − predicted", height=320)


def by_lead_figure(
    by_lead: Mapping[str, Sequence[float]],
    methods: Sequence[str] | None = None,
    title: str | None = "Mean absolute error by lead time",
) -> go.Figure:
    """Error at each step ahead for the network and the baselines.

    Args:
        by_lead: Method -> MAE per lead time (`result.by_lead`).
        methods: Which methods to draw (default: all).
    """
    fig = go.Figure()
    for name in methods or list(by_lead):
        errors = by_lead.get(name)
        if errors is None:
            continue
        is_model = name == "model"
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(errors) + 1)),
                y=errors,
                mode="lines+markers",
                name=method_name(name),
                line=dict(
                    color=MODEL if is_model else BASELINE_COLORS.get(name, "#6b7280"),
                    width=2.6 if is_model else 1.3,
                    dash=None if is_model else "dot",
                ),
                marker=dict(size=6 if is_model else 4),
            )
        )
    fig.update_xaxes(dtick=1 if len(next(iter(by_lead.values()), [])) <= 24 else None)
    return _layout(fig, title, "Steps ahead", "Mean absolute error", height=360)


def forecast_figure(
    recent: FrameRecord | pd.DataFrame,
    forecast: FrameRecord | pd.DataFrame,
    level: float | None = None,
    name: str = "value",
    history: int | None = None,
    title: str | None = "Forecast",
) -> go.Figure:
    """The end of the history and the forecast after it, with its prediction band.

    Args:
        recent: History frame (date, actual) or its record.
        forecast: Forecast frame (date, forecast, lower, upper) or its record.
        level: Nominal coverage of the band (0.9 -> "90% prediction band").
        name: The series' name (y-axis title).
        history: History points shown (default: all of `recent`).
    """
    recent, forecast = _frame(recent), _frame(forecast)
    if history is not None:
        recent = recent.tail(history)
    fig = go.Figure()
    x_hist, y_hist = downsample(recent[recent.columns[0]], recent[recent.columns[1]])
    fig.add_trace(
        go.Scatter(
            x=x_hist, y=y_hist, mode="lines", name="History", line=dict(color=ACTUAL, width=1.5)
        )
    )
    fx = forecast[forecast.columns[0]]
    if {"lower", "upper"} <= set(forecast.columns):
        _band(
            fig,
            fx,
            forecast["lower"],
            forecast["upper"],
            f"{level:.0%} prediction band" if level else "Prediction band",
        )
    fig.add_trace(
        go.Scatter(
            x=fx,
            y=forecast["forecast"],
            mode="lines+markers",
            name="Forecast",
            line=dict(color=MODEL, width=2.2),
            marker=dict(size=5),
        )
    )
    if len(recent) and len(forecast):  # join the history's last point to the forecast
        fig.add_trace(
            go.Scatter(
                x=[recent.iloc[-1, 0], fx.iloc[0]],
                y=[recent.iloc[-1, 1], forecast["forecast"].iloc[0]],
                mode="lines",
                line=dict(color=MODEL, width=1.2, dash="dot"),
                showlegend=False,
                hoverinfo="skip",
            )
        )
    return _layout(fig, title, _x_title(fx), name, height=440)


def forecasts_overlay(
    results: Mapping[str, RunResult],
    history: int | None = None,
    title: str | None = "Forecasts of the chosen runs",
) -> go.Figure:
    """The future forecasts of several runs over the history of the first one.

    Args:
        results: Run label -> run result.
        history: History points shown (default: three horizons of the longest forecast).
    """
    fig = go.Figure()
    items = list(results.items())
    if not items:
        return _layout(fig, title, "Date", "value", legend_below=True)
    first = items[0][1]
    recent = first.recent.to_frame()
    longest = max(len(r.forecast) for _, r in items)
    recent = recent.tail(history or max(3 * longest, 36))
    fig.add_trace(
        go.Scatter(
            x=recent[recent.columns[0]],
            y=recent[recent.columns[1]],
            mode="lines",
            name="History",
            line=dict(color=ACTUAL, width=1.5),
        )
    )
    for i, (label, result) in enumerate(items):
        forecast = result.forecast.to_frame()
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(
            go.Scatter(
                x=forecast[forecast.columns[0]],
                y=forecast["forecast"],
                mode="lines+markers",
                name=plot_text(label),
                line=dict(color=color, width=2),
                marker=dict(size=4),
            )
        )
    name = first.series.name or recent.columns[1]
    return _layout(
        fig, title, _x_title(recent[recent.columns[0]]), name, height=460, legend_below=True
    )
