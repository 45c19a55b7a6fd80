"""The peer: neuralforecast's `LSTM` and `GRU` at their defaults, run in their own interpreter.

neuralforecast needs PyTorch and is no dependency of the project, so it lives in a separate
virtual environment (README, "Benchmarks: many series"). This module runs on the project's side:
it writes a panel's training rows to a long CSV (unique_id, ds, y), starts
`peer_neuralforecast.py` with the peer's interpreter once per model, and reads the forecasts and
timings back for `benchmarks.panel --part peer` to score beside the global network.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

PEER_ENV = "FORECASTING_PEER_PYTHON"
SCRIPT = Path(__file__).with_name("peer_neuralforecast.py")
MODELS = ("LSTM", "GRU")
SEED = 1
PROBE = (
    "import json, neuralforecast, torch; "
    "print(json.dumps({'neuralforecast': neuralforecast.__version__, "
    "'torch': torch.__version__}))"
)


class PeerUnavailable(RuntimeError):
    """No usable peer interpreter: the message says why and how to get one."""


def peer_python(given: str | None = None) -> str | None:
    """The peer's interpreter: `given` (--peer-python), else $FORECASTING_PEER_PYTHON."""
    return given or os.environ.get(PEER_ENV) or None


def probe(python: str | None) -> dict[str, str]:
    """The peer's neuralforecast and torch versions.

    Raises:
        PeerUnavailable: No interpreter given, or it cannot import neuralforecast and torch.
    """
    if not python:
        raise PeerUnavailable(
            f"no peer interpreter (pass --peer-python or set {PEER_ENV}; README, "
            "'Benchmarks: many series', says how to create one)"
        )
    try:
        done = subprocess.run(
            [python, "-c", PROBE], capture_output=True, text=True, timeout=300, check=False
        )
    except OSError as error:
        raise PeerUnavailable(f"cannot start the peer interpreter {python}: {error}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PeerUnavailable(
            f"{python} cannot import neuralforecast and torch ({last}); install them there: "
            f"{python} -m pip install neuralforecast"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def skip_note(reason: str) -> str:
    """The one line the benchmark prints when it skips the peer."""
    return f"note: peer part skipped: {reason}."


def export_long(panel, path: Path) -> None:
    """The panel's series (as the global network gets them) as a long CSV: unique_id, ds, y."""
    parts = [
        pd.DataFrame({"unique_id": label, "ds": series.index, "y": series.values})
        for label, series in zip(panel.labels, panel.series, strict=True)
    ]
    pd.concat(parts, ignore_index=True).to_csv(path, index=False)


def read_forecasts(path: Path, labels: list[str], horizon: int) -> dict[str, np.ndarray]:
    """label -> the `horizon` forecasts in date order from the peer's forecast.csv.

    Raises:
        ValueError: A series is missing or has another number of forecast steps.
    """
    frame = pd.read_csv(path, dtype={"unique_id": str}, parse_dates=["ds"])
    groups = {k: rows.sort_values("ds") for k, rows in frame.groupby("unique_id", sort=False)}
    wrong = [k for k in labels if k not in groups or len(groups[k]) != horizon]
    if wrong:
        raise ValueError(
            f"{path}: {len(wrong)} series without {horizon} forecast steps (first: {wrong[0]!r})"
        )
    return {k: groups[k]["forecast"].to_numpy(float) for k in labels}


def run_model(
    python: str,
    train_csv: Path,
    out_dir: Path,
    model: str,
    horizon: int,
    freq: str,
    max_steps: int | None = None,
) -> dict:
    """Start the peer script for one model; its info.json (with the path of its forecasts).

    Raises:
        RuntimeError: The peer failed (its last lines of output quoted).
    """
    command = [python, str(SCRIPT), str(train_csv), str(out_dir), "--model", model]
    command += ["--horizon", str(horizon), "--freq", freq, "--seed", str(SEED)]
    if max_steps is not None:
        command += ["--max-steps", str(max_steps)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"the peer's {model} failed (exit {done.returncode}):\n{tail}")
    info = json.loads((out_dir / "info.json").read_text())
    info["forecast_csv"] = str(out_dir / "forecast.csv")
    return info


def run_peer(
    python: str, panel, horizon: int, max_steps: int | None = None
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict]]:
    """Fit every peer model on the panel's series and forecast `horizon` steps.

    Returns:
        (method -> label -> forecast, method -> info), methods named "neuralforecast LSTM", ...;
        a series too short for the model's input has no forecast (named in info["too_short"]).
    """
    forecasts, infos = {}, {}
    with tempfile.TemporaryDirectory(prefix="forecasting-peer-") as work:
        train_csv = Path(work) / "train.csv"
        export_long(panel, train_csv)
        for model in MODELS:
            out_dir = Path(work) / model
            info = run_model(python, train_csv, out_dir, model, horizon, panel.freq, max_steps)
            method = f"neuralforecast {model}"
            fitted = [k for k in panel.labels if k not in set(info["too_short"])]
            forecasts[method] = read_forecasts(Path(info.pop("forecast_csv")), fitted, horizon)
            infos[method] = info
    return forecasts, infos
