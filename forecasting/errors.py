"""Typed errors of the core. Their text is shown to users as is: it names the problem and fix."""


class ForecastingError(Exception):
    """Base class of every error the project raises on purpose."""


class DataError(ForecastingError, ValueError):
    """The input data cannot be used; the message says why and what to change."""


class ConfigError(ForecastingError, ValueError):
    """A setting is out of range; the message names the setting and the value received."""


class BundleError(ForecastingError, ValueError):
    """A model bundle failed a check before loading; the message names the check."""


class TrainingError(ForecastingError, RuntimeError):
    """Training could not produce a usable model (for example the loss became NaN)."""


class SeriesTooShortError(DataError):
    """The series is too short for a network with these settings; the message names the
    minimum length and the setting to lower."""


class NotFittedError(ForecastingError, RuntimeError):
    """A forecaster was asked to predict before it was fitted (or every member's training was
    cancelled before its first epoch ended)."""
