"""The CLI's shared options: reading the data, the model's settings (derived from their
declarations in `forecasting.config`) and the covariates' roles. Every command that reads a
data file like `train` does builds its parser from these."""

from __future__ import annotations

import argparse

from forecasting.config import RunConfig
from forecasting.settings import SettingField, setting_fields


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def add_data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reading the data")
    group.add_argument("data", metavar="DATA", help="CSV, TSV, .xlsx or Parquet file")
    group.add_argument("--date-col", metavar="NAME", help="date column (detected by default)")
    group.add_argument("--value-col", metavar="NAME", help="column to forecast (detected)")
    group.add_argument("--sep", help="field separator (detected among , ; tab |)")
    group.add_argument("--decimal", choices=[".", ","], help="decimal mark (detected)")
    group.add_argument("--thousands", help="thousands separator (detected)")
    group.add_argument("--encoding", help="text encoding (detected)")
    group.add_argument("--date-format", metavar="FMT", help="strftime format, e.g. %%d/%%m/%%Y")
    order = group.add_mutually_exclusive_group()
    order.add_argument(
        "--dayfirst",
        dest="dayfirst",
        action="store_true",
        default=None,
        help="read 03/04/2020 as 3 April",
    )
    order.add_argument(
        "--monthfirst", dest="dayfirst", action="store_false", help="read 03/04/2020 as 4 March"
    )
    group.add_argument("--sheet", help="worksheet of an .xlsx file")
    group.add_argument(
        "--aggregate",
        choices=["mean", "sum", "last"],
        help="merge duplicate timestamps (default mean)",
    )
    group.add_argument(
        "--fill",
        choices=["linear", "time", "seasonal", "ffill", "none"],
        help="fill gaps and missing values (default linear)",
    )
    group.add_argument("--resample", metavar="FREQ", help="coarser frequency, e.g. W, MS")
    group.add_argument(
        "--resample-how",
        choices=["sum", "mean", "max", "min"],
        help="combine values when resampling (default mean)",
    )
    many = group.add_mutually_exclusive_group()
    many.add_argument(
        "--id-col",
        metavar="ID[,ID2]",
        type=column_list,
        default=(),
        help="many series in a long file: the column(s) naming each series (e.g. store,item); "
        "one global network forecasts every series",
    )
    many.add_argument(
        "--wide",
        action="store_true",
        help="many series in a wide file: every numeric column is one series",
    )


def column_list(text: str) -> tuple[str, ...]:
    """`A,B` -> ("A", "B"): names split at commas, blanks around them dropped, each once."""
    names = [name.strip() for name in text.split(",")]
    return tuple(dict.fromkeys(name for name in names if name))


def add_covariate_options(parser: argparse.ArgumentParser, command: str) -> None:
    from forecasting.covariates import CALENDAR_HELP, ROLE_HELP

    group = parser.add_argument_group(
        "covariates (default: none; the network reads the target alone)"
    )
    group.add_argument(
        "--past-covariates",
        metavar="A,B",
        type=column_list,
        default=(),
        help="comma-separated columns read as past covariates. " + ROLE_HELP["past"],
    )
    future_help = "comma-separated columns read as future covariates. " + ROLE_HELP["future"]
    if command == "backtest":
        future_help += " In a backtest their values over each fold's horizon come from DATA."
    group.add_argument(
        "--future-covariates",
        metavar="C,D",
        type=column_list,
        default=(),
        help=future_help,
    )
    group.add_argument(
        "--future",
        metavar="FUTURE.csv",
        help=(
            "not read by a backtest (each fold's future values come from DATA)"
            if command == "backtest"
            else "future file: a date column plus the future covariates, one row per "
            "timestamp of the horizon after DATA ends"
        ),
    )
    group.add_argument(
        "--calendar", action="store_true", help="add calendar features. " + CALENDAR_HELP
    )
    group.add_argument(
        "--static",
        metavar="E",
        type=column_list,
        default=(),
        help="comma-separated static columns. " + ROLE_HELP["static"],
    )


def add_model_options(parser: argparse.ArgumentParser, horizon_required: bool = False) -> None:
    group = parser.add_argument_group("model (defaults: the project's tuned configuration)")
    group.add_argument(
        "--config", metavar="FILE", help="run configuration JSON downloaded from the dashboard"
    )
    for item in setting_fields(RunConfig):
        add_setting(group, item, required=horizon_required and item.name == "horizon")


def add_setting(group, item: SettingField, required: bool = False) -> None:
    """The flag of one setting, from its declaration: `--batch-size N` for `batch_size`; a
    switch that turns the default over for a true/false setting (`--log`, `--no-deseasonalize`).
    Unset flags stay None, so that a --config file's value is kept."""
    flag = "--" + item.name.replace("_", "-")
    summary = item.setting.summary
    if item.kind is bool:
        flag = f"--no-{flag[2:]}" if item.default else flag
        group.add_argument(
            flag,
            dest=item.name,
            action="store_false" if item.default else "store_true",
            default=None,
            help=summary,
        )
    elif item.setting.choices is not None:
        group.add_argument(flag, choices=item.setting.choices, help=summary)
    else:
        kind = positive_int if item.kind is int else item.kind
        group.add_argument(flag, type=kind, required=required, help=summary)
