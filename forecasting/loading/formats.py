"""Bytes to cells: size caps, format sniffing, text decoding, .xlsx and Parquet."""

from __future__ import annotations

import codecs
import datetime
import io
import math
import os
import unicodedata
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.errors import DataError
from forecasting.loading import limits
from forecasting.loading._shared import _Log
from forecasting.loading.layout import (
    _clean_names,
    _column_names,
    _count_footer,
    _locate_table,
    _trim_row,
)
from forecasting.loading.limits import _check_shape, _check_size


def _read_bytes(source) -> bytes:
    """The raw content of an upload or a path, within the size cap."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            _check_size(path.stat().st_size)
            with path.open("rb") as handle:
                data = handle.read(limits.MAX_BYTES + 1)
        except OSError as exc:
            raise DataError(
                f"Cannot open {str(path)!r}: {exc.strerror or exc}. "
                "Check the path and the file's permissions."
            ) from None
    else:
        raise DataError(
            f"Cannot read a {type(source).__name__}: pass the file's bytes or its path."
        )
    _check_size(len(data))
    if not data.strip():
        raise DataError("The file is empty. Choose a file with a header row and data rows.")
    return data


def _sniff_kind(data: bytes, label: str) -> str:
    """The format by content: 'xlsx', 'parquet' or 'text'."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"PAR1"):
        return "parquet"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise DataError(
            f"{label!r} is an old Excel .xls workbook, which is not supported. "
            "Save it as .xlsx or CSV and upload that."
        )
    return "text"


