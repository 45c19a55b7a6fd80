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
        "Flatten",
        "Concatenate",
    }
)
# Windows up to this length are unrolled on the TensorFlow backend: a static graph runs the
# recurrence 2-3x faster on CPU than a while loop. Not on JAX, where XLA takes minutes to
# compile an unrolled network and its `scan` is fast already.
UNROLL_MAX_WINDOW = 64


def build_model(
    config: ModelConfig,
    window: int,
    outputs: int,
    *,
    dense_units: int = 0,
    features: int = 1,
    known_ahead: int = 0,
):
    """Build (uncompiled) a stacked recurrent network.

    Args:
        config: Cell kind, units, layers and dropout.
        window: Input length (steps).
        outputs: Values predicted per window (the horizon for the direct strategy, else 1).
        dense_units: Units of a hidden Dense layer before the output (0: none; the
            tutorial recipe of `benchmarks/speed.py` has one of 25).
        features: Values per input step (the target, then covariate features).
        known_ahead: Known-ahead features per future step (future covariates, calendar):
            when non-zero a second input `(batch, outputs, known_ahead)` joins the recurrent
            output before the direct head.

    Returns:
        A `keras.Model` mapping `(batch, window, features)` (and the known-ahead input) to
        `(batch, outputs)`.
    """
    import keras

    from forecasting.native import install

    install()
    cell = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[
        config.cell
    ]
    inputs = keras.Input(shape=(window, features), name="window")
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
    if known_ahead:
        ahead = keras.Input(shape=(outputs, known_ahead), name="ahead")
        flat = keras.layers.Flatten(name="ahead_flat")(ahead)
        x = keras.layers.Concatenate(name="with_ahead")([x, flat])
        inputs = [inputs, ahead]
    if dense_units:
        x = keras.layers.Dense(dense_units, name="hidden")(x)
    outputs_layer = keras.layers.Dense(outputs, name="forecast")(x)
    return keras.Model(inputs, outputs_layer, name=f"{config.cell}_forecaster")
