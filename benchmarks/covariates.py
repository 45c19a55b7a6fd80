"""Do covariates help, and what do they cost? Beijing PM2.5 with its weather columns.

**Accuracy**: a rolling-origin backtest on ../shared/datasets/pollution.csv (target pm2.5;
DEWP, TEMP, PRES, Iws, Is, Ir and the wind direction cbwd as past covariates; calendar
features on): K folds of 24 hours over the last weeks of the file, the network with and without
the covariates (the twin trained in every fold) beside the baselines from the same origins.

**Speed**: one network fitted on 5,000 hourly points with 8 covariates (the 7 columns above
plus calendar) against the same network on the target alone, same epochs (no early stopping):
seconds per epoch and their ratio (the target: at most 1.5x). A full training with covariates
also trains its twin without them, so its wall time is reported separately.

    python -m benchmarks.covariates                       # README table (defaults below)
    python -m benchmarks.covariates --folds 2 --epochs 3 --points 2000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
POLLUTION = SHARED / "pollution.csv"
PAST = ("DEWP", "TEMP", "PRES", "Iws", "Is", "Ir", "cbwd")
HORIZON = 24


def load(points: int):
    """The last `points` hours of the pollution file, every column kept."""
    from forecasting.loading import LoadOptions, load_series
    from forecasting.series import TimeSeries

    series = load_series(POLLUTION.read_bytes(), LoadOptions(value_col="pm2.5"))
    start = max(0, len(series) - points)
    extra = None if series.extra is None else series.extra.iloc[start:]
    return TimeSeries(
        series.values[start:], series.index[start:], series.freq, series.name, (), extra
    )


def accuracy(args) -> dict:
    """The backtest with and without covariates; summary rows per method."""
    from forecasting.backtest import backtest
    from forecasting.config import ModelConfig, RunConfig, TrainConfig
    from forecasting.covariates import Roles

    series = load(args.points)
    config = RunConfig(
        horizon=HORIZON,
        model=ModelConfig(ensemble=args.ensemble),
        train=TrainConfig(epochs=args.epochs),
    )
    roles = Roles(past=PAST, calendar=True)
    started = time.perf_counter()
    result = backtest(series, config, args.folds, roles=roles)
    record = result.to_dict()
    return {
        "points": len(series),
        "start": str(series.index[0]),
        "end": str(series.index[-1]),
        "folds": args.folds,
        "summary": record["summary"],
        "without_covariates": record.get("without_covariates"),
        "seconds": time.perf_counter() - started,
    }


def speed(args) -> dict:
    """Seconds per epoch of one network with 8 covariates and without, same windows."""
    from forecasting.config import ModelConfig, TrainConfig
    from forecasting.covariates import Roles
    from forecasting.features import CovariateData
    from forecasting.forecaster import RNNForecaster
    from forecasting.windows import chronological_split

    series = load(args.speed_points)
    split = chronological_split(len(series), 48, HORIZON, 0.1, 0.1, HORIZON)
    model = ModelConfig(window=48, scaling="window", ensemble=1)
    train = TrainConfig(epochs=args.speed_epochs, patience=0)
    out = {}
    for name, roles in (("target only", None), ("8 covariates", Roles(past=PAST, calendar=True))):
        forecaster = RNNForecaster(model, train, HORIZON, 24)
        covariates = None if roles is None else CovariateData.of(series, roles)
        started = time.perf_counter()
        forecaster.fit(series.values, split, covariates=covariates)
        history = forecaster.history_
        out[name] = {
            "fit_seconds": time.perf_counter() - started,
            "seconds_per_epoch": history.train_seconds / history.epochs_run,
            "steady_seconds_per_epoch": float(np.median(history.epoch_seconds[1:]))
            if history.epochs_run > 1
            else history.train_seconds,
            "features": 1 + forecaster.n_past + forecaster.n_known,
        }
    base, cov = out["target only"], out["8 covariates"]
    out["ratio"] = cov["steady_seconds_per_epoch"] / base["steady_seconds_per_epoch"]
    out["points"] = len(series)
    return out


def table(acc: dict | None, spd: dict | None) -> str:
    lines = []
    if acc:
        lines += [
            f"Backtest: {acc['folds']} folds of {HORIZON} hours, last {acc['points']:,} hours "
            f"({acc['start']} to {acc['end']}), {acc['seconds']:.0f} s",
            "",
            "| method | MASE | sMAPE % | RMSE |",
            "|---|---|---|---|",
        ]
        rows = dict(acc["summary"])
        if acc.get("without_covariates"):
            rows = {
                "network with covariates": rows.pop("model"),
                "network without covariates": acc["without_covariates"]["model"],
                **rows,
            }
        for name, s in sorted(rows.items(), key=lambda kv: kv[1]["mase"] or np.inf):
            lines.append(f"| {name} | {s['mase']:.3f} | {s['smape']:.1f} | {s['rmse']:.1f} |")
    if spd:
        lines += [
            "",
            f"Speed: one network on {spd['points']:,} hourly points (window 48)",
            "",
            "| inputs | features per step | s/epoch (steady) | fit seconds |",
            "|---|---|---|---|",
        ]
        for name in ("target only", "8 covariates"):
            s = spd[name]
            lines.append(
                f"| {name} | {s['features']} | {s['steady_seconds_per_epoch']:.2f} | "
                f"{s['fit_seconds']:.1f} |"
            )
        lines.append(f"\nRatio with covariates / without: {spd['ratio']:.2f}x (target <= 1.5x)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--points", type=int, default=4000, help="last hours used (backtest)")
    parser.add_argument("--epochs", type=int, default=100, help="at most (early stopping)")
    parser.add_argument("--ensemble", type=int, default=1, help="networks per model")
    parser.add_argument("--speed-points", type=int, default=5000)
    parser.add_argument("--speed-epochs", type=int, default=4)
    parser.add_argument("--skip", choices=["accuracy", "speed"], help="skip one part")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    acc = None if args.skip == "accuracy" else accuracy(args)
    spd = None if args.skip == "speed" else speed(args)
    print(table(acc, spd))
    if args.json:
        Path(args.json).write_text(json.dumps({"accuracy": acc, "speed": spd}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
