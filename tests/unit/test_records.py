"""Typed records: nested records in containers, frames as column lists, and the run result
a worker hands the pages (a renamed field fails here, not in a page)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import pytest

from forecasting.covariates import Roles
from forecasting.errors import ConfigError
from forecasting.records import FrameRecord, JsonRecord
from forecasting.results import (
    ForecastFrame,
    RunMetrics,
    RunResult,
    Scores,
    run_result,
)


@dataclass(frozen=True)
class Leaf(JsonRecord):
    value: float = 0.0


@dataclass(frozen=True)
class Tree(JsonRecord):
    leaves: list[Leaf]
    by_name: dict[str, Leaf]
    maybe: Leaf | None = None
    plain: dict[str, float] | None = None


def test_records_inside_lists_dicts_and_optionals_are_rebuilt() -> None:
    tree = Tree([Leaf(1.0)], {"a": Leaf(2.0)}, None, {"x": 1.0})
    assert Tree.from_dict(tree.to_dict()) == tree
    again = Tree.from_dict({"leaves": [], "by_name": {}, "maybe": {"value": 3.0}})
    assert again.maybe == Leaf(3.0)
    with pytest.raises(ConfigError, match="Unknown setting.*colour"):
        Tree.from_dict({"leaves": [{"value": 1, "colour": "red"}], "by_name": {}})
    with pytest.raises(ConfigError, match="Tree.leaves.*list"):
        Tree.from_dict({"leaves": {"value": 1}, "by_name": {}})
    with pytest.raises(ConfigError, match="Tree.by_name.*object"):
        Tree.from_dict({"leaves": [], "by_name": [1]})


@dataclass(frozen=True)
class Steps(FrameRecord):
    date: list
    value: list[float]


def test_frames_round_trip_with_dates_and_with_steps() -> None:
    dates = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=3, freq="h"),
            "forecast": [1.0, 2.0, 3.0],
            "lower": [0.0, 1, 2],
            "upper": [2.0, 3, 4],
            "extra": 0,
        }
    )
    record = ForecastFrame.from_frame(dates)
    assert record.date == ["2020-01-01T00:00:00", "2020-01-01T01:00:00", "2020-01-01T02:00:00"]
    assert len(record) == 3
    back = ForecastFrame.from_dict(json.loads(record.to_json())).to_frame()
    assert list(back.columns) == ["date", "forecast", "lower", "upper"]
    pd.testing.assert_frame_equal(back, dates.drop(columns="extra"), check_dtype=False)
    steps = Steps.from_frame(pd.DataFrame({"date": [5, 6], "value": [1, 2]}))
    assert steps.date == [5, 6] and steps.to_frame()["date"].tolist() == [5, 6]


@pytest.fixture(scope="module")
def result(monthly_run) -> RunResult:
    return run_result(monthly_run, {"value_col": "v"}, "tiny")


def test_a_real_result_round_trips_through_json(result, monthly_run) -> None:
    text = json.dumps(result.to_dict())
    back = RunResult.from_dict(json.loads(text))
    assert json.dumps(back.to_dict()) == text
    assert back.config == monthly_run.config
    assert back.metrics.model.mase == monthly_run.evaluation.metrics["model"]["mase"]
    pd.testing.assert_frame_equal(back.forecast.to_frame(), monthly_run.forecast, check_dtype=False)
    pd.testing.assert_frame_equal(
        back.test_forecast.to_frame(), monthly_run.test_forecast, check_dtype=False
    )
    assert back.series.length == len(monthly_run.series) and back.label == "tiny"
    assert set(back.intervals) >= {"80", "95"}


def test_the_json_shape_the_pages_read_is_stable(result) -> None:
    data = result.to_dict()
    assert set(data) == {
        "label",
        "series",
        "config",
        "data_options",
        "reasons",
        "metrics",
        "history",
        "histories",
        "recent",
        "forecast",
        "one_step",
        "test_forecast",
        "test_start",
        "baselines_test",
        "by_lead",
        "horizon",
        "intervals",
        "winner_forecast",
        "roles",
        "without_covariates",
        "importance",
    }
    assert set(data["forecast"]) == {"date", "forecast", "lower", "upper"}
    assert set(data["metrics"]["test"]["model"]) == {"mae", "rmse", "mape", "smape", "mase"}


@pytest.mark.parametrize(
    "path",
    [
        ("surprise",),
        ("metrics", "surprise"),
        ("metrics", "test", "model", "surprise"),
        ("forecast", "surprise"),
        ("series", "surprise"),
    ],
)
def test_an_unknown_field_anywhere_is_refused(result, path) -> None:
    data = json.loads(json.dumps(result.to_dict()))
    inner = data
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = 1
    with pytest.raises(ConfigError, match="surprise"):
        RunResult.from_dict(data)


def test_a_renamed_or_missing_field_is_refused(result) -> None:
    data = result.to_dict()
    data["metrics"]["test"]["model"]["mase_scaled"] = data["metrics"]["test"]["model"].pop("mase")
    with pytest.raises(ConfigError, match="mase_scaled"):
        RunResult.from_dict(data)
    data = result.to_dict()
    del data["horizon"]
    with pytest.raises(ConfigError, match="horizon"):
        RunResult.from_dict(data)


def test_a_run_without_covariates_records_none(result, monthly_run) -> None:
    assert result.roles == Roles() and result.without_covariates is None
    assert result.importance == {}
    assert "without_covariates" not in result.by_lead
    assert result.by_lead["model"] == monthly_run.evaluation.by_lead("model")


def test_the_covariate_fields_round_trip_through_json(result) -> None:
    with_covariates = result.replace(
        roles=Roles(past=("x",), future=("kind",), calendar=True),
        without_covariates=Scores(mae=1.0, rmse=1.5, mape=None, smape=9.0, mase=1.1),
        by_lead={**result.by_lead, "without_covariates": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]},
        importance={"kind": 0.2, "calendar": 0.05, "x": -0.01},
    )
    text = json.dumps(with_covariates.to_dict())
    back = RunResult.from_dict(json.loads(text))
    assert back == with_covariates and json.dumps(back.to_dict()) == text
    assert back.roles.future == ("kind",) and back.roles.calendar
    assert back.without_covariates.mase == 1.1 and back.without_covariates.mape is None
    assert list(back.importance) == ["kind", "calendar", "x"]  # the order is kept
    data = json.loads(text)
    data["roles"]["colour"] = "red"
    with pytest.raises(ConfigError, match="colour"):
        RunResult.from_dict(data)
    data = json.loads(text)
    data["roles"]["past"] = ["x"]
    data["roles"]["future"] = ["x"]
    with pytest.raises(ConfigError, match="two roles"):
        RunResult.from_dict(data)


def test_a_result_written_before_covariates_still_loads(result) -> None:
    data = result.to_dict()
    for key in ("roles", "without_covariates", "importance"):
        del data[key]
    back = RunResult.from_dict(data)
    assert back.roles == Roles() and back.without_covariates is None and back.importance == {}
    assert back == result


def test_short_name_and_test_part(result) -> None:
    assert result.short_name() == "GRU 4×1, window 12"
    assert result.short_name("20240102-140312-abcd1234") == "GRU 4×1, window 12 · 14:03:12"
    assert result.short_name("odd") == "GRU 4×1, window 12"
    assert result.test_part() == (
        result.series.name,
        150,
        6,
        result.metrics.test_points,
        result.metrics.test_origins,
    )


def metrics_with(level: float, covered: float) -> RunMetrics:
    return RunMetrics(
        1.0,
        3,
        0.3,
        1.2,
        "epochs",
        3,
        12,
        6,
        12,
        30,
        5,
        level,
        covered,
        {"0.8": 0.7, str(level): covered},
        None,
        {"model": Scores(mase=1.0)},
    )


@pytest.mark.parametrize(
    ("covered", "verdict", "words"),
    [
        (0.9, "honest", "about as promised"),
        (0.86, "honest", "about as promised"),
        (0.8, "narrow", "optimistic"),
        (0.99, "wide", "cautious"),
        (float("nan"), None, None),
    ],
)
def test_band_verdict_judges_coverage_against_the_level(covered, verdict, words) -> None:
    metrics = metrics_with(0.9, covered)
    assert metrics.band_verdict() == verdict
    sentence = metrics.band_sentence()
    assert (sentence is None) if words is None else (words in sentence and "90%" in sentence)


def test_metrics_helpers() -> None:
    metrics = metrics_with(0.9, 0.9)
    assert metrics.model.mase == 1.0
    assert metrics.baseline("seasonal_naive") == Scores()
    assert metrics.coverage_by_level == [(0.8, 0.7), (0.9, 0.9)]
