"""A file that is not a table: a readable message, and the series loaded before stays."""

from __future__ import annotations

import os

import pytest
from e2e_helpers import (
    MAIN,
    chart,
    go_to,
    monthly_csv,
    no_traceback,
    open_app,
    shot,
    sidebar,
    upload,
    wait_idle,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_binary_junk_is_refused_and_previous_series_stays(page, app_url, tmp_path):
    good = tmp_path / "good-sales.csv"
    monthly_csv(good, rows=60)
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\xff\xfe\x89PNG\r\n\x1a\n" + os.urandom(4096) + b"\x00" * 512)
    main = page.locator(MAIN)

    open_app(page, app_url)
    upload(page, good)
    expect(sidebar(page)).to_contain_text("good-sales.csv")
    expect(sidebar(page)).to_contain_text("60 points")
    wait_idle(page)

    upload(page, junk)
    error = main.get_by_test_id("stAlertContentError")
    expect(error).to_be_visible()
    message = error.inner_text()
    assert len(message) > 20, message  # a sentence, not a code
    assert "Traceback" not in message and "Error:" not in message, message
    expect(main).to_contain_text("Nothing was lost")
    expect(main).to_contain_text("good-sales.csv")
    chart(page, "current_chart")
    wait_idle(page)
    no_traceback(page)
    # the series in use is still the good file, on every page
    expect(sidebar(page)).to_contain_text("good-sales.csv")
    expect(sidebar(page)).to_contain_text("60 points")
    shot(page, "data-bad-file")
    go_to(page, "Train")
    expect(main).to_contain_text("good-sales.csv (60 points)")
