"""Many series from one file (a `Panel`): the cached reading and planning, and the sections of
the Data and Train pages that show them. Streamlit glue only; nothing here imports TensorFlow.

Session state keys (besides those of `pages._common`):
    p_ids_*, p_layout_*     the id columns of a long file; whether a wide file's numeric
                            columns are many series
    p_series_*, p_multiples_*   the chosen series and the series drawn side by side
    p_panel_mode            the Train page: one global network, or one for the chosen series
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import streamlit as st

from forecasting.baselines import BASELINE_NAMES
from forecasting.config import CELL_NAMES, RunConfig
from forecasting.errors import ForecastingError
from forecasting.loading import AmbiguousDatesError, LoadOptions, layout_of, panel_from_table
from forecasting.panel import Panel
from forecasting.panel_pipeline import FALLBACK, plan_panel
from forecasting.panel_plots import (
    MAX_MULTIPLES,
    gaps_filled,
    length_text,
    series_table,
    small_multiples,
)
from forecasting.plots import loss_figure, method_name, series_figure
from forecasting.ui_text import md
from pages._common import (
    PAGES,
    digest,
    manager,
    panel_result_of,
    session_key,
    train_config,
    use_series,
)
from pages._panel_view import all_short_text

ONE, MANY = "one", "many"  # a wide file: one target and covariates, or many series
GLOBAL, CHOSEN = "global", "chosen"  # the Train page: one network for all, or for one series
SHOWN_NAMES = 10  # too-short series named in a sentence


@dataclass(frozen=True)
class ManySeries:
    """How the file is read as many series: by id columns (long) or by column (wide)."""

    id_cols: tuple[str, ...] = ()
    wide: bool = False


# ---------------------------------------------------------------------- cached reading
@st.cache_data(max_entries=16, show_spinner=False)
def file_layout(key: str, options_json: str, _table):
    """How the parsed file holds its series (`forecasting.loading.layout_of`), or None when it
    cannot tell; cached by the content digest `key` and the options."""
    try:
        return layout_of(_table, LoadOptions.from_dict(json.loads(options_json)))
    except ForecastingError:
        return None


@st.cache_data(max_entries=16, show_spinner="Building the series…")
def build_panel(key: str, options_json: str, id_cols: tuple[str, ...], wide: bool, _table):
    """`(panel, None, ambiguous)` as `build_series` answers, for many series: the id columns
    of a long file, or every numeric column of a wide one (`wide`)."""
    try:
        options = LoadOptions.from_dict(json.loads(options_json))
        return panel_from_table(_table, options, id_cols or None, wide), None, False
    except AmbiguousDatesError as exc:
        return None, str(exc), True
    except ForecastingError as exc:
        return None, str(exc), False


def use_panel(panel: Panel, key: str, label: str, options: LoadOptions, source: dict) -> None:
    """Make `panel` the session's data, with the series `label` as the current series."""
    state = st.session_state
    state.panel, state.panel_key, state.panel_label = panel, key, label
    use_series(panel[label], f"{key}:{label}", options, source)


def forget_panel() -> None:
    """One series again: no panel."""
    st.session_state.panel = None
    st.session_state.pop("panel_key", None)
    st.session_state.pop("panel_label", None)


def panel_plan_for(panel: Panel, panel_key: str, config: RunConfig):
    """`(plan, None)` of one global network over the panel (`plan_panel`), or `(None,
    message)`; cached by the panel's key and the settings."""
    return _panel_plan(panel_key, config.to_json(), panel)


@st.cache_data(max_entries=32, show_spinner="Planning…")
def _panel_plan(panel_key: str, config_json: str, _panel: Panel):
    try:
        return plan_panel(_panel, RunConfig.from_json(config_json)), None
    except ForecastingError as exc:
        return None, str(exc)


@st.cache_data(max_entries=16, show_spinner=False)
def _series_table(panel_key: str, too_short: tuple[str, ...], _panel: Panel):
    return series_table(_panel, too_short)


@st.cache_data(max_entries=32, show_spinner=False)
def _multiples(panel_key: str, labels: tuple[str, ...], _panel: Panel):
    return small_multiples(_panel, labels)


# ---------------------------------------------------------------------- Data page
def choose_layout(layout, file_key: str) -> ManySeries | None:
    """The id column choice of a long file, or the one-or-many question of a wide file; None
    for one series (a single-series file, or a wide file read as target and covariates)."""
    state = st.session_state
    if layout is None or layout.kind not in ("long", "wide"):
        return None
    if layout.note:
        st.info(md(layout.note), icon=":material/dataset:")
    if layout.kind == "long":
        candidates = list(dict.fromkeys([*layout.id_cols, *layout.id_candidates]))
        key = f"p_ids_{file_key[:16]}"
        if key not in state or any(c not in candidates for c in state[key]):
            state[key] = list(layout.id_cols)
        ids = st.multiselect(
            "Id column(s)",
            candidates,
            key=key,
            persist_state="session",
            help="The column(s) that tell the series apart. Choose several when it takes more "
            "than one to name a series, e.g. store and item.",
        )
        return ManySeries(tuple(ids), False)
    count = len(layout.value_cols)
    key = f"p_layout_{file_key[:16]}"
    state.setdefault(key, ONE)
    choice = st.radio(
        "What the numeric columns are",
        [ONE, MANY],
        key=key,
        persist_state="session",
        horizontal=True,
        format_func={
            ONE: "One target and covariates",
            MANY: f"These {count} numeric columns are {count} series",
        }.get,
        help="One target: forecast one column, the others may help as covariates. Many "
        "series: forecast every numeric column, with one network trained on all of them.",
    )
    return ManySeries((), True) if choice == MANY else None


