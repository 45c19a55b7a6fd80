"""The `forecasting` command: train, forecast and backtest from a terminal.

Bad input ends with exit code 2 and one line `error: ...` on stderr that names the problem and
the fix; repairs made to the data are reported on stderr as `note: ...` lines.

Many series: `--id-col ID[,ID2]` (a long file) or `--wide` (one column per series) train one
global network over every series (`forecasting.cli_panel`); the forecast CSV starts with the id
columns. A long file whose timestamps repeat is never read as one series.

Covariates are opt-in: without `--past-covariates`, `--future-covariates`, `--calendar` or
`--static` the network reads the target alone, whatever other columns the file holds.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from pathlib import Path

from forecasting.cli_options import (
    add_covariate_options as _add_covariate_options,
)
from forecasting.cli_options import (
    add_data_options as _add_data_options,
)
from forecasting.cli_options import (
    add_model_options as _add_model_options,
)
from forecasting.cli_options import (
    positive_int as _positive_int,
)
from forecasting.combination import members
from forecasting.config import RunConfig, read_run_file, run_file_text
from forecasting.errors import ConfigError, DataError, ForecastingError
from forecasting.settings import setting_fields
from forecasting.verdict import model_label, verdict

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """Argument errors as one `error:` line with exit code 2, like every other bad input."""

    def error(self, message: str):
        raise _UsageError(f"{message} (see `{self.prog} --help`)")


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="forecasting",
        description="Forecast a time series with a SimpleRNN, LSTM or GRU network.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser("train", help="train a network and save it as a bundle")
    _add_data_options(train)
    _add_model_options(train)
    _add_covariate_options(train, "train")
    train.add_argument("--bundle", metavar="OUT.zip", required=True, help="bundle to write")
    train.add_argument(
        "--metrics-json",
        metavar="FILE",
        help='write timings, test metrics and the forecast\'s combination ("combination": '
        '["theta"] for the network\'s mean with Theta; with covariates: the network without them '
        "and each covariate's importance; with many series: the M4 aggregate, per-series "
        "metrics and the fallback's series)",
    )

    forecast = commands.add_parser("forecast", help="forecast beyond the end of the data")
    _add_data_options(forecast)
    _add_model_options(forecast, horizon_required=True)
    _add_covariate_options(forecast, "forecast")
    forecast.add_argument(
        "--model",
        metavar="BUNDLE",
        help="use a trained bundle (no training; it reads the covariates it was trained with)",
    )
    forecast.add_argument("--output", metavar="FILE", help="CSV file (default: stdout)")

    backtest = commands.add_parser("backtest", help="rolling-origin backtest against baselines")
    _add_data_options(backtest)
    _add_model_options(backtest, horizon_required=True)
    _add_covariate_options(backtest, "backtest")
    backtest.add_argument("--folds", type=_positive_int, default=3, help="number of folds (K)")
    backtest.add_argument(
        "--json",
        metavar="FILE",
        help='write folds and errors by lead (with covariates: "without_covariates"; with '
        "many series: each fold's M4 aggregate and their mean)",
    )
    for module in _command_modules():
        module.add_command(commands)
    return parser


def _command_modules():
    """The commands that live in their own modules: each has `add_command(commands)`, which
    adds its parser and sets `handler` (a function of the parsed arguments, returning the exit
    code)."""
    from forecasting import cli_serve, cli_tune, cli_update

    return (cli_tune, cli_update, cli_serve)


_DATA_KEYS = (
    "date_col",
    "value_col",
    "sep",
    "decimal",
    "thousands",
    "encoding",
    "date_format",
    "dayfirst",
    "sheet",
    "aggregate",
    "fill",
    "resample",
    "resample_how",
)


def _settings(args: argparse.Namespace) -> tuple[RunConfig, dict]:
    """Run configuration and data options: the --config file, overridden by options."""
    config, data_options = RunConfig(), {}
    if args.config:
        config, stored = read_run_file(_read_text(args.config, "configuration file"))
        data_options = dict(stored or {})
    flags = {item.name: getattr(args, item.name) for item in setting_fields(RunConfig)}
    config = config.with_settings(**flags)
    data_options.update({k: getattr(args, k) for k in _DATA_KEYS if getattr(args, k) is not None})
    return config, data_options


def _roles(args: argparse.Namespace):
    """The covariates' roles from the flags (none without them)."""
    from forecasting.covariates import Roles

    return Roles(
        past=args.past_covariates,
        future=args.future_covariates,
        static=args.static,
        calendar=args.calendar,
    )


