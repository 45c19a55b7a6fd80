"""Train page: every setting with its help, the plan's automatic choices, and a training job
followed live (loss chart, progress, cancel). Training runs in a worker process: moving a
slider, switching pages or reloading neither stops nor restarts it. With many series loaded
(`state.panel`), one global network over all of them is the default (`pages._panel`)."""

from __future__ import annotations

import time

import streamlit as st

from forecasting.config import CELL_NAMES, RunConfig
from forecasting.covariates import future_values
from forecasting.errors import DataError, ForecastingError
from forecasting.export import forecast_csv
from forecasting.plots import forecast_figure, loss_figure
from forecasting.progress import format_seconds, training_progress
from forecasting.registry import PANEL
from forecasting.results import recent_frame
from forecasting.settings import (
    SettingField,
    auto_key,
    config_from_widgets,
    setting_fields,
    widget_defaults,
    widget_key,
)
from forecasting.ui_text import HELP, md, skill_sentence
from forecasting.verdict import verdict
from pages._common import (
    PAGES,
    current_roles,
    download_button,
    ensure_frame,
    fallback_for,
    manager,
    plan_for,
    result_of,
    result_problem,
    session_key,
    start_job,
)
from pages._panel import (
    finished_panel_view,
    global_mode,
    mode_choice,
    panel_plan_for,
    show_global_plan,
    submit_global,
)

ensure_frame()

DEFAULTS = RunConfig()
WIDGETS = widget_defaults(DEFAULTS)  # session key -> default, derived from the settings

state = st.session_state
for name, default in WIDGETS.items():
    state.setdefault(name, default)
series = state.series  # with many series: the one chosen on the Data page
panel = state.get("panel")
is_global = global_mode()
roles = current_roles()  # chosen on the Data page
future_table = state.get("future_table") if roles.future and not is_global else None


def config_from_state() -> RunConfig:
    """The run configuration the widgets describe (read before they are drawn, so that the
    automatic choices can be shown on them)."""
    return config_from_widgets(DEFAULTS, state)


def setting_widget(item: SettingField) -> None:
    """One setting's widget, drawn as its declaration says (and its automatic toggle)."""
    spec, widget = item.setting, item.setting.widget
    common = {"key": widget_key(item.name), "persist_state": "session", "help": spec.help}
    if spec.auto:
        key = auto_key(item.name)
        st.toggle(spec.auto.label, key=key, persist_state="session", help=spec.auto.help)
        common["disabled"] = state[key]
    format_func = widget.labels.get if widget.labels else str
    low, high = widget.range or spec.range or (None, None)
    if widget.kind == "slider":
        st.slider(spec.label, low, high, step=widget.step, format=widget.format, **common)
    elif widget.kind == "select_slider":
        st.select_slider(spec.label, widget.options, format_func=format_func, **common)
    elif widget.kind == "radio":
        st.radio(
            spec.label,
            spec.choices,
            horizontal=widget.horizontal,
            format_func=format_func,
            **common,
        )
    elif widget.kind == "select":
        st.selectbox(spec.label, spec.choices, format_func=format_func, **common)
    elif widget.kind == "number":
        st.number_input(spec.label, low, high, step=1, **common)
    else:
        st.checkbox(spec.label, **common)


def setting_widgets(section: str) -> None:
    """The widgets of one section of the settings, in declaration order."""
    for item in setting_fields(RunConfig):
        if item.setting.section == section:
            setting_widget(item)


def covariates_phrase(roles) -> str:
    """What a run reads besides the target, e.g. "3 covariates and calendar features"."""
    count = len(roles.columns)
    parts = [f"{count} covariate{'s' if count != 1 else ''}"] if count else []
    if roles.calendar:
        parts.append("calendar features")
    return " and ".join(parts)


def show_fallback(series, config: RunConfig) -> None:
    """What a series too short for a network still gets: the Theta method's forecast, with
    its band, to look at and download."""
    frame, note = fallback_for(state.series_key, config.horizon, config.level, series)
    st.info(
        md(note) + " Add data or shorten the window and the horizon to train a network.",
        icon=":material/info:",
    )
    st.plotly_chart(
        forecast_figure(
            recent_frame(series),
            frame,
            config.level,
            series.name,
            title=f"{series.name}: Theta forecast",
        ),
        key="fallback_chart",
    )
    download_button(
        st,
        "Theta forecast (CSV)",
        data=forecast_csv(frame),
        file_name="forecast-theta.csv",
        key="download_fallback",
    )


