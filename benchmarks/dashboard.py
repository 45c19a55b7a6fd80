"""Dashboard targets of issue 7, measured on a real `streamlit run` server driven by Chromium.

Figures (each printed beside its target with PASS/FAIL):

1. start-up: time from launching `streamlit run app.py` until the first page (Data) is drawn
   in Chromium (`stApp` script state `notRunning`, the page's title visible); and whether the
   server process has TensorFlow mapped (`/proc/<pid>/maps`) after every page was drawn,
   before and after trainings.
2. slider rerun: on the Train page a slider is moved by keyboard; the browser records the
   script-state transitions. The target figure is the rerun itself (the app asks for the rerun
   -> the app is idle again, `rerunRequested`/`running` -> `notRunning`); the whole key press
   -> idle time (which includes the slider's own debounce in Streamlit's frontend) and the
   server-side rerun time in AppTest are printed beside it.
3. 100,000-row CSV: an hourly CSV is uploaded through the Data page's file uploader; time
   from handing the file to the uploader until the summary shows 100,000 points and the app is
   idle. `forecasting.loading.load_series` on the same file is timed directly.
4. memory: N trainings (2 epochs, 4 units, the monthly sample) started one after another by
   clicking Train in the browser, each awaited; the server's own VmRSS before the first and
   after the last (workers are separate processes and are not counted).

    python -m benchmarks.dashboard                       # the README table (10 to 15 minutes)
    python -m benchmarks.dashboard --quick               # smoke run: fewer repeats, 3 trainings
    python -m benchmarks.dashboard --only slider,csv     # some of startup,slider,csv,memory
    python -m benchmarks.dashboard --json dashboard.json # also write every sample as JSON

Needs the `playwright` Python package and Chromium at /usr/bin/chromium (`--chromium PATH`).
Timings depend on the machine's load: the load average is printed with the table, and beside
each wall-clock figure the server's own CPU time and the browser's main-thread time show where
the time went. Chromium runs with --disable-gpu, so WebGL charts are drawn in software.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ServerNotReady,
    free_port,
    wait_until_answering,
)

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
PAGE_TITLES = ("Data", "Train", "Evaluate", "Forecast", "Runs")
TF_MARKERS = ("tensorflow", "_pywrap_tensorflow")

TARGET_START_S = 3.0
TARGET_RERUN_MS = 150.0
TARGET_CSV_S = 2.0
TARGET_RSS_MB = 200.0
CSV_ROWS = 100_000
FINISHED_STATES = ("done", "failed", "cancelled")

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"

# Records every script-state transition of the app and every key press, with timestamps.
RECORDER_JS = """
() => {
  if (window.__bench) return;
  window.__bench = [];
  new MutationObserver(records => records.forEach(r => {
      if (r.target.getAttribute('data-testid') === 'stApp')
        window.__bench.push([performance.now(), r.target.getAttribute('data-test-script-state'),
                             r.oldValue]);
    }))
    .observe(document.body, {attributes: true, subtree: true, attributeOldValue: true,
                             attributeFilter: ['data-test-script-state']});
  document.addEventListener('keydown', e => window.__bench.push(
      [performance.now(), 'key:' + e.key]), true);
}
"""

# True once, after the last key press, the app has started a rerun and is idle again.
RERUN_DONE_JS = """
() => {
  const log = window.__bench || [];
  let key = -1;
  log.forEach((e, i) => { if (e[1].startsWith('key:')) key = i; });
  if (key < 0) return false;
  let started = false;
  for (let i = key + 1; i < log.length; i++) {
    if (log[i][1] === 'running' || log[i][1] === 'rerunRequested') started = true;
    if (started && log[i][1] === 'notRunning') return true;
  }
  return false;
}
"""

PAGE_READY_JS = """
(title) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const main = document.querySelector("[data-testid='stMain']") || document;
  return [...main.querySelectorAll('h1')].some(h => h.innerText.trim() === title &&
                                                   h.offsetParent !== null);
}
"""


# ---------------------------------------------------------------------- results
@dataclass
class Figure:
    """One measured figure; `target` is None for figures printed for information only."""

    name: str
    measured: float | str | None
    unit: str
    target: float | str | None = None
    passed: bool | None = None
    note: str = ""

    def measured_text(self) -> str:
        if self.measured is None:
            return "not measured"
        if isinstance(self.measured, str):
            return self.measured
        if self.unit == "ms":
            return f"{self.measured:.0f} ms"
        if self.unit == "s":
            return f"{self.measured:.2f} s"
        if self.unit == "MB":
            return f"{self.measured:+.1f} MB"
        return f"{self.measured:g} {self.unit}".strip()

    def target_text(self) -> str:
        if self.target is None:
            return "(info)"
        if isinstance(self.target, str):
            return self.target
        return f"< {self.target:g} {self.unit}"

    def result_text(self) -> str:
        return "" if self.passed is None else ("PASS" if self.passed else "FAIL")


def below(name: str, value: float | None, target: float, unit: str, note: str = "") -> Figure:
    return Figure(name, value, unit, target, None if value is None else value < target, note)


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    samples: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    quiet: bool = False

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        if not self.quiet:
            print(f"  {figure.name}: {figure.measured_text()} {figure.result_text()}", flush=True)


# ---------------------------------------------------------------------- server
class Server:
    """`streamlit run app.py` on a free port with its own job registry."""

    def __init__(self, jobs_dir: Path, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "FORECASTING_JOBS_DIR": str(jobs_dir),
            "FORECASTING_RUNNER": "process",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("FORECASTING_MAX_JOBS", None)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(APP),
                "--server.headless",
                "true",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        try:
            wait_until_answering(f"{self.url}/_stcore/health", self.process, timeout, 0.01)
        except ServerNotReady as error:
            raise RuntimeError(f"streamlit: {error}; see {self.log_path}") from None

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> float:
        """The server process's own resident memory (VmRSS), in MB (10**6 bytes)."""
        text = Path(f"/proc/{self.pid}/status").read_text()
        kib = int(re.search(r"^VmRSS:\s+(\d+) kB", text, re.M).group(1))
        return kib * 1024 / 1e6

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (children not included)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tensorflow_mapped(self) -> list[str]:
        """Shared objects of TensorFlow mapped into the server process (none expected)."""
        found = set()
        for line in Path(f"/proc/{self.pid}/maps").read_text().splitlines():
            parts = line.split(None, 5)
            if len(parts) == 6 and any(m in parts[5].lower() for m in TF_MARKERS):
                found.add(parts[5].strip())
        return sorted(found)

    def children(self) -> list[str]:
        """`pid state` of the server's child processes still present (workers, zombies)."""
        out = []
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{self.pid}/task").iterdir():
                kids = (task / "children").read_text().split()
                for kid in kids:
                    with contextlib.suppress(OSError):
                        stat = Path(f"/proc/{kid}/stat").read_text()
                        out.append(f"{kid} {stat.rsplit(')', 1)[1].split()[0]}")
        return out

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ---------------------------------------------------------------------- browser helpers
def wait_page(page, title: str, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(PAGE_READY_JS, arg=title, timeout=timeout_ms, polling="raf")


def wait_idle(page, timeout_ms: int = 60_000) -> None:
    page.wait_for_selector(IDLE, state="attached", timeout=timeout_ms)


def current_title(page) -> str:
    return page.evaluate(
        "() => (document.querySelector(\"[data-testid='stMain'] h1\") || "
        "{innerText: ''}).innerText.trim()"
    )


def go_to(page, title: str) -> None:
    """Switch page through the sidebar navigation (same session) and wait until drawn."""
    wait_idle(page)
    if current_title(page) == title:
        return
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first.click()
    wait_page(page, title)


def press_and_time(page, locator, key: str, timeout_ms: int = 10_000, tries: int = 3) -> dict:
    """Press `key` on a focused widget; the script-state transitions that followed (ms).
    When no rerun follows (the widget was redrawn between focus and key press, which happens
    under heavy load), the press is tried again, up to `tries` times (counted in `tries`)."""
    for attempt in range(1, tries + 1):
        page.evaluate("() => { window.__bench.length = 0; }")
        locator.focus()
        page.keyboard.press(key)
        try:
            page.wait_for_function(RERUN_DONE_JS, timeout=timeout_ms, polling="raf")
            break
        except Exception as exc:
            if attempt == tries:
                log = page.evaluate("() => window.__bench.slice()")
                raise RuntimeError(f"no rerun after pressing {key}; events: {log}") from exc
            wait_idle(page)
    page.wait_for_timeout(50)  # let a second rerun, if any, show in the log
    wait_idle(page)
    log = page.evaluate("() => window.__bench.slice()")
    log = [(e[0], e[1]) for e in log]
    key_at = next(t for t, s in log if s.startswith("key:"))
    requested = next((t for t, s in log if t >= key_at and s == "rerunRequested"), None)
    running = next((t for t, s in log if t >= key_at and s == "running"), None)
    done = [t for t, s in log if t >= key_at and s == "notRunning"][-1]
    start = min(t for t in (requested, running) if t is not None)
    return {
        "key_to_idle_ms": done - key_at,
        "rerun_ms": done - start,
        "key_to_rerun_ms": start - key_at,
        "running_to_idle_ms": None if running is None else done - running,
        "reruns": sum(1 for _, s in log if s == "running"),
        "tries": attempt,
        "log": log,
    }


def browser_busy(page) -> float:
    """Seconds the page's renderer main thread has spent on tasks so far (CDP TaskDuration)."""
    session = getattr(page, "_bench_cdp", None)
    if session is None:
        session = page.context.new_cdp_session(page)
        session.send("Performance.enable")
        page._bench_cdp = session
    metrics = session.send("Performance.getMetrics")["metrics"]
    return next(m["value"] for m in metrics if m["name"] == "TaskDuration")


def settle(page, quiet_ms: int = 700, timeout_ms: int = 60_000) -> None:
    """Wait until the app is idle and no script-state change happened for `quiet_ms`
    (an upload can cause a second, later run)."""
    page.wait_for_function(
        """(quiet) => {
            const app = document.querySelector("[data-testid='stApp']");
            if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
            const log = window.__bench || [];
            const states = log.filter(e => !e[1].startsWith('key:'));
            const last = states.length ? states[states.length - 1][0] : 0;
            return performance.now() - last > quiet;
        }""",
        arg=quiet_ms,
        timeout=timeout_ms,
        polling=100,
    )


def slider(page, key: str):
    """The slider's (visually hidden) range input, which takes the keyboard."""
    return page.locator(f".st-key-{key} input[type='range']").first


def slider_value(page, key: str) -> str:
    return slider(page, key).input_value()


def set_slider(page, key: str, value: int) -> None:
    """Set an integer slider with the keyboard (Home, then arrow steps until it reads
    `value`; the value is read back after every step, so a doubled press is corrected)."""
    thumb = slider(page, key)
    if float(slider_value(page, key)) > value + 5:
        press_and_time(page, thumb, "Home", tries=1)
    for _ in range(50):
        settle(page, quiet_ms=300)
        got = float(slider_value(page, key))
        if got == value:
            return
        press_and_time(page, thumb, "ArrowRight" if got < value else "ArrowLeft", tries=1)
    raise RuntimeError(f"slider {key} is at {slider_value(page, key)}, not {value}")


def tour(page) -> None:
    for title in PAGE_TITLES:
        go_to(page, title)


# ---------------------------------------------------------------------- measurements
def measure_startup(browser, workdir: Path, runs: int, report: Report) -> None:
    """Figure 1a: launch -> first page drawn, over `runs` fresh servers."""
    times, healthy, complete, cpu = [], [], [], []
    for i in range(runs):
        server = Server(workdir / f"jobs-start-{i}", workdir / "server-start.log")
        page = browser.new_page()
        try:
            server.start()
            server.wait_healthy()
            healthy.append(time.perf_counter() - server.started)
            page.goto(server.url, wait_until="commit")
            wait_page(page, "Data")
            times.append(time.perf_counter() - server.started)
            cpu.append(server.cpu_seconds())
            # widgets and charts are lazy-loaded chunks: placeholders until they arrive
            page.wait_for_function(
                "() => !document.querySelector(\"[data-testid='stSkeleton']\") && "
                "document.querySelector(\"[data-testid='stPlotlyChart'] .main-svg\")",
                timeout=60_000,
                polling="raf",
            )
            complete.append(time.perf_counter() - server.started)
        finally:
            page.close()
            server.stop()
    report.samples["startup_s"] = times
    report.samples["startup_health_s"] = healthy
    report.samples["startup_complete_s"] = complete
    report.samples["startup_server_cpu_s"] = cpu
    report.add(
        below(
            f"Launch -> first page drawn (median of {runs})",
            statistics.median(times),
            TARGET_START_S,
            "s",
            "each run: " + ", ".join(f"{t:.2f}" for t in times) + " s; server "
            f"answering /_stcore/health after {statistics.median(healthy):.2f} s",
        )
    )
    report.add(
        Figure(
            "  launch -> chart and every widget drawn",
            statistics.median(complete),
            "s",
            note="no skeleton placeholder left, the Plotly chart drawn",
        )
    )
    report.add(
        Figure(
            "  server CPU time until first page drawn",
            statistics.median(cpu),
            "s",
            note="user + system CPU of the server process: the part of the start-up "
            "that does not depend on the machine's load",
        )
    )


def check_tensorflow(server: Server, report: Report, when: str) -> None:
    mapped = server.tensorflow_mapped()
    report.samples[f"tensorflow_mapped_{when}"] = mapped
    report.add(
        Figure(
            f"TensorFlow in the server process ({when})",
            "none" if not mapped else f"{len(mapped)} objects",
            "",
            "none",
            not mapped,
            "; ".join(mapped[:3]) if mapped else "/proc/<pid>/maps",
        )
    )


def measure_slider(page, server: Server, report: Report, label: str, changes: int) -> None:
    """Figure 2: `changes` keyboard moves of the units slider on the Train page."""
    go_to(page, "Train")
    page.evaluate(RECORDER_JS)
    thumb = slider(page, "p_units")
    samples, cpu, busy = [], [], []
    for _ in range(changes):  # every press gives a new value: nothing is cached in advance
        busy_start = browser_busy(page)
        cpu_start = server.cpu_seconds()
        samples.append(press_and_time(page, thumb, "ArrowRight"))
        cpu.append((server.cpu_seconds() - cpu_start) * 1000)
        busy.append((browser_busy(page) - busy_start) * 1000)
    whole = [s["key_to_idle_ms"] for s in samples]
    rerun = [s["rerun_ms"] for s in samples]
    report.samples[f"slider_{label}"] = [
        {k: v for k, v in s.items() if k != "log"} for s in samples
    ]
    report.add(
        below(
            f"Slider key press -> idle, {label} (median of {changes})",
            statistics.median(whole),
            TARGET_RERUN_MS,
            "ms",
            f"browser, key press -> script state notRunning; min {min(whole):.0f}, "
            f"max {max(whole):.0f} ms; reruns per press: "
            f"{max(s['reruns'] for s in samples)}",
        )
    )
    report.add(
        Figure(
            f"  rerun only (running -> idle), {label}",
            statistics.median(rerun),
            "ms",
            note="median; key press -> rerun starts: "
            f"{statistics.median(s['key_to_rerun_ms'] for s in samples):.0f} ms",
        )
    )
    report.samples[f"slider_server_cpu_ms_{label}"] = cpu
    report.add(
        Figure(
            f"  server CPU time per slider change, {label}",
            statistics.median(cpu),
            "ms",
            note="median; user + system CPU of the server process (10 ms clock ticks)",
        )
    )
    report.samples[f"slider_browser_main_thread_ms_{label}"] = busy
    report.add(
        Figure(
            f"  browser main-thread time per slider change, {label}",
            statistics.median(busy),
            "ms",
            note="median; Chromium renderer tasks (CDP TaskDuration), incl. 50 ms settle wait",
        )
    )


def measure_apptest_rerun(jobs_dir: Path, changes: int, report: Report) -> None:
    """Figure 2b: server-side rerun time of the Train page after a slider change (AppTest),
    in a fresh interpreter so that nothing of this process leaks in."""
    script = f"""
import json, time
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(APP)!r}, default_timeout=120).run()
at.switch_page("pages/train.py").run()
assert not at.exception, at.exception
times = []
for i in range({changes}):
    slider = at.slider(key="p_units")
    slider.set_value(int(slider.value) + 1)
    start = time.perf_counter()
    at.run()
    times.append((time.perf_counter() - start) * 1000)
    assert not at.exception, at.exception
print("TIMES", json.dumps(times))
"""
    env = {**os.environ, "FORECASTING_JOBS_DIR": str(jobs_dir), "FORECASTING_RUNNER": "inline"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    match = re.search(r"^TIMES (.*)$", done.stdout, re.M)
    if not match:
        report.problems.append("AppTest rerun timing failed: " + done.stderr[-500:])
        report.add(Figure("Slider rerun, server side (AppTest)", None, "ms", TARGET_RERUN_MS))
        return
    times = json.loads(match.group(1))
    report.samples["apptest_rerun_ms"] = times
    report.add(
        below(
            f"Slider rerun, server side (AppTest, median of {changes})",
            statistics.median(times),
            TARGET_RERUN_MS,
            "ms",
            f"script run only; max {max(times):.0f} ms",
        )
    )


def write_csv(path: Path, rows: int, seed: int, column: str = "load") -> None:
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2010-01-01", periods=rows, freq="h")
    hours = np.arange(rows)
    values = (
        100 + 10 * np.sin(2 * np.pi * hours / 24) + 0.001 * hours + rng.normal(0, 1, rows)
    ).round(3)
    pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"), column: values}).to_csv(
        path, index=False
    )


def measure_csv(page, server: Server, workdir: Path, uploads: int, report: Report) -> None:
    """Figure 3: 100,000-row hourly CSV through the uploader, and load_series directly."""
    from forecasting.loading import load_series

    files = []
    for i in range(uploads):  # different bytes each time: no cache hit on the content digest
        path = workdir / f"hourly_{CSV_ROWS}_{i}.csv"
        # a value column named per file: the page shows it, so a later file is told apart
        write_csv(path, CSV_ROWS, seed=i, column=f"load_{i}")
        files.append(path)
    direct = []
    for path in files:
        start = time.perf_counter()
        series = load_series(path)
        direct.append(time.perf_counter() - start)
        assert len(series) == CSV_ROWS, len(series)

    go_to(page, "Data")
    page.get_by_text("Your file", exact=True).click()
    uploader = page.locator("[data-testid='stFileUploaderDropzoneInput']")
    uploader.wait_for(state="attached", timeout=30_000)
    wait_idle(page)
    page.evaluate(RECORDER_JS)
    browser_times, downsampled, reruns, first_run, cpu, busy = [], [], [], [], [], []
    for i, path in enumerate(files):
        settle(page)
        page.evaluate("() => { window.__bench.length = 0; }")
        busy_start = browser_busy(page)
        cpu_start = server.cpu_seconds()
        start = time.perf_counter()
        page_start = page.evaluate("() => performance.now()")
        uploader.set_input_files(str(path))
        try:
            page.wait_for_function(
                """([rows, name]) => {
                    // a run started after the file was handed over, and it has ended
                    const log = window.__bench;
                    if (!log.some(e => e[1] === 'running')) return false;
                    const app = document.querySelector("[data-testid='stApp']");
                    if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
                    const main = document.querySelector("[data-testid='stMain']");
                    if (![...main.querySelectorAll('h3')].some(h => h.innerText.trim() === name))
                        return false;
                    return [...main.querySelectorAll("[data-testid='stMetricValue']")]
                        .some(m => m.innerText.trim() === rows);
                }""",
                arg=[f"{CSV_ROWS:,}", f"load_{i}"],
                timeout=60_000,
                polling="raf",
            )
        except Exception as exc:
            state = page.evaluate(
                "() => [window.__bench.slice(), [...document.querySelectorAll("
                "\"[data-testid='stMetricValue']\")].map(m => m.innerText)]"
            )
            raise RuntimeError(f"upload of {path.name} not drawn: {state}") from exc
        browser_times.append(time.perf_counter() - start)
        cpu.append(server.cpu_seconds() - cpu_start)
        busy.append(browser_busy(page) - busy_start)
        settle(page)  # count a later second run too
        log = page.evaluate("() => window.__bench.slice()")
        runs = [e[0] for e in log if e[1] == "running"]
        reruns.append(len(runs))
        first_run.append((runs[0] - page_start) / 1000 if runs else None)
        caption = page.get_by_text(f"of the {CSV_ROWS:,} points", exact=False)
        downsampled.append(caption.count() > 0)
    report.samples["csv_browser_s"] = browser_times
    report.samples["csv_load_series_s"] = direct
    report.samples["csv_bytes"] = [p.stat().st_size for p in files]
    report.samples["csv_reruns"] = reruns
    report.samples["csv_upload_to_first_run_s"] = first_run
    report.samples["csv_server_cpu_s"] = cpu
    report.samples["csv_browser_main_thread_s"] = busy
    report.add(
        below(
            f"100k-row CSV upload -> summary drawn (median of {uploads})",
            statistics.median(browser_times),
            TARGET_CSV_S,
            "s",
            f"{files[0].stat().st_size / 1e6:.1f} MB file; chart downsampled: "
            f"{'yes' if all(downsampled) else 'NO'}, Points = {CSV_ROWS:,}; "
            f"script runs per upload: {max(reruns)}; file handed over -> first run "
            f"starts: {statistics.median(x for x in first_run if x is not None):.2f} s",
        )
    )
    report.add(
        Figure(
            "  server CPU time per upload",
            statistics.median(cpu),
            "s",
            note="user + system CPU of the server process from handing the file over until "
            "the summary is drawn (receiving the upload, parsing, series, chart, preview)",
        )
    )
    report.add(
        Figure(
            "  browser main-thread time per upload",
            statistics.median(busy),
            "s",
            note="Chromium renderer tasks (CDP TaskDuration) over the same interval: "
            "drawing the chart, the table and the widgets",
        )
    )
    report.add(
        below(
            f"  load_series on the same file (median of {uploads})",
            statistics.median(direct),
            TARGET_CSV_S,
            "s",
            "parse + series, no UI",
        )
    )
    # back to the built-in monthly sample for the trainings
    page.get_by_text("Built-in sample", exact=True).click()
    page.wait_for_function(
        """(rows) => document.querySelector("[data-testid='stApp']")
                .getAttribute('data-test-script-state') === 'notRunning' &&
            document.querySelector("[data-testid='stMetricValue']") &&
            ![...document.querySelectorAll("[data-testid='stMetricValue']")]
                .some(m => m.innerText.trim() === rows)""",
        arg=f"{CSV_ROWS:,}",
        timeout=60_000,
        polling=100,
    )


def newest_job(jobs_dir: Path, known: set[str]) -> str | None:
    fresh = [p.name for p in jobs_dir.iterdir() if p.is_dir() and p.name not in known]
    return max(fresh) if fresh else None


def job_state(jobs_dir: Path, job_id: str) -> str:
    try:
        return json.loads((jobs_dir / job_id / "state.json").read_text())["state"]
    except (OSError, ValueError, KeyError):
        return ""


def measure_memory(page, server: Server, jobs_dir: Path, trainings: int, report: Report) -> None:
    """Figure 4: `trainings` trainings clicked one after another in the same server."""
    go_to(page, "Train")
    page.evaluate(RECORDER_JS)
    set_slider(page, "p_epochs", 2)
    set_slider(page, "p_units", 4)
    wait_idle(page)
    time.sleep(1.0)
    before = server.rss_mb()
    rss, seconds, states = [], [], []
    known = {p.name for p in jobs_dir.iterdir()} if jobs_dir.exists() else set()
    button = page.locator(".st-key-train_button[data-stale='false'] button").first
    for i in range(trainings):
        start = time.perf_counter()
        button.click()
        deadline = time.perf_counter() + 60
        job = None
        while job is None and time.perf_counter() < deadline:
            job = newest_job(jobs_dir, known) if jobs_dir.exists() else None
            time.sleep(0.05)
        if job is None:
            raise RuntimeError("clicking Train submitted no job")
        known.add(job)
        deadline = time.perf_counter() + 300
        while job_state(jobs_dir, job) not in FINISHED_STATES:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"training {job} did not finish in 300 s")
            time.sleep(0.2)
        # the page notices the end (polling fragment) and draws the results
        page.wait_for_function(
            """(job) => location.search.includes(job) &&
                document.querySelector("[data-testid='stApp']")
                    .getAttribute('data-test-script-state') === 'notRunning' &&
                !document.querySelector('.st-key-cancel_button') &&
                [...document.querySelectorAll("[data-testid='stMetricLabel']")]
                    .some(m => m.innerText.includes('Epochs run'))""",
            arg=job,
            timeout=60_000,
            polling=100,
        )
        seconds.append(time.perf_counter() - start)
        states.append(job_state(jobs_dir, job))
        rss.append(server.rss_mb())
        print(
            f"    training {i + 1}/{trainings}: {states[-1]} in {seconds[-1]:.1f} s, "
            f"server RSS {rss[-1]:.1f} MB",
            flush=True,
        )
    tour(page)  # results drawn on every page, as a person would look at them
    go_to(page, "Train")
    time.sleep(1.0)
    after = server.rss_mb()
    report.samples["memory"] = {
        "rss_before_mb": before,
        "rss_after_each_mb": rss,
        "rss_after_tour_mb": after,
        "seconds_each": seconds,
        "states": states,
        "children_left": server.children(),
    }
    failed = [s for s in states if s != "done"]
    if failed:
        report.problems.append(
            f"{len(failed)} of {trainings} trainings did not end 'done': {failed}"
        )
    report.add(
        below(
            f"Server RSS growth over {trainings} trainings",
            after - before,
            TARGET_RSS_MB,
            "MB",
            f"{before:.0f} -> {after:.0f} MB; after the 1st: {rss[0]:.0f} MB; "
            f"{statistics.median(seconds):.1f} s per training (median), "
            f"{trainings - len(failed)}/{trainings} done",
        )
    )
    if trainings > 1:
        per = (rss[-1] - rss[0]) / (trainings - 1)
        report.add(
            Figure(
                "  growth per training after the 1st",
                per,
                "MB",
                note="(last - first) / (n - 1), server RSS after each",
            )
        )