_FUTURE_KEYS = ("decimal", "thousands", "encoding", "date_format", "dayfirst")


def _read_future(args: argparse.Namespace, data_options: dict, needed: bool):
    """The --future file's table, or None without one. `needed`: the run has future
    covariates (a note says when the file is not read)."""
    if not args.future:
        return None
    if not needed:
        print(
            f"note: {args.future} is not read: no future covariates (--future-covariates).",
            file=sys.stderr,
        )
        return None
    from forecasting.loading import LoadOptions, read_future

    options = LoadOptions.from_dict({k: data_options[k] for k in _FUTURE_KEYS if k in data_options})
    path = Path(args.future)
    return read_future(path, options, filename=path.name)


def _read_text(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"Cannot read the {what} {path!r} ({exc.__class__.__name__}). Check the path."
        ) from None


def _load(args: argparse.Namespace, data_options: dict):
    from forecasting.loading import LoadOptions, load_series

    try:
        series = load_series(Path(args.data), LoadOptions.from_dict(data_options))
    except DataError as exc:
        from forecasting.cli_panel import stacked_error

        raise stacked_error(args, data_options, exc) from None
    for repair in series.repairs:
        print(f"note: {repair.sentence}", file=sys.stderr)
    return series


def _write_csv(frame, output: str | None) -> None:
    from forecasting.export import forecast_csv

    text = forecast_csv(frame)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _on_epoch(event) -> None:
    val = "" if event.val_loss is None else f" val_loss {event.val_loss:.4f}"
    member = f" network {event.member}/{event.members}" if event.members > 1 else ""
    print(f"epoch {event.epoch}/{event.epochs}{member} loss {event.loss:.4f}{val}", file=sys.stderr)


def _on_plan(plan) -> None:
    for warning in plan.warnings:
        print(f"note: {warning}", file=sys.stderr)


def _train(args, config, data_options):
    from forecasting.pipeline import train

    roles = _roles(args)
    series = _load(args, data_options)
    future = _read_future(args, data_options, bool(roles.future))
    run = train(series, config, roles=roles, future=future, on_epoch=_on_epoch, on_plan=_on_plan)
    for reason in run.plan.reasons:
        print(f"note: {reason}", file=sys.stderr)
    return run


def cmd_train(args) -> int:
    from forecasting.bundle import Bundle

    config, data_options = _settings(args)
    run = _train(args, config, data_options)
    Bundle.from_run(run, data_options).save(args.bundle)
    metrics = run.metrics_dict()
    judged = verdict({name: scores["mase"] for name, scores in metrics["test"].items()})
    best = f"best baseline {judged.best_label} {_fmt(judged.best_mase)}, " if judged.best else ""
    model = model_label(run.config)
    print(
        f"saved {args.bundle}: {model}, test MASE {_fmt(metrics['test']['model']['mase'])} "
        f"({best}seasonal naive {_fmt(metrics['test']['seasonal_naive']['mase'])}), "
        f"{metrics['epochs_run']} epochs, {metrics['seconds_per_epoch']:.3f} s/epoch",
        file=sys.stderr,
    )
    print(f"winner: {_winner_line(judged, model)}", file=sys.stderr)
    covariates = _covariate_figures(run)
    if covariates:
        print(f"covariates: {_covariate_line(run, covariates)}", file=sys.stderr)
    if args.metrics_json:
        document = {
            **metrics,
            "model_label": model,
            "combination": list(members(run.config.combine)),
            **judged.to_dict(),
            **covariates,
            "config": json.loads(run_file_text(run.config, data_options)),
        }
        Path(args.metrics_json).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return 0


