"""Fitting a Keras network with the callbacks a UI needs: epoch events, early stopping with
the best weights restored, a cancel flag checked every few batches, seeds, clipping.

Speed on CPU (see `benchmarks/speed.py`):

- `STEPS_PER_EXECUTION` batches run per call of the compiled train step; the batch callbacks,
  and so the cancel check, run once per call, so a cancel takes effect within that many
  batches. It stays 1 (cancel within one batch): 8 measured no faster on JAX and 5-10%
  faster on TensorFlow, within the noise of a shared 2-core machine.
- XLA (`jit_compile`) is used on the JAX backend, where it is the only way to run fast, and not
  on TensorFlow, where compiling an unrolled network on CPU takes minutes.
- Validation runs in batches of up to `VALIDATION_BATCH` windows: one compiled shape instead of
  a second one for a short last batch (JAX compiles every new shape).
"""

from __future__ import annotations

import math
import random
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from forecasting.config import SERIES_LOSS, TrainConfig
from forecasting.errors import NotFittedError, TrainingError
from forecasting.records import JsonRecord

STEPS_PER_EXECUTION = 1
VALIDATION_BATCH = 4096
# With `decay=True` and early stopping on, the learning rate is multiplied by LR_DECAY_FACTOR
# when the monitored loss has not improved for half the patience, at most LR_DECAYS times (a
# plateau schedule: the larger steps find the basin, the smaller ones settle in it). Global
# networks use it: 1,000 generated hourly series, OWA 0.430 with it, 0.438 without
# (`benchmarks/panel.py`); one series at a time it did not help (M1 and Tourism, 32 series of
# `benchmarks/accuracy.py`: OWA 0.905 with it, 0.898 without), so it stays off there.
LR_DECAY_FACTOR = 0.5
LR_DECAYS = 3


def plateau_decay(config: TrainConfig) -> bool:
    """Whether `decay=True` can lower the learning rate: early stopping with a patience of
    at least 2 (half of it is the plateau)."""
    return config.patience > 1


@dataclass(frozen=True)
class EpochEvent(JsonRecord):
    """One finished epoch, as a UI draws it (one line of a job's `events.jsonl`).

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

    @property
    def progress(self) -> float:
        """Share of the whole training done (every network of the ensemble), 0 to 1."""
        done = (self.member - 1) * self.epochs + self.epoch
        return min(1.0, done / max(self.members * self.epochs, 1))

    @property
    def epochs_left(self) -> int:
        """Epochs still allowed over the whole ensemble (early stopping may end sooner)."""
        return max(self.members * self.epochs - (self.member - 1) * self.epochs - self.epoch, 0)


@dataclass
class History:
    """What a fit did: losses per epoch, the epoch whose weights were kept, why it stopped.

    Attributes:
        epoch_seconds: Wall time of every epoch (training, validation and callbacks). The
            first one includes tracing and compiling the network.
        train_seconds: Wall time of the whole `fit` call.
        learning_rates: `(epoch, rate)` for every decay of the learning rate on a plateau:
            the rate used from the epoch after `epoch` on.
    """

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_by: str = "epochs"  # "epochs" | "early_stopping" | "cancel"
    train_seconds: float = 0.0
    epoch_seconds: list[float] = field(default_factory=list)
    learning_rates: list[tuple[int, float]] = field(default_factory=list)

    @property
    def epochs_run(self) -> int:
        return len(self.loss)

    @property
    def seconds_per_epoch(self) -> float:
        """What a user waits per epoch: `train_seconds / epochs_run`, compilation included."""
        return self.train_seconds / self.epochs_run if self.epochs_run else 0.0

    @property
    def steady_seconds_per_epoch(self) -> float:
        """Mean epoch time without the first epoch (which compiles); the first epoch's time
        when only one ran."""
        rest = self.epoch_seconds[1:] or self.epoch_seconds
        return sum(rest) / len(rest) if rest else 0.0

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(
            learning_rates=[list(pair) for pair in self.learning_rates],  # as JSON has them
            epochs_run=self.epochs_run,
            seconds_per_epoch=self.seconds_per_epoch,
            steady_seconds_per_epoch=self.steady_seconds_per_epoch,
        )
        return data

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """Inverse of `to_dict` (the derived figures are recomputed).

        Raises:
            KeyError: A stored field is missing (`epoch_seconds` and `learning_rates` may be:
                older files).
            TypeError: `data` is not a dict.
        """
        if not isinstance(data, dict):
            raise TypeError(f"a history must be an object, not {type(data).__name__}")
        required = ("loss", "val_loss", "best_epoch", "stopped_by", "train_seconds")
        return cls(
            **{key: data[key] for key in required},
            epoch_seconds=list(data.get("epoch_seconds", [])),
            learning_rates=[tuple(pair) for pair in data.get("learning_rates", [])],
        )


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Keras so that a run repeats.

    `keras.utils.set_random_seed` also imports TensorFlow to seed it (seconds and hundreds of
    MB in every job); off TensorFlow the same seeding is done without it.
    """
    import keras

    try:
        from keras.src.backend.common import global_state
        from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
        from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED
    except ImportError:  # another Keras layout: the public way
        global_state = None
    if keras.backend.backend() == "tensorflow" or global_state is None:
        keras.utils.set_random_seed(seed)
        return
    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)


