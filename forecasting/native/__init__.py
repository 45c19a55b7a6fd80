"""Native kernels that Keras' JAX backend runs in place of its own LSTM and GRU loops (CPU).

`install()` is called wherever the project builds or loads a network. Models stay plain
Keras models (saved, loaded and checked as before); only how their LSTM and GRU layers
compute on JAX changes, to float rounding. `FORECASTING_NATIVE=0` (set before the first
network is built) keeps Keras' own loops.
"""

from __future__ import annotations

import os


def install() -> bool:
    """Route Keras' LSTM and GRU layers through the native kernels; True when in use."""
    if os.environ.get("FORECASTING_NATIVE", "1") == "0":
        return False
    import keras

    if keras.backend.backend() != "jax":
        return False
    import jax

    if jax.default_backend() != "cpu":
        return False  # on a GPU Keras' cuDNN path is the fast one
    from keras.src import backend

    from forecasting.native import rnn

    if backend.lstm is rnn.lstm:
        return True
    if not rnn.register():
        return False
    rnn.KERAS.update(lstm=backend.lstm, gru=backend.gru)
    backend.lstm, backend.gru = rnn.lstm, rnn.gru
    return True
