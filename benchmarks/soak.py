"""Soak test of issue 19 on a real `streamlit run app.py` server, driven by Chromium.

Four browser sessions (Playwright contexts) click Train at once on a server started with
`FORECASTING_MAX_JOBS=2` and its own job folder; then, mid-training, one worker is killed
(SIGKILL), the server is killed (SIGKILL) and restarted on the same port (the pages reload),
and a worker gets Ctrl-C (SIGINT). A thread counts the live worker processes of this job
folder (`/proc/*/cmdline`) every 0.1 s. Afterwards, printed beside the targets:

- no job is "running" (or "queued") without a live worker process;
- the live workers never exceeded the limit of 2;
- the server's own VmRSS is back within 50 MB of where it started (the restarted server with
  the four pages reloaded, against the first server with the four pages drawn).

    python -m benchmarks.soak            # about 6 minutes on 2 busy cores (load 10)
    python -m benchmarks.soak --keep     # keep the work folder (server and worker logs)

Trainings are small (4 units, patience 0 so every one of the 500 epochs of the 5 networks
runs: long enough to be killed mid-way). Needs the `playwright` package and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS
from benchmarks.dashboard import (
    RECORDER_JS,
    Figure,
    Report,
    Server,
    below,
    job_state,
    press_and_time,
    print_table,
    set_slider,
    settle,
    slider,
    wait_idle,
    wait_page,
)
from forecasting.workers import process_alive

MAX_JOBS = 2
SESSIONS = 4
TARGET_RSS_MB = 50.0
FINISHED = ("done", "failed", "cancelled")
WORKER_MODULE = "forecasting.runner"


# ---------------------------------------------------------------------- pure checks
def live_workers(jobs_dir: Path) -> list[int]:
    """Pids of the live worker processes (`python -m forecasting.runner <folder>`) whose job
    folder is in `jobs_dir`, whoever started them (a server, or none: orphans). A worker's
    own child between fork and exec (a compiler run, say) shows the same command line and
    is not counted."""
    prefix, found = str(jobs_dir) + os.sep, {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        text = [a.decode(errors="replace") for a in args]
        if fields[0] != "Z" and WORKER_MODULE in text and any(a.startswith(prefix) for a in text):
            found[int(proc.name)] = int(fields[1])  # pid -> parent pid
    return sorted(pid for pid, parent in found.items() if parent not in found)


def stuck_jobs(jobs_dir: Path) -> list[str]:
    """Jobs whose state says "running" (or "queued" after a start) but whose worker process
    is gone: what a user would see as "Training" forever."""
    stuck = []
    for folder in sorted(p for p in jobs_dir.iterdir() if p.is_dir()):
        state = job_state(jobs_dir, folder.name)
        if state in FINISHED:
            continue
        try:
            worker = json.loads((folder / "worker.json").read_text())
        except (OSError, ValueError):
            worker = None
        if state == "queued" and worker is None:
            continue  # still waiting for a slot: not stuck
        pid = worker.get("pid") if isinstance(worker, dict) else None
        if not isinstance(pid, int) or not process_alive(pid, worker.get("start")):
            stuck.append(f"{folder.name} ({state or 'unreadable'})")
    return stuck


class WorkerSampler(threading.Thread):
    """Counts the live workers every `interval` seconds; `peak` is the most seen at once."""

    def __init__(self, jobs_dir: Path, interval: float = 0.1):
        super().__init__(daemon=True)
        self.jobs_dir, self.interval = jobs_dir, interval
        self.peak, self.samples = 0, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, len(live_workers(self.jobs_dir)))
            self.samples += 1
            time.sleep(self.interval)

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(5)


# ---------------------------------------------------------------------- steps
def prepare(page, url: str) -> None:
    """Open the Train page with small, long trainings: 4 units, patience 0, 500 epochs."""
    page.goto(f"{url}/train")
    wait_page(page, "Train")
    page.evaluate(RECORDER_JS)  # what set_slider's key presses are timed with
    set_slider(page, "p_units", 4)
    set_slider(page, "p_patience", 0)
    press_and_time(page, slider(page, "p_epochs"), "End", tries=1)
    settle(page, quiet_ms=300)


def job_folders(jobs_dir: Path) -> list[str]:
    return sorted(p.name for p in jobs_dir.iterdir() if p.is_dir()) if jobs_dir.exists() else []


def wait_for(condition, timeout: float, what: str, step: float = 0.1):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")


def training_worker(jobs_dir: Path) -> int:
    """A live worker that has finished at least one epoch (mid-training)."""
    for pid in live_workers(jobs_dir):
        for job in job_folders(jobs_dir):
            with contextlib.suppress(OSError, ValueError):
                worker = json.loads((jobs_dir / job / "worker.json").read_text())
                events = jobs_dir / job / "events.jsonl"
                if worker.get("pid") == pid and events.exists() and events.stat().st_size:
                    return pid
    return 0


def soak(browser, workdir: Path, report: Report) -> None:
    jobs_dir = workdir / "jobs"
    server = Server(jobs_dir, workdir / "server.log")
    server.env["FORECASTING_MAX_JOBS"] = str(MAX_JOBS)
    server.start()
    server.wait_healthy()
    contexts = [
        browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(SESSIONS)
    ]
    pages = [c.new_page() for c in contexts]
    sampler = WorkerSampler(jobs_dir)
    signals: list[str] = []
    try:
        for i, page in enumerate(pages):
            page.set_default_timeout(90_000)
            prepare(page, server.url)
            print(f"  session {i + 1}: Train page ready", flush=True)
        time.sleep(1.0)
        rss_start = server.rss_mb()
        sampler.start()
        started = time.perf_counter()
        for page in pages:
            page.locator(".st-key-train_button[data-stale='false'] button").first.click()
        wait_for(lambda: len(job_folders(jobs_dir)) >= SESSIONS, 60, "four submitted jobs")
        print(f"  {SESSIONS} trainings submitted", flush=True)

        pid = wait_for(lambda: training_worker(jobs_dir), 120, "a worker mid-training")
        os.kill(pid, signal.SIGKILL)
        signals.append(f"SIGKILL worker {pid} at {time.perf_counter() - started:.0f} s")
        print(f"  {signals[-1]}", flush=True)

        wait_for(lambda: training_worker(jobs_dir), 120, "a worker mid-training")
        server.process.kill()
        server.process.wait()
        signals.append(
            f"SIGKILL server at {time.perf_counter() - started:.0f} s "
            f"({len(live_workers(jobs_dir))} workers left running)"
        )
        print(f"  {signals[-1]}", flush=True)
        time.sleep(2.0)
        server.start()
        server.wait_healthy()
        for page in pages:
            page.reload()
        for page in pages:
            wait_idle(page, 90_000)
        print("  server restarted, pages reloaded", flush=True)

        pid = wait_for(lambda: training_worker(jobs_dir), 120, "a worker mid-training")
        os.kill(pid, signal.SIGINT)
        signals.append(f"SIGINT (Ctrl-C) worker {pid} at {time.perf_counter() - started:.0f} s")
        print(f"  {signals[-1]}", flush=True)

        def all_finished() -> bool:
            return all(job_state(jobs_dir, j) in FINISHED for j in job_folders(jobs_dir))

        wait_for(all_finished, 300, "the end of every job", step=0.5)
        elapsed = time.perf_counter() - started
        for page in pages:  # each session shows its run's end, as a person would see it
            wait_idle(page, 90_000)
        time.sleep(2.0)
        rss_end = server.rss_mb()
    except BaseException:
        server.stop()
        for pid in live_workers(jobs_dir):  # the workers this run started
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        raise
    finally:
        sampler.stop()
        for context in contexts:
            context.close()

    stuck = stuck_jobs(jobs_dir)
    states = [job_state(jobs_dir, j) for j in job_folders(jobs_dir)]
    server.stop()
    report.samples["soak"] = {
        "signals": signals,
        "states": states,
        "stuck": stuck,
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_end,
        "worker_samples": sampler.samples,
        "peak_workers": sampler.peak,
    }
    report.add(
        Figure(
            "Jobs 'running' without a live process",
            len(stuck),
            "",
            "0",
            not stuck,
            f"end states: {', '.join(states)}",
        )
    )
    report.add(
        Figure(
            "Most live workers at once",
            sampler.peak,
            "",
            f"<= {MAX_JOBS} (FORECASTING_MAX_JOBS)",
            sampler.peak <= MAX_JOBS,
            f"{sampler.samples} samples, one every 0.1 s",
        )
    )
    report.add(
        below(
            "Server RSS after - before",
            abs(rss_end - rss_start),
            TARGET_RSS_MB,
            "MB",
            f"{rss_start:.0f} MB (4 sessions, first server) -> {rss_end:.0f} MB "
            f"(restarted server, 4 sessions reloaded); the figure is the absolute "
            f"difference",
        )
    )
    report.add(Figure("Soak duration", elapsed, "s", note="; ".join(signals)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    parser.add_argument("--chromium", default=CHROMIUM, help="Chromium executable")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    report = Report()
    workdir = Path(tempfile.mkdtemp(prefix="soak-bench-"))
    print(f"work folder: {workdir}", flush=True)
    header = {
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            try:
                soak(browser, workdir, report)
            finally:
                browser.close()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    header["load average at the end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    command = "python -m benchmarks.soak" + (" " + " ".join(argv or sys.argv[1:])).rstrip()
    print(print_table(report, command, header))
    return 0 if all(f.passed is not False for f in report.figures) else 1


if __name__ == "__main__":
    sys.exit(main())
