"""Read user files into a validated `TimeSeries`, repairing what can be repaired.

The pipeline runs one way: bytes -> text -> table of cells -> typed columns -> a chosen date
column and value column -> sorted, de-duplicated, regular series with gaps filled. Every
decision the parser takes is written in `Table.notes`; every change made to the data is one
plain sentence in `TimeSeries.repairs`. Anything that cannot be read raises `DataError` with a
message naming the problem and the fix.

Typical use::

    series = load_series(Path("sales.csv"))
    table = read_table(uploaded_bytes, filename="sales.csv")   # pick columns in a UI
    series = series_from_table(table, LoadOptions(value_col="units"))
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import math
import os
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta

from forecasting.errors import ConfigError, DataError
from forecasting.series import TimeSeries, freq_family, season_length

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 2_000_000
MAX_COLUMNS = 500

SNIFF_CHARS = 64 * 1024  # delimiter and layout sniffing never looks further than this
SNIFF_LINES = 200
DATE_SAMPLE = 200  # cells used to choose a date format before it is applied to the whole column
MAX_FOOTER_ROWS = 5  # trailing rows with an unreadable date are taken for a footer
MAX_UNZIPPED = 4 * MAX_BYTES  # an .xlsx that inflates past this is refused (zip bomb)

AGGREGATES = ("mean", "sum", "last")
FILLS = ("linear", "time", "seasonal", "ffill", "none")
RESAMPLE_HOWS = ("sum", "mean", "max", "min")
SEPARATORS = ("\t", ";", "|", ",")  # in order of preference when two fit equally well

_NA_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "--", "?", "#n/a", "..",
                        "missing", "#value!", "#div/0!"})
_DATE_HINT = re.compile(r"date|time|month|period|day|week|quarter|year|stamp|epoch|^ds$|^dt$",
                        re.IGNORECASE)
_COUNTER_NAMES = frozenset({"no", "no.", "id", "index", "#", "row", "n", "unnamed: 0", "nr"})
_DATE_PARTS = {"year": "year", "yr": "year", "month": "month", "mon": "month", "mo": "month",
               "day": "day", "hour": "hour", "hr": "hour", "minute": "minute",
               "quarter": "quarter", "qtr": "quarter"}
_NUMBER = re.compile(r"^[-+]?[\d.,' \u00a0\u202f]*\d[\d.,' \u00a0\u202f]*(?:[eE][-+]?\d+)?%?$")


class AmbiguousDatesError(DataError):
    """Dates such as 03/04/2020 read as day-first and as month-first; the user must choose.

    Attributes:
        column: The date column.
        example: One ambiguous cell.
        choices: The two readings: ("day-first", "month-first").
    """

    def __init__(self, column: str, example: str, day_first: str, month_first: str) -> None:
        self.column = column
        self.example = example
        self.choices = ("day-first", "month-first")
        super().__init__(
            f"The dates in {column!r} are ambiguous: no day is above 12, so {example!r} could be "
            f"{day_first} (day-first) or {month_first} (month-first). Choose day-first or "
            "month-first (option dayfirst=True or dayfirst=False)."
        )


# --------------------------------------------------------------------------- options and table


@dataclass(frozen=True)
class LoadOptions:
    """How to read a file. Every field is JSON-serialisable; None means detect.

    Attributes:
        date_col: Column holding the dates; None detects it.
        value_col: Column to forecast; None takes the first numeric column that is neither a
            date nor a row counter such as "No".
        sep: Field separator; None sniffs among , ; tab |.
        decimal: Decimal mark ("." or ","); None detects it.
        thousands: Thousands separator; None detects it.
        encoding: Text encoding; None tries the BOM, then UTF-8, Windows-1252 and Latin-1.
        date_format: Explicit strftime format such as "%d/%m/%Y".
        dayfirst: Read 03/04/2020 as 3 April (True) or 4 March (False); None detects it.
        sheet: Worksheet of an .xlsx file; None takes the first.
        aggregate: How duplicate timestamps are merged: mean, sum or last.
        fill: How gaps and missing values are filled: linear, time, seasonal, ffill, or none
            (refuse files with anything missing).
        resample: A coarser pandas frequency alias ("W", "MS", ...), or None to keep the data's.
        resample_how: How values are combined when resampling: sum, mean, max or min.
        sort: Sort rows by date (when False, unsorted dates are refused).
    """

    date_col: str | None = None
    value_col: str | None = None
    sep: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    dayfirst: bool | None = None
    sheet: str | None = None
    aggregate: str = "mean"
    fill: str = "linear"
    resample: str | None = None
    resample_how: str = "mean"
    sort: bool = True

    def __post_init__(self) -> None:
        for name in ("date_col", "value_col", "sep", "decimal", "thousands", "encoding",
                     "date_format", "sheet", "resample"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"`{name}` must be text or None. Received: {name}={value!r}")
        for name in ("dayfirst", "sort"):
            value = getattr(self, name)
            if not (isinstance(value, bool) or (value is None and name == "dayfirst")):
                raise ConfigError(f"`{name}` must be True or False. Received: {name}={value!r}")
        _check_choice("aggregate", self.aggregate, AGGREGATES)
        _check_choice("fill", self.fill, FILLS)
        _check_choice("resample_how", self.resample_how, RESAMPLE_HOWS)
        if self.sep is not None and len(self.sep) != 1:
            raise ConfigError(f"`sep` must be one character. Received: sep={self.sep!r}")
        if self.decimal is not None and self.decimal not in (".", ","):
            raise ConfigError(f"`decimal` must be '.' or ','. Received: decimal={self.decimal!r}")
        if self.thousands is not None and (len(self.thousands) != 1 or
                                           self.thousands == self.decimal):
            raise ConfigError("`thousands` must be one character other than the decimal mark. "
                              f"Received: thousands={self.thousands!r}")
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ConfigError(f"`encoding` is not a known text encoding. "
                                  f"Received: encoding={self.encoding!r}") from None
        if self.resample is not None:
            _offset(self.resample)

    def to_dict(self) -> dict:
        """The options as a plain JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> LoadOptions:
        """Options from `to_dict()` output; unknown keys are refused.

        Raises:
            ConfigError: On unknown keys or invalid values.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"Unknown load options: {', '.join(map(str, unknown))}. "
                              f"Known options: {', '.join(sorted(known))}.")
        return cls(**dict(data))


def _check_choice(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"`{name}` must be one of {', '.join(choices)}. "
                          f"Received: {name}={value!r}")


def _offset(alias: str) -> pd.DateOffset:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.tseries.frequencies.to_offset(alias)
    except (ValueError, TypeError):
        raise ConfigError(f"`resample` must be a pandas frequency such as 'D', 'W', 'MS' or "
                          f"'QS'. Received: resample={alias!r}") from None


@dataclass(frozen=True)
class Table:
    """A parsed file before the date and value columns are chosen.

    Attributes:
        frame: One column per file column: float64 for numeric columns (unreadable cells are
            NaN), datetimes where the file stored them typed, text otherwise. Row i is data row
            i + 1 of the file.
        date_candidates: Columns that read as dates, best first (may include a "date" column
            assembled from year/month/day/hour columns).
        value_candidates: Numeric columns that can be forecast, best first.
        notes: What the parser did, in plain sentences.
        bad_cells: Per numeric column, the (row number, text) of cells that were not numbers.
        repairs: The notes that changed the data (skipped lines, ...), carried into the
            series' repairs.
    """

    frame: pd.DataFrame
    date_candidates: tuple[str, ...]
    value_candidates: tuple[str, ...]
    notes: tuple[str, ...] = ()
    bad_cells: Mapping[str, tuple[tuple[int, str], ...]] = field(default_factory=dict)
    repairs: tuple[str, ...] = ()


# --------------------------------------------------------------------------- public entry points


def read_table(source: bytes | str | os.PathLike, options: LoadOptions = LoadOptions(),
               filename: str | None = None) -> Table:
    """Parse a CSV, TSV, .xlsx or Parquet file into typed columns.

    Args:
        source: The file's bytes (an upload) or its path.
        options: Parsing overrides; detection fills in the rest.
        filename: Shown in messages only; the format is detected from the content.

    Returns:
        The table with its date and value candidates and notes.

    Raises:
        DataError: The file is empty, binary, too large, or holds no table.
    """
    data = _read_bytes(source)
    label = filename or (Path(source).name if isinstance(source, str | os.PathLike) else "file")
    log = _Log()
    kind = _sniff_kind(data, label)
    if kind == "xlsx":
        raw = _read_xlsx(data, options.sheet, log)
    elif kind == "parquet":
        raw = _read_parquet(data)
    else:
        raw = _read_text(_decode(data, options.encoding, log), options, log)
    return _build_table(raw, options, log)


def load_series(source: bytes | str | os.PathLike, options: LoadOptions = LoadOptions(),
                filename: str | None = None) -> TimeSeries:
    """Read a file into a validated, regular `TimeSeries`, repairing what can be repaired.

    Args:
        source: The file's bytes (an upload) or its path.
        options: Column choices, parsing overrides and repair policies.
        filename: Shown in messages only; the format is detected from the content.

    Returns:
        The series; `repairs` lists every change made to the data.

    Raises:
        DataError: The file cannot give a usable series; the message says why and what to do.
        AmbiguousDatesError: The dates read both day-first and month-first.
    """
    return series_from_table(read_table(source, options, filename), options)


def series_from_table(table: Table, options: LoadOptions = LoadOptions()) -> TimeSeries:
    """Build the series from an already parsed table (to switch columns without re-reading).

    Args:
        table: Output of `read_table`.
        options: Column choices, date reading (date_format, dayfirst) and repair policies;
            sep, decimal, thousands, encoding and sheet act in `read_table` only.

    Returns:
        The series, as `load_series` would return it.

    Raises:
        DataError: The chosen columns cannot give a usable series.
    """
    frame = table.frame
    value_col = _choose_value_column(table, options)
    date_col = _choose_date_column(table, options, value_col)
    log = _Log()
    log.repairs.extend(table.repairs)
    extras = [name for name in table.value_candidates if name not in (value_col, date_col)
              and not _is_counter(frame[name], name)]
    data = frame[[value_col, *extras]].copy()
    _refuse_infinite(data[value_col], value_col)
    data = data.replace([np.inf, -np.inf], np.nan)
    _report_bad_cells(table.bad_cells.get(value_col, ()), value_col, log)
    if date_col is None:
        data.index = pd.RangeIndex(len(data), name="step")
        data = _trim_missing(data, value_col, log)
        data.index = pd.RangeIndex(len(data), name="step")
        freq, inserted = None, pd.Index([])
    else:
        data = _date_index(data, frame[date_col], date_col, options, log)
        data, freq, inserted = _regularize(data, options, log)
        data = _trim_missing(data, value_col, log)
    data = _fill(data, value_col, freq, inserted, options, log)
    return _finish(data, value_col, freq, log)


class _Log:
    """Collects notes (everything the parser did) and repairs (what changed the data)."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.repairs: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(text)

    def repair(self, text: str) -> None:
        self.notes.append(text)
        self.repairs.append(text)


