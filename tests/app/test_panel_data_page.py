"""Many series on the Data and Train pages: a long file's id column, the series selector, the
too-short series and their fallback, a wide file's choice, the global plan and its submission."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from app_helpers import TINY, new_app, texts

from forecasting import jobs
from forecasting.panel import Panel

STORES = ("north", "south", "east", "west", "harbour", "airport")


def long_csv(lengths=(60,) * 6) -> bytes:
    """Weekly sales of one series per store, stacked (store, week, sales)."""
    rng = np.random.default_rng(7)
    frames = []
    for i, (store, n) in enumerate(zip(STORES, lengths, strict=False)):
        t = np.arange(n)
        sales = 50 + 20 * i + 5 * np.sin(2 * np.pi * t / 13) + rng.normal(0, 1, n)
        frames.append(
            pd.DataFrame(
                {
                    "store": store,
                    "week": pd.date_range("2021-01-03", periods=n, freq="W-SUN"),
                    "sales": sales.round(2),
                }
            )
        )
    return pd.concat(frames).to_csv(index=False).encode()


def upload(content: bytes, name: str = "stores.csv"):
    at = new_app().run()
    at.radio(key="p_source").set_value("Your file").run()
    at.file_uploader(key="uploader").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def chart(at, key: str) -> dict:
    return json.loads(next(c.proto.spec for c in at.get("plotly_chart") if c.key == key))


def series_selector(at):
    return next(s for s in at.selectbox if s.label == "Series")


def test_a_long_file_is_read_as_many_series_with_a_selector() -> None:
    at = upload(long_csv())
    assert not at.error, texts(at.error)
    note = " ".join(texts(at.info)).replace("\\", "")
    assert "6 series" in note and "store" in note  # the detected id column, named
    assert at.multiselect(key=next(m.key for m in at.multiselect if m.label == "Id column(s)"))
    ids = next(m for m in at.multiselect if m.label == "Id column(s)")
    assert ids.value == ["store"]
    assert metric(at, "Series") == "6"
    assert metric(at, "Length") == "60 points each"
    panel = at.session_state["panel"]
    assert isinstance(panel, Panel) and len(panel) == 6
    assert sorted(panel.labels) == sorted(STORES)
    # one row per series in the summary table
    table = next(d for d in at.dataframe if "Too short" in d.value.columns).value
    assert len(table) == 6 and set(table["Points"]) == {60}
    assert set(table["Too short"]) == {"no"}
    # the selector's series is the current one, and switching changes the chart
    selector = series_selector(at)
    first = selector.value
    assert at.session_state["panel_label"] == first
    before = chart(at, "panel_series_chart")
    other = next(label for label in panel.labels if label != first)
    selector.set_value(other).run()
    assert not at.exception, at.exception
    assert at.session_state["panel_label"] == other
    assert at.session_state["series"].values.tolist() == panel[other].values.tolist()
    after = chart(at, "panel_series_chart")
    assert after["data"][0]["y"] != before["data"][0]["y"]
    assert after["layout"]["title"]["text"] == other
    # small multiples of up to six series
    multiples = chart(at, "panel_multiples")
    assert len(multiples["data"]) == 6


def test_a_too_short_series_is_listed_with_its_fallback() -> None:
    at = upload(long_csv((60, 60, 60, 60, 60, 20)))
    assert not at.error, texts(at.error)
    warning = " ".join(texts(at.warning)).replace("\\", "")
    assert "1 series too short" in warning and "airport" in warning
    assert "Theta" in warning  # the fallback, named
    assert metric(at, "Too short") == "1"
    table = next(d for d in at.dataframe if "Too short" in d.value.columns).value
    assert table.set_index("Series").loc["airport", "Too short"] == "yes"
    assert len(at.session_state["panel"]) == 6  # kept, not dropped


def test_a_wide_file_offers_one_target_or_many_series() -> None:
    dates = pd.date_range("2022-01-01", periods=80, freq="D")
    wave = np.sin(np.arange(80) / 3).round(3)
    frame = pd.DataFrame({"day": dates, **{f"shop_{k}": wave * (k + 1) + 10 for k in range(3)}})
    at = upload(frame.to_csv(index=False).encode(), "shops.csv")
    choice = next(r for r in at.radio if r.label == "What the numeric columns are")
    assert choice.value == "one"  # today's behaviour by default
    assert "These 3 numeric columns are 3 series" in choice.options
    assert at.session_state["panel"] is None
    assert at.session_state["series"].name == "shop_0"
    choice.set_value("many").run()
    assert not at.exception and not at.error, texts(at.error)
    panel = at.session_state["panel"]
    assert len(panel) == 3 and metric(at, "Series") == "3"
    # back to one series
    next(r for r in at.radio if r.label == "What the numeric columns are").set_value("one").run()
    assert at.session_state["panel"] is None


def test_a_single_series_file_has_no_panel() -> None:
    at = new_app().run()
    assert at.session_state["panel"] is None
    assert not any(r.label == "What the numeric columns are" for r in at.radio)


def test_the_train_page_plans_and_submits_one_global_network(monkeypatch) -> None:
    submitted = []

    def submit_panel(self, panel, config, data_options=None, label="", owner=""):
        submitted.append({"panel": panel, "config": config, "label": label, "owner": owner})
        return "panel-job"

    monkeypatch.setattr(jobs.JobManager, "submit_panel", submit_panel)
    at = upload(long_csv((60, 60, 60, 60, 60, 20)))
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    mode = at.radio(key="p_panel_mode")
    assert mode.value == "global"
    assert "One global network over all 6 series" in mode.options
    plan = " ".join(texts(at.markdown)).replace("\\", "")
    assert "One global network on 5 series" in plan and "training windows" in plan
    assert "airport" in plan and "Theta" in plan
    assert not at.button(key="train_button").disabled
    at.button(key="train_button").click().run()
    assert not at.exception, at.exception
    (job,) = submitted
    assert job["panel"] is at.session_state["panel"] or len(job["panel"]) == 6
    assert "global on 6 series" in job["label"] and job["owner"]
    assert at.session_state["job"] == "panel-job"


def test_one_network_for_the_chosen_series_trains_that_series(monkeypatch) -> None:
    submitted = []

    def submit_training(self, series, config, data_options=None, label="", owner="", **kw):
        submitted.append({"series": series, "label": label})
        return "single-job"

    monkeypatch.setattr(jobs.JobManager, "submit_training", submit_training)
    at = upload(long_csv())
    series_selector(at).set_value("east").run()
    at.switch_page("pages/train.py").run()
    at.radio(key="p_panel_mode").set_value("chosen").run()
    assert not at.exception, at.exception
    plan = " ".join(texts(at.markdown))
    assert "global network on" not in plan
    at.button(key="train_button").click().run()
    (job,) = submitted
    panel = at.session_state["panel"]
    assert job["series"].values.tolist() == panel["east"].values.tolist()
    assert job["label"].endswith("on east")


def test_a_tiny_global_training_finishes_with_its_m4_summary() -> None:
    at = upload(long_csv((120,) * 5 + (20,)))
    at.switch_page("pages/train.py").run()
    at.slider(key="p_units").set_value(TINY["units"]).run()
    at.slider(key="p_epochs").set_value(TINY["epochs"]).run()
    at.toggle(key="p_auto_ensemble").set_value(False).run()
    at.slider(key="p_ensemble").set_value(TINY["ensemble"]).run()
    at.button(key="train_button").click().run()
    assert not at.exception, at.exception
    job = at.session_state["job"]
    status = jobs.get_manager().status(job)
    assert status.kind == "panel" and status.state == jobs.DONE, status.message
    assert len(status.events) == TINY["epochs"]  # the live loss chart's epochs
    assert "global on 6 series" in status.label
    shown = {m.label: m.value for m in at.metric}
    assert shown["Series forecast"] == "6" and float(shown["OWA"]) > 0
    assert any(c.key == "final_loss" for c in at.get("plotly_chart"))
    assert {link.proto.page for link in at.get("page_link")} >= {"evaluate", "forecast"}
    assert job in at.session_state["jobs"]


def test_crafted_ids_are_shown_literally() -> None:
    from markdown_it import MarkdownIt

    from forecasting.ui_text import WORD_JOINER

    image, link = "![t](http://127.0.0.1:9/x.png)", '<a href="http://127.0.0.1:9/h">h</a>'
    content = long_csv((60, 60, 60, 20)).decode()
    content = content.replace("north", f'"{image}"').replace("east", f'"{link}"')
    at = upload(content.replace("south", f'"{link} 2"').encode())
    assert not at.exception and not at.error, texts(at.error)
    assert image in at.session_state["panel"].labels
    series_selector(at).set_value(image).run()
    at.switch_page("pages/train.py").run()
    at.radio(key="p_panel_mode").set_value("chosen").run()
    at.switch_page("pages/data.py").run()
    for page in ("data", "train"):
        at.switch_page(f"pages/{page}.py").run()
        kinds = ("markdown", "caption", "info", "warning", "error", "success", "subheader")
        shown = [str(e.value) for kind in kinds for e in at.get(kind)]
        if page == "train":
            shown += at.radio(key="p_panel_mode").options  # radio options are Markdown
        html = "\n".join(MarkdownIt("commonmark").render(t) for t in shown)
        html = html.replace(WORD_JOINER, "")
        assert "<img" not in html and "<a " not in html, (page, html)
        for figure in at.get("plotly_chart"):
            assert "<a " not in figure.proto.spec


NO_HEAVY_IMPORTS = """
import sys
sys.path.insert(0, "tests/app")
from test_panel_data_page import long_csv, upload
at = upload(long_csv((60, 60, 60, 20)))
at.switch_page("pages/train.py").run()
assert not at.exception, at.exception
assert "global network on 3 series" in " ".join(m.value for m in at.markdown)
print("HEAVY:", sorted(m for m in ("tensorflow", "keras", "jax", "ray") if m in sys.modules))
"""


def test_the_many_series_pages_import_no_tensorflow() -> None:
    import subprocess
    import sys

    from app_helpers import ROOT

    done = subprocess.run(
        [sys.executable, "-c", NO_HEAVY_IMPORTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "HEAVY: []" in done.stdout, done.stdout