def _make_callback(
    config: TrainConfig,
    history: History,
    member: int,
    members: int,
    on_epoch: Callable[[EpochEvent], None] | None,
    should_stop: Callable[[], bool] | None,
    decay: bool,
):
    import keras

    class _Monitor(keras.callbacks.Callback):
        """Best weights, early stopping, learning-rate decay on a plateau, cancel, NaN guard
        and epoch events in one place."""

        def __init__(self):
            super().__init__()
            self.best = math.inf
            self.best_weights = None
            self.wait = 0
            self.decay_wait = 0
            self.decays = 0
            self.started = time.perf_counter()
            self.epoch_started = self.started
            self.nan = False

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if should_stop is not None and should_stop():
                history.stopped_by = "cancel"
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            history.epoch_seconds.append(time.perf_counter() - self.epoch_started)
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
                self.best, self.wait, self.decay_wait = score, 0, 0
                self.best_weights = self.model.get_weights()
                history.best_epoch = epoch + 1
            else:
                self.wait += 1
                self.decay_wait += 1
                if config.patience and self.wait >= config.patience:
                    history.stopped_by = "early_stopping"
                    self.model.stop_training = True
                elif self._plateau():
                    self.decays += 1
                    self.decay_wait = 0
                    rate = float(self.model.optimizer.learning_rate) * LR_DECAY_FACTOR
                    self.model.optimizer.learning_rate = rate
                    history.learning_rates.append((epoch + 1, rate))
            if on_epoch is not None:
                on_epoch(
                    EpochEvent(
                        epoch + 1,
                        config.epochs,
                        loss,
                        val,
                        time.perf_counter() - self.started,
                        member,
                        members,
                    )
                )
            if should_stop is not None and should_stop():
                history.stopped_by = "cancel"
                self.model.stop_training = True

        def _plateau(self) -> bool:
            """Time to lower the learning rate: half the patience without improvement."""
            return (
                decay
                and plateau_decay(config)
                and self.decays < LR_DECAYS
                and self.decay_wait >= config.patience // 2
            )

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return _Monitor()