# --------------------------------------------------------------------------- bytes and formats


def _read_bytes(source) -> bytes:
    """The raw content of an upload or a path, within the size cap."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            _check_size(path.stat().st_size)
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise DataError(f"Cannot open {str(path)!r}: {exc.strerror or exc}. "
                            "Check the path and the file's permissions.") from None
    else:
        raise DataError(f"Cannot read a {type(source).__name__}: pass the file's bytes or "
                        "its path.")
    _check_size(len(data))
    if not data.strip():
        raise DataError("The file is empty. Choose a file with a header row and data rows.")
    return data


def _check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise DataError(f"The file is {size / 2**20:.1f} MiB, over the {MAX_BYTES // 2**20} MiB "
                        "limit. Keep only the columns and rows you need, or resample it first.")


def _sniff_kind(data: bytes, label: str) -> str:
    """The format by content: 'xlsx', 'parquet' or 'text'."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"PAR1"):
        return "parquet"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise DataError(f"{label!r} is an old Excel .xls workbook, which is not supported. "
                        "Save it as .xlsx or CSV and upload that.")
    return "text"


def _decode(data: bytes, encoding: str | None, log: _Log) -> str:
    """Text from bytes: the given encoding, else BOM, UTF-8, Windows-1252, Latin-1."""
    if encoding:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise DataError(f"The file is not valid {encoding} text. Leave the encoding empty "
                            "to detect it, or choose another.") from None
        return _check_text(text)
    boms = ((codecs.BOM_UTF8, "utf-8-sig", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
            (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))
    for bom, codec, name in boms:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                raise DataError(f"The file starts with a {name} byte-order mark but is not "
                                f"valid {name} text. Save it again as UTF-8.") from None
            if name != "UTF-8":
                log.note(f"Read the file as {name} text.")
            return _check_text(text)
    head = data[:SNIFF_CHARS]
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
    sample = text[:SNIFF_CHARS]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n")
    if controls > max(2, len(sample) // 100):
        raise _binary_error()
    if not text.strip():
        raise DataError("The file is empty. Choose a file with a header row and data rows.")
    return text


def _binary_error() -> DataError:
    return DataError("The file is not text, CSV, .xlsx or Parquet (it looks binary). "
                     "Export the data as CSV and upload that.")


def _read_xlsx(data: bytes, sheet: str | None, log: _Log) -> pd.DataFrame:
    """The cells of one worksheet as text, with the table located like a CSV's."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise DataError("The file looks like a zip archive but cannot be opened. Upload an "
                        ".xlsx workbook, a CSV or a Parquet file.") from None
    if unzipped > MAX_UNZIPPED:
        raise DataError(f"The workbook expands to {unzipped / 2**20:.0f} MiB, over the "
                        f"{MAX_UNZIPPED // 2**20} MiB limit. Save the sheet you need as CSV.")
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    except Exception:  # openpyxl raises many types on damaged or non-Excel zips
        raise DataError("The file is a zip archive but not a readable .xlsx workbook. Save it "
                        "again from your spreadsheet, or export it as CSV.") from None
    names = [str(name) for name in book.sheet_names]
    if sheet is not None and sheet not in names:
        raise DataError(f"The workbook has no sheet {sheet!r}. Sheets: {', '.join(names)}.")
    chosen = sheet if sheet is not None else names[0]
    if sheet is None and len(names) > 1:
        log.note(f"Read the first sheet, {chosen!r}, of {len(names)}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cells = book.parse(chosen, header=None, dtype=object)
    except Exception:
        raise DataError(f"The sheet {chosen!r} cannot be read. Export it as CSV.") from None
    cells = cells.dropna(how="all").dropna(axis=1, how="all")
    if cells.empty:
        raise DataError(f"The sheet {chosen!r} is empty. Choose the sheet that holds the data.")
    _check_shape(cells.shape[0] - 1, cells.shape[1])
    width = cells.shape[1]
    rows = cells.map(_cell_text).to_numpy().tolist()
    start, has_header = _locate_table(rows, width, log)
    end = len(rows) - _count_footer([_trim_row(row) for row in rows[-20:]], width, log)
    frame = pd.DataFrame(rows[start + int(has_header):end], columns=range(width), dtype=str)
    frame.columns = _column_names(rows[start] if has_header else None, width)
    return frame


def _trim_row(row: list[str]) -> list[str]:
    """A spreadsheet row without its empty cells on the right (as a CSV line would be)."""
    while row and not row[-1].strip():
        row = row[:-1]
    return row


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
        raise DataError("The file starts like Parquet but cannot be read. Export it again, "
                        "or upload a CSV.") from None
    frame.columns = _clean_names(frame.columns)
    return frame.reset_index(drop=True)


def _check_shape(rows: int, columns: int) -> None:
    if rows > MAX_ROWS:
        raise DataError(f"The file has more than {MAX_ROWS:,} rows. Resample or cut it before "
                        "uploading.")
    if columns > MAX_COLUMNS:
        raise DataError(f"The file has {columns:,} columns, over the limit of {MAX_COLUMNS}. "
                        "Keep only the columns you need.")


# --------------------------------------------------------------------------- text layout


def _read_text(text: str, options: LoadOptions, log: _Log) -> pd.DataFrame:
    """Cells of a delimited text file as strings, without preamble and footer lines."""
    lines = _lines(text)
    if len(lines) > MAX_ROWS + 100:
        _check_shape(len(lines), 1)
    sample = _sample_lines(lines)
    sep = options.sep or _sniff_sep(sample)
    if options.sep is None and sep != ",":
        log.note(f"Detected the separator {_SEP_NAMES[sep]}.")
    rows = [_split(line, sep) for line in sample]
    width = _modal_width([len(row) for row in rows])
    _check_shape(0, width)
    start, has_header = _locate_table(rows, width, log)
    end = len(lines) - _count_footer([_split(line, sep) for line in lines[-20:]], width, log)
    body = "\n".join(lines[start + int(has_header):end])
    header = rows[start] if has_header else None
    return _frame_from_text(body, header, sep, width, log)


_SEP_NAMES = {",": "',' (comma)", ";": "';' (semicolon)", "\t": "tab", "|": "'|' (pipe)"}


def _lines(text: str) -> list[str]:
    """The text's lines, split only at \\n, \\r\\n and \\r as the CSV reader does."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _sample_lines(lines: list[str]) -> list[str]:
    """The first lines (at most SNIFF_LINES, within SNIFF_CHARS; a longer line is cut)."""
    sample, size = [], 0
    for line in lines[:SNIFF_LINES]:
        sample.append(line[: SNIFF_CHARS - size])
        size += len(sample[-1]) + 1
        if size >= SNIFF_CHARS:
            break
    return sample


def _split(line: str, sep: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=sep, quotechar='"', skipinitialspace=True), [])
    except (csv.Error, StopIteration):
        return [line]


def _modal_width(counts: list[int]) -> int:
    """The most common number of fields among lines with more than one (else 1)."""
    wide = [count for count in counts if count > 1]
    if not wide:
        return 1
    values, freqs = np.unique(wide, return_counts=True)
    return int(values[np.argmax(freqs)])


def _sniff_sep(sample: list[str]) -> str:
    """The separator that splits most sample lines into the same number (> 1) of fields."""
    best, best_score = ",", 0
    for sep in SEPARATORS:
        counts = [len(_split(line, sep)) for line in sample]
        width = _modal_width(counts)
        score = sum(1 for count in counts if count == width) if width > 1 else 0
        if score > best_score:
            best, best_score = sep, score
    return best


def _looks_numeric(cell: str) -> bool:
    return bool(_NUMBER.match(cell.strip()))


def _locate_table(rows: list[list[str]], width: int, log: _Log) -> tuple[int, bool]:
    """Index of the table's first row among `rows`, and whether that row is a header."""
    need = min(2, width)
    start = next((i for i, row in enumerate(rows)
                  if len(row) == width and sum(1 for cell in row if cell.strip()) >= need), None)
    if start is None:
        raise DataError("No table found: no line has the same fields as the others. Check the "
                        "separator (option sep) or export the data again as CSV.")
    if start:
        first = rows[0][0].strip() if rows[0] else ""
        log.repair(f"Skipped {start} line{_s(start)} before the table "
                   f"(starting {_quote(first)}).")
    has_header = not any(_looks_numeric(cell) for cell in rows[start] if cell.strip())
    if not has_header:
        log.note("The file has no header row: columns are named 'column 1', 'column 2', ...")
    return start, has_header


def _count_footer(tail: list[list[str]], width: int, log: _Log) -> int:
    """Number of trailing rows that are not table rows (notes such as 'Source: ...').

    Args:
        tail: The last rows of the file, split into fields.
        width: The table's number of fields.
        log: Receives the repair note.
    """
    count, texts = 0, []
    for row in reversed(tail):
        if not any(cell.strip() for cell in row):
            count += 1
        elif width > 1 and len(row) < width:
            count += 1
            texts.append(" ".join(cell.strip() for cell in row))
        else:
            break
    if texts:
        log.repair(f"Skipped {len(texts)} line{_s(len(texts))} after the table "
                   f"({_quote(texts[-1])}).")
    return count


def _frame_from_text(body: str, header: list[str] | None, sep: str, width: int,
                     log: _Log) -> pd.DataFrame:
    """Read the table body as strings; malformed lines are skipped and reported."""
    kwargs = dict(sep=sep, header=None, dtype=str, keep_default_na=False, na_filter=False,
                  skipinitialspace=True, quotechar='"', index_col=False, skip_blank_lines=True,
                  names=list(range(width)), nrows=MAX_ROWS + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # lines that lose fields
            frame = pd.read_csv(io.StringIO(body), engine="c", **kwargs)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame(columns=range(width), dtype=str)
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError, csv.Error):
        bad: list[list[str]] = []
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pd.errors.ParserWarning)
                frame = pd.read_csv(io.StringIO(body), engine="python",
                                    on_bad_lines=lambda line: bad.append(line), **kwargs)
        except (pd.errors.ParserError, ValueError, csv.Error) as exc:
            raise DataError(f"The file cannot be read as a table ({_first_line(exc)}). Check "
                            "the separator (option sep) and the quotes.") from None
        if bad:
            log.repair(f"Skipped {len(bad)} malformed line{_s(len(bad))} with more than "
                       f"{width} fields (first: {_quote(sep.join(bad[0]))}).")
    _check_shape(len(frame), width)
    frame.columns = _column_names(header, width)
    return frame


