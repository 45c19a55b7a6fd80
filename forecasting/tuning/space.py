"""The search space as data: each dimension a name, a kind and its values or bounds.

A space is plain JSON (`Space.to_dict`), so a job's spec, a page's editor and the CLI share it;
`ray_space` turns it into Ray Tune's sampling functions (in the worker only). The window is
searched in seasonal cycles (half, one or two cycles of the season; `CYCLE_STEPS` steps per
"cycle" for a series without a season); with covariates, the subset of them the network reads
(`inputs`). The ensemble size is not searched: every trial trains one network per fold
(`objective`), and the final model's ensemble is a setting of the tuning (`options`).
"""

from __future__ import annotations

from dataclasses import dataclass

from forecasting.config import CELLS, SCALINGS, RunConfig
from forecasting.covariates import Roles
from forecasting.errors import ConfigError
from forecasting.pipeline import auto_window
from forecasting.tuning.inputs import COVARIATES, inputs_of, subset_label, subsets

KINDS = ("choice", "int", "float", "log")  # log: a float sampled on a log scale
CYCLE_STEPS = 8  # window steps per "cycle" of a series without a season
# Settings a trial does not choose: one network per fold (`objective.TRIAL_NETWORKS`).
NOT_SEARCHED = {
    "ensemble": "every trial trains one network per fold; set the final model's ensemble "
    "(--final-ensemble, or 'Networks in the final model') instead",
}


