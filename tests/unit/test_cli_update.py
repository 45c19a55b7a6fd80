"""`forecasting update BUNDLE NEWDATA --bundle OUT.zip [--json FILE] [--keep ...]`: the new
bundle, the JSON the issue promises, and bad input answered with exit code 2 and one `error:`
line."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from forecasting.bundle import load_bundle
from forecasting.cli import main

SMALL = ["--units", "4", "--window", "12", "--epochs", "2", "--ensemble", "1", "--horizon", "6"]


def _write(path, values, periods: int | None = None) -> None:
    dates = pd.date_range("2000-01-01", periods=len(values), freq="MS")
    frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "sales": values})
    frame.iloc[: periods or len(values)].to_csv(path, index=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory, make_values):
    root = tmp_path_factory.mktemp("cli_update")
    values = make_values(150)
    _write(root / "old.csv", values, 126)
    _write(root / "new.csv", values)
    conflicting = values.copy()
    conflicting[120] += 7.0  # inside the model's stored last window (months 114..125)
    _write(root / "conflict.csv", conflicting)
    assert main(["train", str(root / "old.csv"), "--bundle", str(root / "old.zip"), *SMALL]) == 0
    return root


def test_update_writes_a_bundle_and_the_promised_json(files, capsys) -> None:
    capsys.readouterr()
    out, report = files / "new.zip", files / "update.json"
    code = main(
        [
            "update",
            str(files / "old.zip"),
            str(files / "new.csv"),
            "--bundle",
            str(out),
            "--json",
            str(report),
            "--epochs",
            "1",
            "--folds",
            "1",
            "--keep",
            "fine-tuned",
        ]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    data = json.loads(report.read_text())
    assert [c["name"] for c in data["candidates"]] == ["unchanged", "fine-tuned", "retrained"]
    assert all({"name", "mase", "smape", "seconds"} <= set(c) for c in data["candidates"])
    assert data["chosen"] == "fine-tuned"
    parent_hash = hashlib.sha256((files / "old.zip").read_bytes()).hexdigest()
    assert data["parent_sha256"] == parent_hash
    assert {"coverage", "nominal", "error_ratio", "warning"} <= set(data["drift"])
    parent = load_bundle(files / "old.zip")
    assert data["drift"]["nominal"] == parent.config.level  # the band the model promised
    bundle = load_bundle(out)
    assert bundle.lineage.last.parent_sha256 == parent_hash
    assert bundle.lineage.last.method == "fine-tuned" and bundle.series["last"] == "2012-06-01"
    assert bundle.data_options == parent.data_options and bundle.series["name"] == "sales"
    assert "kept: fine-tuned (as asked" in printed.out and "unchanged" in printed.out


def test_bad_input_exits_2_with_one_error_line(files, capsys) -> None:
    cases = [
        (["update", str(files / "old.zip"), str(files / "conflict.csv")], "2010-01-01"),
        (["update", str(files / "new.csv"), str(files / "new.csv")], "not a model bundle"),
        (["update", str(files / "missing.zip"), str(files / "new.csv")], "Cannot read the bundle"),
        (
            ["update", str(files / "old.zip"), str(files / "new.csv"), "--id-col", "date"],
            "single-series",
        ),
        (["update", str(files / "old.zip"), str(files / "old.csv")], "already seen"),
    ]
    for argv, expected in cases:
        capsys.readouterr()
        assert main([*argv, "--bundle", str(files / "x.zip")]) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        errors = [line for line in err if line.startswith("error:")]
        assert len(errors) == 1 and expected in errors[0], (argv, err)
    assert not (files / "x.zip").exists()
