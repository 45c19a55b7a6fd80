"""Many series in a real browser: upload a long file (6 weekly series stacked, with a
series_id column), see the many-series summary, train one global network for 2 epochs, see
the aggregate on the Evaluate page and download every series' forecast as one long CSV."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from e2e_helpers import (
    MAIN,
    button,
    chart,
    click_train,
    go_to,
    no_traceback,
    open_app,
    set_slider,
    shot,
    turn_off_automatic,
    upload,
    wait_finished,
    wait_idle,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SERIES, POINTS = 6, 80
HORIZON = 13  # weekly data: a quarter, the automatic horizon
START = "2019-01-06"


def long_csv(path) -> pd.DataFrame:
    """Six weekly series one below the other: series_id, week, sales."""
    rng = np.random.default_rng(11)
    dates = pd.date_range(START, periods=POINTS, freq="W-SUN")
    steps = np.arange(POINTS)
    frames = []
    for i in range(SERIES):
        sales = 100 + 20 * i + 8 * np.sin(2 * np.pi * steps / 52) + rng.normal(0, 2, POINTS)
        frames.append(
            pd.DataFrame(
                {
                    "series_id": f"store-{i + 1:02d}",
                    "week": dates.strftime("%Y-%m-%d"),
                    "sales": sales.round(2),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame.to_csv(path, index=False)
    return frame


def test_upload_many_series_train_and_download_the_long_forecast(page, app_url, tmp_path):
    path = tmp_path / "weekly-stores.csv"
    data = long_csv(path)
    ids = sorted(data["series_id"].unique())
    main = page.locator(MAIN)

    # ------------------------------------------------------------------ Data
    open_app(page, app_url)
    upload(page, path)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("weekly-stores.csv")
    wait_idle(page)
    expect(main.get_by_role("heading", name=f"{SERIES} series")).to_be_visible()
    expect(main).to_contain_text("series_id")  # the detected id column is named
    no_traceback(page)
    shot(page, "panel-data")

    # ------------------------------------------------------------------ Train
    go_to(page, "Train")
    expect(main).to_contain_text(f"One global network over all {SERIES} series")
    set_slider(page, "Units per layer", "Home", expected="1")
    set_slider(page, "Epochs (at most)", "Home", "ArrowRight", expected="2")
    page.get_by_test_id("stExpander").filter(has_text="Advanced").get_by_text("Advanced").click()
    turn_off_automatic(page, "Automatic ensemble", "Networks in the ensemble")
    set_slider(page, "Networks in the ensemble", "Home", expected="1")
    click_train(page)
    wait_finished(page)
    no_traceback(page)
    expect(main).to_contain_text("OWA")

    # ------------------------------------------------------------------ Evaluate
    go_to(page, "Evaluate")
    expect(main).to_contain_text("The global network's OWA is")
    chart(page, "panel_skill_chart")
    chart(page, "panel_series_chart")
    no_traceback(page)
    shot(page, "panel-evaluate")

    # ------------------------------------------------------------------ Forecast
    go_to(page, "Forecast")
    chart(page, "panel_forecast_chart")
    with page.expect_download() as download:
        button(page, "download_panel_csv").click()
    text = download.value.path().read_text(encoding="utf-8")
    forecast = pd.read_csv(io.StringIO(text))
    assert list(forecast.columns) == ["series_id", "date", "forecast", "lower", "upper"]
    assert len(forecast) == SERIES * HORIZON
    assert sorted(forecast["series_id"].unique()) == ids
    first = pd.Timestamp(START) + pd.Timedelta(weeks=POINTS)
    expected = list(pd.date_range(first, periods=HORIZON, freq="W-SUN").strftime("%Y-%m-%d"))
    for series_id, rows in forecast.groupby("series_id"):
        assert list(rows["date"]) == expected, series_id
    assert np.isfinite(forecast[["forecast", "lower", "upper"]].to_numpy()).all()
    no_traceback(page)
    shot(page, "panel-forecast")
