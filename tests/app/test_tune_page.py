"""The Train page's Tune section: closed by default, opens with its budget, cap, seed and
editable space; Start runs a real tuning job (inline runner, real Ray and Keras); the
leaderboard, charts and "Use the best settings" follow."""

from __future__ import annotations

import pytest
from app_helpers import open_page, texts

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
    "ensemble": "1",
}


def test_section_is_closed_until_asked_and_refuses_a_bad_space(jobs_dir) -> None:
    at = open_page("train")
    assert not [s for s in at.subheader if s.value == "Tune"]
    at.button(key="tune_open_button").click().run()
    assert [s for s in at.subheader if s.value == "Tune"]
    assert at.slider(key="tune_budget").value == 3  # minutes
    assert at.text_input(key="tune_space_cell").value == "rnn, lstm, gru"
    assert not at.button(key="tune_start").disabled
    at.text_input(key="tune_space_learning_rate").set_value("fast").run()
    assert any("LOW to HIGH" in e.value for e in at.error)
    assert at.button(key="tune_start").disabled


def test_start_runs_a_tuning_job_and_fills_the_sliders(jobs_dir) -> None:
    at = open_page("train", tune_open=True, p_epochs=2, p_units=4, p_ensemble=1, p_patience=0)
    at.number_input(key="tune_trials").set_value(2)
    at.slider(key="tune_budget").set_value(5)
    for name, text in SPACE.items():
        at.text_input(key=f"tune_space_{name}").set_value(text)
    at.run()
    at.button(key="tune_start").click().run(timeout=600)  # the inline runner: the whole job
    assert not at.exception, at.exception
    job = at.session_state["tune_job"]
    status = jobs.get_manager().status(job)
    assert status.kind == "tune" and status.state == jobs.DONE, status.message
    result = jobs.get_manager().tune_result(job)
    assert [t["number"] for t in result["tune"]["trials"]] == [0, 1]
    assert result["run"] is not None and (jobs_dir / job / "bundle.zip").exists()
    (table,) = [d.value for d in at.dataframe if "Trial" in d.value.columns]
    assert list(table["Trial"])[0] in ("0 (default)", "1") and len(table) == 2
    assert "Best settings" in " ".join(texts(at.markdown))
    best = result["tune"]["best"]["params"]
    at.button(key="tune_use_best").click().run()
    assert at.slider(key="p_units").value == best["units"]
    # the default (two cycles) is always in the space beside the one cycle asked for
    assert at.slider(key="p_window").value == 12 * best["cycles"]
    assert not at.toggle(key="p_auto_window").value
