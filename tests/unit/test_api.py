"""The HTTP API with FastAPI's test client, over real bundles (trained here, saved, and loaded
back through the checked loader): the routes, every refusal with its status and the field it
names, the body cap, the API key, and a server error answered without a traceback."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from forecasting import pipeline
from forecasting.baselines import QUICK_BASELINES
from forecasting.bundle import Bundle, load_bundle
from forecasting.config import RunConfig
from forecasting.covariates import Roles
from forecasting.lineage import Lineage, LineageStep
from forecasting.records import format_timestamps
from forecasting.series import TimeSeries
from forecasting.serving import create_app
from forecasting.serving.app import SERVER_ERROR

with warnings.catch_warnings():  # Starlette >= 1.0 would rather have httpx2 than httpx
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

CAP = 100_000
COVARIATE_TINY = {"units": 4, "epochs": 1, "batch_size": 32, "window": 12, "patience": 0}


def rows(series: TimeSeries, **covariates) -> list[dict]:
    """The history rows of a request: date, value and the series' other columns."""
    stamps = format_timestamps(series.index)
    out = [{"date": d, "value": float(v)} for d, v in zip(stamps, series.values, strict=True)]
    if series.extra is not None:
        for row, (_, extra) in zip(out, series.extra.iterrows(), strict=True):
            row.update(extra.to_dict())
    for row in out:
        row.update(covariates)
    return out


@pytest.fixture(scope="module")
def bundle(monthly_run, tmp_path_factory) -> Bundle:
    path = Bundle.from_run(monthly_run).save(tmp_path_factory.mktemp("api") / "monthly.zip")
    return load_bundle(path)


def hourly(n: int = 200) -> TimeSeries:
    """A target with a past covariate `x` and a future category `shift` (day or night)."""
    idx = pd.date_range("2021-03-01", periods=n, freq="h", name="date")
    rng = np.random.default_rng(1)
    x = rng.normal(size=n).cumsum()
    y = 20 + 4 * np.sin(2 * np.pi * np.arange(n) / 24) + 0.5 * x + rng.normal(0, 0.2, n)
    extra = pd.DataFrame({"x": x, "shift": _shift(idx)}, index=idx)
    return TimeSeries(y, idx, "h", "load", (), extra)


def _shift(index: pd.DatetimeIndex) -> np.ndarray:
    return np.where(index.hour < 8, "night", "day").astype(object)


def future_rows(series: TimeSeries, horizon: int = 6) -> list[dict]:
    stamps = series.future_index(horizon)
    return [
        {"date": d, "shift": s}
        for d, s in zip(format_timestamps(stamps), _shift(stamps), strict=True)
    ]


@pytest.fixture(scope="module")
def covariate_bundle(tmp_path_factory) -> Bundle:
    series = hourly()
    config = RunConfig(horizon=6).with_settings(
        cell="gru", strategy="direct", ensemble=1, **COVARIATE_TINY
    )
    stamps = series.future_index(6)
    future = pd.DataFrame({"shift": _shift(stamps)}, index=stamps)
    run = pipeline.train(
        series,
        config,
        roles=Roles(past=("x",), future=("shift",), calendar=True),
        future=future,
        baselines=QUICK_BASELINES,
    )
    path = Bundle.from_run(run).save(tmp_path_factory.mktemp("api") / "load.zip")
    return load_bundle(path)


LINEAGE = Lineage(
    [LineageStep("ab" * 32, "fine-tuned", "2000-01-01", "2012-06-01", 12, "2026-11-30T20:00:00")]
)


@pytest.fixture(scope="module")
def updated_bundle(monthly_run, tmp_path_factory) -> Bundle:
    """A bundle that records an update in its lineage, saved and loaded back."""
    bundle = dataclasses.replace(Bundle.from_run(monthly_run), lineage=LINEAGE)
    return load_bundle(bundle.save(tmp_path_factory.mktemp("api") / "updated.zip"))


@pytest.fixture(scope="module")
def client(bundle, covariate_bundle, updated_bundle) -> TestClient:
    served = {"monthly": bundle, "load": covariate_bundle, "updated": updated_bundle}
    return TestClient(create_app(served, max_body_bytes=CAP))


def post(client, name: str, body) -> tuple[int, dict]:
    """POST raw JSON (NaN allowed in it, as Python's json writes it)."""
    response = client.post(
        f"/v1/models/{name}/forecast",
        content=json.dumps(body),
        headers={"content-type": "application/json"},
    )
    return response.status_code, response.json()


# ------------------------------------------------------------------------------ routes
def test_healthz_and_docs(client):
    assert client.get("/healthz").json() == {"status": "ok", "models": 3}
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/healthz", "/v1/models", "/v1/models/{name}/forecast"} <= set(paths)


