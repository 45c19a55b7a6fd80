"""Forecast page: the future after the data with its band; downloads (forecast CSV, model
bundle, run configuration); a downloaded bundle forecasts again without retraining."""

from __future__ import annotations

import streamlit as st

from forecasting.config import run_file_text
from forecasting.export import forecast_csv
from forecasting.jobs import DONE, BundleForecast
from forecasting.plots import forecast_figure, method_name
from forecasting.ui_text import HELP, md
from forecasting.verdict import offer_sentence
from pages._common import digest, ensure_frame, manager, pick_run

ensure_frame()

state = st.session_state

st.title("Forecast")
st.caption(
    "The network's forecast beyond the end of the data, with its prediction band. "
    "Download it, the trained model and the settings that reproduce the run."
)

picked = pick_run("p_forecast_run")
if picked is not None:
    job_id, result = picked
    forecast = result.forecast.to_frame()
    recent = result.recent.to_frame()
    level = result.metrics.interval_level
    name = result.series.name
    horizon = len(forecast)
    low = min(len(recent), 2)
    if not low <= state.get("p_history_points", -1) <= len(recent):
        state.p_history_points = min(len(recent), max(4 * horizon, 48))
    shown = st.slider(
        "History shown",
        low,
        len(recent),
        key="p_history_points",
        persist_state="session",
        help=HELP["history_points"],
    )
    st.plotly_chart(
        forecast_figure(
            recent,
            forecast,
            level,
            name,
            history=shown,
            title=f"{name}: forecast of the next {horizon} steps",
        ),
        key="forecast_chart",
    )

    csv_text = forecast_csv(forecast)
    config = result.config
    stem = f"forecast-{config.model.cell}-{job_id}"
    st.subheader("Downloads", anchor=False)
    d1, d2, d3 = st.columns(3)
    d1.download_button(
        "Forecast (CSV)",
        data=csv_text,
        file_name=f"{stem}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="download_csv",
        on_click="ignore",
        help="Columns date, forecast, lower, upper (the prediction band).",
    )
    d2.download_button(
        "Model bundle (.zip)",
        data=lambda job=job_id: manager().bundle_bytes(job) or b"",
        file_name=f"{stem}.zip",
        mime="application/zip",
        icon=":material/deployed_code:",
        key="download_bundle",
        on_click="ignore",
        help="The trained network(s) and everything needed to forecast again, "
        "without pickle. Upload it below or use `forecasting forecast`.",
    )
    d3.download_button(
        "Run configuration (JSON)",
        data=run_file_text(config, result.data_options),
        file_name=f"run-{job_id}.json",
        mime="application/json",
        icon=":material/settings:",
        key="download_config",
        on_click="ignore",
        help="Every setting of this run and how the data was read: "
        "`forecasting train DATA --config run.json` repeats it.",
    )
    with st.expander("Forecast table"):
        st.dataframe(forecast, hide_index=True)
    winner = result.winner_forecast
    if winner is not None:
        st.info(
            offer_sentence(winner.name, winner.mase, winner.model_mase),
            icon=":material/emoji_events:",
        )
        st.download_button(
            f"{method_name(winner.name)} forecast (CSV)",
            data=forecast_csv(winner.forecast.to_frame()),
            file_name=f"forecast-{winner.name}-{job_id}.csv",
            mime="text/csv",
            icon=":material/download:",
            key="download_winner_csv",
            on_click="ignore",
            help="Columns date, forecast, lower, upper; the band is calibrated on this "
            "method's own errors on the test part.",
        )
    st.caption(f"Run: {md(result.short_name(job_id))}")

# ---------------------------------------------------------------------- bundle upload
st.divider()
st.subheader("Forecast again with a saved model", anchor=False)
st.caption(
    "Upload a model bundle downloaded from this studio. It is checked (files, sizes, "
    "checksums, layer types) before anything in it is loaded; no retraining needed."
)
up_col, target_col = st.columns([3, 2], gap="large")
with up_col:
    bundle_file = st.file_uploader(
        "Model bundle (.zip)", type=["zip"], key="bundle_uploader", help=HELP["bundle_upload"]
    )
with target_col:
    series = state.series
    target = st.radio(
        "Forecast after",
        ["current", "bundle"],
        key="p_bundle_target",
        persist_state="session",
        help=HELP["bundle_series"],
        format_func=lambda v: (
            f"The current series ({md(series.name)}, {len(series):,} points)"
            if v == "current"
            else "The data the model was trained on"
        ),
    )


def bundle_forecast_view(job_id: str, live: bool) -> None:
    """Progress of the forecast job (a worker checks and loads the bundle), then its chart
    and download, or the job's message (the bundle check that failed)."""
    status = manager().status(job_id)
    if status is None:
        st.warning("This forecast is no longer available. Upload the bundle again.")
        return
    if not status.finished:
        st.info(
            f"Queued, position {status.queue_position or 1}: it starts when the training "
            "before it ends."
            if status.state == "queued"
            else "Checking the bundle and loading the model…",
            icon=":material/hourglass_top:",
        )
        return
    if live:
        st.rerun()  # once: stop polling and draw the result
    data = manager().result(job_id)
    if status.state != DONE or data is None:
        st.error(md(status.message or "The forecast did not finish."), icon=":material/error:")
        return
    result = BundleForecast.from_dict(data)
    frame = result.forecast.to_frame()
    st.success(
        f"Bundle checked and loaded: forecast of {len(frame)} steps after "
        + ("the data it was trained on." if result.after_bundle_data else "the current series."),
        icon=":material/verified:",
    )
    st.plotly_chart(
        forecast_figure(
            result.history.to_frame(),
            frame,
            result.level,
            result.name,
            title="Forecast from the uploaded model",
        ),
        key="bundle_chart",
    )
    st.download_button(
        "Forecast from the uploaded model (CSV)",
        data=forecast_csv(frame),
        file_name="forecast-from-bundle.csv",
        mime="text/csv",
        icon=":material/download:",
        key="download_bundle_csv",
        on_click="ignore",
    )


if bundle_file is not None:
    raw = bundle_file.getvalue()
    after_current = target == "current"
    cache_key = (digest(raw), state.series_key if after_current else None)
    submitted = state.get("bundle_forecast")
    if submitted is None or submitted["key"] != cache_key:
        # The worker checks and loads the bundle: Keras never enters the server.
        job = manager().submit_forecast(
            raw, series if after_current else None, "Forecast from an uploaded bundle"
        )
        submitted = state.bundle_forecast = {"key": cache_key, "job": job}
    forecast_status = manager().status(submitted["job"])
    live = forecast_status is not None and not forecast_status.finished
    st.fragment(run_every=1 if live else None)(bundle_forecast_view)(submitted["job"], live)
