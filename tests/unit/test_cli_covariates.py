"""The `forecasting` command with covariates: the role flags, their errors (exit code 2 and one
`error:` line naming the column or the missing timestamps), `train` with covariates (bundle and
metrics JSON with the network without them and the importance) and `backtest` with the network
without covariates beside the others."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from forecasting import cli
from forecasting.baselines import QUICK_BASELINES
from forecasting.cli import main
from forecasting.covariates import Roles
from forecasting.evaluation import METRICS

N = 150  # daily points from 2020-01-01: the data ends 2020-05-29
SMALL = ["--horizon", "6", "--epochs", "1", "--units", "4", "--window", "12", "--ensemble", "1"]
FUTURE_DATES = pd.date_range("2020-05-30", periods=6, freq="D")


def _data_csv(n: int = N, seed: int = 0) -> str:
    """Daily sales driven by a temperature with a weekly cycle and a promotion flag, with a
    constant store column."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2020-01-01", periods=n, freq="D")
    temp = 10 + 5 * np.sin(2 * np.pi * np.arange(n) / 7) + rng.normal(0, 1, n)
    promo = (rng.random(n) < 0.2).astype(float)
    sales = 100 + 2 * temp + 8 * promo + rng.normal(0, 1, n)
    rows = [
        f"{d:%Y-%m-%d},{s:.3f},{t:.3f},{p:g},A"
        for d, s, t, p in zip(dates, sales, temp, promo, strict=True)
    ]
    return "date,sales,temp,promo,store\n" + "\n".join(rows) + "\n"


def _future_csv(dates) -> str:
    return "date,promo\n" + "".join(f"{d:%Y-%m-%d},{i % 2}\n" for i, d in enumerate(dates))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("covariates")
    paths = {
        "data": root / "sales.csv",
        "future": root / "future.csv",
        "short_future": root / "short_future.csv",
    }
    paths["data"].write_text(_data_csv(), encoding="utf-8")
    paths["future"].write_text(_future_csv(FUTURE_DATES), encoding="utf-8")
    paths["short_future"].write_text(_future_csv(FUTURE_DATES[:4]), encoding="utf-8")
    return {"root": root, **{k: str(v) for k, v in paths.items()}}


@pytest.fixture
def quick_baselines(monkeypatch):
    """Skip the slow statistical baselines: these tests are about the covariates."""
    monkeypatch.setattr("forecasting.evaluation.ALL_BASELINES", QUICK_BASELINES)


def _parse(*argv: str):
    return cli.build_parser().parse_args(list(argv))


# ------------------------------------------------------------------ flags
@pytest.mark.parametrize("command", ["train", "forecast", "backtest"])
def test_role_flags_parse_into_roles(command):
    extra = ["--bundle", "b.zip"] if command == "train" else ["--horizon", "6"]
    args = _parse(
        command,
        "x.csv",
        *extra,
        "--value-col",
        "Y",
        "--past-covariates",
        "A, B,,A",
        "--future-covariates",
        "C,D",
        "--future",
        "f.csv",
        "--calendar",
        "--static",
        "E",
    )
    roles = cli._roles(args)
    assert roles == Roles(past=("A", "B"), future=("C", "D"), static=("E",), calendar=True)
    assert args.future == "f.csv" and args.value_col == "Y"


@pytest.mark.parametrize("command", ["train", "forecast", "backtest"])
def test_without_role_flags_the_network_reads_the_target_alone(command):
    """No default past covariates on the command line: other columns stay unread."""
    extra = ["--bundle", "b.zip"] if command == "train" else ["--horizon", "6"]
    args = _parse(command, "x.csv", *extra)
    assert cli._roles(args) == Roles() and args.future is None


@pytest.mark.parametrize("command", ["train", "forecast", "backtest"])
def test_every_covariate_flag_has_help(command):
    parser = cli.build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    flags = {"--past-covariates", "--future-covariates", "--future", "--calendar", "--static"}
    helps = {
        option: action.help
        for action in sub._actions
        for option in action.option_strings
        if option in flags
    }
    assert set(helps) == flags
    assert all(text and len(text) > 20 for text in helps.values())


def test_two_roles_for_one_column_exit_2(files, capsys):
    code = main(
        ["forecast", files["data"], "--value-col", "sales", "--past-covariates", "temp"]
        + ["--future-covariates", "temp", *SMALL]
    )
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: ") and "'temp' has two roles" in err[0]


# ------------------------------------------------------------------ errors
def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ") and "Traceback" not in captured.err
    assert captured.out == ""
    return lines[0]


@pytest.mark.parametrize("command", ["train", "forecast", "backtest"])
def test_an_unknown_column_exits_2_naming_it_and_the_columns(command, files, capsys, tmp_path):
    extra = ["--bundle", str(tmp_path / "b.zip")] if command == "train" else []
    code = main(
        [command, files["data"], "--value-col", "sales", "--past-covariates", "temp,tmep"]
        + [*SMALL, *extra]
    )
    assert code == 2
    line = _one_error_line(capsys)
    assert "'tmep'" in line and "temp, promo, store" in line
    assert not (tmp_path / "b.zip").exists()


def test_calendar_on_integer_steps_exits_2(tmp_path, capsys):
    data = tmp_path / "steps.csv"
    data.write_text("value\n" + "".join(f"{100 + i % 7}\n" for i in range(80)), encoding="utf-8")
    assert main(["forecast", str(data), "--calendar", *SMALL]) == 2
    assert "Calendar features need dates" in _one_error_line(capsys)


