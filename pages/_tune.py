"""The Train page's "Tune" section: a budgeted search on Ray as a job, its live leaderboard
(table, best score so far against time, settings against score), and "Use the best settings".

The search runs in a worker process (`forecasting.tune_job`): the server reads its
leaderboard file only and never imports Ray or Keras. Session state: `tune_open` (the section
is shown), `tune_job` (the current tuning's id), `tune_*` widget values.
"""

from __future__ import annotations

import streamlit as st

from forecasting.config import LEARNING_RATES, RunConfig
from forecasting.errors import ConfigError
from forecasting.progress import format_seconds
from forecasting.registry import TUNE
from forecasting.settings import auto_key, widget_key
from forecasting.tune_plots import (
    best_so_far_figure,
    leaderboard_table,
    no_win_sentence,
    parallel_figure,
)
from forecasting.tuning.options import DEFAULT_BUDGET_S, MAX_BUDGET_S, TuneOptions
from forecasting.tuning.space import DEFAULT_SPACE, space_from_texts
from forecasting.ui_text import md
from pages._common import manager, session_key

SPACE_LABELS = {
    "cell": "Cell (rnn, lstm, gru)",
    "cycles": "Window, in seasonal cycles",
    "units": "Units per layer",
    "layers": "Layers",
    "dropout": "Dropout",
    "learning_rate": "Learning rate",
    "scaling": "Scaling (auto, window, standard, minmax)",
    "ensemble": "Networks in the ensemble",
}


def open_button() -> bool:
    """The closed section's button; True when the section is (now) open."""
    state = st.session_state
    if "tune_job" not in state:  # after a reload: the session's latest tuning, if any
        found = manager().jobs_of(session_key(), TUNE)
        state.tune_job = found[-1] if found else None
    if state.get("tune_open") or state.get("tune_job"):
        return True
    st.button(
        "Tune automatically within a time budget…",
        icon=":material/tune:",
        key="tune_open_button",
        help="Search the network's settings on Ray for a few minutes and keep the best, "
        "scored on rolling-origin folds inside the training part.",
        on_click=lambda: state.update(tune_open=True),
    )
    return False


