"""The Forecast page's "Update with new data" section: a model (this run's, or an uploaded
bundle) and the series loaded on the Data page (newer data of the same series) go to an update
job; its candidates are shown beside the baselines with the one kept, any other can be kept
instead, the drift check warns when the model no longer holds up, and the lineage chain and
the new bundle's download follow. The worker loads every bundle; the server never does."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from forecasting.baselines import BASELINE_NAMES
from forecasting.jobs import DONE
from forecasting.lineage import Lineage
from forecasting.records import stamp_texts
from forecasting.ui_text import md
from forecasting.update import FINE_TUNE_EPOCHS
from forecasting.update_plots import held_out_figure
from pages._common import digest, download_button, manager

state = st.session_state
METHODS = ("unchanged", "fine-tuned", "retrained")
METHOD_WORDS = {
    "unchanged": "Unchanged (the saved networks, longer history)",
    "fine-tuned": "Fine-tuned (the saved networks, a few epochs on the recent data)",
    "retrained": "Retrained (new networks from scratch, saved settings)",
}


def update_section(run_job: str | None) -> None:
    """The section: pick the model, run the update as a job, show its result."""
    st.divider()
    st.subheader("Update with new data", anchor=False)
    st.caption(
        "Newer data of the model's series (load it on the Data page: the same columns, "
        "continuing the model's data) is compared three ways on its newest part, which no "
        "candidate trains on: the model unchanged, fine-tuned from its saved weights, and "
        "retrained from scratch with its settings. The best is kept, its band recalibrated, "
        "and the new bundle records where it came from."
    )
    series = state.get("series")
    if series is None:
        st.info("Load the newer data on the Data page first.", icon=":material/upload_file:")
        return
    choices = (["run"] if run_job else []) + ["upload"]
    source = st.radio(
        "Model to update",
        choices,
        key="p_update_source",
        horizontal=True,
        format_func=lambda v: "This run's model" if v == "run" else "An uploaded bundle",
    )
    bundle = None
    if source == "upload":
        upload = st.file_uploader(
            "Model bundle to update (.zip)",
            type=["zip"],
            key="update_bundle_uploader",
            help="A bundle downloaded from this studio; checked before anything in it is loaded.",
        )
        bundle = None if upload is None else upload.getvalue()
    elif run_job:
        bundle = manager().bundle_bytes(run_job)
        if bundle is None:
            st.warning("This run's model is no longer available. Upload its bundle instead.")
    first, last = stamp_texts(series.index[[0, -1]])
    epochs_col, button_col = st.columns([2, 3], vertical_alignment="bottom")
    epochs = epochs_col.number_input(
        "Fine-tuning epochs",
        min_value=1,
        max_value=100,
        value=FINE_TUNE_EPOCHS,
        key="p_update_epochs",
        help="Epochs the saved networks train on the recent data (seeded: the same data gives "
        "the same result).",
    )
    clicked = button_col.button(
        "Update the model",
        icon=":material/update:",
        key="update_button",
        disabled=bundle is None,
        help=f"With the series on the Data page: {md(series.name)}, {len(series):,} points "
        f"from {first} to {last}.",
    )
    if clicked and bundle is not None:
        fill = (state.get("data_options") or {}).get("fill") or "linear"
        job = manager().submit_update(
            bundle,
            series,
            {"epochs": int(epochs), "fill": fill},
            "Update with new data",
            owner=state.get("session_key", ""),
        )
        state.update_job = {"job": job, "key": digest(bundle)}
    submitted = state.get("update_job")
    if submitted is None or bundle is None or submitted["key"] != digest(bundle):
        return  # no update yet of the model picked now
    status = manager().status(submitted["job"])
    live = status is not None and not status.finished
    st.fragment(run_every=1 if live else None)(update_view)(submitted["job"], live)


def update_view(job: str, live: bool) -> None:
    """Progress of the update job, then its candidates, choice, drift check and lineage."""
    status = manager().status(job)
    if status is None:
        st.warning("This update is no longer available. Run it again.")
        return
    if not status.finished:
        done = len(status.events)
        st.info(
            "Updating: checking the data, then fine-tuning and retraining"
            + (f" ({done} epochs so far)…" if done else "…"),
            icon=":material/hourglass_top:",
        )
        if st.button("Cancel the update", icon=":material/cancel:", key="update_cancel"):
            manager().cancel(job)
        return
    if live:
        st.rerun()  # once: stop polling and draw the result
    report = manager().update_result(job) if status.state == DONE else None
    if report is None:
        st.error(md(status.message or "The update did not finish."), icon=":material/error:")
        return
    st.dataframe(scores_table(report), hide_index=True, key="update_table")
    st.caption(
        f"Errors on the newest {report.held_out_points} points ({report.held_out[0]} to "
        f"{report.held_out[1]}, {report.origins} forecasts), which none of the candidates "
        "trained on, beside the baselines from the same origins."
    )
    made = [score.name for score in report.candidates if not score.note]
    kept = st.radio(
        "Keep",
        made,
        index=made.index(report.chosen),
        key=f"p_update_keep:{job}",
        horizontal=True,
        format_func=lambda name: name + (" (lowest MASE)" if name == report.best else ""),
        help="The lowest MASE is kept by default; keep another one instead here.",
    )
    st.plotly_chart(
        held_out_figure(report, kept, f"{report.name}: the candidates on the newest part"),
        key="update_chart",
    )
    st.success(
        f"Kept: {md(METHOD_WORDS[kept])}. Its band is recalibrated on its errors on the "
        "newest part.",
        icon=":material/check_circle:",
    )
    drift = report.drift
    if drift.warning:
        st.warning(md(drift.warning), icon=":material/warning:")
    else:
        ratio = "n/a" if drift.error_ratio is None else f"{drift.error_ratio:.2f} times"
        st.caption(
            f"Drift check: the model's {drift.nominal:.0%} band held {drift.coverage:.0%} of "
            f"the new values; its errors are {ratio} those of its test period."
        )
    download_button(
        st,
        "Updated model bundle (.zip)",
        data=manager().bundle_bytes(job, kept) or b"",
        file_name=f"bundle-{kept}-{job}.zip",
        key="download_update_bundle",
        help="The kept model with its lineage: upload it above to forecast, or update it "
        "again when newer data arrives.",
    )
    with st.expander("Lineage"):
        steps = report.lineage.steps
        chain = Lineage([*steps[:-1], steps[-1].replace(method=kept)])
        st.dataframe(pd.DataFrame(chain.rows()), hide_index=True, key="update_lineage")
        st.caption(f"Parent bundle SHA-256: {report.parent_sha256}")
    for note in report.notes:
        st.caption(md(note))


def scores_table(report) -> pd.DataFrame:
    """The candidates, then the baselines: method, MASE, sMAPE %, seconds, note."""
    rows = [
        {
            "method": score.name,
            "MASE": score.mase,
            "sMAPE %": score.smape,
            "seconds": score.seconds,
            "note": ("kept" if score.name == report.chosen else "") or score.note,
        }
        for score in report.candidates
    ]
    rows += [
        {
            "method": BASELINE_NAMES.get(score.name, score.name),
            "MASE": score.mase,
            "sMAPE %": score.smape,
            "seconds": None,
            "note": "baseline",
        }
        for score in report.baselines
    ]
    return pd.DataFrame(rows)