def test_models_describes_each_model(client, monthly_series):
    models = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    monthly, load = models["monthly"], models["load"]
    assert (monthly["cell"], monthly["frequency"], monthly["horizon"]) == ("gru", "MS", 6)
    assert monthly["trained"] == {
        "first": "2000-01-01",
        "last": format_timestamps(monthly_series.index[-1:])[0],
        "length": len(monthly_series),
    }
    assert monthly["columns"] == [{"name": "value", "role": "target", "kind": "numeric"}]
    assert monthly["metrics"]["test"]["model"]["mase"] > 0
    assert monthly["levels"] == [0.8, 0.95] and monthly["lineage"] is None
    assert load["columns"] == [
        {"name": "load", "role": "target", "kind": "numeric"},
        {"name": "x", "role": "past", "kind": "numeric"},
        {"name": "shift", "role": "future", "kind": "categorical"},
    ]
    assert load["calendar"] is True and load["frequency"] == "h"
    assert models["updated"]["lineage"] == LINEAGE.to_dict()


def test_forecast_is_the_bundles_forecast(client, bundle, monthly_series):
    later = TimeSeries.from_values(monthly_series.values[:100], freq="MS", start="2001-01-01")
    status, body = post(client, "monthly", {"history": rows(later)})
    assert status == 200 and body["model"] == "monthly" and body["level"] == 0.95
    expected = bundle.forecast(later)
    assert [p["date"] for p in body["forecast"]] == format_timestamps(pd.Index(expected["date"]))
    got = pd.DataFrame(body["forecast"])
    for column in ("forecast", "lower", "upper"):
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-12)
    status, short = post(client, "monthly", {"history": rows(later), "horizon": 2, "level": 0.8})
    assert status == 200 and len(short["forecast"]) == 2
    assert short["forecast"][0]["forecast"] == body["forecast"][0]["forecast"]
    narrow, wide = short["forecast"][1], body["forecast"][1]
    assert wide["lower"] < narrow["lower"] < narrow["forecast"] < narrow["upper"] < wide["upper"]


def test_forecast_with_covariates(client, covariate_bundle):
    series = hourly()
    body = {"history": rows(series), "future": future_rows(series)}
    status, answer = post(client, "load", body)
    assert status == 200, answer
    stamps = series.future_index(6)
    future = pd.DataFrame({"shift": _shift(stamps)}, index=stamps)
    expected = covariate_bundle.forecast(series, future)
    np.testing.assert_allclose(
        [p["forecast"] for p in answer["forecast"]], expected["forecast"], rtol=1e-12
    )


# ------------------------------------------------------------------------------ refusals
def _monthly(n: int = 40, start: str = "2010-01-01", freq: str = "MS") -> list[dict]:
    values = 100 + 10 * np.sin(np.arange(n) / 2)
    return rows(TimeSeries.from_values(values, freq=freq, start=start))


def _with(history: list[dict], i: int, **changes) -> list[dict]:
    return [dict(row, **changes) if k == i else row for k, row in enumerate(history)]


