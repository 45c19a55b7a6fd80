"""Forecast page: chart, downloads (CSV, bundle, run file), bundle upload."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
from app_helpers import download_content, texts, with_job

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
    assert any("not a valid .zip" in text for text in texts(at.error)), texts(at.error)
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
    code = main(["train", str(tmp_path / "data.csv"), "--config", str(tmp_path / "run.json"),
                 "--bundle", str(tmp_path / "again.zip"),
                 "--metrics-json", str(tmp_path / "metrics.json")])
    assert code == 0
    again = json.loads((tmp_path / "metrics.json").read_text())
    original = jobs.get_manager().result(trained_job)["metrics"]
    assert again["test"] == original["test"]
    assert again["epochs_run"] == original["epochs_run"]
