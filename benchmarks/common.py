"""Shared pieces of the benchmarks (and of the tests that start servers): the classic
tutorial data set, epoch timing, a free port and waiting for a started server."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass

import numpy as np

# Debian's Chromium, as the browser tests and the dashboard benchmark launch it (headless,
# no GPU, no background traffic).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


class ServerNotReady(RuntimeError):
    """A started server exited, or did not answer in time."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, for a server started next."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(
    url: str, process: subprocess.Popen, timeout: float, poll: float = 0.25
) -> None:
    """Poll `url` until it answers 200 (the short wait is between polls).

    Raises:
        ServerNotReady: When `process` exits first, or after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerNotReady(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(poll)
    raise ServerNotReady(f"{url} did not answer within {timeout:g} s")


RECIPE_WINDOW = 50
RECIPE_SEED = 0


@dataclass(frozen=True)
class RecipeData:
    """The tutorial's windows, split as the tutorial splits them.

    Attributes:
        x_fit, y_fit: What `fit(..., validation_split=0.1)` trains on (first 90% of the
            training windows, in their shuffled order).
        x_val, y_val: The validation tail `validation_split=0.1` takes.
        x_test, y_test: The 20% of windows held out at random.
    """

    x_fit: np.ndarray
    y_fit: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def x_train(self) -> np.ndarray:
        return np.concatenate([self.x_fit, self.x_val])

    @property
    def y_train(self) -> np.ndarray:
        return np.concatenate([self.y_fit, self.y_val])


def recipe_data(
    window: int = RECIPE_WINDOW, seed: int = RECIPE_SEED, points: int = 10_000
) -> RecipeData:
    """x = sin(t) + N(0, 0.1) for t = 0, 0.1, ..., MinMax-scaled to [-1, 1]; windows of
    `window` values -> the next value; 80/20 split at random; the last 10% of the training
    windows validate (what Keras' `validation_split=0.1` takes)."""
    rng = np.random.default_rng(seed)
    t = np.arange(points) * 0.1
    series = np.sin(t) + rng.normal(0.0, 0.1, points)
    low, high = series.min(), series.max()
    scaled = 2 * (series - low) / (high - low) - 1
    frames = np.lib.stride_tricks.sliding_window_view(scaled, window + 1)
    x = frames[:, :window, None].astype("float32")
    y = frames[:, window:].astype("float32")
    order = rng.permutation(len(x))
    n_test = int(round(0.2 * len(x)))
    train, test = order[n_test:], order[:n_test]
    n_fit = int(len(train) * 0.9)  # Keras: split_at = int(n * (1 - validation_split))
    fit, val = train[:n_fit], train[n_fit:]
    return RecipeData(x[fit], y[fit], x[val], y[val], x[test], y[test])


def epoch_timer():
    """A Keras callback recording the wall time of every epoch (fit-loop time, including
    the validation pass and callbacks) in `.times`."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times: list[float] = []
            self._start = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._start)

    return EpochTimer()


def steady_mean(times: list[float]) -> float:
    """Mean seconds per epoch without the first epoch (which includes tracing and
    compilation); the plain mean when there is only one epoch."""
    rest = times[1:] or times
    return float(np.mean(rest)) if rest else 0.0
