"""forecasting.plots and forecasting.tables: figures from a run result, display thinning, display
tables."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from forecasting import jobs, plots, tables
from forecasting.results import RunResult, Scores


def result_of(job: str) -> RunResult:
    return RunResult.from_dict(jobs.get_manager().result(job))


def test_downsample_keeps_extremes_and_order() -> None:
    y = np.random.default_rng(0).normal(size=100_000)
    y[12_345], y[67_890] = 50.0, -50.0
    x = pd.date_range("2000-01-01", periods=y.size, freq="min")
    xs, ys = plots.downsample(x, y, 5000)
    assert len(xs) <= 5000 and np.nanmax(ys) == 50.0 and np.nanmin(ys) == -50.0
    assert (np.diff(xs.astype("int64")) > 0).all()
    short_x, short_y = plots.downsample(x[:10], y[:10])
    assert len(short_x) == 10 and (short_y == y[:10]).all()


def test_figures_from_a_result(trained_job) -> None:
    result = result_of(trained_job)
    figures = [
        plots.test_figure(result, ["seasonal_naive", "naive"]),
        plots.residuals_figure(result.one_step),
        plots.by_lead_figure(result.by_lead),
        plots.forecast_figure(result.recent, result.forecast, 0.9, "sales"),
        plots.forecasts_overlay({"a": result, "b": result}),
        plots.loss_figure(result.history.loss, result.history.val_loss, 1),
        plots.loss_overlay({"a": result.history}),
    ]
    for figure in figures:
        assert isinstance(figure, go.Figure) and figure.data
        assert figure.layout.xaxis.title.text and figure.layout.yaxis.title.text
    names = {trace.name for trace in figures[0].data}
    assert {"Actual", "Network, one step ahead", "Seasonal naive, 12 steps ahead"} <= names


def test_display_tables(trained_job) -> None:
    result = result_of(trained_job)
    table = tables.metrics_table(result)
    assert table["Method"].iloc[0] == "Network" and len(table) == len(result.metrics.test)
    runs = tables.runs_table({"one": result})
    assert runs.loc[0, "Cell"] == "GRU" and runs.loc[0, "Window"] == 24
    assert runs["Test MASE"].dtype.kind == "f"


def test_series_figure_of_integer_steps() -> None:
    figure = plots.series_figure(pd.RangeIndex(100), np.arange(100.0), "value")
    assert figure.layout.xaxis.title.text == "Step"


def test_ranking_puts_runs_beside_the_baselines(trained_job) -> None:
    result = result_of(trained_job)
    worse = replace(
        result,
        metrics=replace(
            result.metrics,
            test={**result.metrics.test, "model": Scores(mase=99.0, smape=99.0, mae=99.0)},
        ),
    )
    table = tables.ranking_table({"good": result, "bad": worse})
    assert list(table["Rank"]) == list(range(1, len(table) + 1))
    # best MASE first; an undefined MASE (a failed baseline) ranks after every known one
    mase = table["Test MASE"]
    known = mase.notna()
    assert mase[known].is_monotonic_increasing
    assert list(known) == sorted(known, reverse=True)
    assert table[known].iloc[-1]["Method"] == "bad"
    assert {"Seasonal naive", "Naive", "good"} <= set(table["Method"])
    assert set(table["Kind"]) == {"network", "baseline"}
    undefined = replace(
        result, metrics=replace(result.metrics, test={**result.metrics.test, "naive": Scores()})
    )  # naive's MASE undefined
    table = tables.ranking_table({"good": undefined, "bad": worse})
    known = table["Test MASE"].notna()
    assert list(known) == sorted(known, reverse=True) and not known.iloc[-1]
    assert "Naive" in set(table.loc[~known, "Method"])
    assert table.loc[known, "Test MASE"].is_monotonic_increasing
    other_split = replace(result, horizon=result.horizon + 1)
    assert tables.ranking_table({"a": result, "b": other_split}) is None


def test_user_names_are_plain_text_in_figures(trained_job) -> None:
    """Plotly renders a subset of HTML in titles, axis labels and legend names: a name such as
    `<a href>` must show as typed, not as a live link."""
    link = '<a href="http://127.0.0.1:9/x">L</a>'
    shown = '&lt;a href="http://127.0.0.1:9/x"&gt;L&lt;/a&gt;'
    result = result_of(trained_job)
    figure = plots.series_figure([1, 2, 3], [1.0, 2.0, 3.0], link, title=f"{link} over time")
    assert figure.layout.title.text == f"{shown} over time"
    assert figure.layout.yaxis.title.text == shown and figure.data[0].name == shown
    overlay = plots.forecasts_overlay({link: result})
    assert [t.name for t in overlay.data][1] == shown
    losses = plots.loss_overlay({link: result.history})
    assert all("<a " not in t.name for t in losses.data)
    forecast = plots.forecast_figure(result.recent, result.forecast, 0.9, link, title=link)
    assert forecast.layout.title.text == shown and forecast.layout.yaxis.title.text == shown
