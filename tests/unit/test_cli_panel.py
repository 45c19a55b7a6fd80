"""The `forecasting` command on many series: `--id-col` and `--wide` forecast every series of a
file into one long CSV, `train --metrics-json` holds the M4 aggregate and per-series metrics,
`backtest` scores K folds, and a long file without `--id-col` is refused, never concatenated."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.panel_backtest import cut_panel
from forecasting.panel_pipeline import M4_METHODS

STORES = ("A", "B", "C", "D", "E")
POINTS, HORIZON = 120, 7
TINY = ["--epochs", "1", "--units", "4", "--ensemble", "1", "--batch-size", "32"]
LAST = pd.Timestamp("2021-04-30")


def _values(k: int) -> np.ndarray:
    rng = np.random.default_rng(k)
    steps = np.arange(POINTS)
    return (k + 1) * 50 + 8 * np.sin(2 * np.pi * steps / 7) + rng.normal(0, 1, POINTS)


def _dates() -> pd.DatetimeIndex:
    return pd.date_range(end=LAST, periods=POINTS, freq="D")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """5 daily series of 120 points: long (one id column, two id columns) and wide."""
    root = tmp_path_factory.mktemp("cli_panel")
    long_rows = [
        {"store": store, "date": date, "sales": value}
        for k, store in enumerate(STORES)
        for date, value in zip(_dates(), _values(k), strict=True)
    ]
    long = pd.DataFrame(long_rows)
    long.to_csv(root / "long.csv", index=False, date_format="%Y-%m-%d", float_format="%.4f")
    two = long.assign(
        item=[("x" if s in "ABC" else "y") for s in long["store"]],
        store=[("s1" if s in "AD" else "s2" if s in "BE" else "s3") for s in long["store"]],
    )[["store", "item", "date", "sales"]]
    two.to_csv(root / "two.csv", index=False, date_format="%Y-%m-%d", float_format="%.4f")
    wide = long.pivot(index="date", columns="store", values="sales").reset_index()
    wide.to_csv(root / "wide.csv", index=False, date_format="%Y-%m-%d", float_format="%.4f")
    return root


def _read_forecast(path, id_cols: list[str]) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={c: str for c in [*id_cols, "date"]})
    assert list(frame.columns) == [*id_cols, "date", "forecast", "lower", "upper"]
    numbers = frame[["forecast", "lower", "upper"]].to_numpy(float)
    assert np.all(np.isfinite(numbers))
    assert np.all(frame["lower"] <= frame["forecast"] + 1e-9)
    assert np.all(frame["forecast"] <= frame["upper"] + 1e-9)
    return frame


EXPECTED_DATES = list(
    pd.date_range(LAST + pd.Timedelta(days=1), periods=HORIZON, freq="D").strftime("%Y-%m-%d")
)


def _check_every_series(frame: pd.DataFrame, id_cols: list[str], ids: set[tuple]) -> None:
    assert len(frame) == len(ids) * HORIZON
    groups = frame.groupby(id_cols, sort=False)
    assert {key if isinstance(key, tuple) else (key,) for key in groups.groups} == ids
    for _, rows in groups:
        assert list(rows["date"]) == EXPECTED_DATES


def _forecast(path, out, *flags) -> int:
    return main(["forecast", str(path), *flags, "--horizon", str(HORIZON), *TINY, "--output", out])


def test_forecast_with_an_id_column_writes_every_series_long(files, capsys) -> None:
    out = str(files / "long_forecast.csv")
    assert _forecast(files / "long.csv", out, "--id-col", "store") == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "note: 5 series" in captured.err and "Traceback" not in captured.err
    frame = _read_forecast(out, ["store"])
    _check_every_series(frame, ["store"], {(s,) for s in STORES})
    # Each series keeps its own level: no concatenation, no mixing.
    levels = frame.groupby("store")["forecast"].mean()
    assert levels["A"] < levels["C"] < levels["E"]


def test_forecast_with_two_id_columns(files) -> None:
    out = str(files / "two_forecast.csv")
    assert _forecast(files / "two.csv", out, "--id-col", "store, item") == 0
    frame = _read_forecast(out, ["store", "item"])
    ids = {("s1", "x"), ("s2", "x"), ("s3", "x"), ("s1", "y"), ("s2", "y")}
    _check_every_series(frame, ["store", "item"], ids)


def test_forecast_of_a_wide_file(files) -> None:
    out = str(files / "wide_forecast.csv")
    assert _forecast(files / "wide.csv", out, "--wide") == 0
    id_col = pd.read_csv(out, nrows=0).columns[0]
    frame = _read_forecast(out, [id_col])
    _check_every_series(frame, [id_col], {(s,) for s in STORES})


def test_a_long_file_without_id_col_is_refused_naming_the_id_column(files, capsys) -> None:
    out = files / "never.csv"
    assert _forecast(files / "long.csv", str(out)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "--id-col store" in err
    assert not out.exists()


def test_id_col_and_wide_together_are_refused(files, capsys) -> None:
    code = _forecast(files / "long.csv", str(files / "x.csv"), "--id-col", "store", "--wide")
    assert code == 2
    assert "--wide" in capsys.readouterr().err


def test_covariates_with_many_series_are_refused_clearly(files, capsys) -> None:
    code = _forecast(files / "long.csv", str(files / "x.csv"), "--id-col", "store", "--calendar")
    assert code == 2
    assert "Covariates are not read with many series" in capsys.readouterr().err


@pytest.fixture(scope="module")
def trained(files):
    bundle, metrics = files / "panel.zip", files / "metrics.json"
    code = main(
        [
            "train",
            str(files / "long.csv"),
            "--id-col",
            "store",
            "--horizon",
            str(HORIZON),
            *TINY,
            "--bundle",
            str(bundle),
            "--metrics-json",
            str(metrics),
        ]
    )
    assert code == 0
    return {"bundle": bundle, "metrics": json.loads(metrics.read_text(encoding="utf-8"))}


def test_train_metrics_json_holds_aggregate_and_per_series(trained) -> None:
    metrics = trained["metrics"]
    assert set(metrics["aggregate"]) == set(M4_METHODS)
    for figures in metrics["aggregate"].values():
        assert set(figures) == {"smape", "mase", "owa"}
    assert metrics["aggregate"]["naive2"]["owa"] == pytest.approx(1.0)
    assert set(metrics["per_series"]) == set(STORES)
    for by_method in metrics["per_series"].values():
        assert set(by_method) == set(M4_METHODS)
        assert np.isfinite(by_method["model"]["mase"])
    assert metrics["fallback"] == []
    assert metrics["series"] == 5 and metrics["horizon"] == HORIZON
    assert trained["bundle"].stat().st_size > 0


def test_forecast_with_a_panel_bundle(files, trained, capsys) -> None:
    out = str(files / "bundle_forecast.csv")
    code = main(
        [
            "forecast",
            str(files / "long.csv"),
            "--id-col",
            "store",
            "--model",
            str(trained["bundle"]),
            "--horizon",
            "3",
            "--output",
            out,
        ]
    )
    assert code == 0
    frame = _read_forecast(out, ["store"])
    assert len(frame) == 5 * 3
    assert list(frame.loc[frame["store"] == "B", "date"]) == EXPECTED_DATES[:3]
    # Without --id-col the bundle's own id column reads the file.
    again = str(files / "bundle_forecast_again.csv")
    flags = ["--model", str(trained["bundle"]), "--horizon", "3", "--output", again]
    assert main(["forecast", str(files / "long.csv"), *flags]) == 0
    assert "--id-col store" in capsys.readouterr().err
    pd.testing.assert_frame_equal(_read_forecast(again, ["store"]), frame)


def test_train_says_notes_aggregate_and_winner_on_stderr(files, tmp_path, capsys) -> None:
    code = main(
        [
            "train",
            str(files / "wide.csv"),
            "--wide",
            "--horizon",
            str(HORIZON),
            *TINY,
            "--bundle",
            str(tmp_path / "w.zip"),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "note: One global network on 5 series" in err
    assert "aggregate (M4 rules" in err and "OWA" in err
    assert any(line.startswith("winner: ") for line in err.splitlines())


def test_backtest_with_two_folds_writes_json(files, tmp_path, capsys) -> None:
    out = tmp_path / "bt.json"
    code = main(
        [
            "backtest",
            str(files / "long.csv"),
            "--id-col",
            "store",
            "--horizon",
            str(HORIZON),
            *TINY,
            "--folds",
            "2",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "fold 1/2" in captured.err and "fold 2/2" in captured.err
    assert "OWA" in captured.out and "Mean over folds" in captured.out
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["horizon"] == HORIZON and document["folds"] == 2
    assert [fold["fold"] for fold in document["per_fold"]] == [1, 2]
    assert [fold["held_back"] for fold in document["per_fold"]] == [HORIZON, 0]
    for fold in document["per_fold"]:
        assert fold["series_scored"] == 5
        assert set(fold["aggregate"]) == set(M4_METHODS)
    assert set(document["mean"]) == set(M4_METHODS)
    folds_owa = [fold["aggregate"]["model"]["owa"] for fold in document["per_fold"]]
    assert document["mean"]["model"]["owa"] == pytest.approx(np.mean(folds_owa))


def test_cut_panel_holds_back_the_end_of_every_series() -> None:
    from forecasting.panel import Panel
    from forecasting.series import TimeSeries

    series = tuple(
        TimeSeries.from_values(np.arange(n, dtype=float), "D", start="2020-01-01") for n in (30, 12)
    )
    panel = Panel(series, (("a",), ("b",)), ("id",))
    cut, left_out = cut_panel(panel, 7, 9)
    assert cut.labels == ["a"] and left_out == ("b",)
    np.testing.assert_array_equal(cut["a"].values, np.arange(23.0))
    assert cut_panel(panel, 29, 9) == (None, ("a", "b"))


def test_when_every_series_is_too_short_forecast_gives_all_theta_and_train_saves_none(
    tmp_path, capsys
) -> None:
    short = pd.DataFrame(
        [
            {"store": store, "date": date, "sales": value}
            for k, store in enumerate(STORES[:3])
            for date, value in zip(_dates()[-15:], _values(k)[-15:], strict=True)
        ]
    )
    path = tmp_path / "short.csv"
    short.to_csv(path, index=False, date_format="%Y-%m-%d", float_format="%.4f")
    out = tmp_path / "short-forecast.csv"
    assert _forecast(path, str(out), "--id-col", "store") == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "note: Every series is too short" in err and "Theta method's forecast" in err
    _check_every_series(_read_forecast(out, ["store"]), ["store"], {(s,) for s in STORES[:3]})

    bundle = tmp_path / "short.zip"
    flags = ["--id-col", "store", "--horizon", str(HORIZON), *TINY, "--bundle", str(bundle)]
    assert main(["train", str(path), *flags]) == 2
    err = capsys.readouterr().err
    assert "error: No bundle was saved" in err and "--id-col store" in err
    assert not bundle.exists()