def _decode(data: bytes, encoding: str | None, log: _Log) -> str:
    """Text from bytes: the given encoding, else BOM, UTF-8, Windows-1252, Latin-1."""
    if encoding:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise DataError(
                f"The file is not valid {encoding} text. Leave the encoding empty "
                "to detect it, or choose another."
            ) from None
        return _check_text(text)
    boms = (
        (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
        (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
    )
    for bom, codec, name in boms:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                raise DataError(
                    f"The file starts with a {name} byte-order mark but is not "
                    f"valid {name} text. Save it again as UTF-8."
                ) from None
            if name != "UTF-8":
                log.note(f"Read the file as {name} text.")
            return _check_text(text)
    head = data[: limits.SNIFF_CHARS]
    if b"\x00" in head:
        codec = _utf16_without_bom(head)
        if codec is None:
            raise _binary_error()
        log.note("Read the file as UTF-16 text.")
        return _check_text(data.decode(codec, errors="replace"))
    try:
        return _check_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    for codec, name in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        log.note(f"Read the file as {name} text (it is not valid UTF-8).")
        return _check_text(text)
    raise _binary_error()  # pragma: no cover - latin-1 decodes every byte


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when every other byte is NUL, as in ASCII UTF-16 text."""
    even = head[0::2].count(0) / max(1, len(head[0::2]))
    odd = head[1::2].count(0) / max(1, len(head[1::2]))
    if odd > 0.9 and even < 0.1:
        return "utf-16-le"
    if even > 0.9 and odd < 0.1:
        return "utf-16-be"
    return None


def _check_text(text: str) -> str:
    """Refuse text full of control characters: the file was binary."""
    sample = text[: limits.SNIFF_CHARS]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n")
    if controls > max(2, len(sample) // 100):
        raise _binary_error()
    if not text.strip():
        raise DataError("The file is empty. Choose a file with a header row and data rows.")
    return text


def _binary_error() -> DataError:
    return DataError(
        "The file is not text, CSV, .xlsx or Parquet (it looks binary). "
        "Export the data as CSV and upload that."
    )


def _read_xlsx(data: bytes, sheet: str | None, log: _Log) -> tuple[pd.DataFrame, list[str], str]:
    """The cells of one worksheet as text, with the table located like a CSV's.

    Without `sheet`, the first sheet that holds data is read (sheets of notes are skipped).

    Returns:
        The cells, the workbook's sheet names and the sheet read.
    """
    book = _open_workbook(data)
    names = [str(name) for name in book.sheet_names]
    if sheet is not None and sheet not in names:
        raise DataError(f"The workbook has no sheet {sheet!r}. Sheets: {', '.join(names)}.")
    chosen, cells = sheet, None
    for name in [sheet] if sheet is not None else names:
        cells = _sheet_cells(book, name)
        if sheet is not None or _holds_data(cells):
            chosen = name
            break
    else:  # no sheet holds numbers: read the first that is not empty, to say what it holds
        chosen = next((n for n in names if not _sheet_cells(book, n).empty), names[0])
        cells = _sheet_cells(book, chosen)
    if sheet is None and len(names) > 1:
        skipped = names[: names.index(chosen)]
        log.note(
            f"Read the sheet {chosen!r}, the first of {len(names)} that holds data"
            + (f" (skipped {', '.join(map(repr, skipped))})." if skipped else ".")
        )
    if cells.empty:
        where = (
            "Choose the sheet that holds the data."
            if len(names) > 1
            else "Put the data in the workbook, or export it as CSV."
        )
        raise DataError(f"The sheet {chosen!r} is empty. {where}")
    _check_shape(cells.shape[0] - 1, cells.shape[1])
    width = cells.shape[1]
    rows = cells.map(_cell_text).to_numpy().tolist()
    start, has_header = _locate_table(rows, width, log)
    end = len(rows) - _count_footer([_trim_row(row) for row in rows[-20:]], width, log)
    frame = pd.DataFrame(rows[start + int(has_header) : end], columns=range(width), dtype=str)
    frame.columns = _column_names(rows[start] if has_header else None, width)
    return frame, names, chosen


def _open_workbook(data: bytes) -> pd.ExcelFile:
    """The workbook, after the zip-bomb check."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise DataError(
            "The file looks like a zip archive but cannot be opened. Upload an "
            ".xlsx workbook, a CSV or a Parquet file."
        ) from None
    if unzipped > limits.MAX_UNZIPPED:
        raise DataError(
            f"The workbook expands to {unzipped / 2**20:.0f} MiB, over the "
            f"{limits.MAX_UNZIPPED // 2**20} MiB limit. Save the sheet you need as "
            "CSV."
        )
    try:
        return pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    except Exception:  # openpyxl raises many types on damaged or non-Excel zips
        raise DataError(
            "The file is a zip archive but not a readable .xlsx workbook. Save it "
            "again from your spreadsheet, or export it as CSV."
        ) from None


def _sheet_cells(book: pd.ExcelFile, name: str) -> pd.DataFrame:
    """A sheet's cells as stored, without empty rows and columns."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cells = book.parse(name, header=None, dtype=object)
    except Exception:
        raise DataError(f"The sheet {name!r} cannot be read. Export it as CSV.") from None
    return cells.dropna(how="all").dropna(axis=1, how="all")


def _holds_data(cells: pd.DataFrame) -> bool:
    """Whether at least 3 rows hold a number: a table, not a sheet of notes."""
    numeric = cells.map(
        lambda v: (
            isinstance(v, int | float | np.number)
            and not isinstance(v, bool)
            and not (isinstance(v, float) and math.isnan(v))
        )
    )
    return int(numeric.any(axis=1).sum()) >= 3


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime.datetime | datetime.date | np.datetime64):
        stamp = pd.Timestamp(value)
        return "" if pd.isna(stamp) else stamp.isoformat(sep=" ")
    return str(value)


def _read_parquet(data: bytes) -> pd.DataFrame:
    """A Parquet file's columns, typed as stored."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
        _check_shape(meta.num_rows, meta.num_columns)
        frame = pd.read_parquet(io.BytesIO(data))
    except DataError:
        raise
    except Exception:  # pyarrow raises many types on damaged files
        raise DataError(
            "The file starts like Parquet but cannot be read. Export it again, or upload a CSV."
        ) from None
    frame.columns = _clean_names(frame.columns)
    return frame.reset_index(drop=True)
