"""How far a training or a backtest is, from its epoch events: the arithmetic behind the
progress bars, the remaining time and the status lines of the dashboard; and how long a
training may take, estimated before it starts."""

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
        """ " · network 2 of 3" in an ensemble, "" for one network."""
        last = self.last
        return f" · network {last.member} of {last.members}" if last.members > 1 else ""

    @property
    def text(self) -> str:
        """ "Epoch 12 of 100" (and the network in an ensemble)."""
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
    return (
        max(fold - 1, 0) / max(folds, 1),
        f"Backtest: fold {max(fold, 1)} of {folds}, epoch {epoch}",
    )


# Seconds one training window costs per recurrent step in one epoch (forward and backward),
# for a layer of up to BASE_UNITS units on 2 CPU cores: measured 12 to 17 microseconds for a
# GRU of 32 units, window 24, batch 32, on 2 busy cores (load average 5); an idle machine is
# faster, so the estimate is an upper bound.
SECONDS_PER_WINDOW_STEP = 1e-5
BASE_UNITS = 32
# A training estimated longer than this gets a warning before it starts.
LONG_TRAINING_SECONDS = 600


def format_seconds(seconds: float) -> str:
    """ "42 s", "3 min 05 s" or "6 h 50 min"."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass(frozen=True)
class TrainingEstimate:
    """The longest a training may take (every epoch run; early stopping often ends sooner).

    Attributes:
        windows: Training windows per epoch.
        window: Steps per window.
        epochs: Most epochs per network.
        networks: Networks trained (the ensemble, plus scaling candidates compared).
        units: Units per recurrent layer.
        layers: Recurrent layers.
    """

    windows: int
    window: int
    epochs: int
    networks: int
    units: int = BASE_UNITS
    layers: int = 1

    @property
    def seconds(self) -> float:
        """Windows x steps x epochs x networks x the cost of one window step."""
        size = max(self.units / BASE_UNITS, 1.0) * self.layers
        return (
            self.windows
            * self.window
            * self.epochs
            * self.networks
            * size
            * SECONDS_PER_WINDOW_STEP
        )

    @property
    def long(self) -> bool:
        return self.seconds > LONG_TRAINING_SECONDS

    def warning(self, points: int) -> str:
        """A sentence warning of a long training and how to shorten it; "" when it is short.

        Args:
            points: Points in the series.
        """
        if not self.long:
            return ""
        recent = max(points * LONG_TRAINING_SECONDS // max(int(self.seconds), 1), 1)
        return (
            f"This training may take up to about {format_seconds(self.seconds)} "
            f"({self.windows:,} training windows of {self.window} steps x {self.epochs} "
            f"epochs x {self.networks} network{'s' if self.networks > 1 else ''}). To "
            f"make it shorter, resample the series to a coarser frequency (Data page), "
            f"use only its recent part (about the last {recent:,} of its {points:,} "
            f"points trains in {LONG_TRAINING_SECONDS // 60} minutes), or lower the "
            f"epochs or the ensemble size."
        )
