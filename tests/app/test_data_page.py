"""Data page: the default sample, uploads (good, messy, bad), column choice, day-first."""

from __future__ import annotations

import io
import json

import pandas as pd
from app_helpers import new_app, texts

GOOD = (
    b"month;units;price\n2020-01;10;1,5\n2020-02;12;1,6\n2020-03;;1,7\n2020-04;15;1,8\n"
    b"2020-05;11;1,9\n2020-06;13;2,0\n"
)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def upload(at, name: str, content: bytes):
    at.radio(key="p_source").set_value("Your file").run()
    at.file_uploader(key="uploader").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def test_the_default_sample_is_loaded_on_first_open() -> None:
    at = new_app().run()
    assert not at.exception
    assert at.title[0].value == "Data"
    assert at.radio(key="p_source").value == "Built-in sample"
    assert at.selectbox(key="p_sample").value == "Monthly sales (seasonal)"
    assert metric(at, "Points") == "204"
    assert metric(at, "Frequency").startswith("monthly")
    assert at.session_state["series"].name == "sales"
    assert not at.error
    # every control explains itself
    for widget in [*at.selectbox, *at.radio]:
        assert widget.help, widget.label


def test_switching_sample_and_fill_rebuilds_the_series() -> None:
    at = new_app().run()
    at.selectbox(key="p_sample").set_value("Daily temperatures (with gaps)").run()
    assert at.session_state["series"].name == "temp"
    assert int(metric(at, "Missing values filled")) > 0
    assert any("Filled" in text for text in texts(at.markdown))
    at.selectbox(key="p_fill").set_value("ffill").run()
    assert not at.exception and not at.error
    assert at.session_state["data_options"]["fill"] == "ffill"


def test_upload_with_repairs_is_summarized() -> None:
    at = upload(new_app().run(), "sales.csv", GOOD)
    assert not at.error, texts(at.error)
    series = at.session_state["series"]
    assert (series.name, len(series), series.freq) == ("units", 6, "MS")
    assert metric(at, "Missing values filled") == "1"
    assert at.session_state["source"]["name"] == "sales.csv"
    # the other numeric column can be chosen instead
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Value column")).set_value(
        "price"
    ).run()
    assert at.session_state["series"].name == "price"
    assert at.session_state["data_options"]["value_col"] == "price"


def test_excel_upload(tmp_path) -> None:
    buffer = io.BytesIO()
    pd.DataFrame(
        {"date": pd.date_range("2021-01-01", periods=40, freq="D"), "visits": range(40)}
    ).to_excel(buffer, index=False)
    at = upload(new_app().run(), "visits.xlsx", buffer.getvalue())
    assert not at.error, texts(at.error)
    assert at.session_state["series"].name == "visits"
    assert len(at.session_state["series"]) == 40


def test_a_bad_file_shows_the_error_and_keeps_the_series() -> None:
    at = new_app().run()
    before = at.session_state["series"]
    bad = b"\x00\x01\x02\x03 this is not a table \xff\xfe"
    at = upload(at, "broken.csv", bad)
    assert at.error, "the error is shown"
    assert "binary" in at.error[0].value or "not" in at.error[0].value
    assert at.session_state["series"] is before
    assert any("Nothing was lost" in text for text in texts(at.info))
    # the original upload stays available as it was
    assert at.session_state["upload"]["bytes"] == bad
    assert any(b.key == "download_original" for b in at.get("download_button"))


def test_a_file_without_numbers_shows_the_error_and_keeps_the_series() -> None:
    at = new_app().run()
    at = upload(at, "words.csv", b"date,word\n2020-01-01,a\n2020-01-02,b\n2020-01-03,c\n")
    assert at.error
    assert at.session_state["series"].name == "sales"


def test_ambiguous_dates_ask_a_question_instead_of_an_error() -> None:
    content = b"date,value\n" + b"".join(
        f"0{m}/0{d}/2020,{m * 10 + d}\n".encode() for m in range(1, 10) for d in (1,)
    )
    at = upload(new_app().run(), "ambiguous.csv", content)
    assert not at.error
    assert any("ambiguous" in text for text in texts(at.info))
    question = next(r for r in at.radio if r.label.startswith("How should these dates"))
    assert question.value is None
    assert at.session_state["series"].name == "sales"  # unchanged until answered
    question.set_value(False).run()  # month first: 01/01, 02/01, ... monthly
    assert not at.error, texts(at.error)
    series = at.session_state["series"]
    assert series.name == "value" and series.freq == "MS"
    assert series.index[1] == pd.Timestamp("2020-02-01")


