"""Train page: every setting with its help, the plan's automatic choices, and a training job
followed live (loss chart, progress, cancel). Training runs in a worker process: moving a
slider, switching pages or reloading neither stops nor restarts it."""

from __future__ import annotations

import time

import streamlit as st

from forecasting.config import AUTO, CELL_NAMES, CELLS, SCALINGS, STRATEGIES, RunConfig
from forecasting.errors import ForecastingError
from forecasting.export import forecast_csv
from forecasting.plots import forecast_figure, loss_figure
from forecasting.results import recent_frame
from forecasting.ui_text import HELP, skill_sentence
from pages._common import (
    PAGES,
    ensure_frame,
    fallback_for,
    format_seconds,
    manager,
    plan_for,
    result_of,
    start_job,
)

ensure_frame()

DEFAULTS = RunConfig()
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1]
BATCH_SIZES = [8, 16, 32, 64, 128, 256, 512]
STRATEGY_LABELS = {
    "direct": "Direct (all steps at once)",
    "recursive": "Recursive (one step, fed back)",
}
SCALING_LABELS = {
    "auto": "Automatic (the better on validation)",
    "window": "Per window (last value)",
    "standard": "Standardize (z-score)",
    "minmax": "Min-max to [0, 1]",
}
WIDGETS = {  # session key -> default, from RunConfig()
    "p_cell": DEFAULTS.model.cell,
    "p_auto_window": DEFAULTS.model.window == AUTO,
    "p_window": DEFAULTS.model.window or 24,
    "p_units": DEFAULTS.model.units,
    "p_layers": DEFAULTS.model.layers,
    "p_dropout": DEFAULTS.model.dropout,
    "p_strategy": DEFAULTS.model.strategy,
    "p_epochs": DEFAULTS.train.epochs,
    "p_batch_size": DEFAULTS.train.batch_size,
    "p_learning_rate": DEFAULTS.train.learning_rate,
    "p_patience": DEFAULTS.train.patience,
    "p_seed": DEFAULTS.train.seed,
    "p_auto_horizon": DEFAULTS.horizon == AUTO,
    "p_horizon": DEFAULTS.horizon or 12,
    "p_test_size": DEFAULTS.test_size,
    "p_level": DEFAULTS.level,
    "p_scaling": DEFAULTS.model.scaling,
    "p_deseasonalize": DEFAULTS.model.deseasonalize,
    "p_log": DEFAULTS.model.log,
    "p_ensemble": DEFAULTS.model.ensemble,
}

state = st.session_state
for name, default in WIDGETS.items():
    state.setdefault(name, default)
series = state.series


def config_from_state() -> RunConfig:
    """The run configuration the widgets describe (read before they are drawn, so that the
    automatic choices can be shown on them)."""
    return DEFAULTS.with_settings(
        cell=state.p_cell,
        window=AUTO if state.p_auto_window else int(state.p_window),
        units=int(state.p_units),
        layers=int(state.p_layers),
        dropout=float(state.p_dropout),
        strategy=state.p_strategy,
        scaling=state.p_scaling,
        deseasonalize=bool(state.p_deseasonalize),
        log=bool(state.p_log),
        ensemble=int(state.p_ensemble),
        epochs=int(state.p_epochs),
        batch_size=int(state.p_batch_size),
        learning_rate=float(state.p_learning_rate),
        patience=int(state.p_patience),
        seed=int(state.p_seed),
        horizon=AUTO if state.p_auto_horizon else int(state.p_horizon),
        test_size=float(state.p_test_size),
        level=float(state.p_level),
    )


def show_fallback(series, config: RunConfig) -> None:
    """What a series too short for a network still gets: the Theta method's forecast, with
    its band, to look at and download."""
    frame, note = fallback_for(state.series_key, config.horizon, config.level, series)
    st.info(note + " Add data or shorten the window and the horizon to train a network.",
            icon=":material/info:")
    st.plotly_chart(forecast_figure(recent_frame(series), frame, config.level, series.name,
                                    title=f"{series.name}: Theta forecast"),
                    key="fallback_chart")
    st.download_button("Theta forecast (CSV)", data=forecast_csv(frame),
                       file_name="forecast-theta.csv", mime="text/csv",
                       icon=":material/download:", key="download_fallback", on_click="ignore")


