"""Text columns with few distinct values (wind direction, weekday names, a holiday flag) read
as categories: which columns qualify, and their cells as clean text."""

from __future__ import annotations

import pandas as pd

from forecasting.loading._shared import _COUNTER_NAMES, _NA_TOKENS, _is_text, _text

MAX_CATEGORIES = 50  # more distinct values than this is free text or an id, not a category


def is_text_column(col: pd.Series) -> bool:
    """Cells held as text (or booleans or pandas categories), not numbers nor dates."""
    categorical = isinstance(col.dtype, pd.CategoricalDtype)
    return categorical or pd.api.types.is_bool_dtype(col.dtype) or _is_text(col)


def category_cells(col: pd.Series) -> pd.Series:
    """The column as object dtype: stripped text, None where a cell is empty or NA."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object)
    text = _text(col).str.strip()
    missing = text.str.lower().isin(_NA_TOKENS).to_numpy() | col.isna().to_numpy()
    return text.astype(object).where(~missing, None)


def looks_categorical(col: pd.Series, name: str) -> bool:
    """A text column with at most `MAX_CATEGORIES` distinct non-empty values, fewer than half
    the rows, and not named like a row counter ('No', 'id', ...)."""
    if name.strip().lower() in _COUNTER_NAMES or not is_text_column(col):
        return False
    if category_cells(col.head(1000)).nunique() > MAX_CATEGORIES:
        return False  # free text: no need to clean every cell
    distinct = category_cells(col).nunique()
    return 0 < distinct <= MAX_CATEGORIES and distinct * 2 < len(col)


def categorical_candidates(frame: pd.DataFrame, skip: tuple[str, ...]) -> tuple[str, ...]:
    """The categorical columns of `frame` in file order, leaving out the `skip` columns (the
    date candidates and date parts)."""
    return tuple(
        name for name in frame.columns if name not in skip and looks_categorical(frame[name], name)
    )
