"""RNN Forecasting Studio: the Streamlit frame.

Navigation over the pages, the shared sidebar (current data and training) and the session
bootstrap (a built-in sample is loaded on first open). Run with `streamlit run app.py`.
The server never imports TensorFlow: trainings run in worker processes (forecasting.jobs).
"""

from __future__ import annotations

import streamlit as st

from forecasting.loading import summarize
from forecasting.progress import training_progress
from forecasting.ui_text import md
from pages._common import (
    PAGES,
    bootstrap,
    manager,
    status_line,
)

st.set_page_config(
    page_title="RNN Forecasting Studio", page_icon=":material/timeline:", layout="wide"
)

bootstrap()

navigation = st.navigation(
    [
        st.Page(PAGES["data"], title="Data", icon=":material/table_chart:", default=True),
        st.Page(PAGES["train"], title="Train", icon=":material/model_training:"),
        st.Page(PAGES["evaluate"], title="Evaluate", icon=":material/analytics:"),
        st.Page(PAGES["forecast"], title="Forecast", icon=":material/trending_up:"),
        st.Page(PAGES["runs"], title="Runs", icon=":material/history:"),
    ]
)


def _sidebar_job(job_id: str, live: bool) -> None:
    status = manager().status(job_id)
    if status is None:
        st.caption("The last training is no longer available.")
        return
    if live and status.finished:
        st.rerun()  # the training ended: redraw the page (new results) and stop polling
    line = status_line(status)
    if status.state == "done":
        st.success(line, icon=":material/check_circle:")
    elif status.state == "failed":
        st.error(line, icon=":material/error:")
    elif status.state == "cancelled":
        st.warning(line, icon=":material/cancel:")
    else:
        st.info(line, icon=":material/hourglass_top:")
        progress = training_progress(status.events)
        if progress is not None:
            st.progress(progress.fraction)


def _sidebar_data(box) -> None:
    """The current series, drawn into `box` (a placeholder the page run may redraw)."""
    summary = summarize(st.session_state.series)
    source = st.session_state.get("source", {})
    with box.container():
        st.markdown("**Current data**")
        st.text(f"{source.get('name', '')}")
        st.caption(
            f"{md(summary['name'])} · {summary['rows']:,} points · {summary['frequency']} · "
            f"{summary['start']} to {summary['end']}"
        )


with st.sidebar:
    st.markdown("### :material/timeline: RNN Forecasting Studio")
    data_box = st.empty()
    _sidebar_data(data_box)
    job = st.session_state.get("job")
    if job:
        st.markdown("**Training**")
        status = manager().status(job)
        running = status is not None and not status.finished
        # Live while a training runs; a finished job needs no polling.
        st.fragment(run_every=2 if running else None)(_sidebar_job)(job, running)

shown_series = st.session_state.get("series_key")
navigation.run()
if st.session_state.get("series_key") != shown_series:
    # The page loaded another series (the sidebar was drawn before it ran): show the new one.
    _sidebar_data(data_box)
