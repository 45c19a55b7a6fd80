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

    python -m benchmarks.panel --part m4 --epochs 20          # the M4 table
    python -m benchmarks.panel --part scale --epochs 3        # the scale figures
"""

from __future__ import annotations

import argparse
import json
import resource
import time
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
        model=ModelConfig(ensemble=args.ensemble),
        train=TrainConfig(epochs=args.epochs),
    )


def m4_group(name: str, args) -> dict:
    """Train on the train rows, score every method on the official test rows."""
    from forecasting.baselines import ALL_BASELINES
    from forecasting.evaluation import mase_scale, metrics
    from forecasting.panel import Panel
    from forecasting.panel_pipeline import m4_aggregate, train_panel

    filename, horizon, freq, m = M4[name]
    frame = pd.read_csv(SHARED / filename)
    train_rows, test_rows = frame[frame.split == "train"], frame[frame.split == "test"]
    panel = Panel.from_long(train_rows, ["series_id"], "date", "value", freq)
    started = time.perf_counter()
    run = train_panel(panel, _config(horizon, args))
    seconds = time.perf_counter() - started
    test = {sid: rows["value"].to_numpy(float) for sid, rows in test_rows.groupby("series_id")}
    rows = []
    for label, series in zip(panel.labels, panel.series, strict=True):
        actual, history = test[label], series.values
        scale = mase_scale(history, m)
        model = run.forecast[run.forecast["series_id"] == label]["forecast"].to_numpy(float)
        forecasts = {"model": model}
        for method in METHODS[1:]:
            forecasts[method] = np.asarray(ALL_BASELINES[method](history, horizon, m), float)
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
        "epochs_run": run.timings["epochs_run"],
        "forecast_rows": len(run.forecast),
    }


def generated_csv(path: Path, series: int, points: int, seed: int = 0) -> None:
    """Hourly series with daily and weekly cycles, trend and noise, as one long CSV."""
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
    pd.concat(parts).to_csv(path, index=False)


def scale(args) -> dict:
    from forecasting.panel_pipeline import train_panel

    path = Path(args.workdir) / f"panel-{args.series}x{args.points}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        generated_csv(path, args.series, args.points)
    times = {}
    started = time.perf_counter()
    try:
        from forecasting.loading import load_panel

        panel = load_panel(path.read_bytes(), filename=path.name, id_cols=("series_id",))
    except ImportError:  # before the loader had many-series support
        from forecasting.panel import Panel

        panel = Panel.from_long(pd.read_csv(path), ["series_id"], "date", "value", "h")
    times["load"] = time.perf_counter() - started
    started = time.perf_counter()
    run = train_panel(panel, _config(48, args))
    times["train, score and forecast"] = time.perf_counter() - started
    return {
        "series": len(panel),
        "points": args.points,
        "seconds": times,
        "total_seconds": sum(times.values()),
        "train_seconds": run.timings["train_seconds"],
        "epochs_run": run.timings["epochs_run"],
        "windows": run.plan.windows,
        "per_epoch": run.plan.per_epoch,
        "forecast_rows": len(run.forecast),
        "peak_memory_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "owa": run.aggregate["model"]["owa"],
    }


def table(result: dict) -> str:
    lines = []
    for name, group in result.get("m4", {}).items():
        lines += [
            f"M4 {name}: {group['series']} series ({group['fallback']} on the fallback), "
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
            f"Peak memory {s['peak_memory_gb']:.2f} GB; {s['forecast_rows']:,} forecast rows; "
            f"network OWA on the series' test parts {s['owa']:.3f}.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["m4", "scale", "all"], default="all")
    parser.add_argument("--groups", default="weekly,hourly")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--ensemble", type=int, default=1)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--workdir", default="/tmp/forecasting-bench")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    result = {}
    if args.part in ("m4", "all"):
        result["m4"] = {g: m4_group(g, args) for g in args.groups.split(",")}
    if args.part in ("scale", "all"):
        result["scale"] = scale(args)
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
