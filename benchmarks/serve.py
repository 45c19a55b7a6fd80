"""Load test of `forecasting serve` (issue 18): a real server process, concurrent clients.

Trains the default configuration (an ensemble of 5 GRUs) on the built-in monthly sample with
`forecasting train` (or takes `--bundle`), starts `forecasting serve` on a free port, waits
for /healthz, warms the model up with a few requests, then runs `--clients` threads (one
keep-alive HTTP connection each) that post the whole history (204 months) for `--seconds`.
Printed: requests per second, p50 / p99 / max latency, the error count (non-200 answers and
failed connections; the target is 0) and the server's own memory (VmRSS) at start, after
the warm-up and after the run.

    python -m benchmarks.serve                        # 8 clients, 30 s
    python -m benchmarks.serve --bundle model.zip --clients 8 --seconds 30 --json out.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.common import ServerNotReady, free_port, wait_until_answering

SAMPLE = "Monthly sales (seasonal)"
START_TIMEOUT = 300


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve", description=__doc__)
    parser.add_argument("--bundle", help="bundle to serve (default: train one on the sample)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as folder:
        folder = Path(folder)
        data = folder / "history.csv"
        from forecasting.samples import sample_csv_bytes

        data.write_bytes(sample_csv_bytes(SAMPLE))
        bundle = Path(args.bundle) if args.bundle else _train(data, folder / "model.zip")
        body = _request_body(data)
        figures = _run(bundle, body, args.clients, args.seconds, folder)
    _print(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0 if figures["errors"] == 0 else 1


def _train(data: Path, bundle: Path) -> Path:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "forecasting", "train", str(data), "--bundle", str(bundle)],
        check=True,
        capture_output=True,
        env=_env(),
    )
    print(f"trained {bundle.name} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return bundle


def _request_body(data: Path) -> bytes:
    """The whole sample as a forecast request."""
    import pandas as pd

    frame = pd.read_csv(data)
    history = [
        {"date": str(d), "value": float(v)}
        for d, v in zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True)
    ]
    return json.dumps({"history": history}).encode()


def _env() -> dict:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _run(bundle: Path, body: bytes, clients: int, seconds: float, folder: Path) -> dict:
    port, name = free_port(), bundle.stem
    log = open(folder / "server.log", "w+", encoding="utf-8")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "forecasting", "serve", str(bundle), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=_env(),
    )
    try:
        _wait(server, port, log)
        rss_start = _rss_mb(server.pid)
        path = f"/v1/models/{name}/forecast"
        for _ in range(3):  # the backend compiles the network on the first call
            status, _ = _post(http.client.HTTPConnection("127.0.0.1", port, timeout=60), path, body)
            assert status == 200, f"warm-up answered {status}"
        rss_warm = _rss_mb(server.pid)
        latencies, errors = _load(port, path, body, clients, seconds)
        rss_end = _rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.seek(0)
        tracebacks = log.read().count("Traceback")
        log.close()
    ms = np.asarray(latencies) * 1000
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": len(latencies),
        "requests_per_second": len(latencies) / seconds,
        "p50_ms": float(np.percentile(ms, 50)) if len(ms) else None,
        "p99_ms": float(np.percentile(ms, 99)) if len(ms) else None,
        "max_ms": float(ms.max()) if len(ms) else None,
        "errors": errors,
        "server_tracebacks": tracebacks,
        "rss_mb_start": rss_start,
        "rss_mb_warm": rss_warm,
        "rss_mb_end": rss_end,
        "history_rows": len(json.loads(body)["history"]),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
    }


def _wait(server: subprocess.Popen, port: int, log) -> None:
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/healthz", server, START_TIMEOUT, 0.5)
    except ServerNotReady as error:
        log.seek(0)
        raise SystemExit(f"{error}: {log.read()[-2000:]}") from None


def _post(connection: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    connection.request("POST", path, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def _load(port: int, path: str, body: bytes, clients: int, seconds: float):
    """`clients` threads posting for `seconds`; every latency of a 200, and the errors."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, failed = [], 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                status, _ = _post(connection, path, body)
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            if status == 200:
                mine.append(time.perf_counter() - started)
            else:
                failed += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


def _rss_mb(pid: int) -> float:
    """A process's own resident memory (VmRSS), in MB (10**6 bytes)."""
    text = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    return int(re.search(r"^VmRSS:\s+(\d+) kB", text, re.M).group(1)) * 1024 / 1e6


def _print(f: dict) -> None:
    print(
        "| clients | seconds | requests | requests/s | p50 ms | p99 ms | max ms | errors | "
        "server RSS MB: start / warm / end |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {f['clients']} | {f['seconds']:g} | {f['requests']} | "
        f"{f['requests_per_second']:.1f} | {f['p50_ms']:.1f} | {f['p99_ms']:.1f} | "
        f"{f['max_ms']:.1f} | {f['errors']} | {f['rss_mb_start']:.0f} / "
        f"{f['rss_mb_warm']:.0f} / {f['rss_mb_end']:.0f} |"
    )
    print(
        f"history {f['history_rows']} rows per request; {f['cpus']} CPUs, load average "
        f"{f['load_average']:.1f}; server tracebacks: {f['server_tracebacks']}"
    )


if __name__ == "__main__":
    sys.exit(main())
