"""Forecast page: the future after the data with its band; downloads (forecast CSV, model
bundle, run configuration); for a model with future covariates, a what-if (one covariate
changed over the horizon, forecast again by a worker with the run's bundle) beside the
original; a downloaded bundle forecasts again without retraining; a model is updated with new
data (`pages/_update.py`)."""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np
import pandas as pd
import streamlit as st

from forecasting.bundle import BundleManifest
from forecasting.bundle_archive import MANIFEST
from forecasting.config import run_file_text
from forecasting.covariate_plots import (
    what_if_difference,
    what_if_figure,
    what_if_label,
    what_if_table,
)
from forecasting.covariates import is_categorical
from forecasting.errors import ForecastingError
from forecasting.export import forecast_csv
from forecasting.jobs import DONE, BundleForecast
from forecasting.plots import forecast_figure, method_name
from forecasting.ui_text import HELP, md
from forecasting.verdict import offer_sentence
from pages._common import PAGES, digest, download_button, ensure_frame, manager, pick_run
from pages._panel_view import forecast_view, pick_panel_run, show_panel_results
from pages._update import update_section

ensure_frame()

state = st.session_state

st.title("Forecast")
st.caption(
    "The network's forecast beyond the end of the data, with its prediction band. "
    "Download it, the trained model and the settings that reproduce the run."
)


def table_digest(table: pd.DataFrame | None) -> str | None:
    """A cache key for a future file's table (None for none)."""
    return None if table is None else digest(table.to_csv().encode())


def offset_step(values: pd.Series) -> float:
    """A round step for the offset of a numeric covariate: about a tenth of its spread."""
    spread = float(np.nanstd(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)))
    if not math.isfinite(spread) or spread <= 0:
        return 1.0
    return float(10 ** math.floor(math.log10(spread / 2)))


@st.cache_data(max_entries=16, show_spinner=False)
def trained_categories(job_id: str, registry: str) -> dict[str, list[str]]:
    """Categorical covariate -> the categories the run's network saw in training, read from
    the manifest of its own bundle (JSON only: no network in it is loaded here)."""
    raw = manager().bundle_bytes(job_id)
    if raw is None:
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            manifest = BundleManifest.from_dict(json.loads(archive.read(MANIFEST)))
    except (zipfile.BadZipFile, KeyError, ValueError, ForecastingError):
        return {}
    found = (manifest.covariates or {}).get("categories", {})
    return {str(column): [str(c) for c in values] for column, values in found.items()}


def categories_of(job_id: str, column: str, table: pd.DataFrame) -> list[str]:
    """The categories offered for a categorical covariate: those seen in training, else
    those in the future file and the current data."""
    trained = trained_categories(job_id, str(manager().root)).get(column)
    if trained:
        return trained
    seen = {str(v) for v in table[column].dropna()}
    extra = getattr(state.get("series"), "extra", None)
    if extra is not None and column in extra.columns:
        seen |= {str(v) for v in extra[column].dropna()}
    return sorted(seen)


def what_if_controls(job_id: str, future: tuple[str, ...]) -> None:
    """Pick a future covariate and a change over the whole horizon; "Run what-if" submits a
    forecast job with the run's bundle and the changed future values."""
    table = state.get("future_table")
    missing = [c for c in future if table is None or c not in table.columns]
    if missing:
        st.info(
            "To try a what-if, load the future values of "
            + ", ".join(md(c) for c in missing)
            + " on the Data page (a future file: date and the future columns).",
            icon=":material/upload_file:",
        )
        st.page_link(PAGES["data"], label="Go to Data", icon=":material/table_chart:")
        return
    pick_col, change_col, button_col = st.columns([2, 2, 1], vertical_alignment="bottom")
    column = pick_col.selectbox(
        "Future covariate",
        future,
        key="p_whatif_column",
        help="The column whose future values are changed over the whole horizon.",
    )
    if is_categorical(table[column]):
        offset, category = (
            None,
            change_col.selectbox(
                "Set every value to",
                categories_of(job_id, column, table),
                key=f"whatif_category:{column}",
                help="This category over the whole horizon, one of those the model saw in "
                "training.",
            ),
        )
    else:
        category, offset = (
            None,
            change_col.number_input(
                "Add to every value",
                value=0.0,
                step=offset_step(table[column]),
                key=f"whatif_offset:{column}",
                help="An offset added to the future values over the whole horizon (negative "
                "lowers them).",
            ),
        )
    if button_col.button(
        "Run what-if",
        icon=":material/science:",
        key="whatif_button",
        help="Forecasts again with the saved model and the changed values; nothing is retrained.",
    ):
        bundle = manager().bundle_bytes(job_id)
        if bundle is None:
            st.error(
                "The saved model of this run is no longer available, so no what-if can be "
                "run. Train it again.",
                icon=":material/error:",
            )
            return
        label = what_if_label(column, offset=offset, category=category)
        # After the data the run was trained on (the bundle's), like the run's own forecast:
        # the two differ only by the change. The worker loads the model, never the server.
        job = manager().submit_forecast(
            bundle,
            None,
            f"What-if ({label})",
            owner=state.get("session_key", ""),
            future=what_if_table(table, column, offset=offset, category=category),
        )
        state.whatif = {"run": job_id, "job": job, "label": label}


