"""Lineage: where an updated bundle comes from, recorded in its `bundle.json`.

Each update appends one `LineageStep` to the parent's chain: the SHA-256 of the parent bundle
file, how the new networks were made (unchanged, fine-tuned or retrained), the span of data
the new bundle has seen and when it was made. A bundle written by a training has no lineage
(`None` in its manifest; bundles written before lineage existed load the same way).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from forecasting.errors import BundleError, ConfigError
from forecasting.records import JsonRecord

UNCHANGED, FINE_TUNED, RETRAINED = "unchanged", "fine-tuned", "retrained"
METHODS = (UNCHANGED, FINE_TUNED, RETRAINED)
MAX_STEPS = 1000  # a chain longer than this is not a bundle this studio wrote


@dataclass(frozen=True)
class LineageStep(JsonRecord):
    """One update.

    Attributes:
        parent_sha256: SHA-256 of the parent bundle file (hex).
        method: How the networks were made: "unchanged", "fine-tuned" or "retrained".
        first: First timestamp (or integer step) of the data the bundle has seen.
        last: Last timestamp (or step) of that data: the bundle forecasts after it.
        new_points: Points after the parent's last timestamp.
        made: When the update ran (UTC, ISO text).
    """

    parent_sha256: str
    method: str
    first: str | int
    last: str | int
    new_points: int
    made: str

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(
                f"`method` must be one of {', '.join(METHODS)}. Received: method={self.method!r}"
            )
        digest = self.parent_sha256
        if not (
            isinstance(digest, str)
            and len(digest) == 64
            and all(c in "0123456789abcdef" for c in digest)
        ):
            raise ConfigError("`parent_sha256` must be 64 lowercase hexadecimal digits.")
        if isinstance(self.new_points, bool) or not isinstance(self.new_points, int):
            raise ConfigError(f"`new_points` must be a whole number. Received: {self.new_points!r}")
        for name in ("first", "last"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise ConfigError(f"`{name}` must be a timestamp text or a step number.")


@dataclass(frozen=True)
class Lineage(JsonRecord):
    """The chain of updates that led to a bundle, oldest first."""

    steps: list[LineageStep] = field(default_factory=list)

    @property
    def last(self) -> LineageStep | None:
        return self.steps[-1] if self.steps else None

    def then(self, step: LineageStep) -> Lineage:
        """This chain with `step` appended (a new record)."""
        return Lineage([*self.steps, step])

    def rows(self) -> list[dict]:
        """The chain as table rows, newest first (what the Forecast page shows)."""
        return [
            {
                "update": len(self.steps) - i,
                "made": step.made,
                "method": step.method,
                "data seen": f"{step.first} to {step.last}",
                "new points": step.new_points,
                "parent SHA-256": step.parent_sha256[:12] + "…",
            }
            for i, step in enumerate(reversed(self.steps))
        ]


def read_lineage(data: dict | None) -> Lineage | None:
    """The lineage stored in a manifest (None when the bundle has none).

    Raises:
        BundleError: A malformed record, named.
    """
    if data is None:
        return None
    try:
        lineage = Lineage.from_dict(data)
    except (ConfigError, TypeError) as exc:
        raise BundleError(f"Schema check failed: the lineage is malformed ({exc}).") from None
    if len(lineage.steps) > MAX_STEPS:
        raise BundleError(f"Schema check failed: a lineage holds at most {MAX_STEPS} steps.")
    return lineage


__all__ = ["FINE_TUNED", "METHODS", "RETRAINED", "UNCHANGED", "Lineage", "LineageStep"]
