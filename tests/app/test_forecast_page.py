"""Forecast page: chart, downloads (CSV, bundle, run file), bundle upload."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
from app_helpers import copy_job, download_content, texts, with_job

from forecasting import jobs
from forecasting.config import read_run_file


def test_downloads_are_offered(trained_job, downloads) -> None:
    at = with_job("forecast", trained_job)
    keys = {button.key for button in at.get("download_button")}
    assert {"download_csv", "download_bundle", "download_config"} <= keys
    assert len(at.get("plotly_chart")) == 1

    csv = download_content(at, "download_csv", downloads).decode()
    frame = pd.read_csv(io.StringIO(csv))
    assert list(frame.columns) == ["date", "forecast", "lower", "upper"]
    assert len(frame) == 12 and frame["date"].iloc[0] == "2008-07-01"
    assert (frame["lower"] <= frame["forecast"]).all() and (
        frame["forecast"] <= frame["upper"]
    ).all()

    config, data_options = read_run_file(
        download_content(at, "download_config", downloads).decode()
    )
    assert config.model.units == 4 and config.train.epochs == 2
    assert config.model.window == 24  # the resolved window: the run repeats exactly
    assert data_options == {"date_col": "date", "value_col": "sales"}


def upload_bundle(at, content: bytes):
    at.file_uploader(key="bundle_uploader").set_value(("model.zip", content, "application/zip"))
    return at.run()


def test_a_bundle_forecasts_again_without_retraining(trained_job) -> None:
    bundle = jobs.get_manager().bundle_bytes(trained_job)
    at = upload_bundle(with_job("forecast", trained_job), bundle)
    assert not at.exception and not at.error, texts(at.error)
    assert any("Bundle checked" in text for text in texts(at.success))
    assert any(b.key == "download_bundle_csv" for b in at.get("download_button"))
    job = at.session_state["bundle_forecast"]["job"]  # the page only submitted a job
    assert jobs.get_manager().status(job).kind == jobs.FORECAST
    # after the data the model was trained on, too
    at.radio(key="p_bundle_target").set_value("bundle").run()
    assert not at.error and any("trained on" in text for text in texts(at.success))


def test_a_tampered_bundle_is_refused_with_a_message(trained_job) -> None:
    original = zipfile.ZipFile(io.BytesIO(jobs.get_manager().bundle_bytes(trained_job)))
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as out:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "bundle.json":
                manifest = json.loads(data)
                manifest["models"][0]["sha256"] = "0" * 64
                data = json.dumps(manifest).encode()
            out.writestr(item, data)
    at = upload_bundle(with_job("forecast", trained_job), tampered.getvalue())
    assert any("Hash check failed" in text for text in texts(at.error)), texts(at.error)
    assert not at.exception


def test_a_file_that_is_no_bundle_is_refused(trained_job) -> None:
    at = upload_bundle(with_job("forecast", trained_job), b"not a zip at all")
    shown = [text.replace("\\", "") for text in texts(at.error)]  # Markdown escapes (md)
    assert any("not a valid .zip" in text for text in shown), shown
    assert not at.exception


def test_the_downloaded_run_file_reproduces_the_run_from_the_cli(
    trained_job, downloads, tmp_path
) -> None:
    """Dashboard export, then `forecasting train DATA --config run.json`: same metrics."""
    from app_helpers import SAMPLE

    from forecasting.cli import main
    from forecasting.samples import sample_csv_bytes

    at = with_job("forecast", trained_job)
    (tmp_path / "run.json").write_bytes(download_content(at, "download_config", downloads))
    (tmp_path / "data.csv").write_bytes(sample_csv_bytes(SAMPLE))
    code = main(
        [
            "train",
            str(tmp_path / "data.csv"),
            "--config",
            str(tmp_path / "run.json"),
            "--bundle",
            str(tmp_path / "again.zip"),
            "--metrics-json",
            str(tmp_path / "metrics.json"),
        ]
    )
    assert code == 0
    again = json.loads((tmp_path / "metrics.json").read_text())
    original = jobs.get_manager().result(trained_job)["metrics"]
    assert again["test"] == original["test"]
    assert again["epochs_run"] == original["epochs_run"]


def test_a_winning_baseline_forecast_is_offered_with_why(jobs_dir, trained_job, downloads) -> None:
    job = copy_job(jobs_dir, trained_job, "20200101-120000-w1nnerfc")
    path = jobs_dir / job / "result.json"
    data = json.loads(path.read_text())
    data["winner_forecast"] = {
        "name": "ets",
        "mase": 1.25,
        "model_mase": 1.5,
        "forecast": data["forecast"],
    }
    path.write_text(json.dumps(data))
    at = with_job("forecast", job)
    assert not at.exception
    assert (
        "On this series ETS (Holt-Winters) had the lower error on the test part (MASE 1.25 "
        "against the network's 1.50): its forecast is offered below."
    ) in texts(at.info)
    csv = download_content(at, "download_winner_csv", downloads).decode()
    frame = pd.read_csv(io.StringIO(csv))
    assert list(frame.columns) == ["date", "forecast", "lower", "upper"] and len(frame) == 12


def test_no_baseline_offer_when_the_network_won_or_in_older_results(jobs_dir, trained_job):
    job = copy_job(jobs_dir, trained_job, "20200101-120000-0ldresfc")
    path = jobs_dir / job / "result.json"
    data = json.loads(path.read_text())
    data.pop("winner_forecast", None)  # written before the field existed
    path.write_text(json.dumps(data))
    at = with_job("forecast", job)
    assert not at.exception
    assert "download_winner_csv" not in {button.key for button in at.get("download_button")}


# ---------------------------------------------------------------------- future covariates
# The what-if of a model with future covariates: tests/app/test_covariate_results.py


def test_no_what_if_for_a_model_without_future_covariates(trained_job) -> None:
    at = with_job("forecast", trained_job)
    assert "What if" not in texts(at.subheader)
    assert not any(b.key == "whatif_button" for b in at.button)
