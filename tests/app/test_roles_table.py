"""Data page: the roles table of a file's other columns, the leak guard, the calendar switch
and the future file that future covariates need."""

from __future__ import annotations

import numpy as np
import pandas as pd
from app_helpers import download_content, new_app, texts

from forecasting.covariates import CALENDAR_HELP, ROLE_HELP, Roles, default_roles

AIR = "Hourly air quality (multi-column)"


def plain(text: str) -> str:
    """Markdown text without its escapes (user names are escaped before they are shown)."""
    return text.replace("\\", "").replace("**", "")


def air_quality():
    at = new_app().run()
    at.selectbox(key="p_sample").set_value(AIR).run()
    assert not at.exception, at.exception
    return at


def upload(at, name: str, content: bytes):
    at.radio(key="p_source").set_value("Your file").run()
    at.file_uploader(key="uploader").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def edit(at, rows: dict[int, str]):
    """Choose roles in the table (row position -> role label), as a click in it would."""
    editor = at.data_editor[0]
    at.session_state[editor.key] = {
        "edited_rows": {row: {"Role": label} for row, label in rows.items()},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, at.exception
    return at


def calendar_toggle(at):
    return next(t for t in at.toggle if t.label == "Calendar features")


def daily_file(rows: int = 120) -> pd.DataFrame:
    """Daily sales, a copy of tomorrow's sales, and a store that changes once."""
    sales = np.cumsum(np.random.default_rng(0).normal(size=rows)) + 50
    return pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=rows, freq="D"),
            "sales": sales.round(3),
            "tomorrow": np.append(sales[1:], sales[-1]).round(3),
            "store": ["A"] * (rows // 2) + ["B"] * (rows - rows // 2),
        }
    )


def csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_the_roles_table_lists_every_column_with_its_defaults() -> None:
    at = air_quality()
    series = at.session_state["series"]
    (editor,) = at.data_editor
    assert editor.editing_mode == "fixed"
    table = editor.value
    assert list(table["Column"]) == ["pm25", "temp", "pressure", "wind"]
    assert list(table["Type"]) == ["numeric"] * 4
    assert list(table["Role"]) == ["target"] + ["past covariate"] * 3
    defaults = Roles(past=("temp", "pressure", "wind"))
    assert at.session_state["roles"] == default_roles(series) == defaults
    # one line per role, and what happens to categorical columns
    explained = " ".join(texts(at.caption))
    for help_text in ROLE_HELP.values():
        assert help_text in explained
    assert "one-hot encoded with the categories seen in training" in explained
    toggle = calendar_toggle(at)
    assert toggle.value is False and not toggle.disabled and toggle.help == CALENDAR_HELP
    assert not at.error


def test_a_sample_without_other_columns_has_no_roles_table() -> None:
    at = new_app().run()
    assert not at.data_editor
    assert at.session_state["roles"] == Roles()


def test_changing_a_role_updates_the_session_roles() -> None:
    at = edit(air_quality(), {1: "ignore", 3: "future covariate"})
    assert at.session_state["roles"] == Roles(past=("pressure",), future=("wind",))
    calendar_toggle(at).set_value(True).run()
    assert at.session_state["roles"] == Roles(past=("pressure",), future=("wind",), calendar=True)
    assert not at.error
    # the choice survives a visit to another page ...
    at.switch_page("pages/train.py").run()
    at.switch_page("pages/data.py").run()
    assert at.session_state["roles"].future == ("wind",)
    assert list(at.data_editor[0].value["Role"]) == [
        "target",
        "ignore",
        "past covariate",
        "future covariate",
    ]
    assert calendar_toggle(at).value is True
    # ... and loading another series resets the roles to its defaults
    at.selectbox(key="p_sample").set_value("Monthly sales (seasonal)").run()
    assert at.session_state["roles"] == Roles()
    at.selectbox(key="p_sample").set_value(AIR).run()
    assert at.session_state["roles"] == Roles(past=("temp", "pressure", "wind"))
    assert list(at.data_editor[0].value["Role"])[1:] == ["past covariate"] * 3


def test_the_target_row_stays_the_target() -> None:
    at = edit(air_quality(), {0: "ignore", 2: "target"})
    notes = " ".join(plain(t) for t in texts(at.info))
    assert "pm25 stays the target" in notes
    assert "pressure keeps its role (past covariate)" in notes
    assert at.session_state["roles"] == Roles(past=("temp", "pressure", "wind"))