def future_problem(plan) -> str | None:
    """Why the future covariates cannot be forecast beyond the data (their values over the
    plan's horizon are missing), or None."""
    if plan is None or not roles.future:
        return None
    try:
        future_values(series, roles, future_table, plan.config.horizon)
    except DataError as exc:
        return str(exc)
    return None


def show_inputs(plan) -> None:
    """Which columns go in, and in which role (the names are the user's: shown literally)."""
    sentences = plan.roles.sentences()
    if sentences:
        st.markdown(" ".join(md(sentence) for sentence in sentences))
    elif series.extra is not None and len(series.extra.columns):
        st.markdown(
            "Inputs: the target alone (the file's other columns are set to ignore on the "
            "Data page)."
        )


try:
    config = config_from_state()
    if is_global:
        plan, plan_error = panel_plan_for(panel, state.panel_key, config)
        too_short = False
    else:
        plan, plan_error, too_short = plan_for(series, state.series_key, config, roles)
except ForecastingError as exc:  # a setting out of range
    config, plan, plan_error, too_short = None, None, str(exc), False
missing_future = None if is_global else future_problem(plan)
if plan is not None:  # show the resolved automatic values on their (disabled) sliders
    if state.p_auto_window:
        state.p_window = plan.config.model.window
    if state.p_auto_horizon:
        state.p_horizon = plan.config.horizon

st.title("Train")
source_name = md(state.source.get("name", series.name))
if panel is None:
    st.caption(
        f"Train a recurrent network on **{source_name}** ({len(series):,} points). The "
        "training runs in the background: you can keep exploring while it runs."
    )
else:
    st.caption(
        f"**{source_name}** holds {len(panel):,} series. The training runs in the "
        "background: you can keep exploring while it runs."
    )
    mode_choice(panel)

# ---------------------------------------------------------------------- settings
net, fit, evaluation = st.columns(3, gap="large")
for column, section, title in (
    (net, "network", "Network"),
    (fit, "training", "Training"),
    (evaluation, "forecast", "Forecast and test"),
):
    with column:
        st.subheader(title, anchor=False)
        setting_widgets(section)
with evaluation, st.expander("Advanced"):
    setting_widgets("advanced")

# ---------------------------------------------------------------------- plan and submit
with st.container(border=True):
    if is_global:
        show_global_plan(plan, plan_error, config)
    elif plan is not None:
        split = plan.split
        named = set(plan.roles.sentences())  # these hold column names
        st.markdown(  # our sentences, no names
            "**Plan** · " + " ".join(r for r in plan.reasons if r not in named)
        )
        show_inputs(plan)
        for warning in plan.warnings:
            st.warning(warning, icon=":material/schedule:")
        st.caption(
            f"Training part: {split.train_end:,} points · validation: "
            f"{split.n_val:,} · test: {split.n_test:,} (the last "
            f"{split.n_test / split.n:.0%}, never used for training)."
        )
    else:
        st.error(md(plan_error), icon=":material/error:")
        if too_short:
            show_fallback(series, config)
    if missing_future:
        st.warning(
            "The future covariates have no values over the horizon: upload the future "
            "values on the Data page to forecast beyond the data. " + md(missing_future),
            icon=":material/event_busy:",
        )
        st.page_link(PAGES["data"], label="Go to Data", icon=":material/upload_file:")
    current = state.get("job")
    current_status = manager().status(current) if current else None
    busy = current_status is not None and not current_status.finished
    blocked = plan is None or missing_future is not None
    train_col, compare_col = st.columns([1, 3])
    clicked = train_col.button(
        "Train",
        type="primary",
        icon=":material/play_arrow:",
        disabled=blocked,
        help=HELP["train"],
        key="train_button",
    )
    compare = compare_col.button(
        "Compare SimpleRNN, LSTM and GRU",
        icon=":material/compare_arrows:",
        disabled=blocked,
        help="Train all three cells with these same settings, one after the other; the "
        "Runs page ranks them with the baselines.",
        key="compare_button",
    )
    if busy:
        st.caption("A training is already running; a new one waits in the queue.")