def test_future_covariates_without_a_future_file_exit_2(files, capsys):
    code = main(
        ["forecast", files["data"], "--value-col", "sales", "--future-covariates", "promo", *SMALL]
    )
    assert code == 2
    line = _one_error_line(capsys)
    assert "promo" in line and "--future" in line and "2020-05-30" in line


@pytest.mark.parametrize("command", ["train", "forecast"])
def test_missing_future_values_exit_2_naming_the_first_missing_timestamps(
    command, files, capsys, tmp_path
):
    extra = ["--bundle", str(tmp_path / "b.zip")] if command == "train" else []
    code = main(
        [command, files["data"], "--value-col", "sales", "--future-covariates", "promo"]
        + ["--future", files["short_future"], *SMALL, *extra]
    )
    assert code == 2
    line = _one_error_line(capsys)
    assert "'promo'" in line and "2020-06-03, 2020-06-04" in line
    assert not (tmp_path / "b.zip").exists()


def test_a_future_file_that_lacks_the_column_exits_2(files, capsys, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text(
        "date,price\n" + "".join(f"{d:%Y-%m-%d},1\n" for d in FUTURE_DATES), encoding="utf-8"
    )
    code = main(
        ["forecast", files["data"], "--value-col", "sales", "--future-covariates", "promo"]
        + ["--future", str(other), *SMALL]
    )
    assert code == 2
    line = _one_error_line(capsys)
    assert "promo" in line and "price" in line


# ------------------------------------------------------------------ training
@pytest.fixture(scope="module")
def trained(files):
    """`train` with a past and a future covariate, calendar features and a static column."""
    root = files["root"]
    bundle, metrics = root / "cov.zip", root / "cov.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("forecasting.evaluation.ALL_BASELINES", QUICK_BASELINES)
        code = main(
            ["train", files["data"], "--value-col", "sales", "--past-covariates", "temp"]
            + ["--future-covariates", "promo", "--future", files["future"], "--calendar"]
            + ["--static", "store", *SMALL, "--bundle", str(bundle)]
            + ["--metrics-json", str(metrics)]
        )
    assert code == 0
    return {"bundle": bundle, "metrics": metrics}


def test_train_with_covariates_writes_a_bundle_and_metrics_with_importance(trained):
    assert trained["bundle"].stat().st_size > 0
    metrics = json.loads(trained["metrics"].read_text(encoding="utf-8"))
    assert metrics["roles"] == {
        "past": ["temp"],
        "future": ["promo"],
        "static": ["store"],
        "calendar": True,
    }
    without = metrics["without_covariates"]["model"]
    assert set(without) == set(METRICS) and np.isfinite(without["mase"])
    assert set(metrics["importance"]) == {"temp", "promo", "calendar"}
    assert all(np.isfinite(v) for v in metrics["importance"].values())
    assert set(metrics["test"]) == {"model", *QUICK_BASELINES}


def test_train_without_role_flags_reads_the_target_alone(files, tmp_path, capsys, quick_baselines):
    metrics = tmp_path / "m.json"
    code = main(
        ["train", files["data"], "--value-col", "sales", *SMALL]
        + ["--bundle", str(tmp_path / "b.zip"), "--metrics-json", str(metrics)]
    )
    assert code == 0
    document = json.loads(metrics.read_text(encoding="utf-8"))
    assert not {"roles", "without_covariates", "importance"} & set(document)
    err = capsys.readouterr().err
    assert "Inputs:" not in err and "covariates:" not in err


# ------------------------------------------------------------------ backtest
def test_backtest_with_covariates_shows_the_network_without_them(
    files, tmp_path, capsys, quick_baselines
):
    out_json = tmp_path / "bt.json"
    code = main(
        ["backtest", files["data"], "--value-col", "sales", "--past-covariates", "temp"]
        + ["--calendar", "--folds", "2", *SMALL, "--json", str(out_json)]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "network without covariates" in captured.out
    assert "Rolling-origin backtest: 2 folds, horizon 6" in captured.out
    assert "note: Inputs: the target, past covariates (values up to the origin): temp" in (
        captured.err
    )
    data = json.loads(out_json.read_text(encoding="utf-8"))
    without = data["without_covariates"]
    assert set(without) == {"model"} and set(without["model"]) == set(METRICS)
    assert np.isfinite(without["model"]["mase"])
    assert len(data["without_covariates_by_lead"]["model"]) == 6
    assert {"model", "naive", "seasonal_naive"} <= set(data["summary"])


def test_forecast_from_a_bundle_with_covariates_reads_the_future_file(files, trained, capsys):
    base = ["forecast", files["data"], "--horizon", "6", "--model", str(trained["bundle"])]
    assert main([*base, "--future", files["future"]]) == 0
    text = capsys.readouterr().out
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame["date"]) == list(FUTURE_DATES.strftime("%Y-%m-%d"))
    assert np.all(np.isfinite(frame[["forecast", "lower", "upper"]].to_numpy(dtype=float)))

    assert main([*base, "--future", files["short_future"]]) == 2
    line = _one_error_line(capsys)
    assert "'promo'" in line and "2020-06-03" in line

    # The bundle reads the columns it was trained with: the same roles are accepted, others
    # refused.
    same = ["--past-covariates", "temp", "--future-covariates", "promo", "--calendar"]
    assert main([*base, "--future", files["future"], *same, "--static", "store"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == text.splitlines()[1:]
    assert main([*base, "--future", files["future"], "--past-covariates", "promo"]) == 2
    assert "trained with" in _one_error_line(capsys)