def _covariate_figures(run) -> dict:
    """For --metrics-json: the roles, the twin network's test scores without covariates
    (shaped like "test") and each covariate's importance; empty without covariates."""
    roles = run.plan.roles
    if not roles.any and not roles.static:
        return {}
    figures: dict = {"roles": roles.to_dict()}
    if run.without_covariates is not None:
        figures["without_covariates"] = {"model": run.without_covariates.metrics["model"]}
        figures["importance"] = dict(run.importance)
    return figures


def _covariate_line(run, figures: dict) -> str:
    """Test MASE with and without the covariates, and the importance, in one line."""
    if "without_covariates" not in figures:
        return "none fed (static columns are recorded only)"
    with_mase = run.evaluation.metrics["model"]["mase"]
    without = figures["without_covariates"]["model"]["mase"]
    text = f"test MASE {_fmt(with_mase)} with them, {_fmt(without)} without"
    if figures["importance"]:
        ranked = ", ".join(f"{name} {value:+.3f}" for name, value in figures["importance"].items())
        text += f"; MASE increase when shuffled: {ranked}"
    return text


def _winner_line(judged, model: str = "") -> str:
    """Who had the lowest test MASE, in one line (`model`: the model's label, "GRU + Theta")."""
    named = f"{model}; " if model else ""
    if not judged.winner:
        return "undecided (MASE is undefined on this series; compare MAE in --metrics-json)"
    if judged.winner == "model":
        return f"the network ({named}MASE below every baseline's; best: {judged.best_label})"
    return (
        f"{judged.best_label} (MASE {_fmt(judged.best_mase)} against the network's "
        f"{_fmt(judged.model)}{f', {model}' if model else ''}): consider its forecast instead "
        "of the network's"
    )


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def cmd_forecast(args) -> int:
    config, data_options = _settings(args)
    if args.horizon == 0:
        raise ConfigError("`--horizon` must be at least 1. Received: --horizon 0")
    if args.model:
        from forecasting.bundle import load_bundle

        if _panel_bundle(args.model):
            from forecasting.cli_panel import cmd_forecast as panel_forecast

            return panel_forecast(args)
        bundle = load_bundle(Path(args.model))
        if data_options:
            merged = dict(bundle.data_options or {})
            merged.update(data_options)
            data_options = merged
        else:
            data_options = dict(bundle.data_options or {})
        roles = _bundle_roles(args, bundle)
        series = _load(args, data_options)
        future = _read_future(args, data_options, bool(roles.future))
        frame = bundle.forecast(series, future=future)
        if args.horizon > len(frame):
            raise DataError(
                f"This model forecasts {len(frame)} steps; --horizon "
                f"{args.horizon} needs a model trained with --horizon "
                f"{args.horizon}."
            )
        frame = frame.iloc[: args.horizon]
    else:
        frame = _forecast_or_fallback(args, config, data_options)
    _write_csv(frame, args.output)
    return 0


def _panel_bundle(path: str) -> bool:
    """The bundle forecasts many series (its own checks and messages come with loading)."""
    from forecasting.panel_bundle import bundle_kind

    try:
        return bundle_kind(Path(path)) == "panel"
    except ForecastingError:
        return False


def _bundle_roles(args, bundle):
    """The roles a bundle was trained with; role flags that say otherwise are refused."""
    from forecasting.covariates import Roles

    trained = getattr(bundle, "roles", None) or Roles()
    asked = _roles(args)
    if asked != Roles() and asked != trained:
        said = " ".join(trained.sentences()) or "Inputs: the target alone."
        raise ConfigError(
            f"A trained bundle reads the columns it was trained with. {said} Drop the "
            "covariate flags, or train a new bundle with these roles."
        )
    return trained


def _forecast_or_fallback(args, config, data_options):
    """Train and forecast; a series too short for a network gets Theta's forecast, said so."""
    from forecasting.errors import SeriesTooShortError
    from forecasting.pipeline import fallback_forecast, train

    roles = _roles(args)
    series = _load(args, data_options)
    future = _read_future(args, data_options, bool(roles.future))
    try:
        run = train(
            series, config, roles=roles, future=future, on_epoch=_on_epoch, on_plan=_on_plan
        )
    except SeriesTooShortError as exc:
        frame, note = fallback_forecast(series, config.horizon, config.level)
        print(f"note: {_one_line(str(exc))}", file=sys.stderr)
        print(f"note: {note}", file=sys.stderr)
        if roles.any:
            print("note: The fallback reads the target alone, not the covariates.", file=sys.stderr)
        return frame
    for reason in run.plan.reasons:
        print(f"note: {reason}", file=sys.stderr)
    return run.forecast


