"""A search on a real Ray cluster: a head started on a free port of this machine, joined
through RAY_ADDRESS by `forecasting tune`; the trials run on that cluster's node."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from benchmarks.common import free_port
from forecasting.config import run_file_text

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]
RAY = str(Path(sys.executable).with_name("ray"))


@pytest.fixture
def ray_head(monkeypatch):
    """`ray start --head` on a free port in its own temp dir and process group; killed
    afterwards (its whole group, never other Ray runtimes of the machine)."""
    port = free_port()
    temp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's socket paths are limited
    # a throwaway cluster of this machine: no token (Ray 2.60 asks one by default)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    head = subprocess.Popen(
        [
            RAY,
            "start",
            "--head",
            "--block",
            f"--port={port}",
            "--num-cpus=2",
            "--include-dashboard=false",
            f"--temp-dir={temp}",
            "--disable-usage-stats",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and head.poll() is None:  # until its node serves
            status = subprocess.run(
                [RAY, "status", f"--address={address}"],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if "/2.0 CPU" in status.stdout:
                break
            time.sleep(1)
        assert head.poll() is None, "ray start --head exited"
        monkeypatch.setenv("RAY_ADDRESS", address)
        yield address
    finally:
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(head.pid, signal.SIGTERM)  # `ray start --block` stops what it started
            head.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)  # whatever of its group is left
        head.wait()
        shutil.rmtree(temp, ignore_errors=True)


def test_trials_run_on_the_cluster_named_by_ray_address(
    ray_head, tmp_path, monthly_series, tiny_config
):
    """`forecasting tune` in a fresh process (as a user runs it) with RAY_ADDRESS set."""
    data, config, out = tmp_path / "monthly.csv", tmp_path / "run.json", tmp_path / "t.json"
    dates = monthly_series.index.strftime("%Y-%m-%d")
    data.write_text(
        "date,value\n"
        + "".join(f"{d},{v}\n" for d, v in zip(dates, monthly_series.values, strict=True))
    )
    config.write_text(run_file_text(tiny_config.replace(horizon=0)))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "forecasting",
            "tune",
            str(data),
            "--budget",
            "600",
            "--trials",
            "2",
            "--folds",
            "2",
            "--horizon",
            "6",
            "--config",
            str(config),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "RAY_ADDRESS": ray_head, "RAY_AUTH_MODE": "disabled"},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    engine = result["engine"]
    # Ray names the node by its IP address rather than 127.0.0.1: the port tells the cluster
    assert not engine["local"] and engine["address"].rsplit(":", 1)[1] == ray_head.rsplit(":", 1)[1]
    assert engine["nodes"] == 1 and engine["cpus"] == 2  # the head's --num-cpus
    assert [t["number"] for t in result["trials"]] == [0, 1]
    for trial in result["trials"]:
        assert trial["state"] in ("finished", "stopped early"), trial["message"]  # ASHA may stop
        assert trial["folds"] >= 1 and trial["node"] in engine["node_ids"]
    assert result["best"]["score"] <= result["default"]["score"]
