"""The Train page's Tune section: closed by default, opens with its budget, cap, seed, final
ensemble and editable space; Start runs a real tuning job (inline runner, real Ray and
Keras); the leaderboard, charts and "Use the best settings" follow; the best baseline's line
and the plain sentence when no trial beats it; the tuned model on the Runs page with its
search history."""

from __future__ import annotations

import json

import pytest
from app_helpers import copy_job, new_app, open_page, texts

from forecasting import jobs

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]
# a tiny space: every trial trains 2-epoch, 4-unit networks
SPACE = {
    "cell": "gru",
    "cycles": "1",
    "units": "4, 6",
    "layers": "1",
    "dropout": "",
    "learning_rate": "0.003 to 0.01",
    "scaling": "window",
}
NO_WIN = "No trial beats the best baseline"


@pytest.fixture(scope="module")
def tuned(jobs_dir):
    """One real tuning job submitted from the page: (the page after it, its job id)."""
    with pytest.MonkeyPatch.context() as patch:  # as `job_environment` does for each test
        patch.setenv("FORECASTING_RUNNER", "inline")
        patch.setenv("FORECASTING_JOBS_DIR", str(jobs_dir))
        patch.setattr(jobs, "_MANAGER", None)
        at = open_page(
            "train",
            tune_open=True,
            p_epochs=2,
            p_units=4,
            p_ensemble=1,
            p_auto_ensemble=False,
            p_patience=0,
        )
        at.number_input(key="tune_trials").set_value(2)
        at.number_input(key="tune_final_ensemble").set_value(1)
        at.slider(key="tune_budget").set_value(5)
        for name, text in SPACE.items():
            at.text_input(key=f"tune_space_{name}").set_value(text)
        at.run()
        at.button(key="tune_start").click().run(timeout=600)  # inline runner: the whole job
        assert not at.exception, at.exception
        return at, at.session_state["tune_job"]


def test_section_is_closed_until_asked_and_refuses_a_bad_space(jobs_dir) -> None:
    at = open_page("train")
    assert not [s for s in at.subheader if s.value == "Tune"]
    at.button(key="tune_open_button").click().run()
    assert [s for s in at.subheader if s.value == "Tune"]
    assert at.slider(key="tune_budget").value == 3  # minutes
    assert at.number_input(key="tune_final_ensemble").value == 5  # the project's default
    assert at.text_input(key="tune_space_cell").value == "rnn, lstm, gru"
    assert not [t for t in at.text_input if t.key == "tune_space_ensemble"]  # not searched
    assert any("one network per fold" in c for c in texts(at.caption))
    assert not at.button(key="tune_start").disabled
    at.text_input(key="tune_space_learning_rate").set_value("fast").run()
    assert any("LOW to HIGH" in e.value for e in at.error)
    assert at.button(key="tune_start").disabled


def test_start_runs_a_tuning_job_and_fills_the_sliders(tuned, jobs_dir) -> None:
    at, job = tuned
    status = jobs.get_manager().status(job)
    assert status.kind == "tune" and status.state == jobs.DONE, status.message
    result = jobs.get_manager().tune_result(job)
    assert [t["number"] for t in result["tune"]["trials"]] == [0, 1]
    assert result["run"] is not None and (jobs_dir / job / "bundle.zip").exists()
    assert result["best_config"]["model"]["ensemble"] == 1  # the final ensemble asked for
    (table,) = [d.value for d in at.dataframe if "Trial" in d.value.columns]
    assert list(table["Trial"])[0] in ("0 (default)", "1") and len(table) == 2
    assert "Best settings" in " ".join(texts(at.markdown))
    # the baseline's line was on record before the first trial, and the page says plainly
    # whether a trial beats it
    board = jobs.get_manager().tune_board(job)
    assert board["phase"] == "done" and board["best_baseline"] == result["tune"]["best_baseline"]
    beaten = result["tune"]["best"]["score"] < board["best_baseline"]["score"]
    assert beaten != any(NO_WIN in w for w in texts(at.warning))
    best = result["tune"]["best"]["params"]
    at.button(key="tune_use_best").click().run()
    assert at.slider(key="p_units").value == best["units"]
    # the default (two cycles) is always in the space beside the one cycle asked for
    assert at.slider(key="p_window").value == 12 * best["cycles"]
    assert not at.toggle(key="p_auto_window").value


def test_the_page_says_when_no_trial_beats_the_best_baseline(tuned, jobs_dir) -> None:
    """The same tuning with its best baseline's score moved below every trial's, and above."""
    _, job = tuned
    for score, said in ((1e-6, True), (1e6, False)):
        copy = copy_job(jobs_dir, job, f"{job}-{'low' if said else 'high'}")
        for name in ("result.json", "trials.json"):
            data = json.loads((jobs_dir / copy / name).read_text())
            part = data["tune"] if name == "result.json" else data
            part["best_baseline"]["score"] = score
            (jobs_dir / copy / name).write_text(json.dumps(data))
        at = open_page("train", tune_open=True, tune_job=copy)
        assert any(NO_WIN in w for w in texts(at.warning)) == said
        (chart,) = [c for c in at.get("plotly_chart") if c.key == "tune_best_chart"]
        assert f"{score:.3f}" in chart.proto.spec  # the best baseline's line


def test_the_tuned_model_joins_the_runs_page_with_its_search(tuned) -> None:
    at, job = tuned
    assert job in at.session_state["jobs"]
    at.switch_page("pages/runs.py").run()
    assert not at.exception, at.exception
    runs = at.dataframe[0].value
    assert len(runs) == 1 and runs["Run"][0].endswith("· tuned")
    assert at.selectbox(key="p_runs_detail").value == job
    assert [s for s in at.subheader if s.value == "Search history"]
    assert any("trials" in m and "Best score" in m for m in texts(at.markdown))
    (trials,) = [d.value for d in at.dataframe if "Trial" in d.value.columns]
    assert len(trials) == 2
    # a reload (the session's key in the URL) finds the tuned run again
    again = new_app()
    again.query_params["session"] = at.session_state["session_key"]
    again.run()
    assert job in again.session_state["jobs"]
