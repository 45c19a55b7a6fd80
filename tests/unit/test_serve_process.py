"""`forecasting serve` as a real process on a free port: its forecast equals the CLI's
`forecasting forecast --model` for the same history, it answers concurrent clients alike,
refuses a missing API key and an oversized body, and stops when told. The command's own
refusals (an unset key variable, a bad or many-series bundle, two bundles with one name, a
taken port, a zero body cap) exit 2 before any server starts."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pandas as pd
import pytest

from benchmarks.common import ServerNotReady, free_port, wait_until_answering
from forecasting.bundle import Bundle
from forecasting.cli import main
from forecasting.records import format_timestamps

KEY_VARIABLE = "FORECASTING_TEST_API_KEY"
KEY = "process-test-key"
START_TIMEOUT = 240  # importing the backend and loading the bundle, on a busy CI machine


@pytest.fixture(scope="module")
def files(tmp_path_factory, monthly_run, monthly_series):
    """The bundle and the history as a CSV file (what the CLI reads)."""
    root = tmp_path_factory.mktemp("serve")
    bundle = Bundle.from_run(monthly_run).save(root / "monthly.zip")
    history = monthly_series.values[:120]
    data = root / "history.csv"
    frame = pd.DataFrame({"date": monthly_series.index[:120], "value": history})
    frame.to_csv(data, index=False)
    rows = [
        {"date": d, "value": float(v)}
        for d, v in zip(format_timestamps(monthly_series.index[:120]), history, strict=True)
    ]
    return {"root": root, "bundle": bundle, "data": data, "rows": rows}


@pytest.fixture(scope="module")
def server(files):
    """A real `forecasting serve` process; stopped (then killed if need be) afterwards."""
    port = free_port()
    env = {**os.environ, KEY_VARIABLE: KEY, "TF_CPP_MIN_LOG_LEVEL": "3"}
    log = open(files["root"] / "server.log", "w+", encoding="utf-8")  # noqa: SIM115
    argv = [sys.executable, "-m", "forecasting", "serve", str(files["bundle"])]
    process = subprocess.Popen(
        [*argv, "--port", str(port), "--api-key-env", KEY_VARIABLE, "--max-body-mb", "0.2"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=files["root"],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(process, url, log)
        yield {"url": url, "log": log, "process": process}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        log.close()


def _wait_until_healthy(process, url: str, log) -> None:
    try:
        wait_until_answering(f"{url}/healthz", process, START_TIMEOUT, poll=0.5)
    except ServerNotReady as error:
        log.seek(0)
        pytest.fail(f"{error}: {log.read()[-2000:]}")


def test_served_forecast_equals_the_cli_forecast(server, files):
    body = {"history": files["rows"], "horizon": 6}
    answer = httpx.post(
        f"{server['url']}/v1/models/monthly/forecast",
        json=body,
        headers={"X-API-Key": KEY},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    served = pd.DataFrame(answer.json()["forecast"])
    cli = subprocess.run(
        [sys.executable, "-m", "forecasting", "forecast", str(files["data"]), "--horizon", "6"]
        + ["--model", str(files["bundle"])],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert cli.returncode == 0, cli.stderr[-2000:]
    expected = pd.read_csv(io.StringIO(cli.stdout))
    assert list(served["date"]) == list(expected["date"])
    for column in ("forecast", "lower", "upper"):  # the CLI writes 10 significant digits
        np.testing.assert_allclose(served[column], expected[column], rtol=1e-9)


def test_concurrent_clients_key_and_body_cap(server, files):
    url = f"{server['url']}/v1/models/monthly/forecast"
    body = {"history": files["rows"]}

    def ask(_) -> tuple[int, list]:
        with httpx.Client(timeout=60) as client:
            answers = [client.post(url, json=body, headers={"X-API-Key": KEY}) for _ in range(3)]
        return [a.status_code for a in answers], [a.json()["forecast"] for a in answers]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(ask, range(8)))
    statuses = {s for codes, _ in results for s in codes}
    forecasts = [json.dumps(f) for _, answers in results for f in answers]
    assert statuses == {200} and len(set(forecasts)) == 1  # 24 answers, one forecast

    assert httpx.post(url, json=body, timeout=30).status_code == 401
    wrong = httpx.get(f"{server['url']}/v1/models", headers={"X-API-Key": "nope"}, timeout=30)
    assert wrong.status_code == 401
    big = json.dumps({"history": files["rows"] * 40}).encode()
    assert len(big) > 200_000
    response = httpx.post(
        url,
        content=big,
        headers={"X-API-Key": KEY, "content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413 and "200,000 bytes" in response.json()["detail"]
    models = httpx.get(f"{server['url']}/v1/models", headers={"X-API-Key": KEY}, timeout=30)
    assert [m["name"] for m in models.json()["models"]] == ["monthly"]
    server["log"].seek(0)
    assert "Traceback" not in server["log"].read()


def test_command_refusals_exit_2_before_serving(files, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    assert main(["serve", str(files["bundle"]), "--api-key-env", KEY_VARIABLE]) == 2
    assert f"error: --api-key-env {KEY_VARIABLE}" in capsys.readouterr().err

    junk = tmp_path / "junk.zip"
    junk.write_text("not a bundle", encoding="utf-8")
    assert main(["serve", str(files["bundle"]), str(junk)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {junk}: ") and "serving" not in err

    (tmp_path / "again").mkdir()
    twin = tmp_path / "again" / "monthly.zip"
    twin.write_bytes(files["bundle"].read_bytes())
    assert main(["serve", str(files["bundle"]), str(twin)]) == 2
    assert "both be served as 'monthly'" in capsys.readouterr().err

    panel = tmp_path / "stores.zip"  # a many-series bundle's manifest (its kind is read first)
    with zipfile.ZipFile(panel, "w") as archive:
        archive.writestr("bundle.json", json.dumps({"kind": "panel"}))
    assert main(["serve", str(panel)]) == 2
    assert "many-series bundle" in capsys.readouterr().err

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert main(["serve", str(files["bundle"]), "--port", port]) == 2
    assert f"error: Cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err

    assert main(["serve", str(files["bundle"]), "--max-body-mb", "0"]) == 2
    assert "error: --max-body-mb" in capsys.readouterr().err
