"""Forecast page: the future after the data with its band; downloads (forecast CSV, model
bundle, run configuration); a downloaded bundle forecasts again without retraining."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from forecasting.config import RunConfig, run_file_text
from forecasting.errors import ForecastingError
from forecasting.export import forecast_csv
from forecasting.plots import forecast_figure
from forecasting.results import frame_from_dict
from forecasting.ui_text import HELP
from pages._common import digest, ensure_frame, manager, pick_run, run_label

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
    forecast = frame_from_dict(result["forecast"])
    recent = frame_from_dict(result["recent"])
    level = result["metrics"].get("interval_level")
    name = result["series"]["name"]
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
    config = RunConfig.from_dict(result["config"])
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
        data=run_file_text(config, result.get("data_options")),
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
    st.caption(f"Run: {run_label(result, job_id)}")

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
            f"The current series ({series.name}, {len(series):,} points)"
            if v == "current"
            else "The data the model was trained on"
        ),
    )

if bundle_file is not None:
    raw = bundle_file.getvalue()
    cache_key = (digest(raw), state.series_key if target == "current" else None)
    cached = state.get("bundle_forecast")
    if cached is None or cached["key"] != cache_key:
        with st.spinner("Checking the bundle and loading the model…"):
            try:
                from forecasting.bundle import load_bundle  # imports Keras only now

                bundle = load_bundle(raw)
                frame = bundle.forecast(series if target == "current" else None)
                meta = bundle.series
                if target == "current":
                    history = series.to_frame().tail(max(4 * len(frame), 48))
                else:
                    values = list(bundle.last_values)
                    if meta["freq"]:
                        index = pd.date_range(
                            end=pd.Timestamp(meta["last"]), periods=len(values), freq=meta["freq"]
                        )
                    else:
                        index = range(int(meta["last"]) - len(values) + 1, int(meta["last"]) + 1)
                    history = pd.DataFrame({"date": index, meta["name"]: values})
                cached = {
                    "key": cache_key,
                    "forecast": frame,
                    "history": history,
                    "level": bundle.config.level,
                    "name": meta["name"],
                    "cell": bundle.config.model.cell,
                    "metrics": bundle.metrics,
                    "error": None,
                }
            except ForecastingError as exc:  # BundleError, DataError: a message for people
                cached = {"key": cache_key, "error": str(exc)}
        state.bundle_forecast = cached
    if cached["error"]:
        st.error(cached["error"], icon=":material/error:")
    else:
        frame = cached["forecast"]
        st.success(
            f"Bundle checked and loaded: forecast of {len(frame)} steps after "
            + ("the current series." if target == "current" else "the data it was trained on."),
            icon=":material/verified:",
        )
        st.plotly_chart(
            forecast_figure(
                cached["history"],
                frame,
                cached["level"],
                cached["name"],
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
