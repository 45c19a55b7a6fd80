"""Property tests: whatever a user uploads, the loader answers with a series or a DataError.

No other exception type, no traceback text in the message, and every input within a time
bound (hypothesis' deadline).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from forecasting.errors import DataError
from forecasting.loading import LoadOptions, load_series, read_table
from forecasting.series import TimeSeries

# The deadline catches a hang or a blow-up, not speed (benchmarks measure that): it leaves room
# for a machine busy with other work.
FAST = settings(
    max_examples=100,
    deadline=5000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CELL = st.one_of(
    st.integers(-(10**12), 10**13).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "",
            "NA",
            "n/a",
            "-",
            "?",
            "inf",
            "1,5",
            "1.234,5",
            '"1,234"',
            "abc",
            "2020-01-01",
            "01/02/2020",
            "13/01/2020",
            "Jan 1991",
            "1956Q1",
            "1-01",
            "2021-06-01T00:00:00+02:00",
            "Source: x",
            "#",
            '"',
            "date",
            "value",
        ]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
)
SEP = st.sampled_from([",", ";", "\t", "|", " "])
ENCODING = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"])


def check_outcome(call) -> None:
    """Run `call`: it returns a valid result or raises DataError with a readable message."""
    try:
        result = call()
    except DataError as error:
        message = str(error)
        assert message.strip(), "empty error message"
        assert "Traceback" not in message
        assert len(message) < 1200, message
        return
    if isinstance(result, TimeSeries):
        assert len(result) >= 3
        assert np.isfinite(result.values).all()
        assert result.index.is_monotonic_increasing and result.index.is_unique


@st.composite
def csv_files(draw) -> bytes:
    sep = draw(SEP)
    width = draw(st.integers(1, 5))
    rows = draw(
        st.lists(st.lists(CELL, min_size=width, max_size=width + 1), min_size=0, max_size=30)
    )
    header = draw(st.one_of(st.none(), st.lists(CELL, min_size=width, max_size=width)))
    lines = ([sep.join(header)] if header is not None else []) + [sep.join(r) for r in rows]
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    try:
        return text.encode(draw(ENCODING))
    except UnicodeEncodeError:
        return text.encode("utf-8")


@st.composite
def dated_files(draw) -> bytes:
    """Plausible files whose date cells are drawn from many formats, with random values."""
    fmt = draw(
        st.sampled_from(
            [
                "%Y-%m-%d",
                "%d/%m/%Y",
                "%m/%d/%Y",
                "%b %Y",
                "%Y-%m",
                "%Y-%m-%d %H:%M",
                "%d.%m.%Y",
                "%Y%m%d",
                "%B %d, %Y",
            ]
        )
    )
    freq = draw(st.sampled_from(["D", "MS", "h", "W-SUN", "QS", "YS", "B"]))
    n = draw(st.integers(0, 40))
    dates = pd.date_range("1999-12-30", periods=n, freq=freq).strftime(fmt).tolist()
    for i in draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=3)):
        if n:
            dates[i] = draw(CELL)
    values = draw(st.lists(CELL, min_size=n, max_size=n))
    order = draw(st.permutations(range(n)))
    lines = ["date,value"] + [f"{dates[i]},{values[i]}" for i in order]
    return "\n".join(lines).encode()


@FAST
@given(st.binary(max_size=2048))
def test_random_bytes_give_a_series_or_a_data_error(data: bytes) -> None:
    check_outcome(lambda: load_series(data))


@FAST
@given(
    st.sampled_from([b"PK\x03\x04", b"PAR1", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf"]),
    st.binary(max_size=1024),
)
def test_files_with_a_known_signature_and_junk_are_refused_cleanly(
    magic: bytes, data: bytes
) -> None:
    check_outcome(lambda: load_series(magic + data))


@FAST
@given(csv_files())
@example(b"0,0\x0c,0")  # a form feed splits lines for Python but not for the CSV reader
def test_csv_shaped_text_gives_a_series_or_a_data_error(data: bytes) -> None:
    check_outcome(lambda: load_series(data))
    check_outcome(lambda: read_table(data))


@FAST
@given(
    dated_files(),
    st.sampled_from([None, True, False]),
    st.sampled_from(["linear", "time", "seasonal", "ffill", "none"]),
)
# Found by earlier runs: a year pandas cannot hold, infinity in a yyyymmdd column, an
# ambiguous day/month column whose first cell is not a date.
@example(b"date,value\n-1,0\n1999-12-31,0\n2000-01-01,0", None, "linear")
@example(b"date,value\ninf,0\n19991231,0", None, "linear")
@example(b"date,value\nabc,0\n01/02/2000,0", None, "linear")
def test_dated_files_give_a_series_or_a_data_error(data: bytes, dayfirst, fill: str) -> None:
    check_outcome(lambda: load_series(data, LoadOptions(dayfirst=dayfirst, fill=fill)))


@FAST
@given(
    st.lists(CELL, min_size=1, max_size=20),
    st.one_of(st.none(), st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%Q", "%", "%Y%", "garbage"])),
)
def test_random_date_strings_give_a_series_or_a_data_error(cells: list[str], fmt) -> None:
    lines = ["when,amount"] + [
        f'"{c.replace(chr(34), "")}",{i * 1.5 + (i % 3)}' for i, c in enumerate(cells)
    ]
    data = "\n".join(lines).encode()
    check_outcome(lambda: load_series(data, LoadOptions(date_col="when", date_format=fmt)))