def test_a_copy_of_the_target_moved_forward_is_refused_by_name() -> None:
    at = upload(new_app().run(), "leak.csv", csv(daily_file()))
    assert at.session_state["series"].name == "sales"
    table = at.data_editor[0].value
    assert list(table["Type"]) == ["numeric", "numeric", "categorical"]
    assert list(table["Role"]) == ["target", "past covariate", "ignore"]  # the defaults
    assert at.error, "the leak is refused"
    message = plain(at.error[0].value)
    assert "Leak" in message and "'tomorrow'" in message and "1 step(s) ahead" in message
    assert at.session_state["roles"] == Roles()  # training would read nothing else
    assert any("last valid roles" in t for t in texts(at.caption))
    # set aside, the copy no longer stops anything; the category can be a past covariate
    at = edit(at, {1: "ignore", 2: "past covariate"})
    assert not at.error, texts(at.error)
    assert at.session_state["roles"] == Roles(past=("store",))
    # chosen again: refused again, and the last valid roles stay in use
    at = edit(at, {1: "future covariate", 2: "past covariate"})
    assert "'tomorrow'" in plain(at.error[0].value)
    assert at.session_state["roles"] == Roles(past=("store",))


def test_a_static_column_that_changes_is_refused() -> None:
    at = upload(new_app().run(), "stores.csv", csv(daily_file().drop(columns="tomorrow")))
    at = edit(at, {1: "static"})
    message = plain(at.error[0].value)
    assert "Static column 'store' changes over time" in message
    assert at.session_state["roles"] == Roles()


def test_calendar_features_need_dates() -> None:
    rows = "".join(f"{i % 7 + 10},{(i * 3) % 11}\n" for i in range(60))
    at = upload(new_app().run(), "steps.csv", f"visits,staff\n{rows}".encode())
    assert not at.session_state["series"].has_dates
    toggle = calendar_toggle(at)
    assert toggle.disabled and toggle.value is False
    assert any("Calendar features need dates" in t for t in texts(at.caption))


def test_a_future_covariate_asks_for_its_values_over_the_horizon(downloads) -> None:
    at = upload(new_app().run(), "stores.csv", csv(daily_file().drop(columns="tomorrow")))
    assert not any(f.label == "Future values" for f in at.file_uploader)
    at = edit(at, {1: "future covariate"})
    assert at.session_state["roles"] == Roles(future=("store",))
    (uploader,) = [f for f in at.file_uploader if f.label == "Future values"]
    reason = plain(at.warning[0].value)
    assert "store" in reason and "14 timestamps" in reason and "2020-04-30" in reason
    # the template: the 14 daily timestamps of the (automatic) horizon, an empty column
    template = download_content(at, "download_future_template", downloads).decode()
    lines = template.splitlines()
    assert lines[0] == "date,store" and len(lines) == 15
    assert lines[1] == "2020-04-30," and lines[-1] == "2020-05-13,"
    # a file that stops short: the first missing timestamps are named
    short = pd.DataFrame({"date": pd.date_range("2020-04-30", periods=10), "store": "B"})
    uploader.set_value(("future.csv", csv(short), "text/csv")).run()
    assert not at.exception, at.exception
    message = plain(at.error[0].value)
    assert "no value of 'store' for 2020-05-10, 2020-05-11, 2020-05-12 and 1 more" in message
    # a file that covers the horizon
    full = pd.DataFrame({"date": pd.date_range("2020-04-30", periods=20), "store": "B"})
    at.file_uploader(key=uploader.key).set_value(("future.csv", csv(full), "text/csv")).run()
    assert not at.error, texts(at.error)
    assert at.success[0].value == (
        "The future file covers the 14 timestamps from 2020-04-30 to 2020-05-13."
    )
    assert list(at.session_state["future_table"].columns) == ["store"]


def test_an_unreadable_future_file_shows_why() -> None:
    at = upload(new_app().run(), "stores.csv", csv(daily_file().drop(columns="tomorrow")))
    at = edit(at, {1: "future covariate"})
    uploader = next(f for f in at.file_uploader if f.label == "Future values")
    uploader.set_value(("future.csv", b"store\nA\nB\n", "text/csv")).run()
    assert not at.exception, at.exception
    assert "no date column" in plain(at.error[0].value)
    assert "future_table" not in at.session_state
