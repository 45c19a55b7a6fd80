"""Train page: settings don't train, a tiny training finishes, too-short settings explain."""

from __future__ import annotations

from app_helpers import TINY, open_page, texts

from forecasting import jobs
from forecasting.config import RunConfig
from forecasting.settings import auto_key, setting_fields, widget_defaults, widget_key

WIDGET_KINDS = (
    "slider",
    "radio",
    "toggle",
    "select_slider",
    "number_input",
    "checkbox",
    "selectbox",
)


def job_dirs(jobs_dir) -> set[str]:
    return {p.name for p in jobs_dir.iterdir() if p.is_dir()}


def test_defaults_and_automatic_choices_are_shown(jobs_dir) -> None:
    at = open_page("train")
    assert at.title[0].value == "Train"
    assert at.slider(key="p_units").value == 32 and at.slider(key="p_epochs").value == 100
    window = at.slider(key="p_window")
    assert window.value == 24 and window.disabled  # automatic: resolved and explained
    assert at.slider(key="p_horizon").value == 12
    plan = " ".join(texts(at.markdown))
    assert "Window 24 = two seasonal cycles of 12" in plan
    assert not at.button(key="train_button").disabled
    for widget in [*at.slider, *at.radio, *at.toggle, *at.select_slider, *at.number_input]:
        assert widget.help, widget.label


def test_every_setting_has_its_declared_widget(jobs_dir) -> None:
    """The page draws exactly the declared settings, with their labels and help texts, and
    the advanced ones stay in the Advanced expander."""
    at = open_page("train")

    def widgets(block) -> dict:
        return {w.key: w for kind in WIDGET_KINDS for w in getattr(block, kind)}

    drawn = widgets(at)
    assert set(drawn) == set(widget_defaults(RunConfig()))
    for item in setting_fields(RunConfig):
        widget = drawn[widget_key(item.name)]
        assert (widget.label, widget.help) == (item.setting.label, item.setting.help)
    (advanced,) = [e for e in at.expander if e.label == "Advanced"]
    advanced_items = [i for i in setting_fields(RunConfig) if i.setting.section == "advanced"]
    assert set(widgets(advanced)) == {widget_key(i.name) for i in advanced_items} | {
        auto_key(i.name) for i in advanced_items if i.setting.auto
    }
    assert {"p_scaling", "p_deseasonalize", "p_log", "p_ensemble"} <= set(widgets(advanced))


def test_moving_sliders_does_not_train(jobs_dir) -> None:
    before = job_dirs(jobs_dir)
    at = open_page("train")
    at.slider(key="p_units").set_value(8).run()
    at.slider(key="p_layers").set_value(2).run()
    at.radio(key="p_cell").set_value("lstm").run()
    at.toggle(key="p_auto_window").set_value(False).run()
    at.slider(key="p_window").set_value(12).run()
    assert not at.exception
    assert job_dirs(jobs_dir) == before
    assert "job" not in at.session_state or at.session_state["job"] is None
    # the values survive a visit to another page
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/train.py").run()
    assert at.slider(key="p_units").value == 8
    assert at.slider(key="p_window").value == 12 and not at.slider(key="p_window").disabled


def test_too_short_settings_show_the_minimum_and_disable_train() -> None:
    at = open_page("train")
    at.toggle(key="p_auto_window").set_value(False).run()
    at.slider(key="p_window").set_value(200).run()
    assert at.error, "the plan's message is shown"
    message = at.error[0].value
    assert "at least" in message and "window" in message
    assert at.button(key="train_button").disabled
    # the visible fallback: the Theta method's forecast, one season ahead, to download
    assert "too short for a network" in at.info[0].value and "Theta" in at.info[0].value
    chart = at.get("plotly_chart")[0]
    assert "Theta forecast" in chart.proto.spec
    button = at.get("download_button")[0]
    assert button.proto.label == "Theta forecast (CSV)"


def test_a_tiny_training_completes_and_shows_the_summary(jobs_dir) -> None:
    at = open_page("train")
    at.slider(key="p_units").set_value(TINY["units"]).run()
    at.slider(key="p_epochs").set_value(TINY["epochs"]).run()
    at.toggle(key="p_auto_ensemble").set_value(False).run()
    at.slider(key="p_ensemble").set_value(TINY["ensemble"]).run()
    at.button(key="train_button").click().run()
    assert not at.exception, at.exception
    job = at.session_state["job"]
    assert at.query_params.get("job") in (job, [job])
    assert at.session_state["jobs"] == [job]
    status = jobs.get_manager().status(job)
    assert status.state == jobs.DONE, status.message
    assert len(status.events) == TINY["epochs"]
    summary = " ".join(texts(at.success) + texts(at.warning))
    assert "on the test part" in summary and any(
        verdict in summary
        for verdict in ("beats every baseline", "beats the GRU", "ties with the GRU")
    )
    labels = [m.label for m in at.metric]
    assert "Test MASE" in labels and "Best baseline MASE" in labels
    assert {link.proto.page for link in at.get("page_link")} >= {"evaluate", "forecast"}
    # a later rerun (slider moved) neither restarts nor loses the training
    at.slider(key="p_units").set_value(16).run()
    assert at.session_state["job"] == job and at.session_state["jobs"] == [job]
    assert "Test MASE" in [m.label for m in at.metric]


def test_a_reload_finds_the_training_from_the_url(trained_job) -> None:
    from app_helpers import new_app

    at = new_app()
    at.query_params["job"] = trained_job
    at.run()
    assert at.session_state["job"] == trained_job
    at.switch_page("pages/train.py").run()
    assert "Test MASE" in [m.label for m in at.metric]


