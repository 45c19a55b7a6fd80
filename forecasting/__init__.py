"""Forecasting studio core: RNN forecasting of univariate time series, without a browser.

Keras is imported lazily, only by the functions that train or load a network.
"""

import importlib.util
import os


def cache_folder(name: str) -> str:
    """The project's folder `name` in the user's cache ($XDG_CACHE_HOME, else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "forecasting", name)


# Quiet TensorFlow's C++ start-up chatter (CUDA probes, CPU flags) before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Keras runs on JAX when it is installed: on a CPU, with the native LSTM and GRU kernels
# (`forecasting.native`), it trains the tutorial LSTM about 4x faster per epoch than
# TensorFlow does (`benchmarks/speed.py`).
# An explicit KERAS_BACKEND wins; TensorFlow stays supported and tested.
if importlib.util.find_spec("jax") is not None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    # Compiled programs are kept on disk: every training job is its own process and every
    # ensemble member a new model, so without the cache each one compiles again (seconds).
    # All of them, the small ones too (initializers, optimizer set-up, forecast steps): each
    # compiles in a fraction of a second, but there are over a hundred in a default run.
    # Where the folder cannot be made (read-only home), JAX simply compiles every time.
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        _cache = cache_folder("jax")
        try:
            os.makedirs(_cache, exist_ok=True)
            os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
        except OSError:
            pass
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(512 * 2**20))

# Imported after the environment defaults above, which must precede any JAX import.
from forecasting.errors import (  # noqa: E402
    BundleError,
    ConfigError,
    DataError,
    ForecastingError,
    TrainingError,
)
from forecasting.series import TimeSeries  # noqa: E402

__all__ = [
    "BundleError",
    "ConfigError",
    "DataError",
    "ForecastingError",
    "TimeSeries",
    "TrainingError",
]
__version__ = "0.1.0"
