"""Forecasting studio core: RNN forecasting of univariate time series, without a browser.

Keras is imported lazily, only by the functions that train or load a network.
"""

import importlib.util
import os

# Quiet TensorFlow's C++ start-up chatter (CUDA probes, CPU flags) before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Keras runs on JAX when it is installed: on a CPU it trains the default GRU 4-6x and the
# tutorial LSTM about 2x faster per epoch than on TensorFlow (`benchmarks/speed.py`).
# An explicit KERAS_BACKEND wins; TensorFlow stays supported and tested.
if importlib.util.find_spec("jax") is not None:
    os.environ.setdefault("KERAS_BACKEND", "jax")

from forecasting.errors import BundleError, ConfigError, DataError, ForecastingError, TrainingError
from forecasting.series import TimeSeries

__all__ = [
    "BundleError",
    "ConfigError",
    "DataError",
    "ForecastingError",
    "TimeSeries",
    "TrainingError",
]
__version__ = "0.1.0"
