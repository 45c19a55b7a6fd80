"""Many-series runs (jobs of kind "panel") on the Evaluate and Forecast pages: which kind of
results to show, the picker over the session's finished panel runs, the series picker, and the
two pages' sections (the M4 aggregate, per-series metrics, skill and one series' test part;
every series' forecast and the long CSV). Streamlit glue only; nothing here imports TensorFlow.

Session state keys: p_eval_kind / p_forecast_kind (many or one series), p_*_panel_run,
p_panel_search, p_panel_eval_series, p_panel_forecast_series (widget values)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from forecasting.export import long_forecast_csv
from forecasting.panel_result_plots import (
    aggregate_sentence,
    aggregate_table,
    coverage_sentence,
    highlight_network,
    history_frame,
    panel_run_name,
    search_series,
    series_forecast,
    series_skill_sentence,
    series_table,
    series_test_figure,
    skill_histogram,
    value_name,
)
from forecasting.plots import forecast_figure, method_name
from forecasting.ui_text import HELP, md
from pages._common import download_button, finished_jobs, is_panel_job, manager, panel_result_of

MANY, ONE = "many", "one"


def finished_panel_jobs() -> list[str]:
    """The session's finished many-series runs whose results can be read, newest first; a
    run that cannot be read is named in a warning."""
    done = []
    for job_id in reversed(st.session_state.get("jobs", [])):
        if not is_panel_job(job_id):
            continue
        result, problem = panel_result_of(job_id)
        if result is not None:
            done.append(job_id)
        elif problem:
            st.warning(md(problem), icon=":material/history_toggle_off:")
    return done


def show_panel_results(key: str) -> bool:
    """Whether to show a many-series run: when the session has finished ones, and either no
    single-series run or the user picks "Many series" (the kind of the current run first)."""
    panels = finished_panel_jobs()
    if not panels:
        return False
    if not finished_jobs():
        return True
    state = st.session_state
    if state.get(key) not in (MANY, ONE):
        state[key] = MANY if state.get("job") in panels else ONE
    choice = st.radio(
        "Results of",
        (MANY, ONE),
        key=key,
        horizontal=True,
        format_func=lambda v: "Many series (one global network)" if v == MANY else "One series",
        help="This session has runs of both kinds: a global network trained on many series "
        "and networks trained on one series.",
    )
    return choice == MANY


def pick_panel_run(key: str):
    """A selectbox over the finished many-series runs (the current one first): `(job_id,
    result)`, or None when there is none."""
    jobs = finished_panel_jobs()
    if not jobs:
        return None
    current = st.session_state.get("job")
    if current in jobs:
        jobs.remove(current)
        jobs.insert(0, current)
    results = {job: panel_result_of(job)[0] for job in jobs}
    if st.session_state.get(key) not in jobs:
        st.session_state[key] = jobs[0]
    job = st.selectbox(
        "Run",
        jobs,
        key=key,
        help=HELP["run"],
        format_func=lambda j: panel_run_name(results[j], j),
    )
    return job, results[job]


def pick_series(key: str, labels: list[str], label: str = "Series") -> str:
    """A selectbox over the run's series; the Data page's chosen series first when the run
    has it."""
    state = st.session_state
    if state.get(key) not in labels:
        chosen = state.get("panel_label")
        state[key] = chosen if chosen in labels else labels[0]
    return st.selectbox(
        label,
        labels,
        key=key,
        help="Type to search the series by id.",
    )


def session_series(label: str):
    """Series `label` of the panel on the Data page (a `TimeSeries`), or None when there is
    no panel or it has no such series."""
    panel = st.session_state.get("panel")
    if panel is None or label not in panel.labels:
        return None
    return panel[label]


def panel_history(result, label: str, first) -> tuple[pd.DataFrame | None, bool]:
    """What comes before series `label`'s forecast, and whether it is the Data page's series
    (when that ends right before `first`, the first forecast date) rather than the run's
    test part of it (None for a series the network did not forecast)."""
    series = session_series(label)
    if series is not None and len(series) and series.future_index(1)[0] == first:
        return history_frame(series.index, series.values, 4 * result.config.horizon), True
    test = result.test_frame()
    rows = test[test["label"] == label]
    if rows.empty:
        return None, False
    return history_frame(rows["date"], rows["actual"], len(rows)), False


# ---------------------------------------------------------------------- Evaluate page
def evaluate_view(result) -> None:
    """A global network's results: the M4 aggregate, every series' metrics, the spread of
    per-series skill and one series' test part."""
    if not result.labels:
        st.info(all_short_text(result), icon=":material/short_text:")
        return
    scores = result.scores_frame()
    table = series_table(scores)
    text, beats = aggregate_sentence(result.aggregate, len(table))
    (st.success if beats else st.warning)(
        text, icon=":material/emoji_events:" if beats else ":material/lightbulb:"
    )
    st.subheader("All series by the M4 rules", anchor=False)
    st.dataframe(
        highlight_network(aggregate_table(result.aggregate)),
        hide_index=True,
        key="panel_aggregate",
    )
    st.caption(
        "Each series' test part is its last "
        f"{result.config.horizon} points, forecast from one origin by the network and by every "
        "baseline. Mean sMAPE and mean MASE over the series; OWA is the mean of the two, each "
        "relative to Naive2's (below 1: better than Naive2), as in the M4 competition."
    )
    band = coverage_sentence(result.coverage, result.config.level)
    if band:
        st.markdown(band)
    if result.fallback:
        shown = ", ".join(md(label) for label in result.fallback[:10])
        more = f" and {len(result.fallback) - 10:,} more" if len(result.fallback) > 10 else ""
        st.info(
            f"{len(result.fallback):,} series too short for the network got the Theta "
            f"method's forecast instead and are not scored here: {shown}{more}.",
            icon=":material/info:",
        )

    st.subheader("Per series", anchor=False)
    query = st.text_input(
        "Search series",
        key="p_panel_search",
        placeholder="Part of an id",
        help="Shows the series whose id holds every word typed (case does not matter).",
    )
    shown_table = search_series(table, query)
    st.dataframe(
        shown_table,
        hide_index=True,
        key="panel_series_table",
        column_config={
            "Network MASE": st.column_config.NumberColumn(format="%.3f"),
            "Network sMAPE %": st.column_config.NumberColumn(format="%.2f"),
            "Network MAE": st.column_config.NumberColumn(format="%.4g"),
            "Best baseline MASE": st.column_config.NumberColumn(format="%.3f"),
            "Skill": st.column_config.NumberColumn(
                format="percent",
                help="1 - network MASE / best baseline MASE: above 0, the network did better "
                "on this series than the best baseline did.",
            ),
        },
    )
    st.caption(
        f"{len(shown_table):,} of {len(table):,} series. Sort by a column header; the best "
        "baseline is the one with the lowest MASE on that series."
    )
    st.plotly_chart(skill_histogram(table["Skill"]), key="panel_skill_chart")
    st.caption(series_skill_sentence(table["Skill"]))

    st.subheader("One series", anchor=False)
    labels = list(table["Series"])
    if not labels:
        return
    label = pick_series("p_panel_eval_series", labels)
    test = result.test_frame()
    rows = test[test["label"] == label]
    history = None
    series = session_series(label)
    if series is not None and len(rows) and rows["date"].iloc[0] in series.index:
        before = series.index < rows["date"].iloc[0]
        history = history_frame(
            series.index[before], series.values[before], 3 * result.config.horizon
        )
    st.plotly_chart(
        series_test_figure(test, label, result.config.level, history, value_name(result)),
        key="panel_series_chart",
    )
    mine = scores[scores["label"] == label]
    st.dataframe(
        [
            {
                "Method": method_name(row["method"]),
                "MASE": row["mase"],
                "sMAPE %": row["smape"],
                "MAE": row["mae"],
            }
            for _, row in mine.iterrows()
        ],
        hide_index=True,
        key="panel_one_series_table",
        column_config={
            "MASE": st.column_config.NumberColumn(format="%.3f"),
            "sMAPE %": st.column_config.NumberColumn(format="%.2f"),
            "MAE": st.column_config.NumberColumn(format="%.4g"),
        },
    )
    if result.reasons:
        with st.expander("How this run was planned"):
            for reason in result.reasons:
                st.markdown(f"- {md(reason)}")