def tune_section(series, config: RunConfig, roles, future, data_options, label: str) -> None:
    """The whole section: settings and Start, then the current tuning live or finished."""
    if not open_button():
        return
    state = st.session_state
    st.subheader("Tune", anchor=False)
    st.caption(
        "Trials are scored by the mean MASE over 3 rolling-origin folds inside the training "
        "part (the validation and test parts are never seen while searching). The default "
        "configuration runs first; Optuna's TPE proposes the next settings and poor trials "
        "stop after a fold. The best is then retrained and tested beside the baselines. On "
        "this machine Ray runs one trial per CPU core at once."
    )
    c1, c2, c3 = st.columns(3)
    minutes = c1.slider(
        "Time budget (minutes)",
        1,
        int(MAX_BUDGET_S // 60),
        int(DEFAULT_BUDGET_S // 60),
        key="tune_budget",
        help="How long the search may take; the best is retrained after it.",
    )
    cap = c2.number_input(
        "Most trials (0: no cap)",
        0,
        1000,
        0,
        key="tune_trials",
        help="Stop after this many trials even if time is left.",
    )
    seed = c3.number_input(
        "Seed", 0, 2**31 - 1, 0, key="tune_seed", help="The sampler's seed (repeatable)."
    )
    texts = {}
    with st.expander("Search space"):
        st.caption("Comma-separated choices, or LOW to HIGH. An empty box is not searched.")
        for d in DEFAULT_SPACE.dimensions:
            texts[d.name] = st.text_input(
                SPACE_LABELS.get(d.name, d.name), d.text(), key=f"tune_space_{d.name}"
            )
    problem = None
    try:
        options = TuneOptions(
            budget_s=60.0 * minutes,
            trials=int(cap) or None,
            seed=int(seed),
            space=space_from_texts(texts),
        )
    except ConfigError as exc:
        options, problem = None, str(exc)
    if problem:
        st.error(md(problem), icon=":material/error:")
    if st.button(
        "Start tuning",
        type="primary",
        icon=":material/play_arrow:",
        key="tune_start",
        disabled=options is None,
    ):
        state.tune_job = manager().submit_tune(
            series,
            config,
            options.to_dict(),
            data_options,
            f"Tuning {minutes} min on {label}",
            owner=session_key(),
            roles=roles,
            future=future,
        )
        st.rerun()
    job = state.get("tune_job")
    if job:
        status = manager().status(job)
        running = status is not None and not status.finished
        st.fragment(run_every=2 if running else None)(tune_view)(job, running)


def tune_view(job: str, live: bool) -> None:
    """The current tuning: leaderboard and charts while it runs; the result once done."""
    status = manager().status(job)
    if status is None:
        st.warning("This tuning is no longer available (old jobs are cleaned up).")
        return
    if status.finished and live:
        st.rerun()
    board = manager().tune_board(job) or {"trials": [], "phase": "starting"}
    trials = board.get("trials", [])
    result = manager().tune_result(job) if status.finished else None
    search = (result or {}).get("tune") or {}
    baseline = search.get("best_baseline")
    baseline = None if not baseline else (baseline["name"], baseline["score"])
    if status.state == "failed":
        st.error(f"The tuning failed. {md(status.message)}", icon=":material/error:")
    elif not status.finished:
        phase = board.get("phase", "starting")
        finished = sum(t["state"] == "finished" for t in trials)
        text = {
            "search": f"Searching: {len(trials)} trials started, {finished} finished.",
            "final": "Retraining the best settings on training + validation…",
        }.get(phase, "Starting Ray…")
        st.info(text, icon=":material/hourglass_top:")
        if st.button("Cancel tuning", icon=":material/stop:", key="tune_cancel"):
            manager().cancel(job)
    elif status.message:
        st.info(md(status.message), icon=":material/info:")
    if not trials:
        return
    st.dataframe(leaderboard_table(trials), hide_index=True, key="tune_table")
    left, right = st.columns(2)
    left.plotly_chart(
        best_so_far_figure(trials, baseline, board.get("budget_s")), key="tune_best_chart"
    )
    right.plotly_chart(parallel_figure(trials), key="tune_parallel_chart")
    if result:
        finished_view(result, baseline)


def finished_view(result: dict, baseline) -> None:
    """The best settings, their gain over the default, the final test, and the button that
    fills the sliders."""
    search = result["tune"]
    best, default = search.get("best"), search.get("default") or {}
    if best is None:
        return
    sentence = no_win_sentence(best["score"], baseline)
    if sentence:
        st.warning(sentence, icon=":material/info:")
    engine = search["engine"]
    c1, c2, c3 = st.columns(3)
    c1.metric("Best score (MASE)", f"{best['score']:.3f}", help="Trial " + str(best["number"]))
    if default.get("score") is not None:
        c2.metric(
            "Default settings",
            f"{default['score']:.3f}",
            delta=f"{best['score'] - default['score']:+.3f} by tuning",
            delta_color="inverse",
        )
    c3.metric(
        "Search",
        format_seconds(search["seconds"]),
        help=f"On Ray at {engine['address']}: {engine['nodes']} node(s), {engine['cpus']} CPUs.",
    )
    test = result.get("test")
    if test:
        model = test["metrics"]["model"]["mase"]
        base = test.get("best_baseline")
        text = f"The best settings, retrained, score MASE {model:.3f} on the test part"
        if base:
            text += f"; the best baseline there, {base['name']}, scores {base['mase']:.3f}"
        st.markdown(text + ".")
    params = best["params"]
    st.markdown(
        "Best settings: "
        + ", ".join(f"{SPACE_LABELS.get(k, k).split(' (')[0]} {v}" for k, v in params.items())
    )
    st.button(
        "Use the best settings",
        icon=":material/done_all:",
        key="tune_use_best",
        on_click=use_settings,
        args=(result["best_config"], params),
        help="Set the sliders above to the best trial's settings.",
    )


def use_settings(best_config: dict, params: dict) -> None:
    """Fill the Train page's widgets with the best configuration (before they are drawn)."""
    state = st.session_state
    config = RunConfig.from_dict(best_config)
    flat = {**config.model.to_dict(), **config.train.to_dict()}
    for name in ("cell", "units", "layers", "scaling", "ensemble"):
        state[widget_key(name)] = flat[name]
    state[widget_key("dropout")] = round(round(flat["dropout"] / 0.05) * 0.05, 2)  # its step
    state[widget_key("learning_rate")] = min(
        LEARNING_RATES, key=lambda rate: abs(rate - flat["learning_rate"])
    )
    if "cycles" in params:
        state[auto_key("window")] = False
        state[widget_key("window")] = config.model.window
