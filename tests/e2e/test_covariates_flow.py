"""Covariates in a real browser: upload an hourly file with a weather column and a category,
see their roles (the weather column a past covariate by default), turn calendar features on,
train 2 epochs, see the comparison without covariates, and download the forecast. Editing a
role in the table is covered by tests/app/test_roles_table.py."""

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

ROWS = 400


def hourly_csv(path) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    dates = pd.date_range("2021-01-01", periods=ROWS, freq="h")
    temp = 10 + 5 * np.sin(2 * np.pi * np.arange(ROWS) / 24) + rng.normal(0, 1, ROWS)
    shift = np.where(dates.hour < 8, "night", "day")
    load = 50 + 2 * np.roll(temp, 1) + (shift == "day") * 5 + rng.normal(0, 1, ROWS)
    frame = pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d %H:%M"),
            "load": load.round(2),
            "temp": temp.round(2),
            "shift": shift,
        }
    )
    frame.to_csv(path, index=False)
    return frame


def test_roles_train_and_forecast_with_covariates(page, app_url, tmp_path):
    path = tmp_path / "load-weather.csv"
    hourly_csv(path)
    main = page.locator(MAIN)

    # ------------------------------------------------------------------ Data: roles
    open_app(page, app_url)
    upload(page, path)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("load-weather.csv")
    wait_idle(page)
    expect(main).to_contain_text("past covariate")
    expect(main).to_contain_text("categorical")  # "shift" is detected as categories
    page.get_by_test_id("stCheckbox").filter(has_text="Calendar features").locator("label").click()
    wait_idle(page)
    no_traceback(page)
    shot(page, "covariates-data")

    # ------------------------------------------------------------------ Train
    go_to(page, "Train")
    expect(main).to_contain_text("past covariates (values up to the origin): temp")
    expect(main).to_contain_text("calendar features")
    set_slider(page, "Units per layer", "Home", expected="1")
    set_slider(page, "Epochs (at most)", "Home", "ArrowRight", expected="2")
    page.get_by_test_id("stExpander").filter(has_text="Advanced").get_by_text("Advanced").click()
    turn_off_automatic(page, "Automatic ensemble", "Networks in the ensemble")
    set_slider(page, "Networks in the ensemble", "Home", expected="1")
    click_train(page)
    wait_finished(page)
    no_traceback(page)

    # ------------------------------------------------------------------ Evaluate
    go_to(page, "Evaluate")
    expect(main).to_contain_text("without covariates")
    no_traceback(page)
    shot(page, "covariates-evaluate")

    # ------------------------------------------------------------------ Forecast
    go_to(page, "Forecast")
    chart(page, "forecast_chart")
    with page.expect_download() as download:
        button(page, "download_csv").click()
    text = download.value.path().read_text(encoding="utf-8")
    forecast = pd.read_csv(io.StringIO(text), parse_dates=["date"])
    assert list(forecast.columns) == ["date", "forecast", "lower", "upper"]
    assert len(forecast) == 24  # automatic horizon: a day of hours
    assert forecast["date"].iloc[0] == pd.Timestamp("2021-01-01") + pd.Timedelta(hours=ROWS)
    assert np.isfinite(forecast["forecast"]).all()
    no_traceback(page)
