"""The estimator contract, run over every cell kind and multi-step strategy (like
scikit-learn's `check_estimator`)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from forecasting.config import ModelConfig, TrainConfig
from forecasting.errors import ConfigError, ForecastingError
from forecasting.forecaster import NotFittedError, RNNForecaster
from forecasting.windows import chronological_split

WINDOW, HORIZON, PERIOD = 6, 4, 12


def _forecaster(cell: str, strategy: str) -> RNNForecaster:
    model = ModelConfig(cell=cell, strategy=strategy, window=WINDOW, units=4, ensemble=1)
    train = TrainConfig(epochs=2, batch_size=32, patience=0, seed=3)
    return RNNForecaster(model, train, HORIZON, period=PERIOD)


@pytest.mark.parametrize("strategy", ["recursive", "direct"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_forecaster_contract(cell, strategy, make_values):
    values = make_values(130, seed=7)
    target_len = HORIZON if strategy == "direct" else 1
    split = chronological_split(values.size, WINDOW, HORIZON, 0.2, 0.15, target_len)

    # __init__ only stores settings; nothing fitted yet.
    forecaster = _forecaster(cell, strategy)
    assert forecaster.model.cell == cell and forecaster.horizon == HORIZON
    assert forecaster.target_len == target_len
    for name in ("models_", "preprocessor_", "histories_"):
        assert not hasattr(forecaster, name)

    # Predicting before fit: a clear NotFittedError.
    with pytest.raises(NotFittedError, match=r"not fitted yet\. Call fit\(\) first"):
        forecaster.predict(values, [split.fit_end])
    with pytest.raises(NotFittedError):
        forecaster.forecast(values)
    with pytest.raises(NotFittedError):
        _ = forecaster.history_

    # fit returns self and sets the fitted attributes.
    assert forecaster.fit(values, split) is forecaster
    assert len(forecaster.models_) == 1
    assert forecaster.preprocessor_.seasonal_ is not None
    assert len(forecaster.histories_) == 1
    history = forecaster.history_
    assert history.epochs_run == 2 and 1 <= history.best_epoch <= 2
    assert all(np.isfinite(history.loss)) and len(history.val_loss) == 2
    network = forecaster.models_[0]
    assert tuple(network.input_shape) == (None, WINDOW, 1)
    assert tuple(network.output_shape) == (None, target_len)
    layer_kinds = {type(layer).__name__ for layer in network.layers}
    assert {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}[cell] in layer_kinds

    # predict: (n_origins, horizon), finite, in the units of the series.
    origins = split.origins("test", HORIZON)
    predictions = forecaster.predict(values, origins)
    assert predictions.shape == (origins.size, HORIZON)
    assert np.all(np.isfinite(predictions))
    assert np.all(np.abs(predictions - values.mean()) < 10 * values.std())

    # forecast beyond the end: `horizon` finite values.
    future = forecaster.forecast(values)
    assert future.shape == (HORIZON,) and np.all(np.isfinite(future))
    np.testing.assert_allclose(future, forecaster.predict(values, [values.size])[0])

    # A forecast from an origin reads nothing at or after that origin.
    origin = int(origins[3])
    poisoned = values.copy()
    poisoned[origin:] = 1e6
    np.testing.assert_array_equal(
        forecaster.predict(poisoned, [origin]), forecaster.predict(values, [origin])
    )
    # A later stretch predicts the same when `start` says where it begins.
    np.testing.assert_allclose(
        forecaster.predict(values[20:], [origin - 20], start=20),
        forecaster.predict(values, [origin]),
        rtol=1e-6,
    )

    # The forecaster exports and imports its own fitted state (JSON + the networks).
    state, networks = forecaster.get_state()
    assert json.loads(json.dumps(state)) == state and networks == forecaster.models_
    clone = RNNForecaster.from_state(state, networks)
    assert clone.model == forecaster.model and clone.period == PERIOD
    np.testing.assert_array_equal(clone.predict(values, origins), predictions)
    assert clone.history_.loss == history.loss
    with pytest.raises(ConfigError, match="preprocessing is malformed"):
        RNNForecaster.from_state({**state, "preprocessor": {"scale": 1}}, networks)
    with pytest.raises(ConfigError, match="at least one network"):
        RNNForecaster.from_state(state, [])

    # An origin without a whole window before it is refused with the window length.
    with pytest.raises(ForecastingError, match=f"needs {WINDOW} values"):
        forecaster.predict(values, [WINDOW - 1])

    # The fit never reads the test part: garbage after fit_end changes nothing.
    garbage = values.copy()
    garbage[split.fit_end :] = np.nan
    other = _forecaster(cell, strategy).fit(garbage, split)
    assert other.history_.loss == history.loss
    assert other.history_.val_loss == history.val_loss
    check = np.concatenate([split.origins("val", HORIZON), [split.fit_end]])
    np.testing.assert_array_equal(other.predict(values, check), forecaster.predict(values, check))
    np.testing.assert_array_equal(
        other.forecast(values[: split.fit_end]), forecaster.forecast(values[: split.fit_end])
    )
