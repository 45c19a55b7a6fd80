"""SimpleRNN / LSTM / GRU networks built from a `ModelConfig`, with built-in Keras layers only
(so a saved model loads with `safe_mode=True` and nothing in it can run code)."""

from __future__ import annotations

from forecasting.config import ModelConfig

# Every layer class the project creates; bundles with any other class are refused.
ALLOWED_LAYERS = frozenset({"InputLayer", "SimpleRNN", "LSTM", "GRU", "Dropout", "Dense",
                            "SimpleRNNCell", "LSTMCell", "GRUCell"})
UNROLL_MAX_WINDOW = 64


def build_model(config: ModelConfig, window: int, outputs: int):
    """Build (uncompiled) a stacked recurrent network.

    Args:
        config: Cell kind, units, layers and dropout.
        window: Input length (steps).
        outputs: Values predicted per window (the horizon for the direct strategy, else 1).

    Returns:
        A `keras.Model` mapping `(batch, window, 1)` to `(batch, outputs)`.
    """
    import keras

    cell = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM,
            "gru": keras.layers.GRU}[config.cell]
    inputs = keras.Input(shape=(window, 1), name="window")
    x = inputs
    for i in range(config.layers):
        # Unrolling short windows trades memory for far fewer loop steps on CPU.
        x = cell(config.units, return_sequences=i < config.layers - 1,
                 unroll=window <= UNROLL_MAX_WINDOW, name=f"{config.cell}_{i + 1}")(x)
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i + 1}")(x)
    outputs_layer = keras.layers.Dense(outputs, name="forecast")(x)
    return keras.Model(inputs, outputs_layer, name=f"{config.cell}_forecaster")