def what_if_view(live: bool, result, history: int) -> None:
    """Progress of the what-if forecast job, then the what-if forecast beside the run's."""
    submitted = state.whatif
    status = manager().status(submitted["job"])
    if status is None:
        st.warning("This what-if is no longer available. Run it again.")
        return
    if not status.finished:
        st.info("Forecasting with the changed values…", icon=":material/hourglass_top:")
        return
    if live:
        st.rerun()  # once: stop polling and draw the result
    data = manager().result(submitted["job"])
    if status.state != DONE or data is None:
        st.error(md(status.message or "The what-if did not finish."), icon=":material/error:")
        return
    changed = BundleForecast.from_dict(data).forecast.to_frame()
    label = submitted["label"]
    name = result.series.name
    st.plotly_chart(
        what_if_figure(
            result.recent,
            result.forecast,
            changed,
            label,
            result.metrics.interval_level,
            name,
            history=history,
            title=f"{name}: what if {label}",
        ),
        key="whatif_chart",
    )
    difference = what_if_difference(result.forecast, changed)
    moved = float(np.mean(difference["difference"])) if len(difference) else 0.0
    st.caption(
        f"What if {md(label)} over the whole horizon: the forecast moves by {moved:+,.3f} "
        "on average (dashed line) against the original (solid line)."
    )
    with st.expander("What-if table"):
        st.dataframe(difference, hide_index=True)
    download_button(
        st,
        "What-if forecast (CSV)",
        data=forecast_csv(changed),
        file_name="forecast-what-if.csv",
        key="download_whatif_csv",
    )


picked_panel = None
if show_panel_results("p_forecast_kind"):
    picked_panel = pick_panel_run("p_forecast_panel_run")
if picked_panel is not None:
    forecast_view(*picked_panel)

picked = None if picked_panel is not None else pick_run("p_forecast_run")
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
    download_button(
        d1,
        "Forecast (CSV)",
        data=csv_text,
        file_name=f"{stem}.csv",
        key="download_csv",
        help="Columns date, forecast, lower, upper (the prediction band).",
    )
    download_button(
        d2,
        "Model bundle (.zip)",
        data=lambda job=job_id: manager().bundle_bytes(job) or b"",
        file_name=f"{stem}.zip",
        key="download_bundle",
        help="The trained network(s) and everything needed to forecast again, "
        "without pickle. Upload it below or use `forecasting forecast`.",
    )
    download_button(
        d3,
        "Run configuration (JSON)",
        data=run_file_text(config, result.data_options),
        file_name=f"run-{job_id}.json",
        key="download_config",
        help="Every setting of this run and how the data was read: "
        "`forecasting train DATA --config run.json` repeats it.",
    )
    with st.expander("Forecast table"):
        st.dataframe(forecast, hide_index=True)
    winner = result.winner_forecast
    if winner is not None:
        st.info(
            offer_sentence(winner.name, winner.mase, winner.model_mase, result.config.combine),
            icon=":material/emoji_events:",
        )
        download_button(
            st,
            f"{method_name(winner.name)} forecast (CSV)",
            data=forecast_csv(winner.forecast.to_frame()),
            file_name=f"forecast-{winner.name}-{job_id}.csv",
            key="download_winner_csv",
            help="Columns date, forecast, lower, upper; the band is calibrated on this "
            "method's own errors on the test part.",
        )
    st.caption(f"Run: {md(result.short_name(job_id))}")

    future_columns = result.roles.future
    if future_columns:
        st.subheader("What if", anchor=False)
        st.caption(
            "This forecast used the future values of "
            + ", ".join(md(c) for c in future_columns)
            + " from the future file. Change one of them over the whole horizon and see "
            "the forecast move beside the original."
        )
        what_if_controls(job_id, future_columns)
        whatif = state.get("whatif")
        if whatif is not None and whatif["run"] == job_id:
            whatif_status = manager().status(whatif["job"])
            live = whatif_status is not None and not whatif_status.finished
            st.fragment(run_every=1 if live else None)(what_if_view)(live, result, shown)

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
    download_button(
        st,
        "Forecast from the uploaded model (CSV)",
        data=forecast_csv(frame),
        file_name="forecast-from-bundle.csv",
        key="download_bundle_csv",
    )


if bundle_file is not None:
    raw = bundle_file.getvalue()
    after_current = target == "current"
    future_table = state.get("future_table")
    cache_key = (
        digest(raw),
        state.series_key if after_current else None,
        table_digest(future_table),
    )
    submitted = state.get("bundle_forecast")
    if submitted is None or submitted["key"] != cache_key:
        # The worker checks and loads the bundle: Keras never enters the server.
        job = manager().submit_forecast(
            raw,
            series if after_current else None,
            "Forecast from an uploaded bundle",
            future=future_table,
        )
        submitted = state.bundle_forecast = {"key": cache_key, "job": job}
    forecast_status = manager().status(submitted["job"])
    live = forecast_status is not None and not forecast_status.finished
    st.fragment(run_every=1 if live else None)(bundle_forecast_view)(submitted["job"], live)

# ---------------------------------------------------------------------- update with new data
update_section(picked[0] if picked is not None else None)
