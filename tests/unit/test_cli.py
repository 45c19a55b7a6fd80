"""The `forecasting` command: the issue's acceptance run, bundles, run files, and bad input
answered with exit code 2 and one `error:` line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from forecasting import cli
from forecasting.baselines import ALL_BASELINES, QUICK_BASELINES
from forecasting.bundle import load_bundle
from forecasting.cli import main
from forecasting.evaluation import METRICS

EXPECTED_DATES = list(pd.date_range("2008-07-01", "2009-06-01", freq="MS").strftime("%Y-%m-%d"))
SMALL = ["--units", "4", "--window", "12", "--batch-size", "32"]


def _write_monthly(path, values) -> None:
    dates = pd.date_range(end="2008-06-01", periods=len(values), freq="MS")
    lines = ["date,value"] + [f"{d:%Y-%m-%d},{v:.4f}" for d, v in zip(dates, values, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def files(tmp_path_factory, make_values):
    root = tmp_path_factory.mktemp("cli")
    monthly = root / "monthly.csv"
    _write_monthly(monthly, make_values(200, seed=11))
    run_file = root / "run.json"
    run_file.write_text(
        json.dumps(
            {
                "horizon": 12,
                "model": {"cell": "lstm", "window": 12, "units": 4, "ensemble": 1},
                "train": {"epochs": 5, "seed": 7, "batch_size": 32},
            }
        ),
        encoding="utf-8",
    )
    return {"root": root, "monthly": monthly, "run": run_file}


def _check_forecast_csv(text: str, dates: list) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(text), dtype={"date": str})
    assert list(frame.columns) == ["date", "forecast", "lower", "upper"]
    assert list(frame["date"].astype(str)) == [str(d) for d in dates]
    numbers = frame[["forecast", "lower", "upper"]].to_numpy(dtype=float)
    assert np.all(np.isfinite(numbers))
    assert np.all(frame["lower"] <= frame["forecast"])
    assert np.all(frame["forecast"] <= frame["upper"])
    return frame


def test_acceptance_forecast_to_stdout_in_a_real_process(files):
    """`forecasting forecast CSV --horizon 12 --epochs 3` on monthly data ending 2008-06."""
    # On the default backend (JAX). TensorFlow's C++ start-up lines (absl, written before its
    # logging is set up) are beyond Python's reach, so the TensorFlow run of this suite checks
    # the default path too.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "jax"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "forecasting",
            "forecast",
            str(files["monthly"]),
            "--horizon",
            "12",
            "--epochs",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=540,
        cwd=files["root"],
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    frame = _check_forecast_csv(done.stdout, EXPECTED_DATES)
    assert len(frame) == 12
    assert "epoch 3/" in done.stderr and "epoch 4/" not in done.stderr


@pytest.fixture
def quick_baselines(monkeypatch):
    """Skip the slow statistical baselines in tests that are not about the evaluation."""
    monkeypatch.setattr("forecasting.evaluation.ALL_BASELINES", QUICK_BASELINES)


@pytest.fixture(scope="module")
def trained(files):
    """`train --config run.json --epochs 2 --bundle --metrics-json`, run once in-process."""
    bundle, metrics = files["root"] / "out.zip", files["root"] / "m.json"
    code = main(
        [
            "train",
            str(files["monthly"]),
            "--config",
            str(files["run"]),
            "--epochs",
            "2",
            "--bundle",
            str(bundle),
            "--metrics-json",
            str(metrics),
        ]
    )
    assert code == 0
    return {"bundle": bundle, "metrics": metrics}


def test_train_writes_bundle_and_metrics(trained):
    assert trained["bundle"].stat().st_size > 0
    metrics = json.loads(trained["metrics"].read_text(encoding="utf-8"))
    assert metrics["epochs_run"] == 2
    assert metrics["train_seconds"] > 0
    assert metrics["seconds_per_epoch"] == pytest.approx(metrics["train_seconds"] / 2)
    assert set(metrics["test"]) == {"model", *ALL_BASELINES}
    for method in ("model", "naive", "seasonal_naive"):
        assert set(metrics["test"][method]) == set(METRICS)
        assert np.isfinite(metrics["test"][method]["mase"])
    assert metrics["horizon"] == 12 and metrics["window"] == 12


def test_metrics_json_names_the_best_baseline_and_the_winner(trained):
    metrics = json.loads(trained["metrics"].read_text(encoding="utf-8"))
    mase = {
        name: scores["mase"]
        for name, scores in metrics["test"].items()
        if name != "model" and scores["mase"] is not None
    }
    best = min(mase, key=mase.get)
    assert metrics["best_baseline"] == {"name": best, "mase": mase[best]}
    model = metrics["test"]["model"]["mase"]
    assert metrics["winner"] == ("model" if model < mase[best] else best)


def test_train_says_who_won_on_stderr(files, tmp_path, capsys, quick_baselines):
    code = main(
        [
            "train",
            str(files["monthly"]),
            "--horizon",
            "12",
            "--epochs",
            "1",
            "--units",
            "4",
            "--ensemble",
            "1",
            "--bundle",
            str(tmp_path / "b.zip"),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    saved = next(line for line in err.splitlines() if line.startswith("saved "))
    assert "best baseline" in saved
    winner = next(line for line in err.splitlines() if line.startswith("winner: "))
    assert "the network" in winner or "against the network's" in winner


def test_config_file_is_honoured_and_options_override_it(trained):
    bundle = load_bundle(trained["bundle"])
    config = bundle.config
    assert (config.model.cell, config.model.window, config.model.units) == ("lstm", 12, 4)
    assert config.train.seed == 7 and config.horizon == 12
    assert config.train.epochs == 2  # --epochs overrides the file's 5
    stored = json.loads(trained["metrics"].read_text(encoding="utf-8"))["config"]
    assert stored["model"]["cell"] == "lstm" and stored["train"]["epochs"] == 2


def test_forecast_with_output_and_with_the_bundle(files, trained, capsys, quick_baselines):
    trained_csv = files["root"] / "trained.csv"
    code = main(
        [
            "forecast",
            str(files["monthly"]),
            "--config",
            str(files["run"]),
            "--epochs",
            "2",
            "--horizon",
            "12",
            "--output",
            str(trained_csv),
        ]
    )
    assert code == 0
    assert capsys.readouterr().out == ""  # --output: nothing on stdout
    trained_text = trained_csv.read_text(encoding="utf-8")
    _check_forecast_csv(trained_text, EXPECTED_DATES)

    # --model: no training (no epoch lines), and the same forecast as the training gave.
    from_bundle = files["root"] / "bundle.csv"
    code = main(
        [
            "forecast",
            str(files["monthly"]),
            "--horizon",
            "12",
            "--model",
            str(trained["bundle"]),
            "--output",
            str(from_bundle),
        ]
    )
    assert code == 0
    assert "epoch" not in capsys.readouterr().err
    assert from_bundle.read_text(encoding="utf-8") == trained_text

    # A shorter horizon is the head of the bundle's forecast; a longer one is refused.
    assert (
        main(
            ["forecast", str(files["monthly"]), "--horizon", "5", "--model", str(trained["bundle"])]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.splitlines()[1:] == trained_text.splitlines()[1:6]
    assert (
        main(
            [
                "forecast",
                str(files["monthly"]),
                "--horizon",
                "24",
                "--model",
                str(trained["bundle"]),
            ]
        )
        == 2
    )
    assert "--horizon 24" in capsys.readouterr().err


def test_integer_step_csv_continues_the_steps(tmp_path, make_values, capsys, quick_baselines):
    values = make_values(140, seed=4)
    data = tmp_path / "steps.csv"
    data.write_text("value\n" + "\n".join(f"{v:.4f}" for v in values) + "\n", encoding="utf-8")
    code = main(["forecast", str(data), "--horizon", "4", "--epochs", "2", *SMALL])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    _check_forecast_csv(captured.out, ["140", "141", "142", "143"])


def test_forecast_of_a_too_short_series_falls_back_and_says_so(tmp_path, capsys, make_values):
    """40 months are too short for any window with horizon 12: the Theta fallback (with
    intervals from its own rolling forecasts), announced on stderr."""
    short = tmp_path / "short.csv"
    _write_monthly(short, make_values(40))
    code = main(["forecast", str(short), "--horizon", "12", "--epochs", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    _check_forecast_csv(captured.out, EXPECTED_DATES)
    notes = captured.err.splitlines()
    assert notes and all(line.startswith("note: ") for line in notes)
    assert any("at least" in line for line in notes)


# ------------------------------------------------------------------ errors
@pytest.fixture(scope="module")
def bad_files(files):
    root = files["root"]
    binary = root / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 40)
    short = root / "short.csv"
    _write_monthly(short, np.arange(20.0) + 10)
    corrupt = root / "corrupt.zip"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a zip")
    h5 = root / "model.h5"
    h5.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    bad_json = root / "bad.json"
    bad_json.write_text('{"model": {"cell": "transformer"}}', encoding="utf-8")
    ambiguous = root / "ambiguous.csv"
    ambiguous.write_text("date,value\n03/04/2020,1\n04/05/2020,2\n05/06/2020,3\n")
    return {
        "ambiguous": ambiguous,
        "binary": binary,
        "short": short,
        "corrupt": corrupt,
        "h5": h5,
        "bad_json": bad_json,
        "monthly": files["monthly"],
        "missing": root / "nope.csv",
    }


ERROR_CASES = {
    "missing file": (["forecast", "{missing}", "--horizon", "3"], "nope.csv"),
    "binary file": (["forecast", "{binary}", "--horizon", "3"], ""),
    "too short": (
        ["train", "{short}", "--bundle", "x.zip", "--horizon", "12", "--epochs", "1"],
        "at least",
    ),
    "dropout": (
        ["forecast", "{monthly}", "--horizon", "12", "--dropout", "2"],
        "Received: dropout=2",
    ),
    "horizon text": (["forecast", "{monthly}", "--horizon", "x"], "--horizon"),
    "horizon zero": (["forecast", "{monthly}", "--horizon", "0"], "--horizon"),
    "unknown cell": (
        ["forecast", "{monthly}", "--horizon", "3", "--cell", "transformer"],
        "transformer",
    ),
    "corrupt bundle": (
        ["forecast", "{monthly}", "--horizon", "3", "--model", "{corrupt}"],
        "not a valid .zip",
    ),
    "h5 model": (["forecast", "{monthly}", "--horizon", "3", "--model", "{h5}"], ".h5"),
    "missing bundle": (
        ["forecast", "{monthly}", "--horizon", "3", "--model", "{missing}"],
        "nope.csv",
    ),
    "missing config": (
        ["train", "{monthly}", "--bundle", "x.zip", "--config", "{missing}"],
        "nope.csv",
    ),
    "bad config": (["train", "{monthly}", "--bundle", "x.zip", "--config", "{bad_json}"], "`cell`"),
    "ambiguous dates": (
        ["forecast", "{ambiguous}", "--horizon", "3"],
        "--dayfirst or --monthfirst",
    ),
    "no command": ([], ""),
    "no bundle option": (["train", "{monthly}"], "--bundle"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_bad_input_exits_2_with_one_error_line(case, bad_files, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv, fragment = ERROR_CASES[case]
    code = main([arg.format(**bad_files) for arg in argv])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert not (tmp_path / "x.zip").exists()


def test_model_options_reach_the_configuration():
    args = cli.build_parser().parse_args(
        ["train", "x.csv", "--bundle", "b.zip", "--scaling", "standard", "--ensemble", "3"]
    )
    config, _ = cli._settings(args)
    assert (config.model.scaling, config.model.ensemble) == ("standard", 3)
    assert (
        cli._settings(cli.build_parser().parse_args(["train", "x.csv", "--bundle", "b.zip"]))[
            0
        ].model.scaling
        == "auto"
    )


def test_every_setting_has_a_flag_that_overrides_a_config_file(tmp_path):
    """The flags derive from the settings' declarations: one per setting, each overriding a
    --config file's value, and an unset flag keeping it."""
    from forecasting.config import RunConfig
    from forecasting.settings import flat_values

    stored = RunConfig().with_settings(window=12, units=4, loss="mae", deseasonalize=True)
    run_file = tmp_path / "run.json"
    run_file.write_text(stored.to_json(), encoding="utf-8")
    base = ["train", "x.csv", "--bundle", "b.zip", "--config", str(run_file)]
    assert cli._settings(cli.build_parser().parse_args(base))[0] == stored
    flags = [
        "--units",
        "8",
        "--loss",
        "huber",
        "--no-deseasonalize",
        "--log",
        "--clipnorm",
        "0.5",
        "--validation-fraction",
        "0.2",
        "--learning-rate",
        "0.01",
    ]
    config, _ = cli._settings(cli.build_parser().parse_args(base + flags))
    assert flat_values(config) == {
        **flat_values(stored),
        "units": 8,
        "loss": "huber",
        "deseasonalize": False,
        "log": True,
        "clipnorm": 0.5,
        "validation_fraction": 0.2,
        "learning_rate": 0.01,
    }


