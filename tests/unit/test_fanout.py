"""`forecasting.fanout.map_batches`: a plain loop here without RAY_ADDRESS; with it, one task
per batch on a real Ray cluster (a head started for this module with `ray start --head --block`
in its own process group, stopped with it), whose results equal the local ones."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.common import free_port
from forecasting.errors import ConfigError
from forecasting.fanout import ADDRESS_VARIABLE, batches, map_batches
from forecasting.panel_baselines import baseline_forecasts

RAY = Path(sys.executable).with_name("ray")
START_SECONDS = 120


def where(items: list) -> list:
    """Each item with the process, task and cluster it ran in."""
    context = None
    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            context = ray.get_runtime_context()
    task = context.get_task_id() if context is not None else None
    gcs = context.gcs_address if context is not None else None
    return [(item, os.getpid(), task, gcs) for item in items]


def _wait_for_head(port: int, process: subprocess.Popen, log: Path) -> None:
    """Until the head's node serves (`ray status` lists its CPU): an open port is not enough,
    a client that connects before the node registered fails."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`ray start` exited early: {log.read_text()[-2000:]}")
        status = subprocess.run(
            [str(RAY), "status", f"--address=127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if "/1.0 CPU" in status.stdout:
            return
        time.sleep(1)
    pytest.fail(f"no Ray head on port {port} after {START_SECONDS} s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def ray_cluster():
    """A real one-CPU Ray head with its own token; its address (the token is in this
    process' environment while the fixture lasts, as a user's would be). Stopped afterwards,
    even on failure, by ending the process group it was started in (`ray stop` would stop
    every Ray cluster of this machine, another test's too)."""
    temp = Path(tempfile.mkdtemp(prefix="rayfan-", dir="/tmp"))  # short: socket paths
    port, log = free_port(), temp / "start.log"
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    saved = {name: os.environ.get(name) for name in auth}
    os.environ.update(auth)
    command = [
        str(RAY),
        "start",
        "--head",
        f"--port={port}",
        "--num-cpus=1",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp}",
        "--block",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_for_head(port, process, log)
        yield f"127.0.0.1:{port}"
    finally:
        if "ray" in sys.modules:
            import ray

            ray.shutdown()
        _stop_group(process)
        shutil.rmtree(temp, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _stop_group(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _histories() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    steps = np.arange(96)
    return [
        (k + 2) * 10 * (1 + 0.3 * np.sin(2 * np.pi * steps / 12)) + rng.normal(0, 1, steps.size)
        for k in range(7)
    ]


METHODS = ("naive", "seasonal_naive", "naive2", "theta")


def test_without_ray_address_batches_run_here_in_order(monkeypatch) -> None:
    monkeypatch.delenv(ADDRESS_VARIABLE, raising=False)
    assert batches(range(7), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    done = map_batches(where, list(range(7)), 3)
    assert [item for item, *_ in done] == list(range(7))
    assert {pid for _, pid, _, _ in done} == {os.getpid()}
    with pytest.raises(ConfigError, match="at least 1"):
        map_batches(where, [1], 0)
    with pytest.raises(ConfigError, match="one per item"):
        map_batches(lambda chunk: chunk[:1], [1, 2, 3], 3)
    assert map_batches(where, [], 3) == []


# Run in a fresh process, as a user's command would: a process that ran a local Ray runtime
# before (another test's in-process tuning) cannot join another cluster afterwards.
_ON_CLUSTER = """
import json, os, sys
import numpy as np
from forecasting.fanout import map_batches
from forecasting.panel_baselines import baseline_forecasts

def where(items):
    import ray
    context = ray.get_runtime_context()
    return [(item, os.getpid(), context.get_task_id(), context.gcs_address) for item in items]

import ray.cloudpickle
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
histories = [np.asarray(h, float) for h in json.loads(sys.argv[1])]
done = map_batches(where, list(range(7)), 3)
remote = baseline_forecasts(histories, 12, 12, tuple(sys.argv[2].split(",")), batch_size=3)
print(json.dumps({"pid": os.getpid(), "done": done,
                  "remote": [{k: v.tolist() for k, v in r.items()} for r in remote]}))
"""


def test_with_ray_address_each_batch_is_one_task_on_that_cluster(ray_cluster, monkeypatch) -> None:
    histories = _histories()
    answer = subprocess.run(
        [
            sys.executable,
            "-c",
            _ON_CLUSTER,
            json.dumps([h.tolist() for h in histories]),
            ",".join(METHODS),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, ADDRESS_VARIABLE: ray_cluster},
        check=False,
        timeout=600,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    result = json.loads(answer.stdout.strip().splitlines()[-1])
    done = result["done"]
    assert [item for item, *_ in done] == list(range(7))
    assert all(pid != result["pid"] for _, pid, _, _ in done)  # in the cluster's workers
    port = ray_cluster.rpartition(":")[2]
    assert {gcs.rpartition(":")[2] for *_, gcs in done} == {port}  # this head's GCS
    tasks = [task for _, _, task, _ in done]
    assert len(set(tasks)) == 3  # one task per batch, not per item
    assert tasks[0] == tasks[2] != tasks[3] == tasks[5] != tasks[6]

    monkeypatch.delenv(ADDRESS_VARIABLE, raising=False)
    local = baseline_forecasts(histories, 12, 12, METHODS, batch_size=3)
    remote = result["remote"]
    assert len(remote) == len(local) == len(histories)
    for far, near in zip(remote, local, strict=True):
        assert set(far) == set(METHODS)
        for name in METHODS:
            assert np.all(np.isfinite(near[name]))
            np.testing.assert_allclose(far[name], near[name], rtol=1e-12)
