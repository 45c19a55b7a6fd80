"""The JSON shapes of the HTTP API (pydantic): what a client sends and what it gets back.

A history row is `{"date": ..., "value": ..., <covariate>: ...}`: the covariates are the
row's other keys, each a finite number or a text (a category). A future row is `{"date": ...,
<future covariate>: ...}`. Dates are ISO text (`2024-01-31`, `2024-01-31T13:00:00`), or
whole numbers for a model trained on a series without dates.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

Finite = Annotated[float, Field(allow_inf_nan=False)]
Stamp = StrictStr | StrictInt
MAX_ROWS = 100_000


class _Row(BaseModel):
    """A row with a date and covariates as its other keys."""

    model_config = ConfigDict(extra="allow")

    date: Stamp = Field(description="ISO date or timestamp; a whole number for step series")

    @model_validator(mode="after")
    def _covariates(self) -> _Row:
        for key, value in (self.model_extra or {}).items():
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not (isinstance(value, str) or (number and math.isfinite(value))):
                raise ValueError(
                    f"covariate {key!r} must be a finite number or a text (a category), "
                    f"got {value!r}"
                )
        return self

    @property
    def covariates(self) -> dict[str, Any]:
        """The row's other keys: covariate -> value."""
        return dict(self.model_extra or {})


class HistoryRow(_Row):
    """One observation: the date, the target's value and the covariates at that date."""

    value: Finite = Field(description="the target's value (a finite number)")


class FutureRow(_Row):
    """The future covariates' values at one timestamp of the horizon."""


class ForecastRequest(BaseModel):
    """`POST /v1/models/{name}/forecast`: the history to forecast after."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "history": [
                        {"date": "2024-01-01", "value": 112.0},
                        {"date": "2024-02-01", "value": 118.0},
                    ],
                    "horizon": 6,
                    "level": 0.95,
                }
            ]
        },
    )

    history: list[HistoryRow] = Field(
        min_length=1,
        max_length=MAX_ROWS,
        description="the series, oldest first, one row per timestamp of the model's "
        "frequency without gaps; at least the model's `min_history` rows",
    )
    horizon: int | None = Field(
        default=None, ge=1, description="steps to forecast (default and most: the model's)"
    )
    level: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="band level, one the model was calibrated at (default: its own)",
    )
    future: list[FutureRow] | None = Field(
        default=None,
        max_length=MAX_ROWS,
        description="the future covariates' values at every timestamp of the model's horizon "
        "(only for a model that reads future covariates)",
    )


class ForecastPoint(BaseModel):
    date: Stamp
    forecast: float
    lower: float
    upper: float


class ForecastResponse(BaseModel):
    forecast: list[ForecastPoint]
    model: str
    level: float


class Column(BaseModel):
    name: str
    role: str = Field(description="target, past, future or static")
    kind: str = Field(description="numeric or categorical")


class TrainedSpan(BaseModel):
    first: Stamp | None
    last: Stamp
    length: int | None


class ModelInfo(BaseModel):
    name: str
    cell: str
    frequency: str | None = Field(description="pandas alias; null for integer steps")
    frequency_words: str
    horizon: int
    window: int = Field(description="the network's input window (steps)")
    min_history: int = Field(
        description="the fewest history rows a forecast needs: the window, or more when "
        "the forecast is the network's mean with Theta (and ETS), which are fitted on the "
        "history"
    )
    model: str = Field(description='what forecasts: "GRU", "GRU + Theta", "GRU + ETS + Theta"')
    combination: list[str] = Field(
        default_factory=list,
        description="the simple methods averaged with the network (empty: the network alone)",
    )
    level: float
    levels: list[float]
    columns: list[Column]
    calendar: bool
    metrics: dict
    trained: TrainedSpan
    lineage: dict | list | None = None


class ModelList(BaseModel):
    models: list[ModelInfo]


class Health(BaseModel):
    status: str
    models: int


class ErrorBody(BaseModel):
    """Every error: a message naming the problem and the fix, and the field at fault."""

    detail: str
    field: str | None = None