def all_short_text(result) -> str:
    """What a run without a network did: every series too short, each forecast by Theta."""
    return (
        f"Every series ({len(result.fallback):,}) was too short for the network (window "
        f"{result.config.model.window}, horizon {result.config.horizon}), so no network was "
        "trained and nothing is scored: each series' forecast is the Theta method's, on the "
        "Forecast page. Lower the window or the horizon on the Train page to train one."
    )


# ---------------------------------------------------------------------- Forecast page
@st.cache_data(max_entries=8, show_spinner=False)
def long_csv(job_id: str, registry: str, _result) -> str:
    """The CSV of every series' forecast of a finished run (made once per run)."""
    return long_forecast_csv(_result.forecast_frame(), _result.id_cols)


def forecast_view(job_id: str, result) -> None:
    """Every series' forecast of a global network: one series drawn, the long CSV of all."""
    forecast = result.forecast_frame()
    labels = result.all_labels
    label = pick_series("p_panel_forecast_series", labels)
    rows = series_forecast(forecast, result.id_cols, label)
    level = result.config.level
    history, from_data = (
        panel_history(result, label, rows["date"].iloc[0]) if len(rows) else (None, False)
    )
    st.plotly_chart(
        forecast_figure(
            history if history is not None else pd.DataFrame({"date": [], "value": []}),
            rows,
            level,
            value_name(result),
            title=f"{label}: forecast of the next {len(rows)} steps",
        ),
        key="panel_forecast_chart",
    )
    if label in result.fallback:
        st.caption(f"{md(label)} is too short for the network: its forecast is the Theta method's.")
    elif not from_data:
        st.caption(
            "The history drawn is this series' test part as the run saw it; load the same "
            "file on the Data page to see more of it."
        )

    stem = f"forecast-{len(labels)}-series-{job_id}"
    st.subheader("Downloads", anchor=False)
    if not result.labels:
        st.info(all_short_text(result), icon=":material/short_text:")
    d1, d2 = st.columns(2)
    download_button(
        d1,
        "Forecasts of every series (CSV)",
        data=long_csv(job_id, str(manager().root), result),
        file_name=f"{stem}.csv",
        key="download_panel_csv",
        help="One row per series and step: the id "
        + ("column" if len(result.id_cols) == 1 else "columns")
        + " ("
        + ", ".join(md(c) for c in result.id_cols)
        + "), then date, forecast, lower, upper.",
    )
    if result.labels:  # else no network, no bundle
        _bundle_button(d2, job_id, stem)
    st.caption(
        f"{len(forecast):,} rows: {len(labels):,} series × {result.config.horizon} steps"
        + (
            f" ({len(result.fallback):,} of them by the Theta method, too short for the network)."
            if result.fallback
            else "."
        )
    )
    with st.expander("Forecast table"):
        st.dataframe(forecast, hide_index=True)


def _bundle_button(column, job_id: str, stem: str) -> None:
    """The download of the run's panel bundle."""
    download_button(
        column,
        "Model bundle (.zip)",
        data=lambda job=job_id: manager().bundle_bytes(job) or b"",
        file_name=f"{stem}.zip",
        key="download_panel_bundle",
        help="The global network and each series' scaling, without pickle: "
        "`forecasting forecast` forecasts every series (or some of them) again.",
    )
