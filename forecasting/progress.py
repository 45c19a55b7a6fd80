"""How far a training or a backtest is, from its epoch events: the arithmetic behind the
progress bars, the remaining time and the status lines of the dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from forecasting.training import EpochEvent


@dataclass(frozen=True)
class TrainingProgress:
    """Where a training stands after its latest epoch.

    Attributes:
        last: The latest epoch event.
        current: The events of the network training now (one of several in an ensemble).
    """

    last: EpochEvent
    current: list[EpochEvent]

    @property
    def fraction(self) -> float:
        """Share done over every network of the ensemble, 0 to 1."""
        return self.last.progress

    @property
    def seconds_per_epoch(self) -> float:
        """Time per epoch of the network training now. The first epoch also builds the
        graph, so the later ones are timed when there are any."""
        if len(self.current) > 1:
            return (self.current[-1].elapsed - self.current[0].elapsed) / (len(self.current) - 1)
        return self.last.elapsed

    @property
    def remaining_seconds(self) -> float:
        """At most this long to go (early stopping often ends sooner)."""
        return self.seconds_per_epoch * self.last.epochs_left

    @property
    def network_text(self) -> str:
        """" · network 2 of 3" in an ensemble, "" for one network."""
        last = self.last
        return f" · network {last.member} of {last.members}" if last.members > 1 else ""

    @property
    def text(self) -> str:
        """"Epoch 12 of 100" (and the network in an ensemble)."""
        return f"Epoch {self.last.epoch} of {self.last.epochs}{self.network_text}"


def training_progress(events: Sequence[EpochEvent]) -> TrainingProgress | None:
    """The progress after the latest of `events`; None before the first epoch ends."""
    if not events:
        return None
    last = events[-1]
    return TrainingProgress(last, [e for e in events if e.member == last.member])


def backtest_progress(fold: int, folds: int, events: Sequence[EpochEvent]) -> tuple[float, str]:
    """Share of the folds done and a line such as "Backtest: fold 2 of 3, epoch 7"."""
    epoch = events[-1].epoch if events else 0
    return (max(fold - 1, 0) / max(folds, 1),
            f"Backtest: fold {max(fold, 1)} of {folds}, epoch {epoch}")