if (clicked or compare) and not blocked:
    cells = ("rnn", "lstm", "gru") if compare else (config.model.cell,)
    with st.spinner("Starting the training…"):
        job_ids = submit_global(panel, config, plan, cells) if is_global else []
        for cell in () if is_global else cells:
            cell_config = config.replace(model=config.model.replace(cell=cell))
            model = cell_config.model
            label = (
                f"{CELL_NAMES[model.cell]} {model.units}×{model.layers}, window "
                f"{plan.config.model.window} on {state.get('panel_label') or series.name}"
            )
            if roles.any:
                label += " with " + covariates_phrase(roles)
            job_ids.append(
                manager().submit_training(
                    series,
                    cell_config,
                    state.get("data_options"),
                    label,
                    owner=session_key(),
                    roles=roles,
                    future=future_table,
                )
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
    if status.state == "queued" and status.queue_position:
        st.info(
            f"Queued, position {status.queue_position}. It starts when the training "
            "before it ends.",
            icon=":material/hourglass_top:",
        )
    elif status.state == "queued":  # out of the queue, a worker is taking it up
        st.progress(0.0, text="Starting: loading Keras and preparing the windows…")
    progress = training_progress(status.events)
    elapsed = time.time() - status.created if status.created else 0.0
    if status.state == "running":
        if progress is not None:
            last = progress.last
            st.progress(progress.fraction, text=progress.text)
            c1, c2, c3 = st.columns(3)
            c1.metric("Elapsed", format_seconds(elapsed))
            c2.metric(
                "Remaining (at most)",
                format_seconds(progress.remaining_seconds),
                help="Early stopping often ends the training sooner.",
            )
            c3.metric(
                "Latest validation loss",
                "n/a" if last.val_loss is None else f"{last.val_loss:.4f}",
            )
        else:
            st.progress(0.0, text="Starting: loading Keras and preparing the windows…")
    if progress is not None:  # the network being trained now (one of several in an ensemble)
        current = progress.current
        st.plotly_chart(
            loss_figure(
                [e.loss for e in current],
                [e.val_loss for e in current],
                total_epochs=progress.last.epochs,
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
    history = result_of(job_id).history
    return loss_figure(history.loss, history.val_loss, history.best_epoch)


def finished_view(job_id: str, status) -> None:
    """Summary of a finished job, or why it did not finish."""
    if status.state == "failed":
        st.error(f"The training failed. {md(status.message)}", icon=":material/error:")
        return
    if status.kind == PANEL and status.state != "cancelled":
        if status.message:
            st.info(md(status.message), icon=":material/info:")
        finished_panel_view(job_id)
        return
    result = result_of(job_id)
    if status.state == "cancelled" or result is None:
        st.warning(
            md(result_problem(job_id) or status.message or "The training was cancelled."),
            icon=":material/cancel:",
        )
        return
    metrics = result.metrics
    if status.message:
        st.info(md(status.message), icon=":material/info:")
    text, beats = skill_sentence(result)
    (st.success if beats else st.warning)(text)
    judged = verdict({name: scores.mase for name, scores in metrics.test.items()})
    model_mase, best_mase = metrics.model.mase, judged.best_mase
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Test MASE",
        "n/a" if model_mase is None else f"{model_mase:.2f}",
        delta=None
        if model_mase is None or best_mase is None
        else f"{model_mase - best_mase:+.2f} vs the best baseline",
        delta_color="inverse",
        help="Mean absolute scaled error on the test part; "
        "below 1 beats the in-sample seasonal naive forecast.",
    )
    c2.metric(
        "Best baseline MASE",
        "n/a" if best_mase is None else f"{best_mase:.2f}",
        help=f"{judged.best_label or 'No baseline'}: the baseline with the lowest MASE on the "
        "same test part.",
    )
    c3.metric(
        "Epochs run",
        f"{metrics.epochs_run}",
        help=f"Weights of epoch {metrics.best_epoch} were kept; stopped by "
        f"{metrics.stopped_by.replace('_', ' ')}.",
    )
    c4.metric("Seconds per epoch", f"{metrics.seconds_per_epoch:.3g}")
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
        st.caption(md(status.label))
    running = status is not None and not status.finished
    st.fragment(run_every=1 if running else None)(progress_view)(job, running)

if not is_global and plan is not None:  # the Tune section (pages/_tune.py)
    from pages._tune import tune_section

    with st.container(border=True):
        tune_section(
            series,
            config,
            roles,
            future_table,
            state.get("data_options"),
            state.get("panel_label") or series.name,
        )