def _column_names(header: list[str] | None, width: int) -> list[str]:
    """Names from the header row, or 'column 1', 'column 2', ... when there is none."""
    return _clean_names(header if header is not None else
                        [f"column {i + 1}" for i in range(width)])


def _clean_names(names: Iterable) -> list[str]:
    """Column names as plain, unique, non-empty strings."""
    cleaned: list[str] = []
    for i, name in enumerate(names):
        text = "" if name is None else str(name).strip()
        text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")[:200]
        base = text or f"column {i + 1}"
        text, k = base, 2
        while text in cleaned:
            text, k = f"{base} ({k})", k + 1
        cleaned.append(text)
    return cleaned


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def _quote(text: str, limit: int = 60) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(text)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


# --------------------------------------------------------------------------- typed columns


def _build_table(raw: pd.DataFrame, options: LoadOptions, log: _Log) -> Table:
    """Convert columns to numbers where they hold numbers and find the candidates."""
    raw = _drop_empty_columns(raw, log)
    if raw.empty or not len(raw.columns):
        raise DataError("The file has a header but no data rows. Choose a file with data.")
    decimal, thousands = _number_style(raw, options, log)
    columns: dict[str, pd.Series] = {}
    bad_cells: dict[str, tuple[tuple[int, str], ...]] = {}
    for name in raw.columns:
        converted, bad = _numeric_column(raw[name], decimal, thousands)
        columns[name] = raw[name] if converted is None else converted
        if converted is not None and bad:
            bad_cells[name] = bad
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(raw)))
    parts = tuple(_date_parts(frame).values())
    dates = _date_candidates(frame, parts)
    if parts and not dates:
        frame = _assemble_dates(frame, _date_parts(frame), log)
        dates = _date_candidates(frame, parts)
    values = _value_candidates(frame, dates, parts)
    return Table(frame, dates, values, tuple(log.notes), bad_cells, tuple(log.repairs))


def _drop_empty_columns(raw: pd.DataFrame, log: _Log) -> pd.DataFrame:
    empty = [name for name in raw.columns if _text(raw[name]).str.strip().eq("").all()]
    if empty and len(empty) < len(raw.columns):
        log.note(f"Ignored {len(empty)} empty column{_s(len(empty))}: "
                 f"{', '.join(map(repr, empty[:5]))}.")
        raw = raw.drop(columns=empty)
    return raw


def _text(col: pd.Series) -> pd.Series:
    """A column as strings ('' for missing)."""
    if _is_text(col):
        return col.fillna("").astype(str)
    return col.astype(str).where(col.notna(), "")