try:
    config = config_from_state()
    plan, plan_error, too_short = plan_for(series, state.series_key, config)
except ForecastingError as exc:  # a setting out of range
    config, plan, plan_error, too_short = None, None, str(exc), False
if plan is not None:  # show the resolved automatic values on their (disabled) sliders
    if state.p_auto_window:
        state.p_window = plan.config.model.window
    if state.p_auto_horizon:
        state.p_horizon = plan.config.horizon

st.title("Train")
st.caption(
    f"Train a recurrent network on **{state.source.get('name', series.name)}** "
    f"({len(series):,} points). The training runs in the background: you can keep "
    "exploring while it runs."
)

# ---------------------------------------------------------------------- settings
net, fit, evaluation = st.columns(3, gap="large")
with net:
    st.subheader("Network", anchor=False)
    st.radio(
        "Cell",
        CELLS,
        key="p_cell",
        persist_state="session",
        horizontal=True,
        help=HELP["cell"],
        format_func=CELL_NAMES.get,
    )
    st.toggle(
        "Automatic window", key="p_auto_window", persist_state="session", help=HELP["auto_window"]
    )
    st.slider(
        "Window length (steps)",
        2,
        256,
        key="p_window",
        persist_state="session",
        help=HELP["window"],
        disabled=state.p_auto_window,
    )
    st.slider("Units per layer", 1, 256, key="p_units", persist_state="session", help=HELP["units"])
    st.slider("Layers", 1, 4, key="p_layers", persist_state="session", help=HELP["layers"])
    st.slider(
        "Dropout",
        0.0,
        0.5,
        step=0.05,
        key="p_dropout",
        persist_state="session",
        help=HELP["dropout"],
    )
    st.radio(
        "Multi-step strategy",
        STRATEGIES,
        key="p_strategy",
        persist_state="session",
        help=HELP["strategy"],
        format_func=STRATEGY_LABELS.get,
    )
with fit:
    st.subheader("Training", anchor=False)
    st.slider(
        "Epochs (at most)", 1, 500, key="p_epochs", persist_state="session", help=HELP["epochs"]
    )
    st.select_slider(
        "Batch size",
        BATCH_SIZES,
        key="p_batch_size",
        persist_state="session",
        help=HELP["batch_size"],
    )
    st.select_slider(
        "Learning rate",
        LEARNING_RATES,
        key="p_learning_rate",
        persist_state="session",
        help=HELP["learning_rate"],
        format_func=lambda v: f"{v:g}",
    )
    st.slider(
        "Early-stopping patience (epochs)",
        0,
        50,
        key="p_patience",
        persist_state="session",
        help=HELP["patience"],
    )
    st.number_input(
        "Seed", 0, 2**31 - 1, step=1, key="p_seed", persist_state="session", help=HELP["seed"]
    )
with evaluation:
    st.subheader("Forecast and test", anchor=False)
    st.toggle(
        "Automatic horizon",
        key="p_auto_horizon",
        persist_state="session",
        help=HELP["auto_horizon"],
    )
    st.slider(
        "Horizon (steps ahead)",
        1,
        180,
        key="p_horizon",
        persist_state="session",
        help=HELP["horizon"],
        disabled=state.p_auto_horizon,
    )
    st.slider(
        "Test fraction",
        0.05,
        0.5,
        step=0.05,
        key="p_test_size",
        persist_state="session",
        help=HELP["test_size"],
    )
    st.slider(
        "Prediction band level",
        0.5,
        0.99,
        step=0.01,
        key="p_level",
        persist_state="session",
        help=HELP["level"],
        format="%.2f",
    )
    with st.expander("Advanced"):
        st.selectbox(
            "Scaling",
            SCALINGS,
            key="p_scaling",
            persist_state="session",
            help=HELP["scaling"],
            format_func=SCALING_LABELS.get,
        )
        st.checkbox(
            "Remove the seasonal pattern first",
            key="p_deseasonalize",
            persist_state="session",
            help=HELP["deseasonalize"],
        )
        st.checkbox("Model the logarithm", key="p_log", persist_state="session", help=HELP["log"])
        st.slider(
            "Networks in the ensemble",
            1,
            5,
            key="p_ensemble",
            persist_state="session",
            help=HELP["ensemble"],
        )

