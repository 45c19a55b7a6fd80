"""User-provided names (columns, files) are shown as typed, never as Markdown or Plotly HTML."""

from __future__ import annotations

from html import unescape

from app_helpers import new_app
from markdown_it import MarkdownIt

from forecasting.ui_text import WORD_JOINER

IMAGE = "![t](http://127.0.0.1:9/x.png)"
LINK = "[L](http://127.0.0.1:9/l)"
HTML = '<a href="http://127.0.0.1:9/h">h</a>'
CRAFTED = (
    f'date,"{IMAGE}","{HTML}"\n'
    + "".join(f"2020-{m:02d}-01,{10 + m % 4},{m}\n" for m in range(1, 13))
).encode()
FILENAME = f"{LINK}.csv"


def _markdown_texts(at) -> list[str]:
    kinds = (
        "markdown",
        "caption",
        "title",
        "subheader",
        "header",
        "info",
        "error",
        "warning",
        "success",
    )
    return [str(e.value) for kind in kinds for e in at.get(kind)]


def _rendered(at) -> str:
    """The page's Markdown as HTML, without the invisible joiners that break autolinks."""
    renderer = MarkdownIt("commonmark")
    html = "\n".join(renderer.render(text) for text in _markdown_texts(at))
    return html.replace(WORD_JOINER, "")


def _upload(at):
    at.radio(key="p_source").set_value("Your file").run()
    at.file_uploader(key="uploader").set_value((FILENAME, CRAFTED, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def test_crafted_names_are_shown_literally_on_the_data_page() -> None:
    at = _upload(new_app().run())
    assert at.session_state["series"].name == IMAGE
    html = _rendered(at)
    assert "<img" not in html and "<a " not in html, html
    assert IMAGE in html  # the name is there, as typed
    for chart in at.get("plotly_chart"):
        assert "<a " not in chart.proto.spec


def test_crafted_names_are_shown_literally_on_the_train_page() -> None:
    at = _upload(new_app().run())
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    html = _rendered(at)
    assert "<img" not in html and "<a " not in html, html
    assert LINK in unescape(html)


def test_crafted_names_are_shown_literally_on_the_forecast_page() -> None:
    at = _upload(new_app().run())
    at.switch_page("pages/forecast.py").run()
    assert not at.exception, at.exception
    options = at.radio(key="p_bundle_target").options  # rendered as Markdown by the browser
    html = MarkdownIt("commonmark").render("\n\n".join(options)).replace(WORD_JOINER, "")
    assert "<img" not in html and "<a " not in html, html
    assert IMAGE in unescape(html)
