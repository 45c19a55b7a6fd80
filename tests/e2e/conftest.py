"""Browser-test fixtures: one real `streamlit run` server per session, Debian's Chromium
driven by Playwright, screenshots into `test-artifacts/`.

Conventions from Streamlit's own browser tests: the server runs headless, without the file
watcher and usage statistics, on a free port; the tests wait for
`[data-testid='stApp'][data-test-script-state='notRunning']` and for concrete elements,
never for a fixed time.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys

import pytest
from e2e_helpers import ARTIFACTS, PAGE_MS, ROOT

from benchmarks.common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ServerNotReady,
    free_port,
    wait_until_answering,
)

VIEWPORT = {"width": 1400, "height": 1000}
SERVER_START_S = 120


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and its training workers (one process group)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass
    with contextlib.suppress(ProcessLookupError):  # workers left after the server exited
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def chromium() -> str:
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            f"Debian's Chromium is not installed at {CHROMIUM}: `make test` (or "
            "`make browser`) installs it; Playwright's own browser downloads are not used."
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def app_url(chromium, tmp_path_factory) -> str:
    """A real `streamlit run app.py` on a free port with a private job registry."""
    port = free_port()
    jobs_dir = tmp_path_factory.mktemp("e2e-jobs")
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "streamlit-server.log", "wb")  # noqa: SIM115 - closed below
    env = {
        **os.environ,
        "FORECASTING_JOBS_DIR": str(jobs_dir),
        "FORECASTING_MAX_JOBS": "1",
        "FORECASTING_RUNNER": "process",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: workers are stopped with it
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_answering(f"{url}/_stcore/health", process, SERVER_START_S)
        except ServerNotReady as error:
            pytest.fail(f"streamlit: {error}; see {log.name}")
        yield url
    finally:
        _stop(process)
        log.close()


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


@pytest.fixture
def page(browser, app_url, request):
    """A fresh browser session (its own Streamlit session) at 1400x1000; a screenshot of
    the page goes to test-artifacts/ when the test fails."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(PAGE_MS)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        # a screenshot that cannot be taken must not hide the failure
        with contextlib.suppress(Exception):
            page.screenshot(
                path=ARTIFACTS / f"FAILED-{_slug(request.node.name)}.png", full_page=True
            )
    context.close()