def test_uploads_survive_a_page_switch() -> None:
    at = upload(new_app().run(), "sales.csv", GOOD)
    at.switch_page("pages/train.py").run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    assert at.radio(key="p_source").value == "Your file"
    assert at.session_state["series"].name == "units"
    assert any("uploaded earlier" in text for text in texts(at.caption))


def test_every_page_is_drawn_inside_the_frame() -> None:
    at = new_app().run()
    for page in ("train", "evaluate", "forecast", "runs", "data"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        sidebar = " ".join(texts(at.sidebar.markdown))
        assert "Current data" in sidebar, page
        assert at.title[0].value.lower() == page


def notes_then_data_workbook() -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.DataFrame({"About": ["Visits per day", "Version 2", "Source: web log"]}).to_excel(
            writer, sheet_name="Notes", index=False
        )
        pd.DataFrame(
            {"date": pd.date_range("2021-01-01", periods=40, freq="D"), "visits": range(40)}
        ).to_excel(writer, sheet_name="Data", index=False)
    return buffer.getvalue()


def test_a_workbook_offers_its_sheets_and_reads_the_first_with_data() -> None:
    at = upload(new_app().run(), "visits.xlsx", notes_then_data_workbook())
    assert not at.error, texts(at.error)
    assert at.session_state["series"].name == "visits"
    sheet = next(s for s in at.selectbox if s.label == "Sheet")
    assert sheet.options == ["First sheet that holds data", "Notes", "Data"]
    assert at.session_state["data_options"]["sheet"] == "Data"
    sheet.set_value("Notes").run()  # a sheet of notes: the error, and the selector stays
    assert at.error and "No numeric column" in at.error[0].value
    assert any(s.label == "Sheet" for s in at.selectbox)
    assert at.session_state["series"].name == "visits"


def test_a_regular_day_first_reading_is_taken_and_can_be_changed() -> None:
    months = pd.date_range("1991-07-01", periods=30, freq="MS")
    content = "date;value\n" + "".join(f"{d:%d.%m.%Y};{i}\n" for i, d in enumerate(months))
    at = upload(new_app().run(), "european.csv", content.encode())
    assert not at.error, texts(at.error)
    series = at.session_state["series"]
    assert series.freq == "MS" and series.index[0] == pd.Timestamp("1991-07-01")
    shown = [text.replace("\\", "") for text in texts(at.markdown)]  # Markdown escapes
    assert any("day-first" in text and "regular" in text for text in shown)
    assert any(r.label.startswith("How should these dates") for r in at.radio)


def chart_spec(at, key: str = "series_chart") -> dict:
    return json.loads(next(c.proto.spec for c in at.get("plotly_chart") if c.key == key))


def test_a_numeric_covariate_is_drawn_over_the_series_on_its_own_axis() -> None:
    at = new_app().run()
    assert not any(s.key == "p_overlay" for s in at.selectbox)  # no other column
    at.selectbox(key="p_sample").set_value("Hourly air quality (multi-column)").run()
    overlay = at.selectbox(key="p_overlay")
    assert overlay.options == ["None", "temp", "pressure", "wind"] and overlay.value == "None"
    assert overlay.help
    assert len(chart_spec(at)["data"]) == 1
    overlay.set_value("temp").run()
    assert not at.exception, at.exception
    spec = chart_spec(at)
    assert [trace["name"] for trace in spec["data"]] == ["pm25", "temp"]
    assert spec["data"][1]["yaxis"] == "y2"
    assert spec["layout"]["yaxis2"]["side"] == "right"
    assert spec["layout"]["yaxis2"]["overlaying"] == "y"


def test_a_categorical_covariate_is_drawn_as_a_step_line() -> None:
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=30, freq="D"),
            "visits": range(30),
            "<b>shop</b>": ["A"] * 10 + ["B"] * 15 + ["A"] * 5,
        }
    )
    at = upload(new_app().run(), "shops.csv", frame.to_csv(index=False).encode())
    at.selectbox(key="p_overlay").set_value("<b>shop</b>").run()
    assert not at.exception, at.exception
    trace = chart_spec(at)["data"][1]
    assert trace["name"] == "&lt;b&gt;shop&lt;/b&gt;"  # shown literally, not as HTML
    assert trace["line"]["shape"] == "hv"
    assert trace["y"] == ["A", "B", "A", "A"]  # each change, and the last point
    assert [x[:10] for x in trace["x"]] == ["2020-01-01", "2020-01-11", "2020-01-26", "2020-01-30"]
    # another series without that column: the overlay goes back to none
    at.radio(key="p_source").set_value("Built-in sample").run()
    at.selectbox(key="p_sample").set_value("Hourly air quality (multi-column)").run()
    assert at.selectbox(key="p_overlay").value == "None"
