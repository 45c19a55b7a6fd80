"""Text layout: the separator, preamble lines, the header row, footer lines, malformed lines."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from forecasting.errors import DataError
from forecasting.loading import limits
from forecasting.loading._shared import _Log, _quote, _s
from forecasting.loading.limits import _check_shape
from forecasting.loading.options import LoadOptions

SEPARATORS = ("\t", ";", "|", ",")  # in order of preference when two fit equally well
_NUMBER = re.compile(r"^[-+]?[\d.,' \u00a0\u202f]*\d[\d.,' \u00a0\u202f]*(?:[eE][-+]?\d+)?%?$")


def _read_text(text: str, options: LoadOptions, log: _Log) -> pd.DataFrame:
    """Cells of a delimited text file as strings, without preamble and footer lines."""
    lines = _lines(text)
    if len(lines) > limits.MAX_ROWS + 100:
        _check_shape(len(lines), 1)
    sample = _sample_lines(lines)
    sep = options.sep or _sniff_sep(sample)
    if options.sep is None and sep != ",":
        log.note(f"Detected the separator {_SEP_NAMES[sep]}.")
    rows = [_split(line, sep) for line in sample]
    width = _modal_width([len(row) for row in rows])
    _check_shape(0, max(width, _cut_width(lines, sample, sep)))
    start, has_header = _locate_table(rows, width, log)
    end = len(lines) - _count_footer([_split(line, sep) for line in lines[-20:]], width, log)
    body = "\n".join(lines[start + int(has_header) : end])
    header = rows[start] if has_header else None
    return _frame_from_text(body, header, sep, width, log)


_SEP_NAMES = {",": "',' (comma)", ";": "';' (semicolon)", "\t": "tab", "|": "'|' (pipe)"}


def _lines(text: str) -> list[str]:
    """The text's lines, split only at \\n, \\r\\n and \\r as the CSV reader does."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _sample_lines(lines: list[str]) -> list[str]:
    """The first lines (at most SNIFF_LINES, within SNIFF_CHARS; a longer line is cut)."""
    sample, size = [], 0
    for line in lines[: limits.SNIFF_LINES]:
        sample.append(line[: limits.SNIFF_CHARS - size])
        size += len(sample[-1]) + 1
        if size >= limits.SNIFF_CHARS:
            break
    return sample


def _cut_width(lines: list[str], sample: list[str], sep: str) -> int:
    """The true number of fields of the first line that sniffing cut short (0 if none)."""
    cut = next((i for i, line in enumerate(sample) if len(line) < len(lines[i])), None)
    return 0 if cut is None else len(_split(lines[cut], sep))


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
    start = next(
        (
            i
            for i, row in enumerate(rows)
            if len(row) == width and sum(1 for cell in row if cell.strip()) >= need
        ),
        None,
    )
    if start is None:
        raise DataError(
            "No table found: no line has the same fields as the others. Check the "
            "separator (option sep) or export the data again as CSV."
        )
    if start:
        first = rows[0][0].strip() if rows[0] else ""
        log.repair(
            "preamble_skipped",
            start,
            f"Skipped {start} line{_s(start)} before the table (starting {_quote(first)}).",
        )
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
        log.repair(
            "footer_skipped",
            len(texts),
            f"Skipped {len(texts)} line{_s(len(texts))} after the table ({_quote(texts[-1])}).",
        )
    return count


def _trim_row(row: list[str]) -> list[str]:
    """A spreadsheet row without its empty cells on the right (as a CSV line would be)."""
    while row and not row[-1].strip():
        row = row[:-1]
    return row


def _frame_from_text(
    body: str, header: list[str] | None, sep: str, width: int, log: _Log
) -> pd.DataFrame:
    """Read the table body as strings; malformed lines are skipped and reported."""
    kwargs = dict(
        sep=sep,
        header=None,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skipinitialspace=True,
        quotechar='"',
        index_col=False,
        skip_blank_lines=True,
        names=list(range(width)),
        nrows=limits.MAX_ROWS + 1,
    )
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
                frame = pd.read_csv(
                    io.StringIO(body),
                    engine="python",
                    on_bad_lines=lambda line: bad.append(line),
                    **kwargs,
                )
        except (pd.errors.ParserError, ValueError, csv.Error) as exc:
            raise DataError(
                f"The file cannot be read as a table ({_first_line(exc)}). Check "
                "the separator (option sep) and the quotes."
            ) from None
        if bad:
            log.repair(
                "malformed_skipped",
                len(bad),
                f"Skipped {len(bad)} malformed line{_s(len(bad))} with more than "
                f"{width} fields (first: {_quote(sep.join(bad[0]))}).",
            )
    _check_shape(len(frame), width)
    frame.columns = _column_names(header, width)
    return frame


def _column_names(header: list[str] | None, width: int) -> list[str]:
    """Names from the header row, or 'column 1', 'column 2', ... when there is none."""
    return _clean_names(header if header is not None else [f"column {i + 1}" for i in range(width)])


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
