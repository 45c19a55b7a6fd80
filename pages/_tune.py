"""The Train page's "Tune" section: a budgeted search on Ray as a job, its live leaderboard
(table, best score so far against time, settings against score), and "Use the best settings".

The search runs in a worker process (`forecasting.tune_job`): the server reads its
leaderboard file only and never imports Ray or Keras. A tuning joins the session's runs
(`jobs`): its final model is listed on the Runs page like a training, with its search.
Session state: `tune_open` (the section is shown), `tune_job` (the current tuning's id),
`tune_*` widget values.
"""

from __future__ import annotations

import streamlit as st

from forecasting.baselines import BASELINE_NAMES
from forecasting.config import LEARNING_RATES, ModelConfig, RunConfig
from forecasting.errors import ConfigError
from forecasting.progress import format_seconds
from forecasting.registry import TUNE
from forecasting.settings import auto_key, setting_fields, widget_key
from forecasting.tune_plots import (
    SETTING_LABELS,
    best_so_far_figure,
    leaderboard_table,
    no_win_sentence,
    parallel_figure,
)
from forecasting.tuning.inputs import COVARIATES
from forecasting.tuning.objective import DEFAULT_FOLDS, TRIAL_EPOCHS
from forecasting.tuning.options import DEFAULT_BUDGET_S, MAX_BUDGET_S, TuneOptions
from forecasting.tuning.space import DEFAULT_SPACE, space_from_texts, with_covariates
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
    COVARIATES: "Covariates read (subsets: names joined by ' + ', or none)",
}
SEARCH_ENDED = ("final", "done")  # leaderboard phases after the search


def _ensemble_range() -> tuple[int, int]:
    """The Train page's ensemble slider's range (so "Use the best settings" can set it)."""
    (found,) = [f for f in setting_fields(ModelConfig) if f.name == "ensemble"]
    return found.setting.widget.range


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
        f"Trials are scored by the mean MASE over {DEFAULT_FOLDS} rolling-origin folds inside "
        "the training part (the validation and test parts are never seen while searching). "
        f"To stay cheap each trial, the default configuration too, trains one network per "
        f"fold for at most {TRIAL_EPOCHS} epochs with early stopping. The default runs first; "
        "Optuna's TPE proposes the next settings and poor trials stop after a fold. The best "
        "settings are then retrained as an ensemble (below) and tested beside the baselines. "
        "On this machine Ray runs one trial per CPU core at once."
    )
    c1, c2, c3, c4 = st.columns(4)
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
    final = c4.number_input(
        "Networks in the final model",
        *_ensemble_range(),
        ModelConfig().members,
        key="tune_final_ensemble",
        help="The final ensemble: the best settings are retrained with this many networks "
        "(median forecast). Trials train one network per fold, whatever this is.",
    )
    base = with_covariates(DEFAULT_SPACE, roles)
    texts = {}
    with st.expander("Search space"):
        st.caption("Comma-separated choices, or LOW to HIGH. An empty box is not searched.")
        for d in base.dimensions:
            texts[d.name] = st.text_input(
                SPACE_LABELS.get(d.name, d.name), d.text(), key=f"tune_space_{d.name}"
            )
    problem = None
    try:
        options = TuneOptions(
            budget_s=60.0 * minutes,
            trials=int(cap) or None,
            seed=int(seed),
            space=space_from_texts(texts, base),
            final_ensemble=int(final),
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
        state.jobs.append(state.tune_job)  # its final model joins the session's runs
        st.rerun()
    job = state.get("tune_job")
    if job:
        status = manager().status(job)
        running = status is not None and not status.finished
        st.fragment(run_every=2 if running else None)(tune_view)(job, running)


def tune_view(job: str, live: bool) -> None:
    """The current tuning: leaderboard and charts while it runs; the result above them once
    done."""
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
    baseline = search.get("best_baseline") or board.get("best_baseline")  # before any trial
    baseline = None if not baseline else (baseline["name"], baseline["score"])
    if status.state == "failed":
        st.error(f"The tuning failed. {md(status.message)}", icon=":material/error:")
    elif not status.finished:
        phase = board.get("phase", "starting")
        finished = sum(t["state"] == "finished" for t in trials)
        text = {
            "baselines": "Scoring the baselines on the search's folds…",
            "search": f"Searching: {len(trials)} trials started, {finished} finished.",
            "final": "Retraining the best settings on training + validation…",
        }.get(phase, "Starting…")
        st.info(text, icon=":material/hourglass_top:")
        if st.button("Cancel tuning", icon=":material/stop:", key="tune_cancel"):
            manager().cancel(job)
    elif status.message:
        st.info(md(status.message), icon=":material/info:")
    if board.get("phase") in SEARCH_ENDED or status.finished:
        scores = [t["score"] for t in trials if t["state"] == "finished"]
        sentence = no_win_sentence(min(scores, default=None), baseline, ended=True)
        if sentence:
            st.warning(sentence, icon=":material/info:")
    if result:  # the outcome first, then the evidence
        finished_view(result)
    if not trials and baseline is None:
        return
    if trials:
        st.dataframe(leaderboard_table(trials), hide_index=True, key="tune_table")
    left, right = st.columns(2)
    left.plotly_chart(  # the best baseline's line from before the first trial
        best_so_far_figure(trials, baseline, board.get("budget_s")), key="tune_best_chart"
    )
    if trials:
        right.plotly_chart(parallel_figure(trials), key="tune_parallel_chart")


def finished_view(result: dict) -> None:
    """The best settings, their gain over the default, the final test, and the button that
    fills the sliders."""
    search = result["tune"]
    best, default = search.get("best"), search.get("default") or {}
    if best is None:
        return
    engine = search["engine"]
    c1, c2, c3 = st.columns(3)
    c1.metric("Best score (MASE)", f"{best['score']:.3f}", help="Trial " + str(best["number"]))
    if default.get("score") is not None:
        c2.metric(
            "Default settings",
            f"{default['score']:.3f}",
            delta=None
            if best["number"] == 0
            else f"{best['score'] - default['score']:+.3f} by tuning",
            delta_color="inverse",
            help="Trial 0, scored the same way. When it is the best, tuning found nothing "
            "better within the budget.",
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
        networks = RunConfig.from_dict(result["best_config"]).model.members
        text = (
            f"The best settings, retrained with {networks} network(s), score MASE "
            f"{model:.3f} on the test part"
        )
        if base:
            name = BASELINE_NAMES.get(base["name"], base["name"])
            text += f"; the best baseline there, {name}, scores {base['mase']:.3f}"
        st.markdown(text + ".")
    params = best["params"]
    st.markdown(
        "Best settings: "
        + ", ".join(
            f"{md(SETTING_LABELS.get(k, k))} {md(f'{v:.3g}' if isinstance(v, float) else v)}"
            for k, v in params.items()
        )
    )
    if COVARIATES in params:
        st.caption(
            "The covariates are not sliders: to train with the best subset yourself, give the "
            "other columns the role 'ignore' on the Data page."
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
