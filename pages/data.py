"""Data page: a built-in sample or an uploaded file, column choice, repairs, preview, and the
roles of the other columns (covariates) with the future file they may need. A file of many
series (an id column, or one numeric column per series) is summarized by `pages._panel`."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from forecasting.covariates import (
    CALENDAR_HELP,
    ROLE_HELP,
    ROLE_LABELS,
    ROLES,
    Roles,
    future_values,
)
from forecasting.errors import DataError
from forecasting.loading import AGGREGATES, FILLS, RESAMPLE_HOWS, LoadOptions, summarize
from forecasting.overlay_plot import overlay_figure
from forecasting.plots import series_figure
from forecasting.records import stamp_texts
from forecasting.samples import get_sample, list_samples
from forecasting.ui_text import HELP, md
from pages._common import (
    DEFAULT_SAMPLE,
    PAGES,
    build_series,
    current_roles,
    digest,
    download_button,
    ensure_frame,
    future_template,
    options_json,
    parse_future,
    parse_table,
    planned_horizon,
    resolve_columns,
    roles_problem,
    sample_bytes,
    sheet_names,
    use_series,
)
from pages._panel import (
    build_panel,
    choose_layout,
    file_layout,
    forget_panel,
    panel_key,
    show_file,
    show_panel,
)

ensure_frame()

SAMPLE, UPLOAD = "Built-in sample", "Your file"
RESAMPLE_LABELS = {
    None: "Keep the data's frequency",
    "h": "Hourly",
    "D": "Daily",
    "W": "Weekly",
    "MS": "Monthly",
    "QS": "Quarterly",
    "YS": "Yearly",
}
FILL_LABELS = {
    "linear": "Linear interpolation",
    "time": "Time-weighted interpolation",
    "seasonal": "Same time last cycle",
    "ffill": "Repeat the last value",
    "none": "Don't fill (refuse gaps)",
}
PREVIEW_ROWS = 50
ROLE_OF_LABEL = {label: role for role, label in ROLE_LABELS.items()}
NO_OVERLAY = "None"
FILE_TYPES = ["csv", "tsv", "txt", "xlsx", "parquet"]

state = st.session_state
state.setdefault("p_source", SAMPLE)
state.setdefault("p_sample", DEFAULT_SAMPLE)
state.setdefault("p_fill", "linear")
state.setdefault("p_aggregate", "mean")
state.setdefault("p_resample", None)
state.setdefault("p_resample_how", "mean")

st.title("Data")
st.caption(
    "Pick a built-in sample or drop your own file. The studio detects the date and "
    "value columns, repairs what it can, and tells you every change it made."
)


def show_current(note: str | None = None) -> None:
    """The series in use (after an error, the one loaded before)."""
    series = state.series
    if note:
        st.info(note, icon=":material/info:")  # the caller escapes the names in it
    st.plotly_chart(
        series_figure(series.index, series.values, series.name, title=f"{series.name} (in use)"),
        key="current_chart",
    )


def offer_original(upload: dict) -> None:
    download_button(
        st,
        "Download your file as uploaded",
        data=upload["bytes"],
        file_name=upload["name"],
        key="download_original",
        help="The exact bytes you uploaded, unchanged.",
    )


# ---------------------------------------------------------------------- source
source_col, pick_col = st.columns([1, 2], gap="large")
with source_col:
    kind = st.radio(
        "Source", [SAMPLE, UPLOAD], key="p_source", persist_state="session", help=HELP["source"]
    )
with pick_col:
    if kind == SAMPLE:
        name = st.selectbox(
            "Sample", list_samples(), key="p_sample", persist_state="session", help=HELP["sample"]
        )
        sample = get_sample(name)
        st.caption(sample.description)
        data, filename, base = sample_bytes(name), sample.filename, sample.options
        source = {"kind": "sample", "name": name, "filename": filename}
        upload = None
    else:
        uploaded = st.file_uploader(
            "Drop a file here or browse",
            type=FILE_TYPES,
            key="uploader",
            help=HELP["upload"],
        )
        if uploaded is not None and state.get("upload", {}).get("file_id") != uploaded.file_id:
            raw = uploaded.getvalue()
            state.upload = {
                "file_id": uploaded.file_id,
                "name": uploaded.name,
                "bytes": raw,
                "digest": digest(raw),
            }
        upload = state.get("upload")
        if upload is None:
            st.info("No file yet. Until you upload one, the current series stays in use.")
            show_current()
            st.stop()
        if uploaded is None:
            st.caption(f"Using **{md(upload['name'])}**, uploaded earlier in this session.")
        data, filename, base = upload["bytes"], upload["name"], LoadOptions()
        source = {"kind": "upload", "name": upload["name"], "filename": upload["name"]}

key = upload["digest"] if upload else digest(data)
sheets = sheet_names(key, data) if upload else ()
if len(sheets) > 1:
    with pick_col:
        sheet = st.selectbox(
            "Sheet",
            [None, *sheets],
            key=f"p_sheet_{key[:16]}",
            persist_state="session",
            format_func=lambda name: "First sheet that holds data" if name is None else name,
            help="The workbook has several sheets: choose the one that holds the series.",
        )
    base = dataclasses.replace(base, sheet=sheet)


def refuse(message: str) -> None:
    """The file or the column choice cannot be used: say why (the message may embed column
    names: shown literally) and keep the series loaded before."""
    st.error(md(message), icon=":material/error:")
    if upload:
        offer_original(upload)
    show_current(
        f"Nothing was lost: **{md(state.source.get('name'))}** ({md(state.series.name)}) "
        "stays loaded."
    )
    st.stop()


table, error = parse_table(key, data, filename, base.sheet)
if table is None:
    refuse(error)


# ---------------------------------------------------------------------- columns and repairs
def column_choice(label: str, options: list[str], detected: str | None, key: str, help_text: str):
    """A column selectbox, pre-set to the detected column (kept when the file changes)."""
    if state.get(key) not in options:
        state[key] = detected if detected in options else options[0]
    return st.selectbox(label, options, key=key, persist_state="session", help=help_text)


if table.sheet is not None:
    base = dataclasses.replace(base, sheet=table.sheet)  # the run records the sheet read
detected = resolve_columns(table, base)
st.subheader("Columns and repairs")
layout_options = dataclasses.replace(base, dayfirst=state.get(f"p_dayfirst_{key[:16]}"))
many = choose_layout(file_layout(key, options_json(layout_options), table), key)
ids = many.id_cols if many else ()
if many is not None and not many.wide and not ids:
    st.warning(
        "Choose at least one id column: the file's timestamps repeat, so its rows hold "
        "several series.",
        icon=":material/dataset:",
    )
    show_current()
    st.stop()
col_date, col_value, col_fill, col_aggregate = st.columns(4)

with col_value:
    if many is not None and many.wide:
        value_col = None
        st.selectbox(
            "Value column",
            ["(every numeric column)"],
            disabled=True,
            help="Each numeric column is a series of its own.",
        )
    else:
        value_col = column_choice(
            "Value column",
            [c for c in table.value_candidates if c not in ids] or [detected.value_col],
            detected.value_col,
            f"p_value_{key[:16]}",
            HELP["value_col"],
        )
with col_date:
    date_options = [c for c in table.date_candidates if c != value_col and c not in ids]
    if date_options:
        date_col = column_choice(
            "Date column", date_options, detected.date_col, f"p_date_{key[:16]}", HELP["date_col"]
        )
    else:
        date_col = None
        st.selectbox(
            "Date column",
            ["(none: rows in file order)"],
            disabled=True,
            help="No column reads as dates, so the rows are taken as equally spaced "
            "steps in file order.",
        )
with col_fill:
    fill = st.selectbox(
        "Fill gaps",
        FILLS,
        key="p_fill",
        persist_state="session",
        help=HELP["fill"],
        format_func=FILL_LABELS.get,
    )
with col_aggregate:
    aggregate = st.selectbox(
        "Merge duplicate timestamps",
        AGGREGATES,
        key="p_aggregate",
        persist_state="session",
        help=HELP["aggregate"],
    )

with st.expander("Resample to a coarser frequency", expanded=state.p_resample is not None):
    col_resample, col_how = st.columns(2)
    with col_resample:
        resample = st.selectbox(
            "New frequency",
            list(RESAMPLE_LABELS),
            key="p_resample",
            persist_state="session",
            format_func=RESAMPLE_LABELS.get,
            help=HELP["resample"],
            disabled=date_col is None,
        )
    with col_how:
        resample_how = st.selectbox(
            "Combine values by",
            RESAMPLE_HOWS,
            key="p_resample_how",
            persist_state="session",
            help=HELP["resample_how"],
            disabled=resample is None,
        )

dayfirst_key = f"p_dayfirst_{key[:16]}"
options = dataclasses.replace(
    base,
    value_col=value_col,
    date_col=date_col,
    fill=fill,
    aggregate=aggregate,
    resample=resample if date_col else None,
    resample_how=resample_how,
    dayfirst=state.get(dayfirst_key),
)
if many is None:
    series, error, ambiguous = build_series(key, options_json(options), table)
    loaded = [series] if series is not None else []
else:
    panel, error, ambiguous = build_panel(
        key, options_json(options), many.id_cols, many.wide, table
    )
    loaded = list(panel.series) if panel is not None else []
chose_dayfirst = any(r.kind == "dayfirst_chosen" for s in loaded for r in s.repairs)
if ambiguous or chose_dayfirst or state.get(dayfirst_key) is not None:
    if ambiguous:
        st.info(md(error), icon=":material/help:")
    st.radio(
        "How should these dates be read?",
        [True, False],
        key=dayfirst_key,
        persist_state="session",
        index=None,
        horizontal=True,
        help=HELP["dayfirst"],
        format_func=lambda v: "Day first (31/12/2020)" if v else "Month first (12/31/2020)",
    )
    if ambiguous:
        st.stop()
if not loaded:
    refuse(error)


# ---------------------------------------------------------------------- summary
def show_summary(series) -> dict[str, str]:
    """One series: its figures, chart (with a covariate overlaid), first rows and repairs;
    the types of its other columns."""
    summary = summarize(series)
    st.subheader(md(summary["name"]), anchor=False)
    m = st.columns([1, 1.3, 2.4, 1.3, 1.3])
    m[0].metric("Points", f"{summary['rows']:,}", help="Rows of the series after the repairs.")
    m[1].metric("Span", summary["span"], help=f"From {summary['start']} to {summary['end']}.")
    # "monthly (month starts)" does not fit the metric's large font: the words in brackets go
    # to the help text (and stay in the sidebar).
    frequency_short, _, frequency_detail = summary["frequency"].partition(" (")
    m[2].metric(
        "Frequency",
        frequency_short,
        help=(f"{summary['frequency'].capitalize()}. " if frequency_detail else "")
        + (
            f"Seasonal period: {summary['season_length']} steps."
            if summary["season_length"] > 1
            else "No seasonal period from the frequency."
        ),
    )
    m[3].metric(
        "Missing values filled",
        f"{summary['missing_filled']:,}",
        help="Empty cells and absent timestamps that were filled.",
    )
    m[4].metric(
        "Duplicates merged",
        f"{summary['duplicates_merged']:,}",
        help="Rows that shared a timestamp with another row.",
    )

    column_types = summary["column_types"]
    title = f"{series.name} over time"
    overlay = None
    if column_types:
        if state.get("p_overlay") not in [NO_OVERLAY, *column_types]:
            state.p_overlay = NO_OVERLAY
        overlay = st.selectbox(
            "Overlay a covariate",
            [NO_OVERLAY, *column_types],
            key="p_overlay",
            persist_state="session",
            help="Draw one of the file's other columns over the series: numbers on their own "
            "axis at the right, categories as a step line.",
        )
    if overlay and overlay != NO_OVERLAY:
        figure = overlay_figure(
            series.index,
            series.values,
            series.name,
            series.extra[overlay],
            categorical=column_types[overlay] == "categorical",
            title=title,
        )
    else:
        figure = series_figure(series.index, series.values, series.name, title=title)
    st.plotly_chart(figure, key="series_chart")
    if len(series) > 5000:
        st.caption(
            f"The chart shows about 5,000 of the {len(series):,} points (the highs and lows "
            "of each stretch); training uses all of them."
        )

    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("**First rows of the file**")
        st.dataframe(table.frame.head(PREVIEW_ROWS), height=300)
    with right:
        st.markdown("**Repairs**")
        if summary["repairs"]:
            for sentence in summary["repairs"]:
                st.markdown(f"- {md(sentence)}")
        else:
            st.caption("None needed: the series was complete and regular.")
        notes = [n for n in table.notes if n not in summary["repairs"]]
        if notes:
            with st.expander("How the file was read"):
                for sentence in notes:
                    st.markdown(f"- {md(sentence)}")
        if upload:
            offer_original(upload)
    return column_types


if many is not None:
    show_panel(panel, panel_key(key, options_json(options), many), options, source, table.notes)
    show_file(table.frame.head(PREVIEW_ROWS), table.notes)
    if upload:
        offer_original(upload)
    column_types = {}  # no roles for many series
else:
    forget_panel()
    use_series(series, f"{key}:{options_json(options)}", options, source)
    current_roles()  # another series: its default roles, and no future file
    column_types = show_summary(series)


# ---------------------------------------------------------------------- roles
def choose_roles(choice: Roles) -> Roles:
    """The roles table (and the calendar switch): the user's choice, checked by no one yet.
    Edits to the target's row, or another column made the target, are set back and said."""
    names = [series.name, *column_types]
    table = pd.DataFrame(
        {
            "Column": names,
            "Type": ["numeric", *column_types.values()],
            "Role": [ROLE_LABELS["target"]]
            + [ROLE_LABELS[choice.role_of(name)] for name in column_types],
        }
    )
    edited = st.data_editor(
        table,
        key=f"roles_editor_{sid}",
        hide_index=True,
        num_rows="fixed",
        disabled=["Column", "Type"],
        column_config={
            "Column": st.column_config.TextColumn("Column", help="The file's column."),
            "Type": st.column_config.TextColumn(
                "Type", help="Detected from the values: numbers, or text categories."
            ),
            "Role": st.column_config.SelectboxColumn(
                "Role",
                options=[ROLE_LABELS[role] for role in ROLES],
                required=True,
                help="What the network does with the column (the roles are explained "
                "below the table).",
            ),
        },
    )
    picked = {
        str(name): ROLE_OF_LABEL.get(label)
        for name, label in zip(edited["Column"], edited["Role"], strict=True)
    }
    if picked.pop(series.name, "target") != "target":
        st.info(
            f"**{md(series.name)}** stays the target. To forecast another column, choose it "
            "as the Value column above.",
            icon=":material/info:",
        )
    for name, role in picked.items():
        if role in (None, "target"):
            picked[name] = choice.role_of(name)
            st.info(
                f"Only the Value column is the target: **{md(name)}** keeps its role "
                f"({ROLE_LABELS[picked[name]]}). To forecast it, choose it as the Value "
                "column above.",
                icon=":material/info:",
            )
    st.caption(
        "\n".join(f"- **{ROLE_LABELS[role]}**: {ROLE_HELP[role]}" for role in ROLES)
        + "\n- Categorical columns may be past or future covariates: they are one-hot "
        "encoded with the categories seen in training."
    )
    calendar_key = f"roles_calendar_{sid}"
    if calendar_key not in state:
        state[calendar_key] = choice.calendar and series.has_dates
    calendar = st.toggle(
        "Calendar features",
        key=calendar_key,
        disabled=not series.has_dates,
        help=CALENDAR_HELP,
    )
    if not series.has_dates:
        st.caption(
            "Calendar features need dates: this series has integer steps (choose a date "
            "column above to use them)."
        )
    return Roles(
        **{
            role: tuple(name for name, picked_role in picked.items() if picked_role == role)
            for role in ("past", "future", "static")
        },
        calendar=bool(calendar and series.has_dates),
    )


