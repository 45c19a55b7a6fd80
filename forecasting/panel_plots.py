"""Tables and figures of many series (a `Panel`) for the Data page: one row per series, and
small multiples of a few series.

Plain data in, a DataFrame or a Plotly figure out, in the look of `forecasting.plots`; nothing
here imports Streamlit or TensorFlow. Series ids are user text: they go through
`ui_text.plot_text` in figures.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from forecasting.loading.summary import COUNTED_KINDS
from forecasting.panel import Panel
from forecasting.plots import ACTUAL, _layout, _x_title, downsample
from forecasting.records import stamp_texts
from forecasting.ui_text import plot_text

MAX_MULTIPLES = 6
MULTIPLE_POINTS = 800  # per small chart: thin lines need fewer points than a full chart
_FILLED = COUNTED_KINDS["missing_filled"]


def gaps_filled(series) -> int:
    """Missing values and absent timestamps filled in one series."""
    return sum(repair.count for repair in series.repairs if repair.kind in _FILLED)


def series_table(panel: Panel, too_short: Collection[str] = ()) -> pd.DataFrame:
    """One row per series: Series (its id), Points, Start, End, Gaps filled, Repairs (the
    loader's records for it) and Too short ("yes" when the window does not fit: it gets the
    statistical fallback)."""
    short = set(too_short)
    n = len(panel)
    firsts = [series.index[0] for series in panel.series]
    lasts = [series.index[-1] for series in panel.series]
    stamps = stamp_texts(pd.Index(firsts + lasts))  # one format for all
    return pd.DataFrame(
        {
            "Series": panel.labels,
            "Points": panel.lengths,
            "Start": stamps[:n],
            "End": stamps[n:],
            "Gaps filled": [gaps_filled(series) for series in panel.series],
            "Repairs": [len(series.repairs) for series in panel.series],
            "Too short": ["yes" if label in short else "no" for label in panel.labels],
        }
    )


def length_text(panel: Panel) -> str:
    """The series' lengths in words: "60 points each" or "20 to 60 points"."""
    low, high = int(panel.lengths.min()), int(panel.lengths.max())
    return f"{low:,} points each" if low == high else f"{low:,} to {high:,} points"


def small_multiples(
    panel: Panel, labels: Sequence[str], columns: int = 3, title: str | None = None
) -> go.Figure:
    """A small line chart per series in `labels` (at most `MAX_MULTIPLES`), each titled by
    its id, on its own y scale."""
    labels = list(labels)[:MAX_MULTIPLES]
    columns = max(1, min(columns, len(labels)))
    rows = max(1, -(-len(labels) // columns))
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[plot_text(label) for label in labels],
        horizontal_spacing=0.06,
        vertical_spacing=0.14 if rows > 1 else 0.1,
    )
    x_title = "Date"
    for i, label in enumerate(labels):
        series = panel[label]
        x_title = _x_title(series.index)
        x, y = downsample(series.index, series.values, MULTIPLE_POINTS)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name=plot_text(label),
                line=dict(color=ACTUAL, width=1.1),
            ),
            row=i // columns + 1,
            col=i % columns + 1,
        )
    fig.update_layout(showlegend=False)
    fig.update_annotations(font_size=12)
    fig = _layout(fig, title, "", "", height=60 + 220 * rows)
    fig.update_layout(hovermode="closest", xaxis_title=plot_text(x_title) if rows == 1 else None)
    return fig