def panel_key(file_key: str, options_json: str, many: ManySeries) -> str:
    """The cache key of a panel: the file, the options and how it is split into series."""
    return f"{file_key}:{options_json}:{json.dumps([list(many.id_cols), many.wide])}"


def names_text(labels, limit: int = SHOWN_NAMES) -> str:
    """Series ids for a sentence (escaped): the first `limit`, then how many more."""
    shown = ", ".join(md(label) for label in labels[:limit])
    more = len(labels) - limit
    return shown + (f" and {more:,} more" if more > 0 else "")


def show_panel(panel: Panel, key: str, options: LoadOptions, source: dict, file_notes=()) -> None:
    """The summary of many series: how they were told apart (series left out or resampled
    named), counts, the too-short ones and their fallback, one row per series, the chosen
    series' chart and small multiples. Makes the panel current."""
    state = st.session_state
    labels = panel.labels
    sid = digest(key.encode())[:12]
    select_key = f"p_series_{sid}"
    if state.get(select_key) not in labels:
        kept = state.get("panel_label")
        state[select_key] = kept if kept in labels else labels[0]
    config = train_config()
    plan, problem = panel_plan_for(panel, key, config) if config else (None, None)
    short = plan.fallback if plan else (tuple(labels) if problem else ())

    st.subheader(f"{len(panel):,} series", anchor=False)
    m = st.columns([1, 1.6, 1.6, 1, 1])
    m[0].metric("Series", f"{len(panel):,}", help="Series in the file, one per id.")
    m[1].metric("Length", length_text(panel), help="Points per series after the repairs.")
    m[2].metric("Frequency", series_frequency(panel), help="Shared by every series.")
    m[3].metric(
        "Gaps filled",
        f"{sum(gaps_filled(s) for s in panel.series):,}",
        help="Empty cells and absent timestamps filled, over all series.",
    )
    m[4].metric(
        "Too short",
        f"{len(short):,}",
        help="Series too short for the Train page's window and horizon: they get a "
        "statistical forecast instead of the network's.",
    )
    notes = [note for note in panel.notes if note not in file_notes]
    if notes:
        st.markdown("\n".join(f"- {md(note)}" for note in notes))
    if plan is not None and plan.fallback:
        window, horizon = plan.config.model.window, plan.config.horizon
        st.warning(
            f"{len(plan.fallback):,} series too short for window {window} and horizon "
            f"{horizon} (the network needs {window + 3 * horizon} points): "
            f"{names_text(list(plan.fallback))}. They get the {BASELINE_NAMES[FALLBACK]} "
            "method's forecast instead; none is dropped.",
            icon=":material/short_text:",
        )
    elif problem:
        st.warning(md(problem), icon=":material/short_text:")
    if config is None:
        st.caption("The Train page's settings are out of range: the too-short check waits.")

    st.dataframe(
        _series_table(key, tuple(short), panel),
        hide_index=True,
        height=min(38 + 35 * len(panel), 320),
        column_config={
            "Series": st.column_config.TextColumn("Series", help="The series' id."),
            "Gaps filled": st.column_config.NumberColumn(
                help="Missing values and absent timestamps filled in this series."
            ),
            "Repairs": st.column_config.NumberColumn(
                help="Changes the loader made to this series (see the chosen series below)."
            ),
            "Too short": st.column_config.TextColumn(
                help=f"yes: too short for the window; gets the {BASELINE_NAMES[FALLBACK]} "
                "forecast instead of the network's."
            ),
        },
    )
    label = st.selectbox(
        "Series",
        labels,
        key=select_key,
        persist_state="session",
        help="The series to look at (type to search its id). Training one network for this "
        "series alone is an option on the Train page.",
    )
    use_panel(panel, key, label, options, source)
    series = panel[label]
    st.plotly_chart(
        series_figure(series.index, series.values, series.name, title=label),
        key="panel_series_chart",
    )
    repairs = [repair.sentence for repair in series.repairs]
    with st.expander(f"Repairs of this series ({len(repairs)})"):
        for sentence in repairs:
            st.markdown(f"- {md(sentence)}")
        if not repairs:
            st.caption("None needed: the series was complete and regular.")
    multiples_key = f"p_multiples_{sid}"
    if multiples_key not in state or any(x not in labels for x in state[multiples_key]):
        state[multiples_key] = labels[:MAX_MULTIPLES]
    picked = st.multiselect(
        "Series side by side",
        labels,
        key=multiples_key,
        persist_state="session",
        max_selections=MAX_MULTIPLES,
        help=f"Up to {MAX_MULTIPLES} series drawn as small charts, each on its own scale.",
    )
    if picked:
        st.plotly_chart(_multiples(key, tuple(picked), panel), key="panel_multiples")