# ---------------------------------------------------------------------- plan and submit
with st.container(border=True):
    if plan is not None:
        split = plan.split
        st.markdown("**Plan** · " + " ".join(plan.reasons))
        st.caption(
            f"Training part: {split.train_end:,} points · validation: "
            f"{split.n_val:,} · test: {split.n_test:,} (the last "
            f"{split.n_test / split.n:.0%}, never used for training)."
        )
    else:
        st.error(plan_error, icon=":material/error:")
        if too_short:
            show_fallback(series, config)
    current = state.get("job")
    current_status = manager().status(current) if current else None
    busy = current_status is not None and not current_status.finished
    train_col, compare_col = st.columns([1, 3])
    clicked = train_col.button(
        "Train",
        type="primary",
        icon=":material/play_arrow:",
        disabled=plan is None,
        help=HELP["train"],
        key="train_button",
    )
    compare = compare_col.button(
        "Compare SimpleRNN, LSTM and GRU",
        icon=":material/compare_arrows:",
        disabled=plan is None,
        help="Train all three cells with these same settings, one after the other; the "
        "Runs page ranks them with the baselines.",
        key="compare_button",
    )
    if busy:
        st.caption("A training is already running; a new one waits in the queue.")

if (clicked or compare) and plan is not None:
    cells = ("rnn", "lstm", "gru") if compare else (config.model.cell,)
    with st.spinner("Starting the training…"):
        job_ids = []
        for cell in cells:
            cell_config = config.replace(model=config.model.replace(cell=cell))
            model = cell_config.model
            label = (
                f"{CELL_NAMES[model.cell]} {model.units}×{model.layers}, window "
                f"{plan.config.model.window} on {series.name}"
            )
            job_ids.append(
                manager().submit(series, cell_config, state.get("data_options"), label)
            )
    for job_id in reversed(job_ids):  # the first one, which runs first, stays current
        start_job(job_id)
    st.rerun()  # draw the sidebar and the progress with the new job


