"""Forecasting studio core: RNN forecasting of univariate time series, without a browser.

TensorFlow/Keras is imported lazily, only by the functions that train or load a network.
"""

import os

# Quiet TensorFlow's C++ start-up chatter (CUDA probes, CPU flags) before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

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
