"""README screenshots from a real session: the built-in sample, a default training and a
two-minute tuning.

Runs only on request, since a default training takes a while on a small machine:

    SCREENSHOTS=1 .venv/bin/python -m pytest tests/e2e/test_readme_screenshots.py

and writes docs/screenshots/{data,train,evaluate,forecast}.png (1400x900) and tune.png
(1400x1750); `-k tune` makes the Tune section's alone.
"""

from __future__ import annotations

import os

import pytest
from e2e_helpers import (
    MAIN,
    ROOT,
    button,
    chart,
    click_train,
    go_to,
    no_traceback,
    open_app,
    park_mouse,
    set_slider,
    wait_finished,
    wait_idle,
)
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("SCREENSHOTS") != "1", reason="README screenshots: set SCREENSHOTS=1"
    ),
]

SIZE = {"width": 1400, "height": 900}
TUNE_SIZE = {"width": 1400, "height": 1750}
OUT = ROOT / "docs" / "screenshots"
DEFAULT_TRAINING_MS = 600_000
TUNING_MS = 600_000  # Ray's start, a two-minute search, the final training


def save(page, name: str, top=None) -> None:
    """A screenshot of the window; `top` (a locator) is scrolled to the top of it."""
    if top is not None:
        top.evaluate("e => e.scrollIntoView({block: 'start'})")
    park_mouse(page)
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=OUT / f"{name}.png")


def test_readme_screenshots(page, app_url):
    page.set_viewport_size(SIZE)
    main = page.locator(MAIN)

    open_app(page, app_url)
    chart(page, "series_chart")
    wait_idle(page)
    no_traceback(page)
    save(page, "data", main.get_by_role("heading", name="Columns and repairs"))

    go_to(page, "Train")
    click_train(page)  # every setting at its default
    wait_finished(page, timeout=DEFAULT_TRAINING_MS)
    chart(page, "final_loss")
    no_traceback(page)
    # The headline names the winner against the best baseline (issue 21), whoever it is.
    expect(main.get_by_text("on the test part: MASE").first).to_be_visible()
    save(page, "train", main.get_by_role("heading", name="Training", exact=True, level=3).last)

    go_to(page, "Evaluate")
    chart(page, "test_chart")
    no_traceback(page)
    save(page, "evaluate")

    go_to(page, "Forecast")
    chart(page, "forecast_chart")
    no_traceback(page)
    save(page, "forecast")


def test_tune_screenshot(page, app_url):
    """The Tune section after a two-minute search on the built-in sample, every other
    setting at its default (taller than the others: the section with its result)."""
    page.set_viewport_size(TUNE_SIZE)
    main = page.locator(MAIN)
    open_app(page, app_url)
    go_to(page, "Train")
    button(page, "tune_open_button").click()
    wait_idle(page)
    set_slider(page, "Time budget (minutes)", "Home", "ArrowRight", expected="2")
    button(page, "tune_start").click()
    park_mouse(page)
    button(page, "tune_use_best").wait_for(timeout=TUNING_MS)  # the job is done
    chart(page, "tune_best_chart")
    chart(page, "tune_parallel_chart")
    wait_idle(page)
    no_traceback(page)
    save(page, "tune", main.get_by_role("heading", name="Tune", exact=True, level=3))
