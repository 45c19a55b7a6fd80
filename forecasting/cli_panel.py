"""The `forecasting` command on many series (`--id-col ID[,ID2]` or `--wide`): one global
network over every series of the file, forecasts in one long CSV (the id columns first), the
aggregate by the M4 rules on stderr and per-series metrics in `--metrics-json`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from forecasting.cli import _fmt, _on_epoch, _roles, _settings, pd_options
from forecasting.config import run_file_text
from forecasting.errors import ConfigError, DataError
from forecasting.export import FORECAST_COLUMNS, long_forecast_csv
from forecasting.records import json_number
from forecasting.verdict import verdict

MAX_REPAIR_NOTES = 5
METHOD_NAMES = {"model": "network"}


def stacked_error(args, data_options: dict, exc: DataError) -> DataError:
    """The single-series loader's refusal of a file, reworded when the file is a long file of
    many series: the message names the id column to pass with `--id-col`."""
    from forecasting.loading import LoadOptions, detect_layout

    try:
        layout = detect_layout(Path(args.data), LoadOptions.from_dict(data_options))
    except DataError:
        return exc
    if layout.kind != "long":
        return exc
    if layout.id_cols:
        flag = f"--id-col {','.join(layout.id_cols)}"
        found = f"stacked by {_names(layout.id_cols)}"
    elif layout.id_candidates:
        flag = "--id-col NAME"
        found = f"stacked (the id column may be {_names(layout.id_candidates, ' or ')})"
    else:
        return exc
    return DataError(
        f"{args.data} holds many series {found}: its timestamps repeat, once per series, "
        f"so it is not read as one series. Pass `{flag}` to forecast every series."
    )


def _names(names, joiner: str = " and ") -> str:
    return joiner.join(repr(name) for name in names)


def load(args, data_options: dict):
    """The panel of the file, its reading said in `note:` lines."""
    from forecasting.covariates import Roles

    if _roles(args) != Roles() or getattr(args, "future", None):
        raise ConfigError(
            "Covariates are not read with many series yet: drop the covariate flags "
            "(--past-covariates, --future-covariates, --future, --calendar, --static), or "
            "forecast one series without --id-col."
        )
    from forecasting.loading import LoadOptions, load_panel

    panel = load_panel(
        Path(args.data),
        LoadOptions.from_dict(data_options),
        filename=Path(args.data).name,
        id_cols=args.id_col or None,
        wide=bool(args.wide),
    )
    for note in panel.notes:
        _note(note)
    _repair_notes(panel)
    return panel


def _repair_notes(panel) -> None:
    """The repairs made to each series: the first few in full, then a count."""
    repaired = [
        (label, repair)
        for label, series in zip(panel.labels, panel.series, strict=True)
        for repair in series.repairs
    ]
    for label, repair in repaired[:MAX_REPAIR_NOTES]:
        _note(f"{label}: {repair.sentence}")
    rest = repaired[MAX_REPAIR_NOTES:]
    if rest:
        series = len({label for label, _ in rest})
        _note(f"{len(rest)} more repairs in {series} series.")


def _note(text: str) -> None:
    print(f"note: {' '.join(str(text).split())}", file=sys.stderr)


def _on_plan(plan) -> None:
    for note in plan.notes:
        _note(note)


def _train(args, config, data_options):
    from forecasting.panel_pipeline import train_panel

    panel = load(args, data_options)
    return train_panel(panel, config, on_epoch=_on_epoch, on_plan=_on_plan)


def cmd_train(args) -> int:
    from forecasting.panel_bundle import PanelBundle

    config, data_options = _settings(args)
    run = _train(args, config, data_options)
    if not run.plan.splits:
        flag = "--wide" if args.wide else f"--id-col {','.join(run.panel.id_cols)}"
        raise DataError(
            "No bundle was saved: every series is too short for a network (see the notes), "
            f"so there is none to save. `forecasting forecast {args.data} {flag}` writes "
            "every series' Theta forecast; lower --window or --horizon to train a network."
        )
    Path(args.bundle).write_bytes(PanelBundle.from_run(run, data_options).to_bytes())
    judged = verdict({m: figures["owa"] for m, figures in run.aggregate.items()})
    epochs = run.timings.get("epochs_run", 0)
    per_epoch = run.timings.get("train_seconds", 0.0) / max(epochs, 1)
    best = f" (best baseline {judged.best_label} {_fmt(judged.best_mase)})" if judged.best else ""
    print(
        f"saved {args.bundle}: {len(run.plan.splits)} series scored{_fallback_text(run)}, "
        f"OWA {_fmt(run.aggregate['model']['owa'])}{best}, {epochs} epochs, "
        f"{per_epoch:.3f} s/epoch",
        file=sys.stderr,
    )
    print(aggregate_table(run.aggregate), file=sys.stderr)
    print(f"winner: {winner_line(judged)}", file=sys.stderr)
    if args.metrics_json:
        document = metrics_document(run, judged, data_options)
        Path(args.metrics_json).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return 0


def _fallback_text(run) -> str:
    count = len(run.plan.fallback)
    return f" ({count} more by the fallback)" if count else ""


def aggregate_table(aggregate: dict) -> str:
    """The M4 aggregate as an aligned table: one line per method, best OWA first."""
    import pandas as pd

    table = pd.DataFrame.from_dict(aggregate, orient="index")[["smape", "mase", "owa"]]
    table = table.astype(float).sort_values(["owa", "mase"], na_position="last")
    table.index = [_method_label(m) for m in table.index]
    table.columns = ["sMAPE %", "MASE", "OWA"]
    with pd_options():
        text = table.to_string(float_format=lambda v: f"{v:.3f}", na_rep="n/a")
    return "aggregate (M4 rules: means over the series, OWA against Naive2):\n" + text


def _method_label(method: str) -> str:
    from forecasting.baselines import BASELINE_NAMES

    return METHOD_NAMES.get(method, BASELINE_NAMES.get(method, method))


def winner_line(judged) -> str:
    """Who had the lowest OWA over the series, in one line."""
    if not judged.winner:
        return "undecided (OWA is undefined on these series; compare sMAPE in --metrics-json)"
    if judged.winner == "model":
        return f"the network (OWA below every baseline's; best: {judged.best_label})"
    return (
        f"{judged.best_label} (OWA {_fmt(judged.best_mase)} against the network's "
        f"{_fmt(judged.model)}): consider its forecasts instead of the network's"
    )


def metrics_document(run, judged, data_options: dict) -> dict:
    """--metrics-json: the aggregate, per-series metrics of every method, the fallback's
    series, the winner by OWA, timings, notes and the run configuration."""
    per_series: dict = {}
    for row in run.scores.to_dict(orient="records"):
        figures = {k: json_number(v) for k, v in row.items() if k not in ("label", "method")}
        per_series.setdefault(str(row["label"]), {})[str(row["method"])] = figures
    best = {"name": judged.best, "owa": judged.best_mase} if judged.best else None
    return {
        "series": len(run.panel),
        "id_cols": list(run.panel.id_cols),
        "horizon": run.plan.config.horizon,
        "window": run.plan.config.model.window,
        "aggregate": {
            method: {k: json_number(v) for k, v in figures.items()}
            for method, figures in run.aggregate.items()
        },
        "per_series": per_series,
        "fallback": list(run.plan.fallback),
        "best_baseline": best,
        "winner": judged.winner or None,
        "coverage": {str(level): json_number(share) for level, share in run.coverage.items()},
        **{k: json_number(v) for k, v in run.timings.items()},
        "notes": list(run.plan.notes),
        "config": json.loads(run_file_text(run.plan.config, data_options)),
    }


def cmd_forecast(args) -> int:
    config, data_options = _settings(args)
    if args.horizon == 0:
        raise ConfigError("`--horizon` must be at least 1. Received: --horizon 0")
    if args.model:
        frame = _bundle_forecast(args, data_options)
    else:
        frame = _train(args, config, data_options).forecast
    text = long_forecast_csv(frame, list(frame.columns[: -len(FORECAST_COLUMNS)]))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _bundle_forecast(args, data_options: dict):
    """A trained panel bundle's forecast after the file's series (no training)."""
    from forecasting.panel_bundle import load_panel_bundle

    bundle = load_panel_bundle(Path(args.model))
    if not (args.id_col or args.wide):
        _ids_from_bundle(args, bundle.id_cols)
    merged = dict(getattr(bundle, "data_options", None) or {})
    merged.update(data_options)
    frame = bundle.forecast(load(args, merged))
    steps = int(frame.groupby(list(bundle.id_cols), sort=False).size().max())
    if args.horizon > steps:
        raise DataError(
            f"This model forecasts {steps} steps; --horizon {args.horizon} needs a model "
            f"trained with --horizon {args.horizon}."
        )
    return frame.groupby(list(bundle.id_cols), sort=False).head(args.horizon)


def _ids_from_bundle(args, id_cols: tuple[str, ...]) -> None:
    """Read the data by the id column(s) the bundle was trained with (a wide file's series
    column could also be a long file's id column named "series": asked, not guessed)."""
    from forecasting.loading.panel import WIDE_ID

    if tuple(id_cols) == (WIDE_ID,):
        raise ConfigError(
            f"This model forecasts many series named by {WIDE_ID!r}: pass --wide for a file "
            f"with one column per series, or --id-col {WIDE_ID} for a long file."
        )
    args.id_col = tuple(id_cols)
    _note(f"The model forecasts many series: reading {args.data} by --id-col {','.join(id_cols)}.")


def cmd_backtest(args) -> int:
    from forecasting.panel_backtest import panel_backtest

    config, data_options = _settings(args)
    panel = load(args, data_options)

    def on_fold(k: int, n: int) -> None:
        print(f"fold {k}/{n}", file=sys.stderr)

    result = panel_backtest(panel, config, args.folds, on_fold=on_fold, on_epoch=_on_epoch)
    mean = result.mean()
    by_fold = result.folds.pivot(index="fold", columns="method", values="owa")[list(mean.index)]
    by_fold.columns = [_method_label(m) for m in by_fold.columns]
    mean.index = [_method_label(m) for m in mean.index]
    mean.columns = ["sMAPE %", "MASE", "OWA"]
    with pd_options():
        print(
            f"Rolling-origin backtest of {len(panel)} series: {args.folds} folds, horizon "
            f"{result.horizon}, scored by the M4 rules\n"
        )
        print("OWA per fold (against Naive2):")
        print(by_fold.to_string(float_format=lambda v: f"{v:.3f}", na_rep="n/a"))
        print("\nMean over folds:")
        print(mean.to_string(float_format=lambda v: f"{v:.3f}", na_rep="n/a"))
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    return 0