# ---------------------------------------------------------------------- the job, live
def progress_view(job_id: str, live: bool) -> None:
    """Progress, loss chart and cancel of a queued or running job."""
    status = manager().status(job_id)
    if status is None:
        st.warning("This training is no longer available (old trainings are cleaned up).")
        return
    if status.finished:
        if live:
            st.rerun()  # redraw the whole page once: results, links, no more polling
        finished_view(job_id, status)
        return
    if status.state == "queued":
        st.info(
            f"Queued, position {status.queue_position or 1}. It starts when the training "
            "before it ends.",
            icon=":material/hourglass_top:",
        )
    events = status.events
    elapsed = time.time() - status.created if status.created else 0.0
    if status.state == "running":
        if events:
            last = events[-1]
            members, member = last.get("members", 1), last.get("member", 1)
            done = (member - 1) * last["epochs"] + last["epoch"]
            total = members * last["epochs"]
            text = f"Epoch {last['epoch']} of {last['epochs']}"
            if members > 1:
                text += f" · network {member} of {members}"
            st.progress(min(1.0, done / total), text=text)
            same = [e for e in events if e.get("member", 1) == member]
            # the first epoch also builds the graph: time the later ones when there are any
            per_epoch = (
                (same[-1]["elapsed"] - same[0]["elapsed"]) / (len(same) - 1)
                if len(same) > 1
                else last["elapsed"]
            )
            c1, c2, c3 = st.columns(3)
            c1.metric("Elapsed", format_seconds(elapsed))
            c2.metric(
                "Remaining (at most)",
                format_seconds(per_epoch * (total - done)),
                help="Early stopping often ends the training sooner.",
            )
            c3.metric(
                "Latest validation loss",
                "n/a" if last.get("val_loss") is None else f"{last['val_loss']:.4f}",
            )
        else:
            st.progress(0.0, text="Starting: loading TensorFlow and preparing the windows…")
    if events:  # the network being trained now (one of several in an ensemble)
        member = events[-1].get("member", 1)
        current = [e for e in events if e.get("member", 1) == member]
        st.plotly_chart(
            loss_figure(
                [e["loss"] for e in current],
                [e["val_loss"] for e in current],
                total_epochs=events[-1]["epochs"],
                title="Loss per epoch (live)",
            ),
            key="live_loss",
        )
    notice = st.empty()
    requested = state.setdefault("cancel_requested", set())
    if st.button(
        "Cancel",
        icon=":material/stop:",
        help=HELP["cancel"],
        key="cancel_button",
        disabled=job_id in requested,
    ):
        manager().cancel(job_id)
        requested.add(job_id)
    if job_id in requested:
        notice.info(
            "Cancelling: the training stops after the current batch, then the best weights "
            "so far are evaluated and saved.",
            icon=":material/hourglass_bottom:",
        )


@st.cache_resource(max_entries=32, show_spinner=False)
def final_loss_figure(job_id: str):
    """A finished job's loss chart, built once: slider moves then only redraw it."""
    history = result_of(job_id)["history"]
    return loss_figure(history["loss"], history["val_loss"], history["best_epoch"])


def finished_view(job_id: str, status) -> None:
    """Summary of a finished job, or why it did not finish."""
    if status.state == "failed":
        st.error(f"The training failed. {status.message}", icon=":material/error:")
        return
    result = result_of(job_id)
    if status.state == "cancelled" or result is None:
        st.warning(status.message or "The training was cancelled.", icon=":material/cancel:")
        return
    metrics = result["metrics"]
    if status.message:
        st.info(status.message, icon=":material/info:")
    text, beats = skill_sentence(result)
    (st.success if beats else st.warning)(text)
    test = metrics["test"]
    model_mase, naive_mase = test["model"].get("mase"), test["seasonal_naive"].get("mase")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Test MASE",
        "n/a" if model_mase is None else f"{model_mase:.2f}",
        delta=None
        if model_mase is None or naive_mase is None
        else f"{model_mase - naive_mase:+.2f} vs seasonal naive",
        delta_color="inverse",
        help="Mean absolute scaled error on the test part; "
        "below 1 beats the in-sample seasonal naive forecast.",
    )
    c2.metric("Seasonal naive MASE", "n/a" if naive_mase is None else f"{naive_mase:.2f}")
    c3.metric(
        "Epochs run",
        f"{metrics['epochs_run']}",
        help=f"Weights of epoch {metrics['best_epoch']} were kept; stopped by "
        f"{metrics['stopped_by'].replace('_', ' ')}.",
    )
    c4.metric("Seconds per epoch", f"{metrics['seconds_per_epoch']:.3g}")
    st.plotly_chart(final_loss_figure(job_id), key="final_loss")
    links = st.columns(3)
    links[0].page_link(
        PAGES["evaluate"], label="Evaluate on the test period", icon=":material/analytics:"
    )
    links[1].page_link(
        PAGES["forecast"], label="Forecast and download", icon=":material/trending_up:"
    )
    links[2].page_link(PAGES["runs"], label="Compare runs", icon=":material/history:")


job = state.get("job")
if job:
    st.subheader("Training", anchor=False)
    status = manager().status(job)
    if status is not None:
        st.caption(status.label)
    running = status is not None and not status.finished
    st.fragment(run_every=1 if running else None)(progress_view)(job, running)