def show_file(head, notes) -> None:
    """The first rows of the file beside how it was read (each sentence once)."""
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("**First rows of the file**")
        st.dataframe(head, height=300)
    with right:
        st.markdown("**How the file was read**")
        for sentence in dict.fromkeys(notes):
            st.markdown(f"- {md(sentence)}")
        if not notes:
            st.caption("As a plain table: nothing to report.")


def series_frequency(panel: Panel) -> str:
    from forecasting.loading import describe_frequency

    return describe_frequency(panel.freq).partition(" (")[0]


# ---------------------------------------------------------------------- Train page
def mode_choice(panel: Panel) -> str:
    """One global network over every series (the default), or one for the chosen series."""
    state = st.session_state
    state.setdefault("p_panel_mode", GLOBAL)
    label = state.get("panel_label", "")
    return st.radio(
        "Train on",
        [GLOBAL, CHOSEN],
        key="p_panel_mode",
        persist_state="session",
        format_func={
            GLOBAL: f"One global network over all {len(panel):,} series",
            CHOSEN: f"One network for the chosen series ({md(label)})",
        }.get,
        help="A global network learns from the windows of every series, each scaled by its "
        "own level, and forecasts them all. One network for one series is the single-series "
        "training of the series chosen on the Data page.",
    )


def global_mode() -> bool:
    """Whether the Train page trains one network over the session's panel."""
    state = st.session_state
    return state.get("panel") is not None and state.get("p_panel_mode", GLOBAL) == GLOBAL


def show_global_plan(plan, problem: str | None, config: RunConfig | None) -> None:
    """The plan of a global network: `plan_panel`'s notes (ids in them shown literally)."""
    if plan is None:
        st.error(md(problem), icon=":material/error:")
        return
    st.markdown("**Plan** · " + " ".join(md(note) for note in plan.notes))
    if config is not None and config.model.strategy != "direct":
        st.caption(
            "A global network forecasts the whole horizon at once (the direct strategy); "
            "the recursive strategy applies to one network for one series."
        )


def submit_global(panel: Panel, config: RunConfig, plan, cells: tuple[str, ...]) -> list[str]:
    """Submit one global training per cell; their job ids."""
    state = st.session_state
    job_ids = []
    for cell in cells:
        cell_config = config.replace(model=config.model.replace(cell=cell))
        model = plan.config.model  # resolved: the window and units the network will have
        label = (
            f"{CELL_NAMES[cell]} {model.units}×{model.layers}, window "
            f"{model.window}, global on {len(panel):,} series"
        )
        job_ids.append(
            manager().submit_panel(
                panel, cell_config, state.get("data_options"), label, owner=session_key()
            )
        )
    return job_ids


def finished_panel_view(job_id: str) -> None:
    """A finished global training: its aggregate by the M4 rules and its loss chart."""
    result, problem = panel_result_of(job_id)
    if result is None:
        st.warning(md(problem or "The results of this run are missing."))
        return
    if not result.labels:
        st.info(all_short_text(result), icon=":material/short_text:")
        st.page_link(
            PAGES["forecast"], label="Forecasts of every series", icon=":material/trending_up:"
        )
        return
    model = result.aggregate.get("model", {})
    baselines = {m: s for m, s in result.aggregate.items() if m != "model" and s.get("owa")}
    best = min(baselines, key=lambda m: baselines[m]["owa"], default=None)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Series forecast",
        f"{len(result.labels) + len(result.fallback):,}",
        help=f"{len(result.labels):,} by the network, {len(result.fallback):,} too short for "
        f"it by the {BASELINE_NAMES[FALLBACK]} method.",
    )
    c2.metric("Mean sMAPE", number(model.get("smape")), help="Mean over the network's series.")
    c3.metric("Mean MASE", number(model.get("mase")), help="Below 1 beats seasonal naive.")
    c4.metric(
        "OWA",
        number(model.get("owa")),
        help="The M4 score: sMAPE and MASE relative to Naive2's, averaged (below 1 beats "
        "Naive2)."
        + (
            f" Best baseline: {method_name(best)}, OWA {baselines[best]['owa']:.3f}."
            if best
            else ""
        ),
    )
    history = result.history
    st.plotly_chart(
        loss_figure(history.loss, history.val_loss, history.best_epoch), key="final_loss"
    )
    links = st.columns(2)
    links[0].page_link(PAGES["evaluate"], label="Per-series scores", icon=":material/analytics:")
    links[1].page_link(
        PAGES["forecast"], label="Forecasts of every series", icon=":material/trending_up:"
    )


def number(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