@dataclass(frozen=True)
class Dimension:
    """One searched setting.

    Attributes:
        name: A `RunConfig` setting, "cycles" (the window in seasonal cycles) or
            "covariates" (the subset of covariates read, `inputs`).
        kind: "choice" (one of `values`), "int", "float" or "log" (between `low` and `high`).
        values: The choices of a "choice" dimension.
        low: Lower bound of a range.
        high: Upper bound of a range.
    """

    name: str
    kind: str
    values: tuple = ()
    low: float = 0.0
    high: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(
                f"Search space: `{self.name}` has kind {self.kind!r}; use one of "
                f"{', '.join(KINDS)}."
            )
        if self.kind == "choice" and not self.values:
            raise ConfigError(f"Search space: `{self.name}` needs at least one value to choose.")
        if self.kind != "choice" and not (self.low <= self.high):
            raise ConfigError(
                f"Search space: `{self.name}` needs low <= high. Received: low={self.low}, "
                f"high={self.high}"
            )
        if self.kind == "log" and self.low <= 0:
            raise ConfigError(f"Search space: `{self.name}` on a log scale needs low > 0.")

    def contains(self, value) -> bool:
        if self.kind == "choice":
            return value in self.values
        return self.low <= value <= self.high

    def including(self, value) -> Dimension:
        """This dimension widened (if needed) to hold `value`."""
        if self.contains(value):
            return self
        if self.kind == "choice":
            return Dimension(self.name, self.kind, (*self.values, value))
        return Dimension(self.name, self.kind, (), min(self.low, value), max(self.high, value))

    def text(self) -> str:
        """`gru, lstm` or `8 to 128 (log)`: what the page and the plan show."""
        if self.kind == "choice":
            return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in self.values)
        return f"{self.low:g} to {self.high:g}" + (" (log scale)" if self.kind == "log" else "")

    def to_dict(self) -> dict:
        if self.kind == "choice":
            return {"name": self.name, "kind": self.kind, "values": list(self.values)}
        return {"name": self.name, "kind": self.kind, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Space:
    """The dimensions searched, in order."""

    dimensions: tuple[Dimension, ...]

    def __post_init__(self) -> None:
        known = {"cycles", COVARIATES} | {f.name for f in _setting_names()}
        known -= set(NOT_SEARCHED)
        for dimension in self.dimensions:
            if dimension.name in NOT_SEARCHED:
                raise ConfigError(
                    f"Search space: `{dimension.name}` is not searched: "
                    f"{NOT_SEARCHED[dimension.name]}."
                )
            if dimension.name not in known:
                raise ConfigError(
                    f"Search space: `{dimension.name}` is not a setting. Use one of "
                    f"{', '.join(sorted(known))}."
                )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    def including(self, point: dict) -> Space:
        """The space widened to hold `point` (so the default can always be evaluated)."""
        return Space(
            tuple(d.including(point[d.name]) if d.name in point else d for d in self.dimensions)
        )

    def to_dict(self) -> dict:
        return {"dimensions": [d.to_dict() for d in self.dimensions]}

    @classmethod
    def from_dict(cls, data: dict) -> Space:
        """Parse `to_dict`'s JSON.

        Raises:
            ConfigError: Not that shape, or an invalid dimension.
        """
        rows = data.get("dimensions") if isinstance(data, dict) else None
        if not isinstance(rows, list) or not rows:
            raise ConfigError(
                'A search space is an object {"dimensions": [...]} with at least one.'
            )
        dimensions = []
        for row in rows:
            if not isinstance(row, dict) or not isinstance(row.get("name"), str):
                raise ConfigError("Each search dimension needs a name.")
            values = row.get("values", [])
            if not isinstance(values, list):
                raise ConfigError(f"Search space: `{row['name']}` values must be a list.")
            try:
                low, high = float(row.get("low", 0.0)), float(row.get("high", 0.0))
            except (TypeError, ValueError):
                raise ConfigError(
                    f"Search space: `{row['name']}` bounds must be numbers."
                ) from None
            dimensions.append(
                Dimension(row["name"], str(row.get("kind")), tuple(values), low, high)
            )
        return cls(tuple(dimensions))


def _setting_names():
    from forecasting.settings import setting_fields

    return setting_fields(RunConfig)


# Small enough that a trial stays cheap (a window of at most two cycles, at most the
# default's 32 units); wider bounds can be typed on the page or given in a job's space.
DEFAULT_SPACE = Space(
    (
        Dimension("cell", "choice", CELLS),
        Dimension("cycles", "choice", (0.5, 1, 2)),
        Dimension("units", "choice", (8, 16, 32)),
        Dimension("layers", "choice", (1, 2)),
        Dimension("dropout", "float", low=0.0, high=0.3),
        Dimension("learning_rate", "log", low=1e-3, high=1e-2),
        Dimension("scaling", "choice", SCALINGS),
    )
)


def with_covariates(space: Space, roles: Roles | None) -> Space:
    """The space with the covariate subsets as a dimension when the data has covariates
    (unchanged when it has none, or already searches them)."""
    choices = subsets(roles)
    if not choices or COVARIATES in space.names:
        return space
    return Space((*space.dimensions, Dimension(COVARIATES, "choice", choices)))


def default_point(config: RunConfig, space: Space, period: int, roles: Roles | None = None) -> dict:
    """The values of `config` on the space's dimensions (the default configuration's point):
    an automatic window in cycles as training resolves it (`pipeline.auto_window`), every
    covariate of `roles`."""
    flat = {**config.model.to_dict(), **config.train.to_dict()}
    point = {}
    for name in space.names:
        if name == "cycles":
            window = config.model.window or auto_window(period)
            point[name] = _cycles(window / _cycle(period))
        elif name == COVARIATES:
            point[name] = subset_label(inputs_of(roles))
        else:
            point[name] = flat[name]
    return point


def _cycles(value: float):
    """Cycles as the space writes them (a whole number as an int), precise enough that
    `window_of` gives the window back."""
    value = round(value, 3)
    return int(value) if value == int(value) else value


def _cycle(period: int) -> int:
    return period if period > 1 else CYCLE_STEPS


def window_of(cycles: float, period: int) -> int:
    """The window of `cycles` seasonal cycles (at least 2 steps)."""
    return max(2, int(round(cycles * _cycle(period))))


def apply_point(config: RunConfig, point: dict, period: int) -> RunConfig:
    """`config` with the point's settings (cycles become the window; the covariates are the
    roles' business, `inputs.subset_roles`).

    Raises:
        ConfigError: A value out of a setting's range (the trial fails with that message).
    """
    settings = {k: _plain(v) for k, v in point.items() if k not in ("cycles", COVARIATES)}
    if "cycles" in point:
        settings["window"] = window_of(point["cycles"], period)
    return config.with_settings(**settings)


def _plain(value):
    """numpy scalars from a sampler as Python numbers."""
    return value.item() if hasattr(value, "item") else value


def ray_space(space: Space) -> dict:
    """Ray Tune's sampling functions for the space (imports Ray: worker processes only)."""
    from ray import tune

    out = {}
    for d in space.dimensions:
        if d.kind == "choice":
            out[d.name] = tune.choice(list(d.values))
        elif d.kind == "int":
            out[d.name] = tune.randint(int(d.low), int(d.high) + 1)
        elif d.kind == "log":
            out[d.name] = tune.loguniform(d.low, d.high)
        else:
            out[d.name] = tune.uniform(d.low, d.high)
    return out


def space_from_texts(texts: dict[str, str], base: Space = DEFAULT_SPACE) -> Space:
    """The space a page's editor describes: for each dimension of `base`, its text as
    `Dimension.text` writes it ("gru, lstm" or "0.0003 to 0.01 (log scale)"); an empty text
    drops the dimension (the base configuration's value is kept).

    Raises:
        ConfigError: A text that cannot be read, naming the setting and the form expected.
    """
    dims = []
    for d in base.dimensions:
        text = str(texts.get(d.name, d.text())).strip()
        if not text:
            continue
        if d.kind == "choice":
            values = tuple(_value(v.strip()) for v in text.split(",") if v.strip())
            dims.append(Dimension(d.name, d.kind, values))
            continue
        parts = text.replace("(log scale)", "").split(" to ")
        try:
            low, high = (float(p) for p in parts)
        except ValueError:
            raise ConfigError(
                f"Search space: `{d.name}` must read 'LOW to HIGH', e.g. {d.text()!r}. "
                f"Received: {text!r}"
            ) from None
        dims.append(Dimension(d.name, d.kind, (), low, high))
    if not dims:
        raise ConfigError("The search space is empty: give at least one setting to search.")
    return Space(tuple(dims))


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
