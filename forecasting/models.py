"""SimpleRNN / LSTM / GRU networks built from a `ModelConfig`, with built-in Keras layers only
(so a saved model loads with `safe_mode=True` and nothing in it can run code)."""

from __future__ import annotations

from forecasting.config import ModelConfig

# Every layer class the project creates; bundles with any other class are refused.
ALLOWED_LAYERS = frozenset(
    {
        "InputLayer",
        "SimpleRNN",
        "LSTM",
        "GRU",
        "Dropout",
        "Dense",
        "SimpleRNNCell",
        "LSTMCell",
        "GRUCell",
    }
)
# Windows up to this length are unrolled on the TensorFlow backend: a static graph runs the
# recurrence 2-3x faster on CPU than a while loop. Not on JAX, where XLA takes minutes to
# compile an unrolled network and its `scan` is fast already.
UNROLL_MAX_WINDOW = 64


def build_model(config: ModelConfig, window: int, outputs: int, *, dense_units: int = 0):
    """Build (uncompiled) a stacked recurrent network.

    Args:
        config: Cell kind, units, layers and dropout.
        window: Input length (steps).
        outputs: Values predicted per window (the horizon for the direct strategy, else 1).
        dense_units: Units of a hidden Dense layer before the output (0: none; the
            tutorial recipe of `benchmarks/speed.py` has one of 25).

    Returns:
        A `keras.Model` mapping `(batch, window, 1)` to `(batch, outputs)`.
    """
    import keras

    from forecasting.native import install

    install()
    cell = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[
        config.cell
    ]
    inputs = keras.Input(shape=(window, 1), name="window")
    unroll = window <= UNROLL_MAX_WINDOW and keras.backend.backend() == "tensorflow"
    x = inputs
    for i in range(config.layers):
        x = cell(
            config.units,
            return_sequences=i < config.layers - 1,
            unroll=unroll,
            name=f"{config.cell}_{i + 1}",
        )(x)
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i + 1}")(x)
    if dense_units:
        x = keras.layers.Dense(dense_units, name="hidden")(x)
    outputs_layer = keras.layers.Dense(outputs, name="forecast")(x)
    return keras.Model(inputs, outputs_layer, name=f"{config.cell}_forecaster")
