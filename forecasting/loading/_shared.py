"""Helpers every loading step shares: the log of notes and repairs, cell text, and plural and
quoting helpers for the sentences users read."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from forecasting.records import format_timestamps, stamp_texts
from forecasting.series import Repair

STAMP_SAMPLE = 20  # affected timestamps kept in a Repair record
_NA_TOKENS = frozenset(
    {
        "",
        "na",
        "n/a",
        "nan",
        "null",
        "none",
        "-",
        "--",
        "?",
        "#n/a",
        "..",
        "missing",
        "#value!",
        "#div/0!",
    }
)
_COUNTER_NAMES = frozenset({"no", "no.", "id", "index", "#", "row", "n", "unnamed: 0", "nr"})
_DATE_HINT = re.compile(
    r"date|time|month|period|day|week|quarter|year|stamp|epoch|^ds$|^dt$", re.IGNORECASE
)


class _Log:
    """Collects notes (everything the parser did) and repairs (what changed the data)."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.repairs: list[Repair] = []

    def note(self, text: str) -> None:
        self.notes.append(text)

    def repair(self, kind: str, count: int, sentence: str, stamps: pd.Index | None = None) -> None:
        """Record a change to the data: a `Repair` record, and its sentence as a note.

        Args:
            kind: The repair's short machine name (see `Repair`).
            count: Rows, cells or timestamps it touched.
            sentence: The plain sentence users read.
            stamps: The affected timestamps or steps; the first `STAMP_SAMPLE` are kept.
        """
        sample = () if stamps is None else tuple(format_timestamps(stamps[:STAMP_SAMPLE]))
        self.notes.append(sentence)
        self.repairs.append(Repair(kind, int(count), sample, sentence))


_stamp_texts = stamp_texts  # the loader's name for the one sentence-timestamp rule


def _text(col: pd.Series) -> pd.Series:
    """A column as strings ('' for missing)."""
    if _is_text(col):
        return col.fillna("").astype(str)
    return col.astype(str).where(col.notna(), "")


def _is_text(col: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(col) or col.dtype == object


def _quote(text: str, limit: int = 60) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(text)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _names(names: Iterable[str], limit: int = 20) -> str:
    names = list(names)
    text = ", ".join(repr(name) for name in names[:limit])
    return text + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _list_rows(positions: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(i + 1) for i in positions[:limit])
    return shown + (f" and {len(positions) - limit} more" if len(positions) > limit else "")
