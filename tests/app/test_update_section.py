"""Forecast page, "Update with new data": the update runs as a job with the Data page's series,
its candidates are shown beside the baselines, another one can be kept, and data the model has
already seen is refused with a message."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from app_helpers import SAMPLE, TINY, download_content, texts, with_job

from forecasting import jobs


@pytest.fixture(scope="module")
def older_job(jobs_dir) -> str:
    """A tiny training on the sample without its last 24 months (the session's series then
    holds 24 new months)."""
    from forecasting.config import RunConfig
    from forecasting.samples import load_sample

    manager = jobs.JobManager(jobs_dir, runner="inline")
    older = load_sample(SAMPLE).head(180)
    job = manager.submit_training(
        older, RunConfig().with_settings(**TINY), {"date_col": "date", "value_col": "sales"}
    )
    assert manager.status(job).state == jobs.DONE, manager.status(job).message
    return job


def lineage_method(bundle: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return json.loads(archive.read("bundle.json"))["lineage"]["steps"][-1]["method"]


def test_an_update_shows_the_candidates_and_keeps_another_on_request(older_job, downloads) -> None:
    at = with_job("forecast", older_job)
    at.number_input(key="p_update_epochs").set_value(1)
    at.button(key="update_button").click().run()
    assert not at.exception and not at.error, texts(at.error)
    job = at.session_state["update_job"]["job"]
    assert jobs.get_manager().status(job).kind == jobs.UPDATE  # the page only submitted a job
    table = next(t.value for t in at.dataframe if "MASE" in t.value.columns)
    assert list(table["method"][:3]) == ["unchanged", "fine-tuned", "retrained"]
    assert "Seasonal naive" in set(table["method"])  # beside the baselines
    report = jobs.get_manager().update_result(job)
    assert len(at.get("plotly_chart")) == 2  # the forecast, and the candidates on the newest part
    kept = download_content(at, "download_update_bundle", downloads)
    assert lineage_method(kept) == report.chosen
    other = next(name for name in ("unchanged", "retrained") if name != report.chosen)
    at.radio(key=f"p_update_keep:{job}").set_value(other).run()
    assert lineage_method(download_content(at, "download_update_bundle", downloads)) == other
    lineage = next(t.value for t in at.dataframe if "made" in t.value.columns)
    assert list(lineage["method"]) == [other]  # the chain of the bundle kept


def test_data_the_model_has_seen_is_refused_with_a_message(trained_job) -> None:
    at = with_job("forecast", trained_job)  # trained on the whole sample the session holds
    at.number_input(key="p_update_epochs").set_value(1)
    at.button(key="update_button").click().run()
    assert not at.exception
    assert any("already seen" in text for text in texts(at.error)), texts(at.error)
