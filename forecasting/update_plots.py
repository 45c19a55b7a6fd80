"""The figure of an update: each candidate's first forecast of the held-out newest part
beside the actual values (and the points before them), with the one kept drawn solid."""

from __future__ import annotations

import plotly.graph_objects as go

from forecasting.plots import ACTUAL, _layout, _x_title
from forecasting.records import parse_timestamps
from forecasting.ui_text import plot_text

COLORS = {"unchanged": "#6b7280", "fine-tuned": "#d97706", "retrained": "#2563eb"}


def held_out_figure(report, kept: str | None = None, title: str | None = None) -> go.Figure:
    """The candidates' forecasts from the first held-out origin against the actual values.

    Args:
        report: An `UpdateReport` with `held_out_forecasts`.
        kept: The candidate drawn solid (default: the report's choice).
        title: The figure's title (a series name in it is shown literally).
    """
    kept = kept or report.chosen
    held = report.held_out_forecasts
    fig = go.Figure()
    if held is None:
        return _layout(fig, title, "Date", report.name or "value")
    dates = parse_timestamps(held.dates)
    if held.history:
        fig.add_trace(
            go.Scatter(
                x=parse_timestamps(held.history_dates),
                y=held.history,
                name="before",
                line=dict(color=ACTUAL, width=1.2),
                opacity=0.6,
            )
        )
    fig.add_trace(
        go.Scatter(x=dates, y=held.actual, name="actual (held out)", line=dict(color=ACTUAL))
    )
    for name, values in held.forecasts.items():
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=values,
                name=plot_text(name + (" (kept)" if name == kept else "")),
                line=dict(
                    color=COLORS.get(name, "#9333ea"),
                    width=2.4 if name == kept else 1.4,
                    dash="solid" if name == kept else "dot",
                ),
            )
        )
    return _layout(fig, title, _x_title(dates), report.name or "value")


__all__ = ["held_out_figure"]
