"""The `forecasting update` command: a bundle and newer data of its series give a new bundle.

    forecasting update BUNDLE NEWDATA --bundle OUT.zip [--json FILE]
        [--keep unchanged|fine-tuned|retrained] [--epochs N] [--folds K] [reading options]

The new data is read with the options the bundle recorded (the flags override them; `--fill`
also fills a gap between the model's data and the new data, `--fill none` refuses it). Prints
the candidates beside the baselines, the one kept and the drift check; `--json` writes them
(`UpdateReport`: candidates, chosen, parent_sha256, drift, ...).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from forecasting.errors import ConfigError
from forecasting.lineage import METHODS


def add_command(commands) -> None:
    """Add the `update` parser to the CLI's sub-commands."""
    from forecasting.cli import _add_data_options, _positive_int
    from forecasting.update import UpdateOptions

    defaults = UpdateOptions()

    parser = commands.add_parser(
        "update",
        help="update a bundle with new data (unchanged, fine-tuned or retrained)",
        description="Compare the bundle's networks unchanged, fine-tuned on the new data and "
        "retrained from scratch on the newest part of the data (which none of them trained "
        "on), keep the best, recalibrate its band and write a new bundle with its lineage.",
    )
    parser.add_argument("model", metavar="BUNDLE", help="the bundle to update (.zip)")
    _add_data_options(parser)
    group = parser.add_argument_group("update")
    group.add_argument("--bundle", metavar="OUT.zip", required=True, help="bundle to write")
    group.add_argument(
        "--json",
        metavar="FILE",
        help="write the candidates, the one kept, the parent's SHA-256, the drift check and "
        "the lineage",
    )
    group.add_argument(
        "--keep", choices=METHODS, help="keep this candidate whatever the scores (default: best)"
    )
    group.add_argument(
        "--epochs",
        type=_positive_int,
        default=defaults.epochs,
        help=f"epochs of fine-tuning (default {defaults.epochs})",
    )
    group.add_argument(
        "--folds",
        type=_positive_int,
        default=defaults.folds,
        help=f"most horizons held out to compare the candidates on (default {defaults.folds})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    from forecasting.cli import _DATA_KEYS, _load
    from forecasting.update import UpdateOptions, read_parent, update

    if args.id_col or args.wide:
        raise ConfigError(
            "Updating with new data works on single-series bundles; drop --id-col / --wide."
        )
    try:
        data = Path(args.model).read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the bundle {args.model!r} ({exc.__class__.__name__}). Check the path."
        ) from None
    options = UpdateOptions(
        keep=args.keep,
        epochs=max(args.epochs, 1),
        fill=args.fill or UpdateOptions.fill,
        folds=max(args.folds, 1),
    )
    bundle, digest = read_parent(data)
    data_options = dict(bundle.data_options or {})
    data_options.update({k: getattr(args, k) for k in _DATA_KEYS if getattr(args, k) is not None})
    series = _load(args, data_options)
    result = update(bundle, series, digest, options)
    for note in result.report.notes:
        print(f"note: {note}", file=sys.stderr)
    result.bundle.save(args.bundle)
    if args.json:
        Path(args.json).write_text(json.dumps(result.report.to_dict(), indent=2), encoding="utf-8")
    print(summary(result.report))
    return 0


def summary(report) -> str:
    """The candidates beside the baselines, the one kept and the drift check, as text."""
    lines = [
        f"held out: {report.held_out[0]} to {report.held_out[1]} ({report.held_out_points} "
        f"points, {report.origins} forecasts; none of the candidates trained on them)",
        f"{'method':<16}{'MASE':>8}{'sMAPE %':>10}{'seconds':>9}",
    ]
    for score in [*report.candidates, *report.baselines]:
        if score.note:
            lines.append(f"{score.name:<16}  not made: {score.note}")
            continue
        seconds = "" if score.seconds is None else f"{score.seconds:.1f}"
        lines.append(f"{score.name:<16}{_fmt(score.mase):>8}{_fmt(score.smape, 2):>10}{seconds:>9}")
    kept = f"kept: {report.chosen}"
    if report.chosen != report.best:
        kept += f" (as asked; the lowest MASE was {report.best})"
    lines.append(kept)
    drift = report.drift
    ratio = "n/a" if drift.error_ratio is None else f"{drift.error_ratio:.2f}x"
    lines.append(
        f"drift: band coverage {drift.coverage:.0%} of {drift.nominal:.0%} promised, errors "
        f"{ratio} the test period's"
    )
    if drift.warning:
        lines.append(f"warning: {drift.warning}")
    lines.append(f"parent: {report.parent_sha256}")
    return "\n".join(lines)


def _fmt(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