def test_a_failed_training_shows_its_message(jobs_dir) -> None:
    from forecasting.samples import load_sample

    # a window too long for the series: the worker fails with the plan's message
    manager = jobs.JobManager(jobs_dir, runner="inline")
    series = load_sample("Monthly sales (seasonal)")
    job = manager.submit_training(series, RunConfig().with_settings(window=150, epochs=1))
    assert manager.status(job).state == jobs.FAILED
    at = open_page("train", jobs=[job], job=job)
    assert at.error and "failed" in at.error[0].value.lower()
    assert "at least" in at.error[0].value


class _Busy:
    """Stands for a worker process that is still training."""

    returncode = None

    def poll(self):
        return None

    def alive(self):
        return True

    def kill(self):
        pass

    def wait(self):
        return 0


def test_a_queued_training_shows_its_position_and_can_be_cancelled(jobs_dir, monkeypatch):
    from forecasting.samples import load_sample

    manager = jobs.JobManager(jobs_dir, max_running=1, runner="process")
    manager._processes["busy"] = _Busy()  # the only slot is taken
    monkeypatch.setattr(jobs, "_MANAGER", manager)
    try:
        job = manager.submit_training(load_sample("Monthly sales (seasonal)"), RunConfig())
        at = open_page("train", jobs=[job], job=job)
        assert any("Queued, position 1" in text for text in texts(at.info))
        at.button(key="cancel_button").click().run()

        assert not at.exception, at.exception
        assert manager.status(job).state == jobs.CANCELLED
        at.run()
        assert any("before it started" in text for text in texts(at.warning))
    finally:
        manager._processes.clear()
        manager._queue.clear()


def test_compare_trains_all_three_cells_with_the_same_settings(jobs_dir) -> None:
    before = job_dirs(jobs_dir)
    at = open_page("train")
    at.slider(key="p_units").set_value(TINY["units"]).run()
    at.slider(key="p_epochs").set_value(TINY["epochs"]).run()
    at.toggle(key="p_auto_ensemble").set_value(False).run()
    at.slider(key="p_ensemble").set_value(TINY["ensemble"]).run()
    at.button(key="compare_button").click().run()
    assert not at.exception
    new = job_dirs(jobs_dir) - before
    assert len(new) == 3
    manager = jobs.get_manager()
    results = [manager.result(job) for job in new]
    assert sorted(r["config"]["model"]["cell"] for r in results) == ["gru", "lstm", "rnn"]
    assert (
        len({(r["config"]["model"]["units"], r["config"]["train"]["epochs"]) for r in results}) == 1
    )
    assert set(at.session_state["jobs"]) >= new


AIR = "Hourly air quality (multi-column)"


def air_quality_roles(rows: dict[int, str] | None = None):
    """The air quality sample loaded on the Data page, its roles edited (row -> label)."""
    from app_helpers import new_app

    at = new_app().run()
    at.selectbox(key="p_sample").set_value(AIR).run()
    if rows:
        at.session_state[at.data_editor[0].key] = {
            "edited_rows": {row: {"Role": label} for row, label in rows.items()},
            "added_rows": [],
            "deleted_rows": [],
        }
        at.run()
    assert not at.exception, at.exception
    return at


def test_the_plan_lists_the_inputs_and_their_roles() -> None:
    at = air_quality_roles({3: "ignore"})
    at.switch_page("pages/train.py").run()
    shown = " ".join(t.replace("\\", "") for t in texts(at.markdown))
    assert "past covariates (values up to the origin): temp, pressure" in shown
    assert "A twin network without covariates is trained too" in shown
    assert not at.button(key="train_button").disabled


def test_future_covariates_without_values_disable_train() -> None:
    at = air_quality_roles({3: "future covariate"})
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    shown = " ".join(t.replace("\\", "") for t in texts(at.markdown))
    assert "future covariates (values over the horizon): wind" in shown
    warning = at.warning[0].value.replace("\\", "")
    assert "upload the future values on the Data page to forecast beyond the data" in warning
    assert "wind" in warning and "24 timestamps" in warning
    assert at.button(key="train_button").disabled
    assert at.button(key="compare_button").disabled
    assert "Go to Data" in {link.proto.label for link in at.get("page_link")}


def test_covariates_with_the_recursive_strategy_are_refused() -> None:
    at = air_quality_roles()
    at.switch_page("pages/train.py").run()
    assert not at.button(key="train_button").disabled
    at.radio(key="p_strategy").set_value("recursive").run()
    assert at.error and "Covariates need the direct strategy" in at.error[0].value
    assert at.button(key="train_button").disabled


def test_train_submits_the_roles_and_the_future_values(monkeypatch) -> None:
    import pandas as pd

    from forecasting.covariates import Roles

    submitted = []

    def submit_training(self, series, config, data_options=None, label="", owner="", **kw):
        submitted.append({"series": series.name, "label": label, **kw})
        return "covariates-job"

    monkeypatch.setattr(jobs.JobManager, "submit_training", submit_training)
    at = air_quality_roles({1: "ignore", 3: "future covariate"})
    series = at.session_state["series"]
    future = pd.DataFrame({"date": series.future_index(30), "wind": 2.5})
    uploader = next(f for f in at.file_uploader if f.label == "Future values")
    uploader.set_value(("future.csv", future.to_csv(index=False).encode(), "text/csv")).run()
    assert "covers the 24 timestamps" in at.success[0].value
    at.switch_page("pages/train.py").run()
    assert not at.warning and not at.button(key="train_button").disabled
    at.button(key="train_button").click().run()
    assert not at.exception, at.exception
    (job,) = submitted
    assert job["roles"] == Roles(past=("pressure",), future=("wind",))
    assert len(job["future"]) == 30 and list(job["future"].columns) == ["wind"]
    assert job["label"].endswith("on pm25 with 2 covariates")
    assert at.session_state["job"] == "covariates-job"