def _is_text(col: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(col) or col.dtype == object


def _number_style(raw: pd.DataFrame, options: LoadOptions, log: _Log) -> tuple[str, str | None]:
    """Decimal mark and thousands separator: the options', else detected from the cells."""
    if options.decimal is not None:
        return options.decimal, options.thousands
    cells = pd.concat([_text(raw[name]).head(500).str.strip() for name in raw.columns
                       if _is_text(raw[name])], ignore_index=True) if len(raw.columns) else None
    if cells is None or cells.empty:
        return ".", options.thousands
    comma_dec = cells.str.fullmatch(r"[-+]?(\d*,(\d{1,2}|\d{4,})|0?,\d+|\d{1,3}(\.\d{3})+,\d+)")
    dot_dec = cells.str.fullmatch(r"[-+]?(\d*\.(\d{1,2}|\d{4,})|0?\.\d+|\d{1,3}(,\d{3})+\.\d+)")
    comma_3 = cells.str.fullmatch(r"[-+]?[1-9]\d{0,2}(,\d{3})+")  # 1,234: grouping
    if comma_dec.any() and not dot_dec.any():
        thousands = "." if cells.str.fullmatch(r"[-+]?\d{1,3}(\.\d{3})+(,\d+)?").any() else None
        log.note("Read ',' as the decimal mark" +
                 (" and '.' as the thousands separator." if thousands else "."))
        return ",", options.thousands or thousands
    if comma_3.any():
        log.note("Read ',' as the thousands separator.")
        return ".", options.thousands or ","
    return ".", options.thousands


def _numeric_column(col: pd.Series, decimal: str, thousands: str | None
                    ) -> tuple[pd.Series | None, tuple[tuple[int, str], ...]]:
    """The column as float64 when most of its filled cells are numbers, else None.

    Returns:
        The numbers (NaN where missing or unreadable) and the unreadable cells as
        (row number, text) pairs, or (None, ()) for text columns.
    """
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
        return None, ()
    if pd.api.types.is_numeric_dtype(col):
        return col.astype("float64"), ()
    text = _text(col)
    if not _mostly_numbers(*_to_numbers(text.head(500), decimal, thousands)):
        return None, ()  # a text column: no need to convert every cell
    numbers, missing = _to_numbers(text, decimal, thousands)
    if not _mostly_numbers(numbers, missing):
        return None, ()
    bad = numbers.isna() & ~missing
    rows = np.flatnonzero(bad.to_numpy())
    return numbers, tuple((int(i) + 1, str(text.iloc[i]).strip()) for i in rows)


def _to_numbers(text: pd.Series, decimal: str, thousands: str | None
                ) -> tuple[pd.Series, pd.Series]:
    """Numbers (NaN where unreadable) and the mask of cells that are empty or NA."""
    numbers = pd.Series(np.nan, index=text.index)
    if decimal == "." and thousands != ".":  # plain numbers read directly, the rest cleaned
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    missing = pd.Series(False, index=text.index)
    todo = numbers.isna()
    if todo.any():
        rest = text[todo].str.strip()
        missing[todo] = rest.str.lower().isin(_NA_TOKENS)
        numbers[todo] = pd.to_numeric(_clean_numbers(rest.where(~missing[todo], ""), decimal,
                                                     thousands), errors="coerce")
    return numbers, missing


def _mostly_numbers(numbers: pd.Series, missing: pd.Series) -> bool:
    """At least half of the filled cells are numbers (the rest are reported as bad cells)."""
    filled = int((~missing).sum())
    return filled > 0 and int(numbers.notna().sum()) * 2 >= filled


def _clean_numbers(text: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    """Text of numbers in Python notation: no grouping marks, '.' as the decimal mark. A
    grouping mark is only read as one between groups of three digits ("1.234,5"); a cell
    with it anywhere else ("01.02.2020", "12.5") is not a number."""
    if thousands:
        sep, dec = re.escape(thousands), re.escape(decimal)
        grouped = text.str.fullmatch(rf"[-+]?\d{{1,3}}({sep}\d{{3}})+({dec}\d*)?")
        misplaced = text.str.contains(thousands, regex=False) & ~grouped
        text = text.where(~misplaced, "not a number").str.replace(thousands, "", regex=False)
    if text.str.contains(r"[\s\u00a0\u202f']", regex=True).any():
        text = text.str.replace(r"[\s\u00a0\u202f']", "", regex=True)
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    return text


# --------------------------------------------------------------------------- candidates


def _date_parts(frame: pd.DataFrame) -> dict[str, str]:
    """Numeric columns named like parts of a date: {'year': 'Year', 'month': 'month', ...}."""
    parts: dict[str, str] = {}
    for name in frame.columns:
        key = _DATE_PARTS.get(name.strip().lower())
        if key and key not in parts and pd.api.types.is_float_dtype(frame[name]):
            parts[key] = name
    return parts if "year" in parts and {"month", "quarter"} & set(parts) else {}


def _assemble_dates(frame: pd.DataFrame, parts: dict[str, str], log: _Log) -> pd.DataFrame:
    """The frame with a 'date' column first, joined from year/month/day/hour columns.

    The frame is returned unchanged when the parts do not form a valid date on every row.
    """
    values = {key: frame[name] for key, name in parts.items()}
    if "month" not in values:
        values["month"] = values["quarter"] * 3 - 2
    values.pop("quarter", None)
    values.setdefault("day", pd.Series(1.0, index=frame.index))
    table = pd.DataFrame(values)
    if table.isna().any().any() or not np.all(np.mod(table.to_numpy(), 1) == 0):
        return frame
    dates = _naive_ns(pd.to_datetime(table.astype("int64"), errors="coerce"))
    if dates.isna().any():
        return frame
    name = "date" if "date" not in frame.columns else "date (assembled)"
    log.note(f"Combined the columns {', '.join(map(repr, parts.values()))} into one date "
             f"column {name!r}.")
    frame = frame.copy()
    frame.insert(0, name, dates)
    return frame


def _date_candidates(frame: pd.DataFrame, parts: tuple[str, ...]) -> tuple[str, ...]:
    """Columns that read as dates, columns named like dates first."""
    found = [name for name in frame.columns if name not in parts and _date_rule(frame[name])]
    return tuple(sorted(found, key=lambda name: (not pd.api.types.is_datetime64_any_dtype(
        frame[name]), not _DATE_HINT.search(name))))


def _value_candidates(frame: pd.DataFrame, dates: tuple[str, ...],
                      parts: tuple[str, ...]) -> tuple[str, ...]:
    """Numeric columns that are not dates, row counters last."""
    numeric = [name for name in frame.columns if name not in dates and name not in parts
               and pd.api.types.is_float_dtype(frame[name]) and frame[name].notna().any()]
    return tuple(sorted(numeric, key=lambda name: _is_counter(frame[name], name)))


def _is_counter(col: pd.Series, name: str) -> bool:
    """A row number column such as 'No' or 1, 2, 3, ..."""
    if name.strip().lower() in _COUNTER_NAMES:
        return True
    values = col.to_numpy()
    with np.errstate(invalid="ignore"):
        return len(values) > 2 and bool(np.all(np.diff(values) == 1)) and values[0] in (0, 1)


# --------------------------------------------------------------------------- dates


@dataclass(frozen=True)
class _DateRule:
    """One way of reading a date column: `parse` maps cells to timestamps (NaT if unread)."""

    label: str
    parse: Callable[[pd.Series], pd.Series]
    note: str | None = None


_QUARTER = re.compile(r"^(\d{4})\s*[-/ ]?\s*[qQ]([1-4])$|^[qQ]([1-4])\s*[-/ ]?\s*(\d{4})$")
_MONTH_CODE = re.compile(r"^(\d{4})\s*[mM](\d{1,2})$")
_ISO_WEEK = re.compile(r"^(\d{4})-?[wW](\d{2})$")
_YEAR_MONTH_INDEX = re.compile(r"^(\d{1,2})-(\d{1,2})$")
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?$")
_ISO = re.compile(r"^\d{4}-\d{1,2}(-\d{1,2}([ T]\d{1,2}(:\d{2}){0,2}(\.\d+)?)?)?\s*"
                  r"(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?$")
_SLASHED_ISO = re.compile(r"^(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?$")
_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)$")
_NAMED_FORMATS = ("%b %Y", "%B %Y", "%b-%Y", "%B-%Y", "%b-%y", "%b %y", "%Y %b", "%Y-%b",
                  "%Y %B", "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%d-%b-%y", "%b %d, %Y",
                  "%B %d, %Y", "%b %d %Y", "%d %b %Y %H:%M", "%a, %d %b %Y %H:%M:%S")
_EPOCH_RANGES = (("s", 1e8, 4.2e9), ("ms", 1e11, 4.2e12))


def _date_rule(col: pd.Series, date_format: str | None = None, dayfirst: bool | None = None,
               name: str = "", strict: bool = False) -> _DateRule | None:
    """The rule that reads (nearly all of) the column's first cells as dates, or None.

    Args:
        col: The column.
        date_format: Explicit strftime format to use instead of detecting one.
        dayfirst: Resolves 03/04/2020; None detects it and, with `strict`, raises when the
            whole column cannot tell.
        name: Column name, for messages and for name hints (epoch, year).
        strict: Raise AmbiguousDatesError instead of accepting an ambiguous column.
    """
    if pd.api.types.is_datetime64_any_dtype(col):
        zoned = getattr(col.dt, "tz", None) is not None
        return _DateRule("typed", _naive_ns, "Converted time-zone-aware timestamps to UTC and "
                         "dropped the zone." if zoned else None)
    if pd.api.types.is_float_dtype(col):
        return _numeric_date_rule(col, name or str(col.name))
    if not _is_text(col):
        return None
    if date_format:
        return _DateRule(date_format, lambda c: _with_format(c, date_format))
    sample = _text(col).str.strip()
    sample = sample[~sample.str.lower().isin(_NA_TOKENS)].head(DATE_SAMPLE)
    if sample.empty:
        return None
    name = name or str(col.name)
    rule = (_period_code_rule(sample) or _year_month_index_rule(sample) or _iso_rule(sample)
            or _slashed_iso_rule(sample) or _day_month_rule(col, sample, dayfirst, name, strict)
            or _named_rule(sample))
    if rule is None or not _mostly(rule.parse(sample).notna(), bool(_DATE_HINT.search(name))):
        return None
    return rule


def _mostly(ok: pd.Series, hinted: bool = False) -> bool:
    """Whether the sample cells mostly pass: 90% (half in a column named like dates), or all
    but two when there are few (a footer row in a small file)."""
    passed, failed = int(ok.sum()), int((~ok).sum())
    return passed >= (0.5 if hinted else 0.9) * len(ok) or (failed <= 2 and passed >= 3)


def _matches(sample: pd.Series, pattern: re.Pattern) -> bool:
    """Whether at least half the sample has the pattern (the parse is checked afterwards)."""
    return bool(sample.str.match(pattern).mean() >= 0.5)


def _naive_ns(dates: pd.Series) -> pd.Series:
    """Timezone-free UTC timestamps in nanoseconds; dates pandas cannot hold become NaT."""
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    inside = (dates >= pd.Timestamp.min) & (dates <= pd.Timestamp.max)
    return dates.where(inside).astype("datetime64[ns]")


def _with_format(col: pd.Series, fmt: str) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(_text(col).str.strip(), format=fmt, errors="coerce",
                                    utc=True)
        except (ValueError, TypeError):
            raise DataError(f"The date format {fmt!r} is not valid. Write it with strftime "
                            "codes, for example '%d/%m/%Y' or '%Y-%m-%d %H:%M'.") from None
    return _naive_ns(parsed)


def _period_code_rule(sample: pd.Series) -> _DateRule | None:
    """Statistical period codes: quarters (1956Q1, Q1 1956), months (1991M01), ISO weeks."""
    for pattern, parse in ((_QUARTER, _parse_quarters), (_MONTH_CODE, _parse_month_codes),
                           (_ISO_WEEK, _parse_iso_weeks)):
        if _matches(sample, pattern):
            return _DateRule(pattern.pattern, parse)
    return None


def _parse_quarters(col: pd.Series) -> pd.Series:
    parts = _text(col).str.strip().str.extract(_QUARTER).astype("float64")
    year = parts[0].fillna(parts[3])
    quarter = parts[1].fillna(parts[2])
    return _from_parts(year, quarter * 3 - 2)


def _parse_month_codes(col: pd.Series) -> pd.Series:
    parts = _text(col).str.strip().str.extract(_MONTH_CODE).astype("float64")
    return _from_parts(parts[0], parts[1])


def _parse_iso_weeks(col: pd.Series) -> pd.Series:
    parts = _text(col).str.strip().str.extract(_ISO_WEEK)
    return _with_format(parts[0] + "-W" + parts[1] + "-1", "%G-W%V-%u")  # their Mondays


def _from_parts(year: pd.Series, month: pd.Series) -> pd.Series:
    ok = year.notna() & month.between(1, 12)
    table = pd.DataFrame({"year": year.where(ok, 2000), "month": month.where(ok, 1), "day": 1})
    dates = pd.to_datetime(table.astype("int64"), errors="coerce")
    return _naive_ns(dates.where(ok))


def _year_month_index_rule(sample: pd.Series) -> _DateRule | None:
    """Cells like '1-01' .. '3-12' (year number - month), as in the shampoo data set."""
    if not _matches(sample, _YEAR_MONTH_INDEX):
        return None
    month = sample.str.extract(_YEAR_MONTH_INDEX)[1].astype("float64")
    if not month.between(1, 12).all():
        return None
    return _DateRule("year-month index", _parse_year_month_index,
                     "Read cells like '1-01' as year 1, month 01, counting years from 2001.")


def _parse_year_month_index(col: pd.Series) -> pd.Series:
    parts = _text(col).str.strip().str.extract(_YEAR_MONTH_INDEX).astype("float64")
    return _from_parts(parts[0] + 2000, parts[1])


def _iso_rule(sample: pd.Series) -> _DateRule | None:
    if not _matches(sample, _ISO):
        return None
    note = ("Converted dates with time-zone offsets to UTC and dropped the zone."
            if sample.str.contains(_TZ_SUFFIX).any() else None)
    return _DateRule("ISO 8601", _parse_iso, note)


def _parse_iso(col: pd.Series) -> pd.Series:
    """ISO 8601 dates; a trailing 'UTC' or 'GMT' word reads as the offset +00:00."""
    text = _text(col).str.strip().str.replace(r"\s*(?:UTC|GMT)$", "+00:00", regex=True)
    return _with_format(text, "ISO8601")


def _slashed_iso_rule(sample: pd.Series) -> _DateRule | None:
    """Year first with slashes or dots: 2020/01/31, 2020.01.31 [13:00]."""
    if not _matches(sample, _SLASHED_ISO):
        return None
    first = sample.str.extract(_SLASHED_ISO)
    sep = first[1].iloc[0]
    fmt = f"%Y{sep}%m{sep}%d" + _time_format(first[4])
    return _DateRule(fmt, lambda c: _with_format(c, fmt))


def _time_format(times: pd.Series) -> str:
    """' %H:%M', ' %H:%M:%S' or '' for the optional time part of numeric dates."""
    present = times.dropna()
    if present.empty:
        return ""
    return " %H:%M:%S" if present.str.count(":").max() == 2 else " %H:%M"


def _day_month_rule(col: pd.Series, sample: pd.Series, dayfirst: bool | None, name: str,
                    strict: bool) -> _DateRule | None:
    """03/04/2020-style dates: day-first or month-first from the data, or from `dayfirst`."""
    if not _matches(sample, _NUMERIC_DATE):
        return None
    parts = _text(col).str.strip().str.extract(_NUMERIC_DATE)
    first, second = parts[0].astype("float64"), parts[2].astype("float64")
    if dayfirst is None:
        if first.max() > 12 >= second.max():
            dayfirst = True
        elif second.max() > 12 >= first.max():
            dayfirst = False
        elif first.max() > 12 and second.max() > 12:
            return None
        else:
            both = (first.between(1, 12) & second.between(1, 12)).to_numpy()
            if not both.any():
                return None
            if strict:
                raise _ambiguous(name, str(_text(col)[both].iloc[0]).strip())
            dayfirst = True
    sep = parts[1].dropna().iloc[0]
    year = "%Y" if parts[3].dropna().str.len().max() == 4 else "%y"
    order = f"%d{sep}%m" if dayfirst else f"%m{sep}%d"
    fmt = f"{order}{sep}{year}" + _time_format(parts[4])
    if not strict:
        return _DateRule(fmt, lambda c: _with_format(c, fmt))
    return _DateRule(fmt, lambda c: _with_format(c, fmt),
                     f"Read the dates in {name!r} as {'day' if dayfirst else 'month'}-first "
                     f"({fmt}).")


def _ambiguous(name: str, example: str) -> AmbiguousDatesError:
    parts = _NUMERIC_DATE.match(example).groups()
    a, b, year = int(parts[0]), int(parts[2]), parts[3]
    month = "%B"
    day_first = f"{a} {pd.Timestamp(2000, b, 1).strftime(month)} {year}"
    month_first = f"{pd.Timestamp(2000, a, 1).strftime(month)} {b} {year}"
    return AmbiguousDatesError(name, example, day_first, month_first)


def _named_rule(sample: pd.Series) -> _DateRule | None:
    """Dates with month names: 'Jan 1991', 'January 1991', '12 Mar 2020', ..."""
    if not sample.str.contains(r"[A-Za-z]{3}", regex=True).mean() >= 0.5:
        return None
    for fmt in _NAMED_FORMATS:
        if _with_format(sample, fmt).notna().mean() >= 0.5:
            return _DateRule(fmt, lambda c, fmt=fmt: _with_format(c, fmt))
    return None


def _numeric_date_rule(col: pd.Series, name: str) -> _DateRule | None:
    """Epoch seconds or milliseconds, years (1990), or yyyymmdd numbers."""
    values = col[np.isfinite(col)]
    if values.empty or not np.all(np.mod(values.to_numpy(), 1) == 0):
        return None
    low, high = values.min(), values.max()
    hinted = bool(_DATE_HINT.search(name))
    for unit, start, stop in _EPOCH_RANGES:
        if start <= low and high <= stop and (hinted or _round_steps(
                values, 60 if unit == "s" else 60_000)) and values.nunique() > 1:
            word = "seconds" if unit == "s" else "milliseconds"
            return _DateRule(f"epoch {word}", _finite_only(lambda c, u=unit: _from_epoch(c, u)),
                             f"Read {name!r} as Unix time in {word} (UTC).")
    if re.search(r"year|^yr$", name, re.IGNORECASE) and low >= 1000 and high <= 2999:
        return _DateRule("year", _finite_only(
            lambda c: _from_parts(c, pd.Series(1.0, index=c.index))))
    if hinted and low >= 10000101 and high <= 29991231:
        return _DateRule("%Y%m%d", _finite_only(lambda c: _with_format(
            c.map(lambda v: "" if pd.isna(v) else f"{v:.0f}"), "%Y%m%d")))
    return None


def _finite_only(parse: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    """`parse` applied to the column with infinite numbers (and fractions) taken as missing."""
    return lambda col: parse(col.where(np.isfinite(col) & (np.mod(col, 1) == 0)))


def _round_steps(values: pd.Series, unit: int) -> bool:
    """Whether every step is a positive multiple of `unit` (a minute), as clock times are."""
    steps = np.diff(values.to_numpy())
    return bool(np.all(steps > 0) and np.all(np.mod(steps, unit) == 0))


def _from_epoch(col: pd.Series, unit: str) -> pd.Series:
    return _naive_ns(pd.to_datetime(col, unit=unit, errors="coerce"))


def _parse_dates(col: pd.Series, name: str, options: LoadOptions, log: _Log) -> pd.Series:
    """The whole column as naive UTC timestamps (NaT where a cell is not a date).

    Raises:
        DataError: The column does not read as dates with any known format.
        AmbiguousDatesError: Day-first and month-first both fit and dayfirst is None.
    """
    rule = _date_rule(col, options.date_format, options.dayfirst, name, strict=True)
    if rule is None:
        examples = ", ".join(map(repr, _text(col).str.strip().head(3)))
        raise DataError(f"The column {name!r} does not hold readable dates (first cells: "
                        f"{examples}). Give the format with option date_format "
                        "(--date-format), for example '%d.%m.%Y', or choose another date column.")
    if rule.note:
        log.repair(rule.note)
    return rule.parse(col)


# --------------------------------------------------------------------------- frequency


_FREQ_WORDS = {"MS": "monthly (month starts)", "ME": "monthly (month ends)",
               "QS": "quarterly (quarter starts)", "QE": "quarterly (quarter ends)",
               "YS": "yearly (year starts)", "YE": "yearly (year ends)", "D": "daily",
               "B": "business days", "h": "hourly", "min": "every minute", "s": "every second",
               "W": "weekly"}
_UNIT_WORDS = {"D": "days", "h": "hours", "min": "minutes", "s": "seconds", "W": "weeks"}
_DAY_NAMES = {"MON": "Mondays", "TUE": "Tuesdays", "WED": "Wednesdays", "THU": "Thursdays",
              "FRI": "Fridays", "SAT": "Saturdays", "SUN": "Sundays"}


def infer_frequency(index: pd.DatetimeIndex) -> str | None:
    """The pandas alias of the index's regular step, robust to gaps; None if irregular.

    Monthly data gives "MS" or "ME", quarterly "QS-<MON>"/"QE-<MON>", yearly "YS"/"YE",
    weekly "W-<DAY>"; otherwise the most common step ("D", "B", "h", "15min", ...).
    """
    if len(index) < 2:
        return None
    index = pd.DatetimeIndex(index).as_unit("ns")  # steps below are counted in nanoseconds
    if len(index) >= 3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = pd.infer_freq(index)
        if found is not None:
            return _short_alias(getattr(found, "freqstr", found))
    for alias in _frequency_guesses(index):
        if index.isin(pd.date_range(index[0], index[-1], freq=alias)).all():
            return alias
    return None


def _short_alias(alias: str) -> str:
    return {"YS-JAN": "YS", "YE-DEC": "YE", "QS-JAN": "QS-JAN"}.get(alias, alias)


def _frequency_guesses(index: pd.DatetimeIndex) -> list[str]:
    """Aliases worth checking, from the most common step between timestamps."""
    counts = pd.Series(np.diff(index.asi8)).value_counts()
    steps = dict.fromkeys([*counts.index[:3], counts.index.min()])  # commonest, then smallest
    return [alias for step in steps for alias in _aliases_for_step(pd.Timedelta(int(step)),
                                                                     index)]


def _aliases_for_step(step: pd.Timedelta, index: pd.DatetimeIndex) -> list[str]:
    """The frequency aliases whose step is about `step`, anchored like the index."""
    days = step / pd.Timedelta(days=1)
    first = index[0]
    month = first.strftime("%b").upper()
    if 27 <= days <= 31:
        return ["MS", "ME"]
    if 88 <= days <= 92:
        return [f"QS-{month}", f"QE-{month}"]
    if 364 <= days <= 366:
        return ["YS", "YE"]
    if days == 7:
        return [f"W-{first.strftime('%a').upper()}"]
    if days == 1:
        return ["B", "D"] if (index.day_of_week < 5).all() else ["D"]
    for unit, size in (("D", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        seconds = step.total_seconds()
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return [unit if count == 1 else f"{count}{unit}"]
    return []


def _align_to_periods(index: pd.DatetimeIndex, log: _Log) -> pd.DatetimeIndex:
    """Move monthly/quarterly/yearly dates that are not period starts (the 15th, ...) to them."""
    if len(index) < 2 or infer_frequency(index) is not None:
        return index
    days = pd.Series(np.diff(index.asi8)).median() / 86400e9
    period = "M" if 27 <= days <= 31 else "Q" if 88 <= days <= 92 else \
        "Y" if 364 <= days <= 366 else None
    if period is None:
        return index
    aligned = index.to_period(period).to_timestamp()
    if aligned.has_duplicates:
        return index
    word = {"M": "month", "Q": "quarter", "Y": "year"}[period]
    log.repair(f"Moved the dates to the first day of their {word} so they are regular.")
    return aligned


def describe_frequency(freq: str | None) -> str:
    """Plain words for a pandas alias: "MS" -> "monthly (month starts)", None -> "steps"."""
    if freq is None:
        return "integer steps (no dates)"
    family = freq_family(freq) or freq
    count = freq.split("-")[0][: -len(family)] if freq.split("-")[0] != family else ""
    if count:
        return f"every {count} {_UNIT_WORDS.get(family, family)}"
    words = _FREQ_WORDS.get(family, freq)
    if family == "W" and "-" in freq:
        words = f"weekly ({_DAY_NAMES.get(freq.split('-')[1], freq)})"
    return words


# --------------------------------------------------------------------------- the series


def _report_bad_cells(bad: tuple[tuple[int, str], ...], name: str, log: _Log) -> None:
    """One repair sentence listing the first non-numeric cells of the value column."""
    if bad:
        cells = ", ".join(f"{row}: {_quote(text, 20)}" for row, text in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        log.repair(f"Read {len(bad)} non-numeric cell{_s(len(bad))} in {name!r} as missing "
                   f"(rows {cells}{more}).")


def _choose_value_column(table: Table, options: LoadOptions) -> str:
    frame = table.frame
    if options.value_col is not None:
        _require_column(frame, options.value_col, "value")
        if not pd.api.types.is_float_dtype(frame[options.value_col]):
            raise DataError(f"The column {options.value_col!r} holds no numbers. Numeric "
                            f"columns: {_names(table.value_candidates) or 'none'}.")
        return options.value_col
    candidates = [name for name in table.value_candidates if name != options.date_col]
    if not candidates:
        raise DataError(f"No numeric column found (columns: {_names(frame.columns)}). The "
                        "series to forecast must be a column of numbers; check the separator "
                        "and decimal mark, or choose the value column.")
    return candidates[0]


def _choose_date_column(table: Table, options: LoadOptions, value_col: str) -> str | None:
    if options.date_col is not None:
        _require_column(table.frame, options.date_col, "date")
        if options.date_col == value_col:
            raise DataError(f"{value_col!r} cannot be both the date and the value column.")
        return options.date_col
    return next((name for name in table.date_candidates if name != value_col), None)


def _require_column(frame: pd.DataFrame, name: str, role: str) -> None:
    if name not in frame.columns:
        raise DataError(f"There is no column {name!r} for the {role}s. Available columns: "
                        f"{_names(frame.columns)}.")


def _names(names: Iterable[str], limit: int = 20) -> str:
    names = list(names)
    text = ", ".join(repr(name) for name in names[:limit])
    return text + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _refuse_infinite(values: pd.Series, name: str) -> None:
    infinite = np.flatnonzero(np.isinf(values.to_numpy()))
    if infinite.size:
        count = infinite.size
        raise DataError(f"The column {name!r} holds {count} infinite value{_s(count)} "
                        f"(row{_s(count)} {_list_rows(infinite)}). Replace "
                        f"{'it' if count == 1 else 'them'} with numbers, or leave the cells "
                        "empty so they are filled.")


def _date_index(data: pd.DataFrame, dates_col: pd.Series, name: str, options: LoadOptions,
                log: _Log) -> pd.DataFrame:
    """Index `data` by the parsed dates: drop dateless rows, sort, merge duplicates."""
    dates = _parse_dates(dates_col, name, options, log)
    data = _drop_undated(data, dates, dates_col, name, log)
    data.index = pd.DatetimeIndex(dates[data.index], name="date")
    data = _sort(data, options, log)
    data.index = _align_to_periods(data.index, log)
    return _merge_duplicates(data, options.aggregate, log)


def _drop_undated(data: pd.DataFrame, dates: pd.Series, raw: pd.Series, name: str,
                  log: _Log) -> pd.DataFrame:
    """Rows without a date: blank ones and a short footer are dropped, others refused."""
    missing = dates.isna().to_numpy()
    if not missing.any():
        return data
    text = _text(raw).str.strip()
    blank = missing & text.str.lower().isin(_NA_TOKENS).to_numpy()
    unread = np.flatnonzero(missing & ~blank)
    footer = 0 < unread.size <= MAX_FOOTER_ROWS and unread[0] > 0 and missing[unread[0]:].all()
    if unread.size and not footer:
        examples = ", ".join(f"{text.iloc[i]!r} (row {i + 1})" for i in unread[:3])
        raise DataError(f"{unread.size} cell{_s(unread.size)} of the date column {name!r} "
                        f"{'is not a date' if unread.size == 1 else 'are not dates'}: "
                        f"{examples}. Give the "
                        "format with option date_format (--date-format), for example "
                        "'%d.%m.%Y', or fix those cells.")
    if unread.size:
        log.repair(f"Dropped {unread.size} row{_s(unread.size)} at the end whose date cannot "
                   f"be read ({_quote(text.iloc[unread[0]])}), taken for a footer.")
    blanks = np.flatnonzero(blank)
    if blanks.size:
        log.repair(f"Dropped {blanks.size} row{_s(blanks.size)} without a date "
                   f"(rows {_list_rows(blanks)}).")
    if missing.all():
        raise DataError(f"No cell of {name!r} is a date. Choose the date column.")
    return data[~missing]


def _list_rows(positions: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(i + 1) for i in positions[:limit])
    return shown + (f" and {len(positions) - limit} more" if len(positions) > limit else "")


def _sort(data: pd.DataFrame, options: LoadOptions, log: _Log) -> pd.DataFrame:
    if data.index.is_monotonic_increasing:
        return data
    stamps = data.index.asi8
    out_of_order = int((stamps < np.maximum.accumulate(stamps)).sum())
    if not options.sort:
        raise DataError(f"{out_of_order} rows are out of date order. Sort the file, or turn "
                        "on sorting (option sort=True).")
    log.repair(f"Sorted {out_of_order} row{_s(out_of_order)} that were out of order.")
    return data.sort_index(kind="stable")


def _merge_duplicates(data: pd.DataFrame, how: str, log: _Log) -> pd.DataFrame:
    duplicated = data.index.duplicated()
    if not duplicated.any():
        return data
    stamps = data.index[duplicated].unique()
    count = int(duplicated.sum())
    grouped = data.groupby(level=0, sort=True)
    data = grouped.sum(min_count=1) if how == "sum" else getattr(grouped, how)()
    log.repair(f"Merged {count} duplicate timestamp{_s(count)} by {how} "
               f"({_stamps(stamps)}).")
    return data


def _stamps(index: pd.Index, limit: int = 5) -> str:
    """A short list of timestamps: '1984-12-31, 1988-12-31' or '... and 7 more'."""
    index = pd.DatetimeIndex(index)
    shown = ", ".join(index[:limit].strftime(_stamp_format(index)))
    return shown + (f" and {len(index) - limit} more" if len(index) > limit else "")


def _stamp_format(index: pd.DatetimeIndex) -> str:
    return "%Y-%m-%d" if (index == index.normalize()).all() else "%Y-%m-%d %H:%M"


def _positions(data: pd.DataFrame, mask: np.ndarray) -> str:
    if isinstance(data.index, pd.DatetimeIndex):
        return _stamps(data.index[mask])
    return "steps " + ", ".join(str(step) for step in data.index[mask][:5]) + (
        f" and {int(mask.sum()) - 5} more" if mask.sum() > 5 else "")


def _regularize(data: pd.DataFrame, options: LoadOptions, log: _Log
                ) -> tuple[pd.DataFrame, str, pd.DatetimeIndex]:
    """Resample if asked, then put every timestamp of the frequency in the index.

    Returns:
        The regular frame, its frequency alias and the timestamps that were inserted.
    """
    freq = infer_frequency(data.index)
    if options.resample:
        data, freq = _resample(data, freq, options, log)
        return data, freq, pd.DatetimeIndex([])
    if freq is None:
        raise DataError(f"The timestamps are not regular (steps such as "
                        f"{_step_examples(data.index)}), so no frequency can be inferred. "
                        "Resample to a regular frequency, for example option resample='D' "
                        "(--resample D) or 'MS' for monthly.")
    full = pd.date_range(data.index[0], data.index[-1], freq=freq, name="date")
    if len(full) > MAX_ROWS:
        raise DataError(f"Filling the gaps at frequency {freq} would make {len(full):,} rows. "
                        "Resample to a coarser frequency.")
    inserted = full.difference(data.index)
    return data.reindex(full), freq, inserted


def _step_examples(index: pd.DatetimeIndex) -> str:
    steps = pd.Series(np.diff(index.asi8)).value_counts().index[:3]
    return ", ".join(str(pd.Timedelta(int(step))) for step in steps)


def _resample(data: pd.DataFrame, freq: str | None, options: LoadOptions, log: _Log
              ) -> tuple[pd.DataFrame, str]:
    alias = options.resample
    try:
        bins = data.resample(alias)
        data_out = bins.sum(min_count=1) if options.resample_how == "sum" else \
            getattr(bins, options.resample_how)()
    except (ValueError, TypeError):
        raise DataError(f"Cannot resample to {alias!r}. Use a pandas frequency such as 'D', "
                        "'W', 'MS', 'QS' or 'YS'.") from None
    if len(data_out) > len(data):
        raise DataError(f"Resampling to {alias!r} would not make the series coarser "
                        f"({len(data)} rows become {len(data_out)}). Choose a longer period.")
    new_freq = _short_alias(_offset(alias).freqstr)
    source = describe_frequency(freq) if freq else "irregular"
    log.repair(f"Resampled from {source} to {describe_frequency(new_freq)} ({new_freq}) by "
               f"{options.resample_how}: {len(data)} rows became {len(data_out)}.")
    data_out.index.name = "date"
    return data_out, new_freq


def _span_label(index: pd.Index) -> str:
    """'2010-01-01 00:00 to 2010-01-01 23:00', 'step 4' or 'steps 0 to 9'."""
    if isinstance(index, pd.DatetimeIndex):
        ends = index[[0, -1]].unique()
        return " to ".join(ends.strftime(_stamp_format(ends)))
    return f"step {index[0]}" if len(index) == 1 else f"steps {index[0]} to {index[-1]}"


def _trim_missing(data: pd.DataFrame, value_col: str, log: _Log) -> pd.DataFrame:
    """Drop leading and trailing rows without a value (they cannot be interpolated)."""
    present = np.flatnonzero(data[value_col].notna().to_numpy())
    if present.size == 0:
        raise DataError(f"Every value of {value_col!r} is missing. Choose a column that holds "
                        "numbers.")
    first, last = present[0], present[-1]
    for rows, where in ((slice(0, first), "leading"), (slice(last + 1, len(data)), "trailing")):
        dropped = data.index[rows]
        if len(dropped):
            label = _span_label(dropped)
            log.repair(f"Dropped {len(dropped)} {where} row{_s(len(dropped))} without a value "
                       f"in {value_col!r} ({label}).")
    return data.iloc[first:last + 1]


_FILL_WORDS = {"linear": "linear interpolation", "time": "time interpolation",
               "seasonal": "the value one season earlier", "ffill": "the previous value"}


def _fill(data: pd.DataFrame, value_col: str, freq: str | None, inserted: pd.Index,
          options: LoadOptions, log: _Log) -> pd.DataFrame:
    """Fill missing timestamps and cells with the chosen method, reporting each kind."""
    gap = data.index.isin(inserted)
    missing = data[value_col].isna().to_numpy()
    cells = missing & ~gap
    others = [name for name in data.columns if name != value_col]
    other_missing = int(data[others].isna().to_numpy().sum()) if others else 0
    if not (missing.any() or other_missing):
        return data
    if options.fill == "none":
        raise DataError(f"{int(missing.sum())} value{_s(int(missing.sum()))} of {value_col!r} "
                        f"{'is' if missing.sum() == 1 else 'are'} missing "
                        f"({_positions(data, missing)}). Choose a fill method (option fill: "
                        "linear, time, seasonal or ffill) or fix the file.")
    how = _FILL_WORDS[options.fill]
    if gap.any():
        log.repair(f"Filled {int(gap.sum())} missing timestamp{_s(int(gap.sum()))} "
                   f"({_positions(data, gap)}) by {how}.")
    if cells.any():
        log.repair(f"Filled {int(cells.sum())} missing value{_s(int(cells.sum()))} in "
                   f"{value_col!r} ({_positions(data, cells)}) by {how}.")
    if other_missing:
        log.repair(f"Filled {other_missing} missing cell{_s(other_missing)} in the other "
                   f"columns ({_names([n for n in others if data[n].isna().any()], 5)}) by "
                   f"{how}.")
    period = season_length(freq)
    return data.apply(lambda col: _fill_column(col, options.fill, period))


def _fill_column(col: pd.Series, method: str, period: int) -> pd.Series:
    """One column without gaps; edges that a method cannot reach take the nearest value."""
    if col.notna().sum() == 0 or col.notna().all():
        return col
    if method == "seasonal" and period > 1:
        col = col.fillna(col.shift(period)).fillna(col.shift(-period))
        method = "linear"
    if method == "ffill":
        col = col.ffill()
    elif method == "time" and isinstance(col.index, pd.DatetimeIndex):
        col = col.interpolate(method="time")
    else:
        col = col.interpolate(method="linear")
    return col.ffill().bfill()


def _finish(data: pd.DataFrame, value_col: str, freq: str | None, log: _Log) -> TimeSeries:
    values = data[value_col].to_numpy(dtype="float64")
    if values.size < 3:
        raise DataError(f"The series has {values.size} point{_s(values.size)}; at least 3 are "
                        "needed (and many more to train a model). Choose a longer file.")
    if np.ptp(values) == 0:
        raise DataError(f"All {values.size} values of {value_col!r} equal {values[0]:g}: a "
                        "constant series has nothing to learn. Choose another column.")
    extra = data.drop(columns=[value_col]) if len(data.columns) > 1 else None
    if extra is not None:
        extra = extra.loc[:, extra.notna().all()]
    return TimeSeries(values, data.index, freq, value_col, tuple(log.repairs),
                      extra if extra is not None and len(extra.columns) else None)


# --------------------------------------------------------------------------- summary


_COUNTS = {"missing_filled": re.compile(r"^Filled (\d+) missing (?:timestamp|value)"),
           "duplicates_merged": re.compile(r"^Merged (\d+) duplicate"),
           "non_numeric": re.compile(r"^Read (\d+) non-numeric")}


def summarize(series: TimeSeries) -> dict:
    """A JSON-ready overview of a loaded series for the dashboard and the CLI report.

    Returns:
        Keys: name, rows, start, end, span (plain words), frequency (plain words), freq
        (alias or None), season_length, missing_filled, duplicates_merged, non_numeric,
        repairs (list of sentences) and columns (the other numeric columns).
    """
    counts = dict.fromkeys(_COUNTS, 0)
    for sentence in series.repairs:
        for key, pattern in _COUNTS.items():
            match = pattern.match(sentence)
            if match:
                counts[key] += int(match.group(1))
    start, end = series.index[0], series.index[-1]
    return {
        "name": series.name,
        "rows": len(series),
        "start": _stamp_text(start),
        "end": _stamp_text(end),
        "span": _span(series),
        "frequency": describe_frequency(series.freq),
        "freq": series.freq,
        "season_length": series.season_length,
        **counts,
        "repairs": list(series.repairs),
        "columns": [] if series.extra is None else [str(c) for c in series.extra.columns],
    }


def _stamp_text(stamp) -> str | int:
    if isinstance(stamp, pd.Timestamp):
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else \
            stamp.strftime("%Y-%m-%d %H:%M")
    return int(stamp)


def _span(series: TimeSeries) -> str:
    """The time the series covers, one step past its last point: '12 years', '1000 steps'."""
    if not series.has_dates:
        return f"{len(series)} step{_s(len(series))}"
    start = series.index[0]
    end = series.future_index(1)[0] if series.freq else series.index[-1]
    delta = relativedelta(end.to_pydatetime(), start.to_pydatetime())
    units = [(delta.years, "year"), (delta.months, "month"), (delta.days, "day"),
             (delta.hours, "hour"), (delta.minutes, "minute")]
    parts = [f"{n} {unit}{_s(n)}" for n, unit in units if n][:2]
    return " ".join(parts) or "0 days"
