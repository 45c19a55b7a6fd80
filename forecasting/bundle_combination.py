"""The combination a bundle records (`forecasting.combination`): its methods and the
history they are fitted on, checked against the configuration when a bundle is loaded."""

from __future__ import annotations

import numpy as np

from forecasting.bundle_archive import MANIFEST
from forecasting.combination import HISTORY_POINTS as COMBINATION_POINTS
from forecasting.combination import members
from forecasting.config import RunConfig
from forecasting.errors import BundleError


def combination_history(
    stored: dict | None, config: RunConfig, last_values: np.ndarray
) -> np.ndarray | None:
    """The history a combination's methods are fitted on, checked against the configuration:
    the methods that `config.combine` names, finite values that end with the last window."""
    wanted = members(config.combine)
    if stored is None and not wanted:
        return None
    if stored is None or sorted(stored) != ["history", "members"]:
        raise BundleError(
            f"Schema check failed: the configuration combines the network with "
            f"{', '.join(wanted) or 'nothing'}, but {MANIFEST}['combination'] "
            f"{'is missing' if stored is None else 'is malformed'}."
        )
    if stored["members"] != list(wanted):
        raise BundleError(
            f"Schema check failed: {MANIFEST}['combination'] names {stored['members']!r} but "
            f"the configuration combines the network with {list(wanted)!r}."
        )
    history = stored["history"]
    try:
        values = np.asarray(history, dtype=float)
    except (TypeError, ValueError):
        values = np.empty(0)
    window = len(last_values)
    if (
        not isinstance(history, list)
        or values.ndim != 1
        or not window <= values.size <= max(COMBINATION_POINTS, window)
        or not np.all(np.isfinite(values))
        or not np.array_equal(values[-window:], last_values)
    ):
        raise BundleError(
            "Schema check failed: the combination's history is malformed (it must hold the "
            "finite values that end with the stored last window)."
        )
    return values
