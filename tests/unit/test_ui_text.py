"""The escaping helpers that show user-provided names literally."""

from __future__ import annotations

from html import unescape

import pytest
from markdown_it import MarkdownIt

from forecasting.ui_text import WORD_JOINER, md, plot_text

CRAFTED = [
    "![t](http://127.0.0.1:9/x.png)",
    "[L](http://127.0.0.1:9/l)",
    "<http://127.0.0.1:9/auto>",
    "http://127.0.0.1:9/bare www.example.com me@example.com",
    "# heading",
    "- item",
    "1. item",
    "**bold** _it_ `code` ~~del~~ | a | b |",
    "a\\b & &amp; $x^2$ :red[red] :material/home:",
    "line one\n===\nline two",
]


@pytest.mark.parametrize("name", CRAFTED)
def test_md_shows_the_name_as_typed(name: str) -> None:
    html = MarkdownIt("commonmark").enable("strikethrough").render(md(name))
    assert "<img" not in html and "<a " not in html and "<h" not in html
    assert "<li" not in html and "<strong" not in html and "<em" not in html
    assert "<code" not in html and "<del" not in html
    shown = unescape(html).strip().replace(WORD_JOINER, "")  # invisible: breaks autolinks
    assert shown == "<p>" + " ".join(name.splitlines()) + "</p>"


def test_md_leaves_plain_words_alone() -> None:
    assert md("sales 2020") == "sales 2020"
    assert md(None) == "None"


def test_plot_text_neutralizes_plotly_html() -> None:
    assert plot_text('<a href="http://x">L</a> & <b>') == (
        '&lt;a href="http://x"&gt;L&lt;/a&gt; &amp; &lt;b&gt;'
    )
    assert plot_text("sales") == "sales"
