"""Many series that are all too short for the network: the Train page plans and runs no
network but every series' Theta forecast, said so; the Evaluate page says nothing was scored;
the Forecast page offers every series' forecast as CSV (no model bundle: there is no model)."""

from __future__ import annotations

from app_helpers import open_page, texts
from test_panel_data_page import long_csv, upload

from forecasting import jobs

SHORT = (20,) * 4


def test_every_series_too_short_gets_theta_forecasts_on_every_page() -> None:
    at = upload(long_csv(SHORT))
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    plan = " ".join(texts(at.markdown)).replace("\\", "")
    assert "Every series is too short" in plan and "Theta" in plan
    assert not at.button(key="train_button").disabled
    at.button(key="train_button").click().run()
    assert not at.exception, at.exception
    job = at.session_state["job"]
    status = jobs.get_manager().status(job)
    assert status.kind == "panel" and status.state == jobs.DONE, status.message
    assert any("Every series (4) was too short" in t for t in texts(at.info)), texts(at.info)
    assert not any(c.key == "final_loss" for c in at.get("plotly_chart"))

    evaluate = open_page("evaluate", jobs=[job], job=job)
    assert any("nothing is scored" in t for t in texts(evaluate.info)), texts(evaluate.info)

    forecast = open_page("forecast", jobs=[job], job=job)
    assert any("Theta method's" in t for t in texts(forecast.info)), texts(forecast.info)
    keys = {b.key for b in forecast.get("download_button")}
    assert "download_panel_csv" in keys and "download_panel_bundle" not in keys
    result = jobs.get_manager().panel_result(job)
    assert result.labels == [] and len(result.fallback) == 4
    assert len(result.forecast_frame()) == 4 * result.config.horizon