def future_section(roles: Roles) -> None:
    """The future file the future covariates need: upload, coverage of the horizon, and a
    template to fill in."""
    st.markdown("**Future values**")
    names = ", ".join(md(name) for name in roles.future)
    st.caption(
        f"Future covariates ({names}) are known ahead, so forecasting beyond the data needs "
        "their values over the whole horizon: a file with a date column plus these columns."
    )
    uploaded = st.file_uploader(
        "Future values",
        type=FILE_TYPES,
        key=f"future_uploader_{sid}",
        help="A future file: a date column and one column per future covariate, one row per "
        "timestamp of the horizon. Download the template below to fill it in.",
    )
    known = state.get("future_upload")
    if uploaded is not None and (known or {}).get("file_id") != uploaded.file_id:
        raw = uploaded.getvalue()
        table, error = parse_future(digest(raw), raw, uploaded.name)
        known = state.future_upload = {
            "file_id": uploaded.file_id,
            "name": uploaded.name,
            "error": error,
        }
        if table is None:
            state.pop("future_table", None)
        else:
            state.future_table = table
    if known and known["error"]:
        st.error(md(known["error"]), icon=":material/error:")
    elif known and uploaded is None:
        st.caption(f"Using **{md(known['name'])}**, uploaded earlier in this session.")
    horizon = planned_horizon(series, state.series_key)
    if horizon is None:
        st.info(
            "The Train page's settings cannot be planned on this series yet, so the future "
            "file cannot be checked against their horizon. Adjust them on the Train page.",
            icon=":material/info:",
        )
        return
    table = state.get("future_table")
    try:
        ahead = future_values(series, roles, table, horizon)
    except DataError as exc:
        (st.warning if table is None else st.error)(md(exc), icon=":material/event_busy:")
    else:
        first, last = stamp_texts(ahead.index[[0, -1]])
        st.success(
            f"The future file covers the {horizon} timestamps from {first} to {last}.",
            icon=":material/event_available:",
        )
    st.caption(f"Horizon: {horizon} steps, as set on the Train page.")
    download_button(
        st,
        "Template of the future file (CSV)",
        data=future_template(series, roles, horizon),
        file_name="future-values.csv",
        key="download_future_template",
        help="The horizon's timestamps with an empty column per future covariate: fill it "
        "in and upload it above.",
    )


if column_types:
    st.subheader("Column roles", anchor=False)
    st.caption(
        "Which of the file's columns feed the network, and how. The defaults take every "
        "other numeric column as a past covariate."
    )
    sid = digest(state.series_key.encode())[:12]
    valid = current_roles()
    chosen = choose_roles(state.roles_choice)
    state.roles_choice = chosen
    problem = roles_problem(series, state.series_key, chosen)
    if problem:
        st.error(md(problem), icon=":material/error:")
        kept = " ".join(md(sentence) for sentence in valid.sentences())
        st.caption(
            "Training uses the last valid roles until this is fixed: "
            + (kept or "the target alone.")
        )
    else:
        state.roles = valid = chosen
    if valid.future:
        future_section(valid)

st.page_link(PAGES["train"], label="Next: train a network", icon=":material/arrow_forward:")
