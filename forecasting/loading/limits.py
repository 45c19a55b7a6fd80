"""Caps on untrusted input: file size, rows, columns, and how far sniffing looks.

Other loading modules read the caps as `limits.MAX_ROWS` (not copied by import), so a test can
lower one in a single place.
"""

from __future__ import annotations

from forecasting.errors import DataError

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 2_000_000
MAX_COLUMNS = 500

SNIFF_CHARS = 64 * 1024  # delimiter and layout sniffing never looks further than this
SNIFF_LINES = 200
DATE_SAMPLE = 200  # cells used to choose a date format before it is applied to the whole column
MAX_FOOTER_ROWS = 5  # trailing rows with an unreadable date are taken for a footer
MAX_UNZIPPED = 4 * MAX_BYTES  # an .xlsx that inflates past this is refused (zip bomb)


def _check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise DataError(
            f"The file is {size / 2**20:.1f} MiB, over the {MAX_BYTES // 2**20} MiB "
            "limit. Keep only the columns and rows you need, or resample it first."
        )


def _check_shape(rows: int, columns: int) -> None:
    if rows > MAX_ROWS:
        raise DataError(
            f"The file has more than {MAX_ROWS:,} rows. Resample or cut it before uploading."
        )
    if columns > MAX_COLUMNS:
        raise DataError(
            f"The file has {columns:,} columns, over the limit of {MAX_COLUMNS}. "
            "Keep only the columns you need."
        )
