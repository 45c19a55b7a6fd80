"""The whole user flow in a real browser: upload a CSV, set sliders, train with a live loss
chart, evaluate, download the forecast, compare runs. One training serves every step."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from e2e_helpers import (
    MAIN,
    button,
    chart,
    click_train,
    go_to,
    monthly_csv,
    no_traceback,
    open_app,
    set_slider,
    shot,
    turn_off_automatic,
    wait_finished,
    wait_idle,
    wait_progress,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

# Wide enough and with small enough batches that the training lasts several seconds on JAX,
# so the live chart is seen growing.
EPOCHS = 200


def test_upload_train_evaluate_forecast(page, app_url, tmp_path):
    csv_path = tmp_path / "shop-sales.csv"
    frame = monthly_csv(csv_path, rows=120)
    main = page.locator(MAIN)

    # ------------------------------------------------------------------ Data
    open_app(page, app_url)
    chart(page, "series_chart")  # the built-in sample is loaded at first open
    page.get_by_test_id("stRadio").filter(has_text="Source").get_by_text("Your file").click()
    dropzone = page.get_by_test_id("stFileUploaderDropzone")
    upload_button = dropzone.get_by_test_id("stBaseButton-secondary")
    with page.expect_file_chooser() as chooser:
        upload_button.click()
    chooser.value.set_files(csv_path)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("shop-sales.csv")
    expect(page.get_by_test_id("stSidebar")).to_contain_text("120 points")
    wait_idle(page)
    points = page.get_by_test_id("stMetric").filter(has_text="Points")
    expect(points).to_contain_text("120")
    expect(page.get_by_test_id("stMetric").filter(has_text="Frequency")).to_contain_text("monthly")
    series_chart = chart(page, "series_chart")
    expect(series_chart).to_contain_text("value over time")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    expect(main).to_contain_text("First rows of the file")
    no_traceback(page)
    shot(page, "data")

    # ------------------------------------------------------------------ Train
    go_to(page, "Train")
    expect(main).to_contain_text("shop-sales.csv")
    expect(main).to_contain_text("(120 points)")
    set_slider(page, "Units per layer", "End", expected="256")
    set_slider(page, "Batch size", "Home", expected="8", index="0")
    set_slider(
        page, "Epochs (at most)", "End", *["ArrowLeft"] * (500 - EPOCHS), expected=str(EPOCHS)
    )
    set_slider(page, "Early-stopping patience (epochs)", "Home", expected="0")
    # one network instead of the default ensemble of 5: the flow stays a few minutes on 2 cores
    page.get_by_test_id("stExpander").filter(has_text="Advanced").get_by_text("Advanced").click()
    turn_off_automatic(page, "Automatic ensemble", "Networks in the ensemble")
    set_slider(page, "Networks in the ensemble", "Home", expected="1")
    shot(page, "train-settings")
    click_train(page)
    # the live chart gains points while the epoch count goes up
    first = wait_progress(page)
    assert first["epochs"] == EPOCHS
    assert 1 <= first["points"] <= first["epoch"] < EPOCHS
    later = wait_progress(page, first["epoch"], first["points"])
    print(first, later)
    assert later["epoch"] > first["epoch"]
    assert first["points"] < later["points"] <= later["epoch"]
    shot(page, "train-running")
    wait_finished(page)
    chart(page, "final_loss")
    expect(main).to_contain_text("Epochs run")
    expect(main).to_contain_text("Test MASE")
    no_traceback(page)
    shot(page, "train-done")

    # ------------------------------------------------------------------ Evaluate
    go_to(page, "Evaluate")
    test_chart = chart(page, "test_chart")
    expect(test_chart).to_contain_text("Actual")
    expect(test_chart).to_contain_text("Seasonal naive")
    chart(page, "residuals_chart")
    chart(page, "lead_chart")
    # the metric table lists the baselines beside the network
    table = main.get_by_test_id("stDataFrame").filter(has_text="Seasonal naive")
    expect(table.first).to_be_visible()
    expect(table.first).to_contain_text("Naive")
    no_traceback(page)
    shot(page, "evaluate")

    # ------------------------------------------------------------------ Forecast
    go_to(page, "Forecast")
    chart(page, "forecast_chart")
    with page.expect_download() as download:
        button(page, "download_csv").click()
    text = download.value.path().read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["date", "forecast", "lower", "upper"]
    forecast = pd.read_csv(io.StringIO(text), parse_dates=["date"])
    assert len(forecast) == 12  # automatic horizon: one year of months
    last = pd.Timestamp(frame["date"].iloc[-1])
    expected = pd.date_range(last, periods=13, freq="MS")[1:]
    assert list(forecast["date"]) == list(expected)
    assert (forecast["lower"] <= forecast["forecast"]).all()
    assert (forecast["forecast"] <= forecast["upper"]).all()
    no_traceback(page)
    shot(page, "forecast")

    # ------------------------------------------------------------------ Runs
    go_to(page, "Runs")
    chart(page, "runs_forecasts")
    chart(page, "detail_loss")
    no_traceback(page)
    shot(page, "runs")
