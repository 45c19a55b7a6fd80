"""A tuning's own settings (a tune job's `options`): budget, trial cap, seed, folds, space and
the final model's ensemble."""

from __future__ import annotations

from dataclasses import dataclass

from forecasting.config import RunConfig
from forecasting.errors import ConfigError
from forecasting.settings import AUTO
from forecasting.tuning.objective import DEFAULT_FOLDS
from forecasting.tuning.space import DEFAULT_SPACE, Space

DEFAULT_BUDGET_S = 180.0  # three minutes
MAX_BUDGET_S = 3600.0  # an hour


@dataclass(frozen=True)
class TuneOptions:
    """Attributes:
    budget_s: Seconds the search may take (0 < budget <= `MAX_BUDGET_S`).
    trials: Most trials, the default configuration included (None: no cap).
    seed: The sampler's seed.
    folds: Rolling-origin folds of the objective.
    space: What to search.
    max_concurrent: Trials at once (None: one per CPU of the cluster).
    final_ensemble: Networks of the final model (None: the run configuration's ensemble).
        Trials train one network per fold whatever it is (`objective.TRIAL_NETWORKS`).
    """

    budget_s: float = DEFAULT_BUDGET_S
    trials: int | None = None
    seed: int = 0
    folds: int = DEFAULT_FOLDS
    space: Space = DEFAULT_SPACE
    max_concurrent: int | None = None
    final_ensemble: int | None = None

    def __post_init__(self) -> None:
        if not (0 < self.budget_s <= MAX_BUDGET_S):
            raise ConfigError(
                f"The time budget must be more than 0 and at most {MAX_BUDGET_S:g} seconds "
                f"(an hour). Received: {self.budget_s:g}. Give e.g. --budget 180."
            )
        if self.trials is not None and self.trials < 1:
            raise ConfigError(
                f"The trial cap must be at least 1 (or none). Received: {self.trials}"
            )
        if self.folds < 1:
            raise ConfigError(f"Tuning needs at least one fold. Received: {self.folds}")
        if self.max_concurrent is not None and self.max_concurrent < 1:
            raise ConfigError(f"Trials at once must be at least 1. Received: {self.max_concurrent}")
        try:  # the setting's own range (0, automatic, is the None above)
            if self.final_ensemble == AUTO:
                raise ConfigError(f"must be at least 1. Received: {self.final_ensemble}")
            RunConfig().with_settings(ensemble=self.final_ensemble)
        except ConfigError as exc:
            raise ConfigError(f"Networks of the final model: {exc}") from None

    def to_dict(self) -> dict:
        return {
            "budget_s": self.budget_s,
            "trials": self.trials,
            "seed": self.seed,
            "folds": self.folds,
            "space": self.space.to_dict(),
            "max_concurrent": self.max_concurrent,
            "final_ensemble": self.final_ensemble,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> TuneOptions:
        """Parse `to_dict`'s JSON (missing keys take their defaults).

        Raises:
            ConfigError: A value of the wrong type or out of range.
        """
        data = dict(data or {})
        try:
            return cls(
                float(data.get("budget_s", DEFAULT_BUDGET_S)),
                None if data.get("trials") is None else int(data["trials"]),
                int(data.get("seed", 0)),
                int(data.get("folds", DEFAULT_FOLDS)),
                Space.from_dict(data["space"]) if data.get("space") else DEFAULT_SPACE,
                None if data.get("max_concurrent") is None else int(data["max_concurrent"]),
                None if data.get("final_ensemble") is None else int(data["final_ensemble"]),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"The tuning options cannot be read ({exc}).") from None