def _write_daily(path, values) -> None:
    dates = pd.date_range("2020-01-01", periods=len(values), freq="D")
    path.write_text(
        "date,value\n"
        + "".join(f"{d:%Y-%m-%d},{v!r}\n" for d, v in zip(dates, values, strict=True)),
        encoding="utf-8",
    )


def test_a_series_of_five_points_gets_a_band_and_a_note(tmp_path, capsys):
    """Too short for the fallback's own rolling forecasts: the band used to be empty cells."""
    tiny = tmp_path / "tiny.csv"
    _write_daily(tiny, [1.0, 3.0, 2.0, 5.0, 4.0])
    code = main(["forecast", str(tiny), "--horizon", "3"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    _check_forecast_csv(captured.out, ["2020-01-06", "2020-01-07", "2020-01-08"])
    assert "band is rough" in captured.err


def test_values_too_large_to_compute_with_are_refused(tmp_path, capsys):
    """Values of about 1e298 overflowed to empty forecast cells with exit code 0."""
    huge = tmp_path / "huge.csv"
    _write_daily(huge, [float(3e298 * (1 + 0.1 * np.sin(i))) for i in range(30)])
    code = main(["forecast", str(huge), "--horizon", "3"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Values too large")
    assert "Rescale the column" in lines[0]


def test_stderr_holds_only_the_commands_own_lines(tmp_path):
    """A series of zeros but one made statsmodels print a ConvergenceWarning (two lines of
    Python warning) beside the `note:` lines."""
    zeros = tmp_path / "zeros.csv"
    _write_monthly(zeros, [0.0] * 29 + [1.0])
    # On the default backend (JAX). TensorFlow's C++ start-up lines (absl, written before its
    # logging is set up) are beyond Python's reach, so the TensorFlow run of this suite checks
    # the default path too.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "jax"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "forecasting",
            "forecast",
            str(zeros),
            "--horizon",
            "3",
            "--epochs",
            "1",
            "--ensemble",
            "1",
            "--units",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=540,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert lines and all(line.startswith(("note: ", "epoch ")) for line in lines), lines