# ---------------------------------------------------------------------- driver
PARTS = ("startup", "slider", "csv", "memory")


def run(args) -> Report:
    from playwright.sync_api import sync_playwright

    report = Report()
    workdir = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
    quick = args.quick
    parts = set(args.only.split(",")) if args.only else set(PARTS)
    changes = 5 if quick else 10
    print(f"work folder: {workdir}", flush=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            if "startup" in parts:
                print("1. start-up", flush=True)
                # a throw-away start: the figure is not the first Python run after a boot
                measure_startup(browser, workdir, 1, Report(quiet=True))
                measure_startup(browser, workdir, 1 if quick else 3, report)

            jobs_dir = workdir / "jobs"
            server = Server(jobs_dir, workdir / "server.log")
            server.start()
            server.wait_healthy()
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(server.url)
            wait_page(page, "Data")
            try:
                tour(page)
                check_tensorflow(server, report, "every page drawn")

                if "slider" in parts:
                    print("2. slider rerun", flush=True)
                    measure_slider(page, server, report, "no training yet", changes)
                    measure_apptest_rerun(workdir / "jobs-apptest", changes, report)

                if "csv" in parts:
                    print("3. 100,000-row CSV", flush=True)
                    measure_csv(page, server, workdir, 1 if quick else 3, report)

                if "memory" in parts:
                    print("4. memory over trainings", flush=True)
                    trainings = args.trainings or (3 if quick else 20)
                    measure_memory(page, server, jobs_dir, trainings, report)
                    check_tensorflow(server, report, f"after {trainings} trainings, every page")
                    if "slider" in parts:
                        measure_slider(page, server, report, "results shown", changes)
            finally:
                context.close()
                server.stop()
        finally:
            browser.close()
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
    return report


def print_table(report: Report, command: str, header: dict) -> str:
    rows = [("figure", "measured", "target", "result")]
    rows += [(f.name, f.measured_text(), f.target_text(), f.result_text()) for f in report.figures]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["| " + " | ".join(r[i].ljust(widths[i]) for i in range(4)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    text = "\n".join(
        [f"command: {command}", ", ".join(f"{k}: {v}" for k, v in header.items()), "", *lines]
    )
    notes = [f"- {f.name.strip()}: {f.note}" for f in report.figures if f.note]
    text += "\n\nnotes:\n" + "\n".join(notes)
    if report.problems:
        text += "\n\nproblems:\n" + "\n".join(f"- {p}" for p in report.problems)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dashboard", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: one start, one upload, 5 slider moves, 3 trainings",
    )
    parser.add_argument(
        "--trainings",
        type=int,
        default=None,
        help="trainings for the memory figure (default 20, --quick 3)",
    )
    parser.add_argument(
        "--only",
        metavar="PARTS",
        help=f"comma-separated subset of {','.join(PARTS)} (the TensorFlow check always runs)",
    )
    parser.add_argument("--json", metavar="FILE", help="write the figures and samples as JSON")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (server logs, job folders)"
    )
    parser.add_argument("--chromium", default=CHROMIUM, help="Chromium executable")
    args = parser.parse_args(argv)
    command = (
        "python -m benchmarks.dashboard"
        + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    )
    import streamlit

    header = {
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "streamlit": streamlit.__version__,
        "python": platform.python_version(),
    }
    report = run(args)
    header["load average at end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print()
    print(print_table(report, command, header))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "command": command,
                    **header,
                    "figures": [asdict(f) for f in report.figures],
                    "samples": report.samples,
                    "problems": report.problems,
                },
                indent=2,
                default=str,
            )
        )
    failed = [f for f in report.figures if f.passed is False]
    return 1 if failed or report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
