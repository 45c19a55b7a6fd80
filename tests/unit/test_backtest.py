"""Rolling-origin backtest: fold origins, no fold sees its future, the CLI command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.backtest import backtest, fold_origins
from forecasting.cli import main
from forecasting.errors import ConfigError, SeriesTooShortError
from forecasting.plots import backtest_table
from forecasting.results import BacktestResult
from forecasting.series import TimeSeries


def test_fold_origins_step_back_one_horizon_each() -> None:
    assert fold_origins(100, 6, 3) == [82, 88, 94]
    assert fold_origins(100, 6, 1) == [94]


@pytest.fixture(scope="module")
def result(monthly_series, tiny_config):
    return backtest(monthly_series, tiny_config, 2)


def test_folds_metrics_and_errors_by_lead(result, monthly_series) -> None:
    folds = result.folds
    assert set(folds["fold"]) == {1, 2}
    assert {"model", "naive", "seasonal_naive", "ets", "theta"} <= set(folds["method"])
    origins = [str(monthly_series.index[o].date()) for o in fold_origins(150, 6, 2)]
    assert sorted(set(folds["origin"])) == origins
    assert list(result.by_lead.columns) == list(range(1, 7))
    assert np.all(np.isfinite(result.by_lead.loc["model"]))
    assert result.summary()["mase"].dropna().is_monotonic_increasing


def test_the_backtest_record_round_trips_through_json(result) -> None:
    record = BacktestResult("bt", result.to_record())
    back = BacktestResult.from_dict(json.loads(json.dumps(record.to_dict())))
    assert json.dumps(back.to_dict()) == json.dumps(record.to_dict())
    assert back.backtest.horizon == 6
    pd.testing.assert_frame_equal(back.backtest.folds_frame(), result.folds)
    np.testing.assert_array_equal(back.backtest.by_lead["model"], result.by_lead.loc["model"])
    summary = result.summary()
    assert back.backtest.summary["model"].mase == pytest.approx(summary.loc["model", "mase"])
    table = backtest_table(back.backtest)
    assert {"MASE fold 1", "MASE fold 2", "Mean MASE"} <= set(table.columns)


def test_no_fold_sees_data_after_its_origin(monthly_series, tiny_config, result) -> None:
    """Changing everything from fold 1's origin on leaves fold 1's forecasts (network and
    baselines) unchanged, while its actual values do change."""
    first = fold_origins(len(monthly_series), 6, 2)[0]
    values = monthly_series.values.copy()
    values[first:] = values[first:] * 3 + 50
    again = backtest(TimeSeries(values, monthly_series.index, "MS"), tiny_config, 2)

    def fold_one(run):
        rows = run.forecasts[run.forecasts["fold"] == 1]
        return rows.sort_values(["method", "lead"]).reset_index(drop=True)

    before, after = fold_one(result), fold_one(again)
    np.testing.assert_array_equal(after["forecast"], before["forecast"])
    assert not np.allclose(after["actual"], before["actual"])
    assert set(before["method"]) >= {"model", "naive", "ets", "theta"}


def test_folds_must_be_positive_and_fit(monthly_series, tiny_config) -> None:
    with pytest.raises(ConfigError, match="folds"):
        backtest(monthly_series, tiny_config, 0)
    with pytest.raises(SeriesTooShortError, match="Fold 1 of 22 has only 18 points"):
        backtest(monthly_series, tiny_config, 22)


def test_cli_backtest_prints_the_table(tmp_path, capsys, make_values) -> None:
    path = tmp_path / "monthly.csv"
    dates = [f"{2000 + i // 12}-{i % 12 + 1:02d}-01" for i in range(120)]
    path.write_text("date,value\n" + "\n".join(
        f"{d},{v:.3f}" for d, v in zip(dates, make_values(120), strict=True)) + "\n")
    code = main(["backtest", str(path), "--horizon", "6", "--folds", "2", "--epochs", "2",
                 "--units", "4", "--window", "12", "--json", str(tmp_path / "bt.json")])
    assert code == 0
    out = capsys.readouterr().out
    assert "Rolling-origin backtest: 2 folds, horizon 6" in out
    assert "seasonal_naive" in out and "Mean absolute error by lead time" in out
    data = json.loads((tmp_path / "bt.json").read_text())
    assert data["horizon"] == 6 and len(data["by_lead"]["model"]) == 6
