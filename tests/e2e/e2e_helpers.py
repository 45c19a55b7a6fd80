"""Small Playwright helpers shared by the browser tests: navigation, sliders, training
progress, screenshots. Every wait is on a concrete state of the page, never a fixed time."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
MAIN = "[data-testid='stMain']"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
# Generous: two cores shared with other work; the first training imports TensorFlow.
PAGE_MS = 90_000
TRAINING_MS = 240_000
expect.set_options(timeout=PAGE_MS)


def wait_idle(page: Page) -> None:
    """Wait until no script run is in progress."""
    page.wait_for_selector(IDLE, state="attached")


def open_app(page: Page, url: str, path: str = "", title: str = "Data") -> None:
    """Open the app at `path` and wait for the page's title and the end of the script run."""
    page.goto(f"{url}/{path}")
    heading(page, title)
    wait_idle(page)


def heading(page: Page, title: str):
    """The page title (h1); waits for it to be visible."""
    locator = page.locator(MAIN).get_by_role("heading", name=title, exact=True, level=1)
    expect(locator).to_be_visible()
    return locator


def go_to(page: Page, title: str) -> None:
    """Switch pages with the sidebar navigation, as a user does."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    heading(page, title)
    wait_idle(page)


def chart(page: Page, key: str):
    """The Plotly chart drawn with `key=...`, once Plotly has rendered it."""
    locator = page.locator(f".st-key-{key} .js-plotly-plot .main-svg").first
    expect(locator).to_be_visible()
    return page.locator(f".st-key-{key}")


def slider(page: Page, label: str):
    return page.get_by_test_id("stSlider").filter(has_text=label)


def turn_off_automatic(page: Page, toggle: str, label: str) -> None:
    """Click an "automatic" toggle off and wait until the slider `label` it disabled takes
    keys again (the rerun the click caused is over)."""
    page.get_by_text(toggle).click()
    expect(slider(page, label).locator("[data-testid=stSliderThumbValue][disabled]")).to_have_count(
        0
    )
    wait_idle(page)


def set_slider(page: Page, label: str, *keys: str, expected: str, index: str | None = None) -> None:
    """Drive a slider with the keyboard (focus the thumb, press keys) and wait until the
    thumb shows `expected` and the rerun it caused is over. A select slider's input holds
    the option's `index` instead of its text."""
    box = slider(page, label)
    thumb = box.get_by_role("slider")
    thumb.focus()
    for key in keys:
        page.keyboard.press(key)
    expect(box.get_by_test_id("stSliderThumbValue")).to_have_text(expected)
    expect(thumb).to_have_value(expected if index is None else index)
    wait_idle(page)


# Reads the live progress ("Epoch 3 of 40") and the markers of the live loss chart's first
# trace together; answers once both are above the given values.
_PROGRESS_JS = """
([prevEpoch, prevPoints]) => {
    const main = document.querySelector("[data-testid='stMain']");
    if (!main) return null;
    const match = main.innerText.match(/Epoch (\\d+) of (\\d+)/);
    if (!match || Number(match[1]) <= prevEpoch) return null;
    const trace = document.querySelector(".st-key-live_loss .scatterlayer .trace");
    const points = trace ? trace.querySelectorAll("path.point").length : 0;
    if (points <= prevPoints) return null;
    return {epoch: Number(match[1]), epochs: Number(match[2]), points: points};
}
"""


def wait_progress(page: Page, epoch: int = 0, points: int = 0, timeout: float = TRAINING_MS):
    """Wait until the Train page shows an epoch above `epoch` and a live loss chart with
    more than `points` points; returns `{"epoch", "epochs", "points"}`."""
    handle = page.wait_for_function(_PROGRESS_JS, arg=[epoch, points], timeout=timeout, polling=100)
    return handle.json_value()


def button(page: Page, key: str):
    """The button drawn with `key=...` (Streamlit also keeps a hidden copy for measuring)."""
    return page.locator(f".st-key-{key} button").filter(visible=True)


def click_train(page: Page) -> None:
    button(page, "train_button").click()
    park_mouse(page)  # no tooltip over the progress in screenshots


def wait_finished(page: Page, timeout: float = TRAINING_MS) -> None:
    """Wait for the end of the training shown on the Train page (done, cancelled, failed)."""
    page.locator(MAIN).locator(
        ".st-key-final_loss, [data-testid='stAlertContentWarning'], "
        "[data-testid='stAlertContentError']"
    ).first.wait_for(timeout=timeout)
    wait_idle(page)


def no_traceback(page: Page) -> None:
    text = page.locator(MAIN).inner_text()
    assert "Traceback" not in text, text
    assert page.get_by_test_id("stException").count() == 0


def shot(page: Page, name: str, full_page: bool = True) -> Path:
    """Screenshot into test-artifacts/, 1400 wide, with the mouse parked where it opens no
    tooltip. Streamlit scrolls its main area inside the window, so for the whole page the
    window is made as tall as the content for the shot, then set back."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    park_mouse(page)
    viewport = page.viewport_size
    height = page.locator(MAIN).evaluate("e => e.scrollHeight") if full_page else 0
    if height > viewport["height"]:
        page.set_viewport_size({"width": viewport["width"], "height": height})
        wait_idle(page)
    try:
        page.screenshot(path=path)
    finally:
        if height > viewport["height"]:
            page.set_viewport_size(viewport)
    return path


def park_mouse(page: Page) -> None:
    """Move the mouse off every control and wait for any tooltip to close. A tooltip whose
    control was disabled or redrawn under a still mouse never sees the mouse leave (Chromium
    sends no mouse events to a disabled button), so one that lingers is closed with Escape."""
    page.mouse.move(700, 5)
    tooltips = page.get_by_role("tooltip")
    try:
        expect(tooltips).to_have_count(0, timeout=5_000)
    except AssertionError:
        page.keyboard.press("Escape")
        page.mouse.move(700, 25)
        page.mouse.move(700, 5)
        expect(tooltips).to_have_count(0)


def upload(page: Page, path: Path) -> None:
    """Switch the Data page to "Your file" (if needed) and upload `path`."""
    source = page.get_by_test_id("stRadio").filter(has_text="Source")
    if not source.get_by_role("radio", name="Your file").is_checked():
        source.get_by_text("Your file").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)


def sidebar(page: Page):
    return page.get_by_test_id("stSidebar")


def monthly_csv(path: Path, rows: int = 120, start: str = "2010-01-01") -> pd.DataFrame:
    """A small seasonal monthly series as `date,value`; returns the frame written."""
    rng = np.random.default_rng(7)
    dates = pd.date_range(start, periods=rows, freq="MS")
    steps = np.arange(rows)
    values = 100 + 0.5 * steps + 15 * np.sin(2 * math.pi * steps / 12) + rng.normal(0, 2, rows)
    frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "value": values.round(2)})
    frame.to_csv(path, index=False)
    return frame
