"""Runs page: every training of the session, side by side; a tuning's final model is listed
like a training ("· tuned"), with its search history beside its details."""

from __future__ import annotations

import streamlit as st

from forecasting.panel_result_plots import panel_run_name, panel_runs_table
from forecasting.plots import forecasts_overlay, loss_figure, loss_overlay
from forecasting.registry import TUNE
from forecasting.tables import ranking_table, runs_table
from forecasting.tune_plots import best_so_far_figure, leaderboard_table, search_summary
from forecasting.ui_text import HELP, md
from pages._common import (
    PAGES,
    STATE_WORDS,
    ensure_frame,
    is_panel_job,
    manager,
    panel_result_of,
    result_of,
    result_problem,
)

ensure_frame()

state = st.session_state

st.title("Runs")
st.caption(
    "Every training of this session with its settings, test scores and loss curve. "
    "Sort the table by a column; choose runs to draw them together."
)

jobs = list(reversed(state.get("jobs", [])))
if not jobs:
    st.info("No training yet in this session.")
    st.page_link(PAGES["train"], label="Go to Train", icon=":material/model_training:")
    st.stop()

results, labels, others, panels = {}, {}, [], {}
for job_id in jobs:
    if is_panel_job(job_id):
        panel_result = panel_result_of(job_id)[0]
        if panel_result is not None:
            panels[job_id] = panel_result
            continue
    result = result_of(job_id)
    if result is None:
        status = manager().status(job_id)
        others.append((job_id, status))
        continue
    results[job_id] = result
    labels[job_id] = result.short_name(job_id)
    if manager().status(job_id).kind == TUNE:
        labels[job_id] += " · tuned"

if results:
    table = runs_table({labels[j]: r for j, r in results.items()})
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "Test MASE": st.column_config.NumberColumn(format="%.3f", help="Lower is better."),
            "Test sMAPE %": st.column_config.NumberColumn(format="%.2f"),
            "Skill vs seasonal naive %": st.column_config.NumberColumn(
                format="%+.1f",
                help="How much lower the MASE is than seasonal naive's (negative: worse).",
            ),
            "Seconds/epoch": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    ranking = ranking_table({labels[j]: r for j, r in results.items()})
    if ranking is not None and len(results) > 1:
        st.subheader("Ranking with the baselines", anchor=False)
        st.dataframe(
            ranking,
            hide_index=True,
            column_config={
                "Test MASE": st.column_config.NumberColumn(format="%.3f"),
                "Test sMAPE %": st.column_config.NumberColumn(format="%.2f"),
                "Test MAE": st.column_config.NumberColumn(format="%.4g"),
            },
        )
        st.caption(
            "Every run here was scored on the same test part, so the baselines "
            "(forecasting from the same origins) rank beside them."
        )
if panels:
    st.subheader("Many-series runs", anchor=False)
    st.dataframe(
        panel_runs_table({panel_run_name(r, job): r for job, r in panels.items()}),
        hide_index=True,
        key="panel_runs_table",
        column_config={
            "Network OWA": st.column_config.NumberColumn(
                format="%.3f", help="The M4 score against Naive2: below 1 is better."
            ),
            "Network mean MASE": st.column_config.NumberColumn(format="%.3f"),
            "Best baseline OWA": st.column_config.NumberColumn(format="%.3f"),
            "Training seconds": st.column_config.NumberColumn(format="%.1f"),
        },
    )
    st.caption(
        "One global network per run, scored on every series' last horizon by the M4 rules; "
        "the Evaluate page shows each series."
    )
for job_id, status in others:
    word = "unknown" if status is None else STATE_WORDS.get(status.state, status.state)
    label = "" if status is None else status.label
    message = (
        result_problem(job_id)
        or (panel_result_of(job_id)[1] if is_panel_job(job_id) else None)
        or (status.message if status is not None else "")
    )
    st.caption(f"{word}: {md(label or job_id)}" + (f" — {md(message)}" if message else ""))

if not results:
    st.stop()

# ---------------------------------------------------------------------- overlays
finished = list(results)
if [j for j in state.get("p_runs_chosen", []) if j not in finished]:
    state.p_runs_chosen = [j for j in state.p_runs_chosen if j in finished]
state.setdefault("p_runs_chosen", finished[:3])
chosen = st.multiselect(
    "Runs to compare",
    finished,
    key="p_runs_chosen",
    persist_state="session",
    format_func=labels.get,
    help=HELP["runs"],
)
if chosen:
    left, right = st.columns(2, gap="large")
    with left:
        st.plotly_chart(
            forecasts_overlay({labels[j]: results[j] for j in chosen}), key="runs_forecasts"
        )
    with right:
        st.plotly_chart(
            loss_overlay({labels[j]: results[j].history for j in chosen}), key="runs_losses"
        )
    frequencies = {results[j].series.freq for j in chosen}
    names = {results[j].series.name for j in chosen}
    if len(frequencies) > 1 or len(names) > 1:
        st.caption(
            "The chosen runs were trained on different series; the history shown is "
            "the first run's."
        )

# ---------------------------------------------------------------------- one run in detail
st.subheader("Details", anchor=False)
detail = st.selectbox(
    "Run",
    finished,
    format_func=labels.get,
    key="p_runs_detail",
    persist_state="session",
    help=HELP["run"],
)
result = results[detail]
left, right = st.columns([3, 2], gap="large")
with left:
    history = result.history
    st.plotly_chart(
        loss_figure(history.loss, history.val_loss, history.best_epoch), key="detail_loss"
    )
with right:
    tab_config, tab_metrics = st.tabs(["Configuration", "Metrics"])
    with tab_config:
        st.json(result.config.to_dict(), expanded=2)
    with tab_metrics:
        st.json({k: v for k, v in result.metrics.to_dict().items() if k != "test"}, expanded=1)

# ---------------------------------------------------------------------- a tuning's search
search = (manager().tune_result(detail) or {}).get("tune")
if search:
    st.subheader("Search history", anchor=False)
    st.markdown(md(search_summary(search)))
    trials = search.get("trials", [])
    baseline = search.get("best_baseline")
    left, right = st.columns([3, 2], gap="large")
    left.dataframe(leaderboard_table(trials), hide_index=True, key="runs_search_table")
    right.plotly_chart(
        best_so_far_figure(trials, baseline and (baseline["name"], baseline["score"])),
        key="runs_search_chart",
    )
