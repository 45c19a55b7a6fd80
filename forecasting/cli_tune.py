"""The `forecasting tune` command: a budgeted search on Ray, then the best configuration
retrained on training + validation and scored on the test part beside the baselines.

    forecasting tune DATA --budget SECONDS [--trials N] [--seed S] [--folds K]
        [--final-ensemble N] [--config run.json] [--bundle OUT.zip] [--json FILE]
        [data and covariate options]

On stderr: the objective and the best baseline on its folds first, one progress line per
finished trial, the search's summary and the final model's test MASE; `--json` holds the
engine, the objective, every trial, the best, the default configuration's score, the
baselines and the final model's test metrics. With covariates, their subsets are searched.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _budget(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None


def add_command(commands) -> None:
    """Add the `tune` parser to the CLI's sub-commands."""
    from forecasting.cli import _add_covariate_options, _add_data_options, _positive_int
    from forecasting.config import RunConfig
    from forecasting.tuning.objective import DEFAULT_FOLDS

    parser = commands.add_parser(
        "tune", help="tune a network's settings within a time budget (on Ray)"
    )
    _add_data_options(parser)
    _add_covariate_options(parser, "tune")
    group = parser.add_argument_group("search")
    group.add_argument(
        "--budget",
        metavar="SECONDS",
        type=_budget,
        required=True,
        help="seconds the search may take (then the best is retrained once)",
    )
    group.add_argument(
        "--trials", metavar="N", type=_positive_int, help="most trials (default: no cap)"
    )
    group.add_argument("--seed", metavar="S", type=_positive_int, default=0, help="sampler seed")
    group.add_argument(
        "--folds",
        metavar="K",
        type=_positive_int,
        default=DEFAULT_FOLDS,
        help=f"rolling-origin folds inside the training part (default {DEFAULT_FOLDS})",
    )
    group.add_argument(
        "--concurrent",
        metavar="N",
        type=_positive_int,
        help="trials at once (default: one per CPU; 1 makes a seeded search repeatable)",
    )
    group.add_argument(
        "--final-ensemble",
        metavar="N",
        type=_positive_int,
        help="networks of the final model (default: the configuration's ensemble, "
        f"{RunConfig().model.members} unless --config says otherwise); every trial trains "
        "one network per fold",
    )
    group.add_argument(
        "--horizon", metavar="N", type=_positive_int, help="steps to forecast (default: a season)"
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        help="run configuration JSON (from the dashboard or `train`): the default point the "
        "search starts from and the settings it does not search",
    )
    group.add_argument("--bundle", metavar="OUT.zip", help="save the final model's bundle")
    group.add_argument("--json", metavar="FILE", help="write the search and the test metrics")
    parser.set_defaults(handler=run)


def _progress(rows, said: set) -> None:
    """One line per trial that ended since the last call."""
    for row in rows:
        if row.state == "running" or row.number in said:
            continue
        said.add(row.number)
        score = "n/a" if row.score is None else f"{row.score:.3f}"
        params = " ".join(f"{k}={_fmt(v)}" for k, v in row.params.items())
        why = f" ({row.message})" if row.message else ""
        print(
            f"trial {row.number} {row.state}: score {score} after {row.folds} folds, "
            f"{row.seconds:.0f} s; {params}{why}",
            file=sys.stderr,
        )


def _fmt(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    from forecasting.cli import _DATA_KEYS, _load, _read_future, _read_text, _roles
    from forecasting.config import RunConfig, read_run_file
    from forecasting.tune_job import test_record, tune_and_train
    from forecasting.tuning.options import TuneOptions
    from forecasting.tuning.space import DEFAULT_SPACE, with_covariates

    config, data_options = RunConfig(), {}
    if args.config:
        config, stored = read_run_file(_read_text(args.config, "configuration file"))
        data_options = dict(stored or {})
    data_options.update({k: getattr(args, k) for k in _DATA_KEYS if getattr(args, k) is not None})
    roles = _roles(args)
    options = TuneOptions(
        budget_s=args.budget,
        trials=args.trials or None,
        seed=args.seed,
        folds=args.folds,
        space=with_covariates(DEFAULT_SPACE, roles),
        max_concurrent=args.concurrent or None,
        final_ensemble=args.final_ensemble,
    )
    series = _load(args, data_options)
    future = _read_future(args, data_options, bool(roles.future))
    config = config.with_settings(horizon=args.horizon or None)
    said: set = set()
    search, best, run_ = tune_and_train(
        series,
        config,
        options,
        roles=roles,
        future=future,
        on_trials=lambda rows: _progress(rows, said),
        on_searched=lambda s: _say_search(s),
        on_baseline=_say_baseline,
    )
    document = search.to_dict()
    document["best_config"] = best.to_dict()
    if run_ is not None:
        document["test"] = test_record(run_)
        model = run_.metrics_dict()["test"]["model"]["mase"]
        base = document["test"]["best_baseline"]
        versus = f" (best baseline {base['name']} {base['mase']:.3f})" if base else ""
        print(
            f"final: the best settings with {best.model.members} network(s), retrained on "
            f"training + validation: test MASE {model:.3f}{versus}",
            file=sys.stderr,
        )
        if args.bundle:
            from forecasting.bundle import Bundle

            Bundle.from_run(run_, data_options).save(args.bundle)
            print(f"saved {args.bundle}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return 0


def _say_baseline(best) -> None:
    if best is not None:
        print(f"best baseline on the search's folds: {best[0]} {best[1]:.3f}", file=sys.stderr)


def _say_search(search) -> None:
    done = sum(t.state == "finished" for t in search.trials)
    best, default = search.best, search.default
    print(f"objective: {search.objective.text()}", file=sys.stderr)
    print(
        f"search: {len(search.trials)} trials ({done} finished) in {search.seconds:.0f} s on "
        f"{search.engine.nodes} node(s), {search.engine.cpus} CPUs; best score "
        f"{best.score:.3f} (trial {best.number}), default "
        + ("n/a" if default is None or default.score is None else f"{default.score:.3f}"),
        file=sys.stderr,
    )
    if search.best_baseline is not None:
        name, score = search.best_baseline
        if best.score >= score:
            print(
                f"note: no trial beats the best baseline, {name} ({score:.3f}), on the "
                "training part's folds.",
                file=sys.stderr,
            )
