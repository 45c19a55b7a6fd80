"""The HTTP API (FastAPI) over bundles loaded once, at start, by the checked loader.

Routes: `GET /healthz`, `GET /v1/models`, `POST /v1/models/{name}/forecast`, OpenAPI docs at
`/docs`. Every error is JSON `{"detail": message, "field": path}`: 4xx for a bad request
(the message names the field and the fix), 413 for a body over the cap, 401 without the right
`X-API-Key` (when a key is set; compared in constant time), 500 with a plain message for
anything unexpected (the traceback goes to the server's log only; the server keeps serving).
Forecasts run in FastAPI's thread pool; a lock per model serializes the calls into its
networks (Keras models are not documented as safe to call from several threads at once).
"""

from __future__ import annotations

import hmac
import logging
import math
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException

from forecasting.bundle import Bundle
from forecasting.errors import ForecastingError
from forecasting.frequency import describe_frequency
from forecasting.pipeline import forecast_frame
from forecasting.records import format_timestamps
from forecasting.serving.inputs import FieldError, future_table, history_series
from forecasting.serving.limits import DEFAULT_MAX_BODY_BYTES, BodyLimit
from forecasting.serving.schemas import (
    Column,
    ErrorBody,
    ForecastRequest,
    ForecastResponse,
    Health,
    ModelInfo,
    ModelList,
    TrainedSpan,
)
from forecasting.verdict import model_label

log = logging.getLogger("forecasting.serving")
API_KEY_HEADER = "X-API-Key"
SERVER_ERROR = "The server failed to answer this request (an internal error, logged). Try again."
_ERRORS = {status: {"model": ErrorBody} for status in (401, 404, 413, 422)}


@dataclass
class ServedModel:
    """A loaded bundle, its description and the lock around its networks."""

    name: str
    bundle: Bundle
    info: ModelInfo
    lock: threading.Lock = field(default_factory=threading.Lock)

    def forecast(self, request: ForecastRequest) -> ForecastResponse:
        """The forecast after the request's history (the bundle's own forecasting and
        checks); `ForecastingError` for a request it refuses."""
        bundle, horizon = self.bundle, self.bundle.config.horizon
        asked = request.horizon or horizon
        if asked > horizon:
            raise FieldError(
                "horizon",
                f"{asked} steps, but this model forecasts at most {horizon}. Ask for {horizon} "
                f"or fewer, or train a model with --horizon {asked}.",
            )
        level = self._level(request.level)
        series = history_series(bundle, request.history)
        future = future_table(bundle, request.future, series)
        with self.lock:
            frame = bundle.forecast(series, future)
        if level != bundle.config.level:
            frame = forecast_frame(
                pd.Index(frame["date"]), frame["forecast"].to_numpy(), bundle.intervals, level
            )
        frame = frame.iloc[:asked]
        numbers = frame[["forecast", "lower", "upper"]].to_numpy(dtype=float)
        if not np.isfinite(numbers).all():
            raise FieldError(
                "history",
                "the model's forecast after this history is not a finite number: are the "
                "values far outside those it was trained on?",
            )
        stamps = format_timestamps(pd.Index(frame["date"]))
        points = [
            {"date": stamp, "forecast": row[0], "lower": row[1], "upper": row[2]}
            for stamp, row in zip(stamps, numbers.tolist(), strict=True)
        ]
        return ForecastResponse(forecast=points, model=self.name, level=level)

    def _level(self, asked: float | None) -> float:
        levels = sorted(self.bundle.intervals.widths)
        if asked is None:
            return self.bundle.config.level
        for level in levels:
            if math.isclose(level, asked, abs_tol=1e-9):
                return level
        raise FieldError(
            "level",
            f"{asked}: this model's bands were calibrated at "
            f"{', '.join(f'{v:g}' for v in levels)}. Ask for one of those.",
        )


def describe(name: str, bundle: Bundle) -> ModelInfo:
    """What `GET /v1/models` says of one model."""
    config, series, roles = bundle.config, bundle.series, bundle.roles
    encoder = bundle.encoder
    columns = [Column(name=str(series.get("name", "value")), role="target", kind="numeric")]
    for role in ("past", "future", "static"):
        for column in getattr(roles, role):
            kind = "not read" if role == "static" else "numeric"
            if encoder is not None and column in encoder.categories:
                kind = "categorical"
            columns.append(Column(name=column, role=role, kind=kind))
    lineage = getattr(bundle, "lineage", None)
    if hasattr(lineage, "to_dict"):
        lineage = lineage.to_dict()
    return ModelInfo(
        name=name,
        cell=config.model.cell,
        frequency=series["freq"],
        frequency_words=describe_frequency(series["freq"]),
        horizon=config.horizon,
        window=config.model.window,
        min_history=bundle.min_history,
        model=model_label(config),
        combination=list(bundle.combination),
        level=config.level,
        levels=sorted(bundle.intervals.widths),
        columns=columns,
        calendar=roles.calendar,
        metrics=_finite(bundle.metrics),
        trained=TrainedSpan(
            first=series.get("first"), last=series["last"], length=series.get("length")
        ),
        lineage=_finite(lineage),
    )


