"""Evaluate page: the network against the actual values and the baselines on the test part."""

from __future__ import annotations

import streamlit as st

from forecasting.covariate_plots import (
    comparison_table,
    covariate_lead_figure,
    covariate_verdict,
    importance_figure,
)
from forecasting.plots import by_lead_figure, method_name, residuals_figure, test_figure
from forecasting.progress import backtest_progress
from forecasting.results import Scores
from forecasting.tables import backtest_table, metrics_table
from forecasting.ui_text import HELP, md, skill_sentence
from forecasting.verdict import model_label, verdict
from pages._common import PAGES, backtest_result_of, ensure_frame, manager, pick_run
from pages._panel_view import evaluate_view, pick_panel_run, show_panel_results

ensure_frame()

st.title("Evaluate")
st.caption(
    "How the network did on the test part (the end of the series it never saw), "
    "beside simple baselines forecasting from the same points in time."
)

if show_panel_results("p_eval_kind"):
    picked_panel = pick_panel_run("p_eval_panel_run")
    if picked_panel is not None:
        evaluate_view(picked_panel[1])
        st.page_link(
            PAGES["forecast"],
            label="Next: every series' forecast and downloads",
            icon=":material/arrow_forward:",
        )
        st.stop()

picked = pick_run("p_eval_run")
if picked is None:
    st.stop()
job_id, result = picked
metrics = result.metrics
cell = model_label(result.config)  # "GRU", or "GRU + Theta" for a combination

text, beats = skill_sentence(result)
(st.success if beats else st.warning)(
    text, icon=":material/emoji_events:" if beats else ":material/lightbulb:"
)

model_metrics = metrics.model
judged = verdict({name: scores.mase for name, scores in metrics.test.items()})


