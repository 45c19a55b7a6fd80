"""Fitting a Keras network with the callbacks a UI needs: epoch events, early stopping with
the best weights restored, a cancel flag checked after every batch, seeds, clipping."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from forecasting.config import TrainConfig
from forecasting.errors import TrainingError


@dataclass(frozen=True)
class EpochEvent:
    """One finished epoch, as a UI draws it.

    Attributes:
        epoch: 1-based epoch number within the current network.
        epochs: The most epochs this network may run.
        loss: Training loss.
        val_loss: Validation loss (None without a validation part).
        elapsed: Seconds since this network started training.
        member: 1-based index of the network in the ensemble.
        members: Networks in the ensemble.
    """

    epoch: int
    epochs: int
    loss: float
    val_loss: float | None
    elapsed: float
    member: int = 1
    members: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class History:
    """What a fit did: losses per epoch, the epoch whose weights were kept, why it stopped."""

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_by: str = "epochs"  # "epochs" | "early_stopping" | "cancel"
    train_seconds: float = 0.0

    @property
    def epochs_run(self) -> int:
        return len(self.loss)

    @property
    def seconds_per_epoch(self) -> float:
        return self.train_seconds / self.epochs_run if self.epochs_run else 0.0

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(epochs_run=self.epochs_run, seconds_per_epoch=self.seconds_per_epoch)
        return data


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend so that a run repeats."""
    import keras

    keras.utils.set_random_seed(seed)


def _make_callback(config: TrainConfig, history: History, member: int, members: int,
                   on_epoch: Callable[[EpochEvent], None] | None,
                   should_stop: Callable[[], bool] | None):
    import keras

    class _Monitor(keras.callbacks.Callback):
        """Best weights, early stopping, cancel, NaN guard and epoch events in one place."""

        def __init__(self):
            super().__init__()
            self.best = math.inf
            self.best_weights = None
            self.wait = 0
            self.started = time.perf_counter()
            self.nan = False

        def on_train_batch_end(self, batch, logs=None):
            if should_stop is not None and should_stop():
                history.stopped_by = "cancel"
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            loss = float(logs.get("loss", math.nan))
            val = logs.get("val_loss")
            val = None if val is None else float(val)
            history.loss.append(loss)
            if val is not None:
                history.val_loss.append(val)
            if not math.isfinite(loss):
                self.nan = True
                self.model.stop_training = True
                return
            score = val if val is not None and math.isfinite(val) else loss
            if score < self.best:
                self.best, self.wait = score, 0
                self.best_weights = self.model.get_weights()
                history.best_epoch = epoch + 1
            else:
                self.wait += 1
                if config.patience and self.wait >= config.patience:
                    history.stopped_by = "early_stopping"
                    self.model.stop_training = True
            if on_epoch is not None:
                on_epoch(EpochEvent(epoch + 1, config.epochs, loss, val,
                                    time.perf_counter() - self.started, member, members))
            if should_stop is not None and should_stop():
                history.stopped_by = "cancel"
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return _Monitor()


def fit_network(model, x: np.ndarray, y: np.ndarray, validation: tuple | None,
                config: TrainConfig, *, member: int = 1, members: int = 1,
                on_epoch: Callable[[EpochEvent], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> History:
    """Compile and fit `model` on windows `x` -> `y`; the best weights are kept.

    Args:
        model: An uncompiled Keras model.
        x: Inputs, shape `(samples, window, 1)`.
        y: Targets, shape `(samples, outputs)`.
        validation: `(x_val, y_val)` used for early stopping, or None.
        config: Epochs, batch size, learning rate, patience, clipping.
        member: Index of this network in an ensemble (for events).
        members: Size of the ensemble.
        on_epoch: Called after every epoch with an `EpochEvent`.
        should_stop: Polled after every batch; True stops training and keeps the best weights.

    Raises:
        TrainingError: When the loss becomes NaN or infinite before any epoch succeeded.
    """
    import keras

    optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate,
                                      clipnorm=config.clipnorm or None)
    model.compile(optimizer=optimizer, loss=config.loss, jit_compile=False)
    history = History()
    monitor = _make_callback(config, history, member, members, on_epoch, should_stop)
    if should_stop is not None and should_stop():
        history.stopped_by = "cancel"
        return history
    started = time.perf_counter()
    model.fit(x.astype("float32"), y.astype("float32"), epochs=config.epochs,
              batch_size=config.batch_size, shuffle=True, verbose=0, callbacks=[monitor],
              validation_data=None if validation is None else
              tuple(part.astype("float32") for part in validation))
    history.train_seconds = time.perf_counter() - started
    if monitor.nan and monitor.best_weights is None:
        raise TrainingError(
            "Training failed: the loss became NaN in the first epoch. Lower the learning "
            "rate, keep gradient clipping on, or check the series for extreme values."
        )
    return history