def cmd_backtest(args) -> int:
    from forecasting.backtest import backtest

    config, data_options = _settings(args)
    roles = _roles(args)
    series = _load(args, data_options)
    _future_unused(args)

    def on_fold(k: int, n: int) -> None:
        if k == 1:  # the roles are checked by now: say what the network reads
            for sentence in roles.sentences():
                print(f"note: {sentence}", file=sys.stderr)
            if roles.any:
                print(
                    "note: Each fold also trains a twin network without covariates, to show "
                    "whether they help.",
                    file=sys.stderr,
                )
        print(f"fold {k}/{n}", file=sys.stderr)

    result = backtest(series, config, args.folds, roles=roles, on_fold=on_fold)
    folds, summary, by_lead = _backtest_tables(result)
    with pd_options():
        print(f"Rolling-origin backtest: {args.folds} folds, horizon {result.horizon}\n")
        print(folds.to_string(float_format=lambda v: f"{v:.3f}"))
        print("\nMean over folds (MASE, sMAPE %, MAE):")
        print(summary[["mase", "smape", "mae"]].to_string(float_format=lambda v: f"{v:.3f}"))
        print("\nMean absolute error by lead time:")
        print(by_lead.to_string(float_format=lambda v: f"{v:.3g}"))
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    return 0


TWIN_ROW = "network without covariates"


def _future_unused(args) -> None:
    if args.future:
        print(
            f"note: {args.future} is not read: each fold's future covariates come from "
            f"{args.data}.",
            file=sys.stderr,
        )


def _backtest_tables(result):
    """MASE per fold and method, mean scores per method, and MAE by lead; with covariates
    the network without them is one more row, `TWIN_ROW`, beside the others."""
    import pandas as pd

    folds = result.folds.pivot(index="fold", columns="method", values="mase")
    summary, by_lead = result.summary(), result.by_lead
    if result.twin_folds is not None:
        folds[TWIN_ROW] = result.twin_folds.set_index("fold")["mase"]
        summary = pd.concat([summary, result.without_covariates.rename(index={"model": TWIN_ROW})])
        summary = summary.sort_values("mase", na_position="last")
        by_lead = pd.concat([by_lead, result.twin_by_lead.rename(index={"model": TWIN_ROW})])
    return folds, summary, by_lead


def pd_options():
    import pandas as pd

    return pd.option_context("display.width", 160, "display.max_columns", 40)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Third-party warnings and log records (a statsmodels baseline that did not converge, a
    backend's start-up chatter) are silenced: stderr holds the command's own `note:`,
    `error:` and progress lines only. Every result is checked for finite numbers instead.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Libraries re-enable their own warnings on import (statsmodels: "always" for
            # ConvergenceWarning): drop whatever still gets through.
            warnings.showwarning = _drop_warning
            return _run(argv)
    finally:
        logging.disable(logging.NOTSET)


def _drop_warning(*args, **kwargs) -> None:
    """`warnings.showwarning` that shows nothing."""


def _run(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "handler", None) is not None:
            return args.handler(args)
        handlers = {"train": cmd_train, "forecast": cmd_forecast, "backtest": cmd_backtest}
        if args.id_col or args.wide:
            from forecasting import cli_panel

            handlers = {
                "train": cli_panel.cmd_train,
                "forecast": cli_panel.cmd_forecast,
                "backtest": cli_panel.cmd_backtest,
            }
        return handlers[args.command](args)
    except (_UsageError, ForecastingError) as exc:
        from forecasting.loading import AmbiguousDatesError

        message = str(exc)
        if isinstance(exc, AmbiguousDatesError):
            message += " Add --dayfirst or --monthfirst."
        print(f"error: {_one_line(message)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FileNotFoundError as exc:
        print(f"error: file not found: {exc.filename}. Check the path.", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _one_line(text: str) -> str:
    return " ".join(text.split())