def _fmt(value, digits: int = 2, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{suffix}"


cols = st.columns(4)
cols[0].metric(
    "Test MASE",
    _fmt(model_metrics.mase),
    delta=None
    if model_metrics.mase is None or judged.best_mase is None
    else f"{model_metrics.mase - judged.best_mase:+.2f} vs {judged.best_label}",
    delta_color="inverse",
    help="Mean absolute error divided by the in-sample error of seasonal naive.",
)
cols[1].metric(
    "Test MAE",
    _fmt(model_metrics.mae, 3),
    help="Mean absolute error in the units of the series.",
)
cols[2].metric(
    "Test sMAPE",
    _fmt(model_metrics.smape, 1, "%"),
    help="Symmetric mean absolute percentage error.",
)
level = metrics.interval_level
covered = metrics.interval_coverage_test
cols[3].metric(
    f"Band coverage (nominal {level:.0%})",
    "n/a" if covered is None else f"{covered:.0%}",
    delta=None if covered is None else f"{100 * (covered - level):+.0f} points",
    delta_color="off",
    help="Share of the test values inside the prediction band. Close to the "
    "nominal level means the band is honest.",
)

# ---------------------------------------------------------------------- charts
baseline_names = list(result.baselines_test)
chosen = st.multiselect(
    "Baselines on the chart",
    baseline_names,
    default=[b for b in dict.fromkeys((judged.best, "seasonal_naive")) if b in baseline_names],
    format_func=method_name,
    key="p_eval_baselines",
    persist_state="session",
    help=HELP["baselines"],
)
st.plotly_chart(test_figure(result, chosen), key="test_chart")
st.caption(
    f"The solid blue line is the {cell}'s forecast of all {result.horizon} steps "
    "from the start of the test period, with its prediction band; the dashed orange line "
    "predicts each point from the actual values just before it (one step ahead)."
)

left, right = st.columns(2, gap="large")
with left:
    st.plotly_chart(residuals_figure(result.one_step), key="residuals_chart")
with right:
    by_lead = result.by_lead
    lead_methods = [m for m in by_lead if m not in ("model", "without_covariates")]
    lead_chosen = st.multiselect(
        "Compare with",
        lead_methods,
        default=[
            m for m in dict.fromkeys((judged.best, "seasonal_naive", "naive")) if m in lead_methods
        ],
        format_func=method_name,
        key="p_eval_lead",
        persist_state="session",
        help=HELP["lead_methods"],
    )
    st.plotly_chart(by_lead_figure(by_lead, ["model", *lead_chosen]), key="lead_chart")

# ---------------------------------------------------------------------- table
st.subheader("Test metrics", anchor=False)
st.dataframe(metrics_table(result), hide_index=True)
st.caption(
    f"{metrics.test_origins} forecasts of {result.horizon} steps from "
    f"origins spread over the {metrics.test_points} test points; baselines "
    "forecast from the same origins. n/a: the metric is undefined here (for example "
    "MAPE when the series touches zero)."
)
band_sentence = metrics.band_sentence()
if band_sentence:
    st.markdown(band_sentence)

by_level = metrics.coverage_by_level
if by_level:
    st.caption(
        "Coverage of the prediction bands on the test part, per nominal level "
        "(calibrated on the validation part, which the test part never informs):"
    )
    st.dataframe(
        [
            {"Nominal level": f"{nominal:.0%}", "Test coverage": f"{share:.0%}"}
            for nominal, share in by_level
        ],
        hide_index=True,
    )


# ---------------------------------------------------------------------- covariates
def show_verdict(found) -> None:
    """The with/without-covariates finding: green when they help, amber when they do not."""
    show = {"better": st.success, "worse": st.warning}.get(found.outcome, st.info)
    icons = {"better": ":material/trending_down:", "worse": ":material/trending_up:"}
    show(found.sentence, icon=icons.get(found.outcome, ":material/balance:"))


if result.roles.any:
    st.subheader("With and without covariates", anchor=False)
    st.caption(
        " ".join(md(sentence) for sentence in result.roles.sentences())
        + " The same network trained on the target alone was scored on the same test "
        "origins, so the two columns below compare like with like."
    )
    if result.without_covariates is None:
        st.info(
            "This run has no scores of the network without covariates, so the comparison "
            "cannot be shown. Train it again to see it.",
            icon=":material/info:",
        )
    else:
        show_verdict(covariate_verdict(metrics.model, result.without_covariates))
        st.dataframe(
            comparison_table(metrics.model, result.without_covariates),
            hide_index=True,
            key="covariate_table",
        )
        lead_col, importance_col = st.columns(2, gap="large")
        with lead_col:
            st.plotly_chart(covariate_lead_figure(result.by_lead), key="covariate_lead_chart")
            st.caption(
                "Mean absolute error at each step ahead over the test forecasts: where in "
                "the horizon the covariates help (or hurt)."
            )
        with importance_col:
            if result.importance:
                st.plotly_chart(importance_figure(result.importance), key="importance_chart")
                st.caption(
                    "Permutation importance: each input's values are shuffled over the test "
                    "part and the test MASE measured again. A tall bar means the network "
                    "relies on that input; near zero (or below) means it ignores it."
                )
            else:
                st.caption("No permutation importance was measured for this run.")

# ---------------------------------------------------------------------- backtest
st.subheader("Rolling-origin backtest", anchor=False)
st.caption(
    "One test period can be lucky. A backtest retrains the network K times on an expanding "
    "window, each fold forecasting the next horizon from a later origin, and scores it beside "
    "the baselines from the same origins. No fold sees data after its origin."
)
if result.roles.any:
    st.caption(
        "This run reads covariates: each fold also trains the same network without them, "
        "so the backtest says whether they help over several origins (and takes about "
        "twice as long)."
    )
folds_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
folds = folds_col.slider(
    "Folds (K)",
    2,
    6,
    3,
    key="p_bt_folds",
    persist_state="session",
    help="How many origins to test. Each fold trains a network, so K folds take about K "
    "times one training.",
)
if button_col.button(
    "Run backtest",
    icon=":material/history:",
    key="backtest_button",
    help="Runs in the background like a training; you can leave the page.",
):
    st.session_state.backtest_job = manager().submit_backtest(
        st.session_state.series,
        result.config,
        folds,
        st.session_state.get("data_options"),
        f"Backtest of {result.short_name(job_id)}",
        roles=result.roles if result.roles.any else None,
    )


def backtest_view(backtest_id: str, live: bool) -> None:
    """Progress of the backtest job, then its folds and errors by lead time."""
    status = manager().status(backtest_id)
    if status is None:
        return
    if status.finished and live:
        st.rerun()  # once: stop polling and draw the results
    if not status.finished:
        fraction, text = backtest_progress(status.fold, status.folds, status.events)
        st.progress(fraction, text=text if status.state == "running" else "Backtest queued…")
        return
    outcome, problem = backtest_result_of(backtest_id)
    if status.state != "done" or outcome is None:
        st.error(md(status.message or problem), icon=":material/error:")
        return
    backtest = outcome.backtest
    folds_run = len({fold.fold for fold in backtest.folds})
    st.dataframe(backtest_table(backtest), hide_index=True)
    st.plotly_chart(
        by_lead_figure(
            backtest.by_lead,
            ["model", "seasonal_naive", "naive2", "ets", "theta"],
            title="Backtest: mean absolute error by lead time",
        ),
        key="backtest_lead_chart",
    )
    twin = (backtest.without_covariates or {}).get("model")
    if twin is not None:
        st.markdown("**With and without covariates over the folds**")
        with_scores = backtest.summary.get("model", Scores())
        show_verdict(covariate_verdict(with_scores, twin, f"over the {folds_run} folds"))
        st.dataframe(
            comparison_table(with_scores, twin), hide_index=True, key="backtest_covariate_table"
        )
        st.plotly_chart(
            covariate_lead_figure(
                {
                    "model": backtest.by_lead.get("model", []),
                    "without_covariates": (backtest.without_covariates_by_lead or {}).get(
                        "model", []
                    ),
                },
                title="Backtest: error by lead time, with and without covariates",
            ),
            key="backtest_covariate_lead_chart",
        )


backtest_status = manager().status(st.session_state.get("backtest_job", ""))
if backtest_status is not None:
    live = not backtest_status.finished
    st.fragment(run_every=1 if live else None)(backtest_view)(backtest_status.id, live)

st.page_link(
    PAGES["forecast"],
    label="Next: forecast the future and download",
    icon=":material/arrow_forward:",
)
