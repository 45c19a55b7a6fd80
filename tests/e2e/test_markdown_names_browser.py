"""Column names from an upload are shown as typed: a Markdown image in a name must make no
viewer's browser fetch its URL, and a Markdown link must not become a link."""

from __future__ import annotations

import http.server
import threading

import numpy as np
import pytest
from e2e_helpers import MAIN, go_to, no_traceback, open_app, sidebar, upload, wait_idle
from playwright.sync_api import expect

from benchmarks.common import free_port

pytestmark = pytest.mark.e2e


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a 1x1 GIF and records the path."""

    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the name http.server calls
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def listener():
    """A local HTTP server on a free port; yields `(port, hits)`."""
    port = free_port()
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port, _Recorder.hits
    server.shutdown()
    server.server_close()


def test_markdown_in_column_names_fetches_nothing_and_links_nowhere(
    page, app_url, listener, tmp_path
):
    port, hits = listener
    image = f"![t](http://127.0.0.1:{port}/x.png)"
    link = f"[L](http://127.0.0.1:{port}/l)"
    # as shown: an invisible word joiner after `:` keeps GitHub's autolinks away
    shown_image, shown_link = (text.replace("://", ":\u2060//") for text in (image, link))
    rng = np.random.default_rng(3)
    rows = "".join(
        f"2020-{m:02d}-01,{10 + rng.random():.3f},{rng.random():.3f}\n" for m in range(1, 13)
    )
    path = tmp_path / "crafted.csv"
    path.write_text(f'date,"{image}","{link}"\n{rows}', encoding="utf-8")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    open_app(page, app_url)
    upload(page, path)
    expect(sidebar(page)).to_contain_text(shown_image)  # shown literally, as typed
    wait_idle(page)
    main = page.locator(MAIN)
    expect(main.get_by_role("heading", name=shown_image)).to_be_visible()
    no_traceback(page)
    go_to(page, "Train")
    expect(sidebar(page)).to_contain_text(shown_image)

    assert not [url for url in requests if f":{port}" in url], requests
    assert hits == []
    links = page.locator(f"a[href*=':{port}']")
    assert links.count() == 0, links.first.evaluate("a => a.parentElement.parentElement.outerHTML")
    assert page.locator(f"img[src*=':{port}']").count() == 0
    # the second column becomes the value column: its Markdown link stays text
    go_to(page, "Data")
    main.get_by_test_id("stSelectbox").filter(has_text="Value column").click()
    page.get_by_role("option", name=link).click()
    wait_idle(page)
    expect(main.get_by_role("heading", name=shown_link)).to_be_visible()
    assert page.locator(f"a[href*=':{port}']").count() == 0
    assert not [url for url in requests if f":{port}" in url] and hits == []
