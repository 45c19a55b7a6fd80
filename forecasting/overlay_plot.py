"""The loaded series with one of its other columns drawn over it (the Data page's chart).

A numeric covariate gets its own axis on the right; a categorical one is a step line over
its categories (one point per change, so a long hourly file stays light). Nothing here
imports Streamlit or TensorFlow; names are shown literally (`plot_text`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from forecasting.plots import MAX_POINTS, PALETTE, _layout, _x_title, downsample, series_figure
from forecasting.ui_text import plot_text

COVARIATE = PALETTE[3]


def overlay_figure(
    index,
    values,
    name: str,
    covariate: pd.Series,
    categorical: bool,
    title: str | None = None,
    max_points: int = MAX_POINTS,
) -> go.Figure:
    """The series as a line with `covariate` over it on a secondary axis.

    Args:
        index: Dates or steps of the series.
        values: The target's observations.
        name: The target's name (left axis).
        covariate: The other column, aligned to `index` (its name is the right axis).
        categorical: Draw the column as categories (a step line) rather than numbers.
        title: Figure title.
        max_points: Display limit of each line (see `plots.downsample`).

    Returns:
        A figure with two y-axes and a legend naming both lines.
    """
    fig = series_figure(index, values, name, title, max_points)
    fig.data[0].name = plot_text(name)
    column = plot_text(covariate.name)
    if categorical:
        x, y = category_steps(index, covariate)
        trace = go.Scatter(
            x=x,
            y=y,
            mode="lines+markers",
            line=dict(color=COVARIATE, width=1.2, shape="hv"),
            marker=dict(size=4, color=COVARIATE),
            name=column,
            yaxis="y2",
        )
        axis = dict(type="category", categoryorder="category ascending")
    else:
        x, y = downsample(index, pd.to_numeric(covariate, errors="coerce"), max_points)
        trace = go.Scatter(
            x=x, y=y, mode="lines", line=dict(color=COVARIATE, width=1.1), name=column, yaxis="y2"
        )
        axis = {}
    fig.add_trace(trace)
    fig.update_layout(
        showlegend=True,
        yaxis2=dict(
            title=dict(text=column, font=dict(color=COVARIATE)),
            overlaying="y",
            side="right",
            showgrid=False,
            tickfont=dict(color=COVARIATE),
            **axis,
        ),
    )
    fig = _layout(fig, title, _x_title(index), name)
    fig.update_layout(margin=dict(r=60))
    return fig


def category_steps(index, column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The points where a categorical column changes value, plus its last point: drawn with
    a horizontal-then-vertical line shape they show the whole column.

    Args:
        index: Positions (dates or steps), one per row of `column`.
        column: The categories (missing cells are shown as "(missing)").

    Returns:
        `(x, y)` with y as text.
    """
    x = np.asarray(index)
    y = np.asarray(pd.Series(column).astype(object).where(pd.Series(column).notna(), "(missing)"))
    y = np.array([plot_text(v) for v in y], dtype=object)
    if len(y) == 0:
        return x, y
    changes = np.flatnonzero(y[1:] != y[:-1]) + 1
    keep = np.unique(np.concatenate([[0], changes, [len(y) - 1]]))
    return x[keep], y[keep]
