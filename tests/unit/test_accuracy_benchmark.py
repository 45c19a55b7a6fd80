"""The accuracy benchmark: held-out cycles on the shared series, the M4 groups, the scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks import accuracy
from forecasting.evaluation import mase_scale, metrics


def test_each_origin_holds_out_an_earlier_cycle_with_at_most_1000_points_before(
    tmp_path, monkeypatch
):
    dates = pd.date_range("2000-01-01", periods=1100, freq="D")
    values = np.sin(np.arange(1100) / 10) + 20
    pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Temp": values}).to_csv(
        tmp_path / "daily-min-temperatures.csv", index=False
    )
    monkeypatch.setattr(accuracy, "SHARED", tmp_path)
    cases = [c for c in accuracy.shared_cases(3) if c.group == "shared D"]
    assert [c.name for c in cases] == [
        "daily-min-temperatures",
        "daily-min-temperatures -1",
        "daily-min-temperatures -2",
    ]
    for back, case in enumerate(cases):
        assert case.horizon == 14 and len(case.series) == 1014
        assert case.series.index[-1] == dates[-1 - 14 * back]
        np.testing.assert_allclose(
            case.series.values, values[1100 - 14 * back - 1014 : 1100 - 14 * back]
        )
    assert len([c for c in accuracy.shared_cases() if c.group == "shared D"]) == 1


def _write_m4(path, ids, train, horizon, freq):
    rows = []
    for k, name in enumerate(ids):
        dates = pd.date_range("2000-01-02", periods=train + horizon, freq=freq)
        rows.append(
            pd.DataFrame(
                {
                    "series_id": name,
                    "date": dates.strftime("%Y-%m-%d %H:%M"),
                    "value": np.arange(train + horizon) + 100.0 * k,
                    "split": ["train"] * train + ["test"] * horizon,
                }
            )
        )
    pd.concat(rows).to_csv(path, index=False)


def test_m4_cases_sample_series_and_hold_out_the_official_test_part(tmp_path, monkeypatch):
    _write_m4(tmp_path / "m4_weekly_dev100.csv", [f"W{k}" for k in range(6)], 40, 13, "W-SUN")
    _write_m4(tmp_path / "m4_hourly_dev100.csv", ["H1", "H2"], 100, 48, "h")
    monkeypatch.setattr(accuracy, "SHARED", tmp_path)
    cases = accuracy.m4_cases(3, seed=0)
    weekly = [c for c in cases if c.group == "M4 weekly"]
    assert len(weekly) == 3 and len({c.name for c in weekly}) == 3
    assert [c.name for c in weekly] == [c.name for c in accuracy.m4_cases(3, seed=0)[:3]]
    hourly = [c for c in cases if c.group == "M4 hourly"]
    assert sorted(c.name for c in hourly) == ["H1", "H2"]
    for case in weekly:
        assert (case.horizon, case.scoring_period, case.series.freq) == (13, 1, "W-SUN")
        assert len(case.series) == 53
        offset = 100.0 * int(case.name[1:])
        np.testing.assert_allclose(case.series.values, np.arange(53) + offset)
    assert {(c.horizon, c.scoring_period, len(c.series)) for c in hourly} == {(48, 24, 148)}
    assert accuracy.m4_cases(0, seed=0) == []


def test_m4_cases_refuse_a_file_without_the_test_part_at_the_end(tmp_path, monkeypatch):
    _write_m4(tmp_path / "m4_weekly_dev100.csv", ["W1"], 40, 12, "W-SUN")
    monkeypatch.setattr(accuracy, "SHARED", tmp_path)
    with pytest.raises(ValueError, match="W1 does not end in exactly 13 test points"):
        accuracy.m4_cases(3, seed=0)


def test_groups_are_picked_by_words_in_their_names(monthly_series):
    cases = [
        accuracy.Case(group, "x", monthly_series, 6)
        for group in ("M4 weekly", "M4 hourly", "M1 MONTHLY", "shared MS")
    ]
    picked = accuracy.select_groups(cases, "weekly, Hourly")
    assert [c.group for c in picked] == ["M4 weekly", "M4 hourly"]
    assert accuracy.select_groups(cases, None) == cases
    with pytest.raises(SystemExit, match="daily matches no group.*M4 hourly"):
        accuracy.select_groups(cases, "weekly,daily")


def test_worst_ratio_names_the_catastrophic_series():
    score = accuracy.GroupScore(names=["a", "b", "c"])
    score.mase["network"] = [0.5, 9.0, 1.0]
    score.mase["naive"] = [1.0, 1.0, 0.0]
    assert score.worst_ratio() == (9.0, "b")


def test_a_case_is_scored_on_the_runs_own_test_part_with_bands(monthly_series, tiny_config):
    """The run's test part is the held-out horizon; MASE uses the case's scoring period
    (M4's m = 1 here, not the run's 12); coverage and MSIS come from the run's bands."""
    score = accuracy.GroupScore()
    case = accuracy.Case("M4 weekly", "m", monthly_series, 6, scoring_period=1)
    accuracy.score_case(case, tiny_config, score)
    values = monthly_series.values
    naive = np.full(6, values[-7])
    expected = metrics(values[-6:], naive, mase_scale(values[:-6], 1))["mase"]
    assert score.mase["naive"] == [pytest.approx(expected)]
    for level in (0.8, 0.95):
        (share,) = score.coverage[level]
        assert share * 6 == pytest.approx(round(share * 6))
    assert np.isfinite(score.msis[0]) and score.msis[0] > 0
    assert score.names == ["m"] and score.fallbacks == 0


def test_a_run_tested_on_another_part_is_refused(monthly_run):
    with pytest.raises(RuntimeError, match="not the held-out last 6 of 150"):
        accuracy.check_test_part(monthly_run, 150, 6)
