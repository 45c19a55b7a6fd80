"""Rolling-origin backtest: fold origins, no fold sees its future, the CLI command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.backtest import backtest, fold_origins
from forecasting.cli import main
from forecasting.covariates import Roles
from forecasting.errors import ConfigError, DataError, SeriesTooShortError
from forecasting.pipeline import train
from forecasting.results import BacktestResult, BacktestSummary
from forecasting.series import TimeSeries
from forecasting.tables import backtest_table


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
    path.write_text(
        "date,value\n"
        + "\n".join(f"{d},{v:.3f}" for d, v in zip(dates, make_values(120), strict=True))
        + "\n"
    )
    code = main(
        [
            "backtest",
            str(path),
            "--horizon",
            "6",
            "--folds",
            "2",
            "--epochs",
            "2",
            "--units",
            "4",
            "--window",
            "12",
            "--json",
            str(tmp_path / "bt.json"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Rolling-origin backtest: 2 folds, horizon 6" in out
    assert "seasonal_naive" in out and "Mean absolute error by lead time" in out
    data = json.loads((tmp_path / "bt.json").read_text())
    assert data["horizon"] == 6 and len(data["by_lead"]["model"]) == 6
    assert {"0.8", "0.95"} <= set(data["coverage"])


def test_band_coverage_is_pooled_over_the_folds(result) -> None:
    """Each level's share is a count of the 2 x 6 actual values; wider bands hold more."""
    assert {0.8, 0.95} <= set(result.coverage)
    for share in result.coverage.values():
        assert 0.0 <= share <= 1.0 and (share * 12) == pytest.approx(round(share * 12))
    assert result.coverage[0.95] >= result.coverage[0.8]
    record = result.to_record()
    assert record.coverage == {str(k): v for k, v in result.coverage.items()}


def test_one_fold_coverage_is_the_runs_test_coverage(monthly_series, tiny_config) -> None:
    """A single fold is the run on the whole series with the last horizon as its test part,
    so its coverage is that run's band coverage on the same points."""
    one = backtest(monthly_series, tiny_config, 1)
    run = train(monthly_series, tiny_config.replace(test_size=6 / len(monthly_series)))
    assert run.plan.split.fit_end == len(monthly_series) - 6
    assert one.coverage == pytest.approx(run.test_coverage)


def test_a_backtest_record_without_coverage_still_reads(result) -> None:
    data = result.to_record().to_dict()
    del data["coverage"]  # written before coverage was recorded
    assert BacktestSummary.from_dict(data).coverage == {}


def test_a_backtest_without_covariates_has_no_twin(result) -> None:
    assert result.without_covariates is None and result.twin_folds is None
    assert result.roles == Roles()
    record = result.to_record()
    assert record.without_covariates is None and record.without_covariates_by_lead is None


# ------------------------------------------------------------------ covariates
def _with_covariates(series: TimeSeries, seed: int = 3) -> TimeSeries:
    """The series with a past covariate (temp) and a future one (promo)."""
    rng = np.random.default_rng(seed)
    n = len(series)
    extra = pd.DataFrame(
        {
            "temp": 10 + 5 * np.sin(2 * np.pi * np.arange(n) / 12) + rng.normal(0, 1, n),
            "promo": (rng.random(n) < 0.2).astype(float),
        },
        index=series.index,
    )
    values = series.values + 2 * extra["temp"].to_numpy() + 8 * extra["promo"].to_numpy()
    return TimeSeries(values, series.index, series.freq, extra=extra)


ROLES = Roles(past=("temp",), future=("promo",))


@pytest.fixture(scope="module")
def covariate_series(monthly_series):
    return _with_covariates(monthly_series)


@pytest.fixture(scope="module")
def with_covariates(covariate_series, tiny_config):
    return backtest(covariate_series, tiny_config, 2, roles=ROLES)


def test_covariates_add_the_twin_without_them(with_covariates) -> None:
    result = with_covariates
    assert result.roles == ROLES
    twin = result.without_covariates
    assert list(twin.index) == ["model"]
    assert list(twin.columns) == list(result.summary().columns)
    assert list(result.twin_folds["fold"]) == [1, 2]
    assert list(result.twin_by_lead.index) == ["model"]
    assert list(result.twin_by_lead.columns) == list(range(1, 7))
    assert np.all(np.isfinite(result.twin_by_lead.to_numpy()))
    # The folds' own rows are unchanged in shape: the twin is kept apart.
    assert set(result.folds["method"]) >= {"model", "naive"}
    assert "model" in set(result.by_lead.index)


def test_the_twin_goes_into_the_record_and_back(with_covariates) -> None:
    record = with_covariates.to_record()
    data = json.loads(json.dumps(record.to_dict()))
    assert set(data["without_covariates"]) == {"model"}
    twin = with_covariates.without_covariates.loc["model"]
    assert data["without_covariates"]["model"]["mase"] == pytest.approx(twin["mase"])
    assert len(data["without_covariates_by_lead"]["model"]) == 6
    back = BacktestSummary.from_dict(data)
    assert back == record
    assert back.without_covariates["model"].mae == pytest.approx(twin["mae"])


def test_no_fold_reads_a_past_covariate_after_its_origin(
    covariate_series, tiny_config, with_covariates
) -> None:
    """Poisoning the past covariate from fold 1's origin on leaves fold 1's forecasts
    unchanged (the network with covariates and the baselines)."""
    first = fold_origins(len(covariate_series), 6, 2)[0]
    extra = covariate_series.extra.copy()
    extra.iloc[first:, extra.columns.get_loc("temp")] = 1e3
    poisoned = TimeSeries(
        covariate_series.values, covariate_series.index, covariate_series.freq, extra=extra
    )
    again = backtest(poisoned.head(first + 6), tiny_config, 1, roles=ROLES)

    def fold(run, k):
        rows = run.forecasts[run.forecasts["fold"] == k]
        return rows.sort_values(["method", "lead"]).reset_index(drop=True)

    np.testing.assert_array_equal(fold(again, 1)["forecast"], fold(with_covariates, 1)["forecast"])


def test_an_unknown_covariate_is_refused_before_any_fold_trains(
    covariate_series, tiny_config
) -> None:
    started = []
    with pytest.raises(DataError, match="Unknown column 'tmep'.*temp, promo"):
        backtest(
            covariate_series,
            tiny_config,
            2,
            roles=Roles(past=("tmep",)),
            on_fold=lambda k, n: started.append(k),
        )
    assert started == []
