"""Trainings run in worker processes: cancel keeps the best weights and ends within seconds, a
reload finds the running training again (job id in the URL) with its progress, not a fresh
start, and a reloaded session lists its finished runs again (session key in the URL)."""

from __future__ import annotations

import re
import time

import pytest
from e2e_helpers import (
    MAIN,
    button,
    click_train,
    open_app,
    set_slider,
    shot,
    sidebar,
    wait_finished,
    wait_progress,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CANCEL_WITHIN_MS = 50_000  # the manager stops a worker 30 s (CANCEL_GRACE) after a cancel


def long_training(page) -> None:
    """On the Train page: the widest network, batches of 8, 500 epochs, no early stopping
    (a minute or more of training); click Train."""
    set_slider(page, "Units per layer", "End", expected="256")
    set_slider(page, "Batch size", "Home", expected="8", index="0")
    set_slider(page, "Epochs (at most)", "End", expected="500")
    set_slider(page, "Early-stopping patience (epochs)", "Home", expected="0")
    click_train(page)


def cancel(page) -> float:
    """Click Cancel; returns the seconds until the page showed the end of the training."""
    button(page, "cancel_button").click()
    start = time.monotonic()
    page.mouse.move(700, 5)  # off the button before it turns disabled under the mouse
    wait_finished(page, timeout=CANCEL_WITHIN_MS)
    return time.monotonic() - start


def test_cancel_keeps_best_weights(page, app_url):
    main = page.locator(MAIN)
    open_app(page, app_url, "train", "Train")
    long_training(page)
    progress = wait_progress(page)
    assert progress["epochs"] == 500
    seconds = cancel(page)
    assert seconds < CANCEL_WITHIN_MS / 1000
    # done with the weights of the best epoch so far, or cancelled before any result
    expect(main).to_contain_text(re.compile(r"Cancel"))
    if main.locator(".st-key-final_loss").count():
        expect(main).to_contain_text("Cancelled: the best weights so far were kept.")
        epochs_run = main.get_by_test_id("stMetric").filter(has_text="Epochs run")
        run = int(epochs_run.get_by_test_id("stMetricValue").inner_text())
        assert progress["epoch"] <= run < 500
        expect(sidebar(page)).to_contain_text("Done")
    else:
        expect(sidebar(page)).to_contain_text("Cancelled")
    shot(page, "train-cancelled")


def test_reload_resumes_progress(page, app_url):
    main = page.locator(MAIN)
    open_app(page, app_url, "train", "Train")
    long_training(page)
    before = wait_progress(page, epoch=1)  # at least two epochs, so a restart would show
    expect(page).to_have_url(re.compile(r"[?&]job=[\w-]+"))
    job = re.search(r"[?&]job=([\w-]+)", page.url).group(1)

    page.reload()
    expect(main.get_by_role("heading", name="Train", exact=True, level=1)).to_be_visible()
    assert job in page.url
    after = wait_progress(page)  # the first progress drawn after the reload
    assert after["epoch"] >= before["epoch"], (before, after)
    assert after["points"] >= before["points"], (before, after)  # the chart kept its history
    later = wait_progress(page, after["epoch"], after["points"])  # and it goes on
    assert later["epoch"] > after["epoch"]
    expect(sidebar(page)).to_contain_text("Training: epoch")
    shot(page, "train-after-reload")
    cancel(page)  # free the worker slot for the next test


def test_a_reloaded_session_lists_its_runs_and_another_session_does_not(page, browser, app_url):
    open_app(page, app_url, "train", "Train")
    set_slider(page, "Epochs (at most)", "Home", expected="1")
    click_train(page)
    wait_finished(page)
    session = re.search(r"[?&]session=([\w-]+)", page.url).group(1)
    job = re.search(r"[?&]job=([\w-]+)", page.url).group(1)
    assert len(session) >= 22 and len(job) >= 22  # 128 random bits each

    other = browser.new_context().new_page()  # a new browser session, nothing in its state
    open_app(other, app_url, f"runs?session={session}", "Runs")
    expect(other.locator(MAIN).get_by_test_id("stDataFrame")).to_be_visible()
    expect(other.locator(MAIN)).not_to_contain_text("No training yet")
    open_app(other, app_url, "runs", "Runs")  # a fresh session sees none of it
    expect(other.locator(MAIN)).to_contain_text("No training yet")
    other.context.close()
