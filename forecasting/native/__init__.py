"""Native kernels that Keras' JAX backend runs in place of its own loops (CPU only).

`install()` is called wherever the project builds or loads a network. Models stay plain
Keras models (saved, loaded and checked as before); only how their LSTM layers compute on
JAX changes. `FORECASTING_NATIVE=0` turns the kernels off.
"""

from __future__ import annotations

import os


def install() -> bool:
    """Route Keras' LSTM layers through the native kernels; True when they are in use."""
    if os.environ.get("FORECASTING_NATIVE", "1") == "0":
        return False
    import keras

    if keras.backend.backend() != "jax":
        return False
    import jax

    if jax.default_backend() != "cpu":
        return False  # on a GPU Keras' cuDNN path is the fast one
    from keras.src import backend

    from forecasting.native import lstm

    if getattr(backend, "lstm", None) is lstm.lstm:
        return True
    if not lstm.register():
        return False
    backend.lstm = lstm.lstm
    return True