REFUSALS = {
    "too short": ({"history": _monthly(11)}, "history", "window of 12"),
    "wrong frequency": ({"history": _monthly(40, freq="D")}, "history.date", "daily"),
    "off the grid": (
        {"history": [dict(row, date=row["date"][:8] + "15") for row in _monthly(40)]},
        "history[0].date",
        "the next one is 2010-02-01",
    ),
    "a gap": (
        {"history": _monthly(40)[:20] + _monthly(40)[21:]},
        "history[20].date",
        "no row for 2011-09-01",
    ),
    "out of order": (
        {"history": _monthly(40)[::-1]},
        "history[1].date",
        "is not after",
    ),
    "not a date": ({"history": _with(_monthly(40), 3, date="soon")}, "history[3].date", "ISO"),
    "nan value": (
        {"history": _with(_monthly(40), 5, value=float("nan"))},
        "history[5].value",
        "finite",
    ),
    "infinite value": (
        {"history": _with(_monthly(40), 6, value=float("inf"))},
        "history[6].value",
        "finite",
    ),
    "text value": ({"history": _with(_monthly(40), 2, value="x")}, "history[2].value", ""),
    "horizon beyond": ({"history": _monthly(40), "horizon": 7}, "horizon", "at most 6"),
    "horizon zero": ({"history": _monthly(40), "horizon": 0}, "horizon", ""),
    "level not calibrated": ({"history": _monthly(40), "level": 0.9}, "level", "0.8, 0.95"),
    "level out of range": ({"history": _monthly(40), "level": 95}, "level", ""),
    "future for a model without": (
        {"history": _monthly(40), "future": [{"date": "2013-05-01", "x": 1.0}]},
        "future",
        "no future covariates",
    ),
    "unknown key": ({"history": _monthly(40), "horizn": 3}, "horizn", ""),
    "no history": ({"horizon": 3}, "history", "required"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_bad_requests_name_the_field(client, case):
    body, field, words = REFUSALS[case]
    status, answer = post(client, "monthly", body)
    assert status == 422, answer
    assert answer["field"] == field
    assert answer["detail"].startswith(f"{field}: ") and words in answer["detail"]


def test_covariate_refusals_name_the_field(client):
    series = hourly()
    history, future = rows(series), future_rows(series)
    cases = [
        ({"history": history}, "future", "'shift'"),
        ({"history": history, "future": future[:5]}, "future", "no row for 2021-03-09 13:00"),
        ({"history": history, "future": _with(future, 2, shift=3)}, "future[2].shift", "texts"),
        (
            {
                "history": [{k: v for k, v in r.items() if k != "x"} for r in history],
                "future": future,
            },
            f"history[{len(history) - 12}].x",
            "missing",
        ),
        ({"history": _with(history, 190, x="high"), "future": future}, "history[190].x", "numbers"),
        ({"history": _with(history, 191, x=None), "future": future}, "history[191]", "finite"),
        (
            {"history": _with(history, 195, shift="dusk"), "future": future},
            "history",
            "never seen in training",
        ),
    ]
    for body, field, words in cases:
        status, answer = post(client, "load", body)
        assert status == 422 and answer["field"] == field, answer
        assert words in answer["detail"], answer


def test_unknown_model_and_route(client):
    status, answer = post(client, "nope", {"history": _monthly(40)})
    assert status == 404 and answer["field"] == "name"
    assert "'nope'" in answer["detail"] and "monthly" in answer["detail"]
    assert client.get("/v2/nothing").status_code == 404


def test_body_that_is_not_json(client):
    response = client.post(
        "/v1/models/monthly/forecast",
        content=b'{"history": [',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["field"] == "body"


# ------------------------------------------------------------------------------ limits
def test_body_cap_by_declared_and_by_streamed_size(client):
    big = json.dumps({"history": _monthly(40), "pad": "x" * CAP}).encode()
    response = client.post(
        "/v1/models/monthly/forecast", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and f"{CAP:,} bytes" in response.json()["detail"]

    def chunks():  # no Content-Length: sent chunked
        for start in range(0, len(big), 10_000):
            yield big[start : start + 10_000]

    response = client.post(
        "/v1/models/monthly/forecast",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and response.json()["field"] == "body"

    small = json.dumps({"history": _monthly(40)}).encode()
    response = client.post(
        "/v1/models/monthly/forecast",
        content=iter([small[:100], small[100:]]),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200


def test_api_key(bundle):
    client = TestClient(create_app({"monthly": bundle}, api_key="s3cret-key"))
    body = {"history": _monthly(40)}
    assert client.get("/healthz").status_code == 200  # open: for load balancers
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": "s3cret-ke"}):
        for response in (
            client.get("/v1/models", headers=headers),
            client.post("/v1/models/monthly/forecast", json=body, headers=headers),
        ):
            assert response.status_code == 401, headers
            assert response.json()["field"] == "X-API-Key"
    good = {"X-API-Key": "s3cret-key"}
    assert client.get("/v1/models", headers=good).status_code == 200
    assert client.post("/v1/models/monthly/forecast", json=body, headers=good).status_code == 200


def test_server_error_has_no_traceback_and_the_server_goes_on(bundle, monthly_run, caplog):
    """A bundle whose 80% band widths are broken (an internal fault, not a bad request): its
    forecast at 0.8 fails deep in numpy; the answer is a plain 500, the log has the
    traceback, and the next requests are answered."""
    broken = load_bundle(Bundle.from_run(monthly_run).to_bytes())
    broken.intervals.widths[0.8] = np.array([1.0, 2.0])  # 2 widths for a horizon of 6
    client = TestClient(create_app({"monthly": bundle, "broken": broken}))
    body = {"history": _monthly(40), "level": 0.8}
    with caplog.at_level("ERROR", logger="forecasting.serving"):
        response = client.post("/v1/models/broken/forecast", json=body)
    assert response.status_code == 500
    assert response.json() == {"detail": SERVER_ERROR, "field": None}
    assert "Traceback" not in response.text and "broadcast" not in response.text
    assert "broadcast" in caplog.text  # the cause, in the server's log
    assert client.get("/healthz").status_code == 200
    assert client.post("/v1/models/monthly/forecast", json=body).status_code == 200
    assert (
        client.post("/v1/models/broken/forecast", json={**body, "level": 0.95}).status_code == 200
    )