def fit_network(
    model,
    x: np.ndarray,
    y: np.ndarray,
    validation: tuple | None,
    config: TrainConfig,
    *,
    member: int = 1,
    members: int = 1,
    on_epoch: Callable[[EpochEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    steps_per_epoch: int | None = None,
    decay: bool = False,
) -> History:
    """Compile and fit `model` on windows `x` -> `y`; the best weights are kept.

    Args:
        model: An uncompiled Keras model.
        x: Inputs, shape `(samples, window, features)`, or a list of input arrays.
        y: Targets, shape `(samples, outputs)`.
        validation: `(x_val, y_val)` used for early stopping, or None.
        config: Epochs, batch size, learning rate, patience, clipping.
        member: Index of this network in an ensemble (for events).
        members: Size of the ensemble.
        on_epoch: Called after every epoch with an `EpochEvent`.
        steps_per_epoch: Batches per epoch when not every window is seen each epoch (each
            epoch continues one shuffled pass where the last stopped); None: all of them.
        should_stop: Polled after every batch (every `STEPS_PER_EXECUTION` batches) and after
            every epoch; True stops training and keeps the best weights.
        decay: Lower the learning rate on a plateau (`LR_DECAY_FACTOR`, `LR_DECAYS`).

    Raises:
        TrainingError: When the loss becomes NaN or infinite before any epoch succeeded.
    """
    import keras

    optimizer = keras.optimizers.Adam(
        learning_rate=config.learning_rate, clipnorm=config.clipnorm or None
    )
    model.compile(
        optimizer=optimizer,
        loss=SERIES_LOSS if config.loss == "auto" else config.loss,
        jit_compile=keras.backend.backend() == "jax",
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    history = History()
    monitor = _make_callback(config, history, member, members, on_epoch, should_stop, decay)
    if should_stop is not None and should_stop():
        history.stopped_by = "cancel"
        return history
    started = time.perf_counter()
    with warnings.catch_warnings():
        # with `steps_per_epoch`, the epoch that reaches the end of a shuffled pass is cut
        # short and the next starts a new pass: intended, not worth Keras' warning
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        model.fit(
            _float32(x),
            y.astype("float32"),
            epochs=config.epochs,
            batch_size=config.batch_size,
            steps_per_epoch=steps_per_epoch,
            shuffle=True,
            verbose=0,
            callbacks=[monitor],
            validation_batch_size=None
            if validation is None
            else max(config.batch_size, min(len(validation[1]), VALIDATION_BATCH)),
            validation_data=None
            if validation is None
            else tuple(_float32(part) for part in validation),
        )
    history.train_seconds = time.perf_counter() - started
    if monitor.nan and monitor.best_weights is None:
        raise TrainingError(
            "Training failed: the loss became NaN in the first epoch. Lower the learning "
            "rate, keep gradient clipping on, or check the series for extreme values."
        )
    return history


def fit_ensemble(
    make_network: Callable[[int], object],
    members: int,
    x,
    y: np.ndarray,
    validation: tuple | None,
    config: TrainConfig,
    *,
    on_epoch: Callable[[EpochEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    steps_per_epoch: int | None = None,
    decay: bool = False,
) -> tuple[list, list[History]]:
    """Fit `members` networks, the i-th (from 0) made by `make_network(i)` with seed
    `config.seed + i` (`fit_network` for the rest). A member cancelled before its first
    epoch ended is left out, and a cancel ends the ensemble.

    Returns:
        The fitted networks and their histories.

    Raises:
        NotFittedError: When the cancel came before the first member's first epoch ended.
    """
    networks, histories = [], []
    for member in range(members):
        set_seed(config.seed + member)
        network = make_network(member)
        history = fit_network(
            network,
            x,
            y,
            validation,
            config,
            member=member + 1,
            members=members,
            on_epoch=on_epoch,
            should_stop=should_stop,
            steps_per_epoch=steps_per_epoch,
            decay=decay,
        )
        if history.epochs_run:
            networks.append(network)
            histories.append(history)
        if history.stopped_by == "cancel":
            break
    if not networks:
        raise NotFittedError(
            "Training was cancelled before the first epoch ended; there is no model to keep. "
            "Train again."
        )
    return networks, histories


def _float32(x):
    """An input array, or a list of them, as float32 (what the network computes in)."""
    if isinstance(x, list):
        return [part.astype("float32", copy=False) for part in x]
    return x.astype("float32", copy=False)