def _finite(value):
    """JSON-safe: NaN and infinities (an undefined metric) become null."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def create_app(
    bundles: dict[str, Bundle],
    *,
    api_key: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """The API over already loaded bundles (name -> bundle; load them with
    `forecasting.bundle.load_bundle`, which makes every check).

    Args:
        bundles: The models to serve, by the name in their route.
        api_key: When set, every `/v1/` route wants it in the `X-API-Key` header.
        max_body_bytes: Request bodies above this get 413.
    """
    for bundle in bundles.values():
        bundle.forecaster.serve_compiled()  # a server answers many forecasts: compiled calls
    models = {
        name: ServedModel(name, bundle, describe(name, bundle)) for name, bundle in bundles.items()
    }
    app = FastAPI(
        title="RNN Forecasting Studio",
        summary="Forecasts from trained SimpleRNN/LSTM/GRU bundles.",
        version="1",
        docs_url="/docs",
        redoc_url=None,
    )
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(_ServerErrors)
    _add_error_handlers(app)
    key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)
    expected = None if api_key is None else api_key.encode()

    def check_key(given: str | None = Depends(key_header)) -> None:
        if expected is None:
            return
        if given is None or not hmac.compare_digest(given.encode(), expected):
            raise HTTPException(
                401,
                f"{'A wrong' if given else 'No'} {API_KEY_HEADER} header: this server wants "
                "its API key in it.",
            )

    guarded = {"dependencies": [Depends(check_key)], "responses": _ERRORS}

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Health:
        """Whether the server is up, and how many models it serves (no API key needed)."""
        return Health(status="ok", models=len(models))

    @app.get("/v1/models", response_model=ModelList, tags=["models"], **guarded)
    def list_models() -> ModelList:
        """Every served model: cell, frequency, horizon, columns and roles, metrics, the span
        it was trained on and its lineage."""
        return ModelList(models=[model.info for model in models.values()])

    @app.post(
        "/v1/models/{name}/forecast",
        response_model=ForecastResponse,
        tags=["models"],
        **guarded,
    )
    def forecast(name: str, request: ForecastRequest) -> ForecastResponse:
        """Forecast after the history sent: `horizon` steps (at most the model's) with the
        band at `level`."""
        model = models.get(name)
        if model is None:
            raise HTTPException(
                404,
                f"No model named {name!r}. Served: {', '.join(models) or 'none'} (GET /v1/models).",
            )
        try:
            return model.forecast(request)
        except FieldError as exc:
            raise _Refused(422, str(exc), exc.field) from None
        except ForecastingError as exc:
            raise _Refused(422, str(exc), "history") from None

    return app


class _Refused(Exception):
    """A refusal with its status and field, answered by the error handler."""

    def __init__(self, status: int, detail: str, field: str | None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field


def _add_error_handlers(app: FastAPI) -> None:
    """Every error as `{"detail": ..., "field": ...}`; never a traceback."""

    @app.exception_handler(_Refused)
    async def refused(request: Request, exc: _Refused) -> JSONResponse:
        return _error(exc.status, exc.detail, exc.field)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        field = {401: "X-API-Key", 404: "name"}.get(exc.status_code)
        if exc.status_code == 404 and not str(request.url.path).startswith("/v1/models/"):
            field = None
        return _error(exc.status_code, str(exc.detail), field, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        fields = [_path(e) for e in errors]
        said = [f"{f}: {_message(e)}" for f, e in zip(fields[:5], errors, strict=False)]
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        return _error(422, "; ".join(said) + more, fields[0] if fields else None)


def _error(status: int, detail: str, field: str | None, headers=None) -> JSONResponse:
    return JSONResponse(
        ErrorBody(detail=detail, field=field).model_dump(), status_code=status, headers=headers
    )


def _path(error: dict) -> str:
    """The field of a validation error: ("body", "history", 3, "value") -> "history[3].value"
    (the body itself when it is not JSON)."""
    loc = error.get("loc", ())
    if error.get("type") == "json_invalid" or loc[:1] != ("body",):
        return "body" if loc[:1] == ("body",) else ".".join(map(str, loc))
    parts = list(loc[1:]) or ["body"]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: dict) -> str:
    message = error.get("msg", "invalid")
    if error.get("type") == "json_invalid":
        return "the body is not valid JSON. Send a JSON object."
    return message.removeprefix("Value error, ")


class _ServerErrors:
    """Around the routes and the body cap: an exception that escapes them is logged with its
    traceback (the server's log) and answered 500 with a plain message; the server goes on."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        started = False

        async def watch(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:  # noqa: BLE001 - answered with a plain message, logged here
            log.exception("%s %s failed", scope.get("method", ""), scope.get("path", ""))
            if scope["type"] == "http" and not started:
                await _error(500, SERVER_ERROR, None)(scope, receive, send)


__all__ = ["API_KEY_HEADER", "ServedModel", "create_app", "describe"]
