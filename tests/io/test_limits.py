"""What the CSV reader refuses before it reads, and in what words: sources that are not files,
sizes over the limit (checked before a byte is read, for paths, uploads and streams), binary and
compressed files renamed to .csv, overlong lines, too many columns, and a read past its time budget.

Fast and TensorFlow-free: mutation testing (docs/TESTING.md) runs them against every mutant of denoiser/io.
"""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from denoiser.errors import MAX_MESSAGE, InputError
from denoiser.io import (
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_GAP,
    MAX_LINE_CHARS,
    guards,
    read_series,
)
from denoiser.io.encoding import Encoding
from tests.support import (
    DATA,
    ROOT,
    named,
    raises_input_error,
    refusal,
    values,
)

MB = 1024**2


# ------------------------------------------------------------------ the limits
def test_public_limits() -> None:
    assert MAX_BYTES == 200 * 1024**2
    assert MAX_COLUMNS == 1000
    assert MAX_LINE_CHARS == 1_000_000
    assert MAX_GAP == 10


def test_limits_must_be_positive():
    for kwargs in ({"max_bytes": 0}, {"max_columns": 0}, {"max_line_chars": 0}, {"max_gap": -1}):
        with pytest.raises(ValueError) as err:
            read_series(b"a\n1\n2\n", **kwargs)
        assert str(err.value) == "Limits must be positive and max_gap must be >= 0."
    assert read_series(b"a\n1\n\n\n2\n", max_gap=0).report.rows == 2


# ------------------------------------------------------------------ sources: paths, bytes and file objects
class UploadedFile(io.BytesIO):
    """Stand-in for Streamlit's UploadedFile: a BytesIO with .name and .size."""

    def __init__(self, data: bytes, name: str = "upload.csv") -> None:
        super().__init__(data)
        self.name = name
        self.size = len(data)


class _Upload:
    """Streamlit's UploadedFile: ``.size`` and ``.name``; read() must not run when too big."""

    def __init__(self, data: bytes, size=None, name="/tmp/up/data.csv"):
        self._buf, self.name = io.BytesIO(data), name
        self.size = len(data) if size is None else size
        self.reads = 0

    def seekable(self):
        return True

    def seek(self, *args):
        return self._buf.seek(*args)

    def read(self, n=-1):
        self.reads += 1
        return self._buf.read(n)


class _Stream:
    """A pipe-like object: no size, no seek; read() only."""

    def __init__(self, data):
        self._buf = io.BytesIO(data)

    def read(self, n=-1):
        return self._buf.read(n)


def test_bytes_path_string_and_uploaded_file_agree(tmp_path: Path) -> None:
    raw = (DATA / "semicolon_decimal_comma.csv").read_bytes()
    upload = UploadedFile(raw, "measure.csv")
    upload.seek(5)  # an app may have read part of it already
    tables = [
        read_series(raw),
        read_series(str(DATA / "semicolon_decimal_comma.csv")),
        read_series(upload),
        read_series(io.BytesIO(raw)),
    ]
    for table in tables:
        assert values(table, "value") == [1.5, 2.5, 3.5]


def test_missing_path_and_folder(tmp_path: Path) -> None:
    raises_input_error(tmp_path / "nope.csv", "does not exist")
    raises_input_error(tmp_path, "folder")


def test_paths_that_are_not_files_are_named(tmp_path):
    assert refusal(tmp_path / "none.csv") == (
        f"The file {str(tmp_path / 'none.csv')!r} does not exist. Check the path and try again."
    )
    folder = tmp_path / "data"
    folder.mkdir()
    assert refusal(folder) == "'data' is a folder, not a file. Choose a CSV file."
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert refusal(fifo) == "'pipe.csv' is not a regular file (a pipe or a device?). Choose a CSV file."
    assert refusal("a,b\n1,2") == (
        "read_series was given CSV text instead of a file path. "
        "Pass the content as bytes (text.encode()) or save it to a file first."
    )
    assert refusal(12, TypeError) == "read_series expects a path, bytes or a binary file object, not int."


def test_unsupported_source_type_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        read_series(12345)  # type: ignore[arg-type]


def test_system_files_are_refused_without_their_content(tmp_path: Path) -> None:
    """/etc/passwd, /proc/self/environ, /dev/zero and a link to an oversized file: refused, and no message
    quotes what they hold (an environment holds secrets)."""
    secret = "DENOISER_TEST_SECRET_" + "x" * 8
    os.environ["DENOISER_TEST_SECRET"] = secret  # so /proc/self/environ holds it
    try:
        big = tmp_path / "big.csv"
        with open(big, "wb") as fh:
            fh.truncate(3 * 1024**2)  # sparse: 3 MB of NULs, refused by size below before a byte is read
        (tmp_path / "link.csv").symlink_to(big)
        for path, kwargs in (
            ("/etc/passwd", {}),
            ("/proc/self/environ", {}),
            ("/dev/zero", {}),
            (str(tmp_path / "link.csv"), {"max_bytes": 1024**2}),
        ):
            if not os.path.exists(path):
                continue
            with pytest.raises(InputError) as info:
                read_series(path, **kwargs)
            msg = str(info.value)
            assert "root:" not in msg and secret not in msg and "\x00" not in msg, msg
            assert len(msg) <= MAX_MESSAGE
    finally:
        del os.environ["DENOISER_TEST_SECRET"]


def test_an_upload_is_sized_before_it_is_read_and_read_from_its_start():
    big = _Upload(b"a\n1\n", size=3 * MB)
    assert refusal(big, max_bytes=2 * MB) == (
        "The file 'data.csv' is 3.0 MB, more than the limit of 2.0 MB. Split it into smaller files or keep fewer columns."
    )
    assert big.reads == 0
    up = _Upload(b"a\n1\n2\n3\n")
    up.read(3)  # a preview read part of it
    table = read_series(up)
    assert table.column("a").tolist() == [1.0, 2.0, 3.0]
    assert (
        _Upload(b"a\n1\n2\n", size=True).size is True and read_series(_Upload(b"a\n1\n2\n", size=True)).report.rows == 2
    )


def test_a_buffer_without_size_is_sized_by_seeking_or_by_reading():
    buf = io.BytesIO(b"a\n" + b"1\n" * 600)  # 1,202 bytes
    assert guards._buffer_size(buf) == 1202
    buf.seek(5)
    assert guards._buffer_size(buf) == 1202 and buf.tell() == 5  # the position is put back
    assert guards._buffer_size(_Stream(b"abc")) is None
    assert guards._buffer_size(_Upload(b"abc", size=7)) == 7
    assert refusal(io.BytesIO(b"a\n" + b"1\n" * 600), max_bytes=1000).startswith("The file is 0.0 MB")
    # no size, no seek: read max_bytes + 1 and refuse what is still too long
    assert refusal(_Stream(b"a\n" + b"1\n" * 600), max_bytes=1000).startswith("The file is 0.0 MB")
    assert read_series(_Stream(b"a\n" + b"1\n" * 600), max_bytes=1202).report.rows == 600
    assert read_series(io.StringIO("a\n1\n2\n")).report.rows == 2  # text buffers are encoded


def test_broken_file_objects_get_a_message():
    class Failing(_Stream):
        name = "/x/broken.csv"

        def read(self, n=-1):
            raise OSError("device gone")

    assert refusal(Failing(b"")) == "The file 'broken.csv' could not be read (device gone). Try uploading it again."

    class Numbers(_Stream):
        def read(self, n=-1):
            return [1, 2]

    assert refusal(Numbers(b""), TypeError) == "The file object's read() must return bytes."


# ------------------------------------------------------------------ size, checked before reading
def test_size_refusals_give_both_sizes_in_mb():
    assert refusal(b"1\n" * (MB // 2 + 100_000), max_bytes=MB // 2) == (
        "The file is 1.2 MB, more than the limit of 0.5 MB. Split it into smaller files or keep fewer columns."
    )
    err = guards._too_big(1536 * MB, 1024 * MB, "big.csv")
    assert str(err) == (
        "The file 'big.csv' is 1,536.0 MB, more than the limit of 1,024.0 MB. "
        "Split it into smaller files or keep fewer columns."
    )
    # exactly at the limit is read
    assert read_series(b"a\n1\n2\n", max_bytes=6).report.rows == 2
    assert "is 0.0 MB" in refusal(b"a\n1\n2\n", max_bytes=5)


def test_a_path_over_the_limit_is_refused_by_its_size(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"a\n" + b"1.5\n" * 400_000)  # 1.5 MB
    assert refusal(path, max_bytes=MB) == (
        "The file 'big.csv' is 1.5 MB, more than the limit of 1.0 MB. Split it into smaller files or keep fewer columns."
    )
    small = tmp_path / "small.csv"
    small.write_bytes(b"a\n" + b"1\n" * 100_000)  # read in steps of at least 64 KB
    assert read_series(small).report.rows == 100_000
    assert read_series(str(small), max_bytes=small.stat().st_size).report.rows == 100_000


def test_size_limit_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"a\n" + b"1\n" * 1000)
    raises_input_error(path, "more than the limit", "split", max_bytes=1000)
    raises_input_error(path.read_bytes(), "more than the limit", max_bytes=1000)

    class Huge(UploadedFile):
        """Claims a size above the limit; read() must never be called."""

        def read(self, *args: object) -> bytes:  # type: ignore[override]
            raise AssertionError("read before the size check")

    upload = Huge(b"a\n1\n2\n")
    upload.size = MAX_BYTES + 1
    raises_input_error(upload, "more than the limit")


def test_size_limit_for_buffer_without_size_attribute() -> None:
    raises_input_error(io.BytesIO(b"a\n" + b"1\n" * 1000), "more than the limit", max_bytes=100)


def test_the_upload_limit_is_the_readers_limit(tmp_path: Path) -> None:
    import tomllib

    from denoiser.io import MAX_BYTES

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024**2 == MAX_BYTES
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: nothing is on disk, and nothing may be read
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="more than the limit of 200.0 MB"):
            read_series(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024**2


def test_million_rows_read_fast_and_correctly(tmp_path: Path) -> None:
    n = 1_000_000
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write("sample,value\n")
        handle.write("".join(f"{i},{i % 997}.5\n" for i in range(n)))
    table = read_series(path)  # (its speed is measured in bench/speed.py, not asserted here)
    assert table.report.rows == n
    assert table.report.time_column == "sample"
    value = table.column("value")
    assert value.dtype == np.float64 and value.shape == (n,)
    np.testing.assert_array_equal(value, np.arange(n) % 997 + 0.5)


# ------------------------------------------------------------------ binary and compressed files
@pytest.mark.parametrize("magic, what, todo", guards._MAGIC)
def test_every_known_binary_format_is_named(magic, what, todo):
    assert (
        refusal(
            magic + b"\x00rest of the file",
        )
        == f"The file looks like {what}, not a CSV text file. {todo}"
    )


def test_empty_bzip2_and_html_files_are_named():
    for empty in (b"", b" \n\t\r\n"):
        assert refusal(empty) == "The file is empty. Choose a CSV file with at least one column of numbers."
    assert refusal(b"BZh91AY&SY\x00\x01") == (
        "The file looks like a bzip2-compressed file. It is a compressed file: unzip it first and choose the CSV "
        "file inside."
    )
    assert refusal(b"\n  <!DOCTYPE HTML><html>") == (
        "The file looks like a web page (HTML), not a CSV file. Download the data itself as CSV and choose that file."
    )
    assert refusal(b"<HTML><body>1,2</body>").startswith("The file looks like a web page")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40 + b"xl/workbook.xml", ["Excel", "Save As > CSV"]),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, ["Excel", "Save As > CSV"]),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["PNG image"]),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", ["JPEG image"]),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", ["PDF"]),
        (bytes(range(256)) * 4, ["binary"]),
        (b"1,2\n3,\x004\n5,6\n", ["binary"]),
        (b"<!DOCTYPE html><html><body>1,2</body></html>", ["web page"]),
    ],
)
def test_binary_files_renamed_to_csv(tmp_path: Path, content: bytes, words: list[str]) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    raises_input_error(path, "data.csv", *words)


def test_gzip_is_refused_not_decompressed(tmp_path: Path) -> None:
    # A real gzip bomb: 50 MB of zeros compress to ~50 KB. It must not be inflated.
    path = tmp_path / "bomb.csv"
    path.write_bytes(gzip.compress(b"0" * 50_000_000, compresslevel=1))
    # Not inflated: Python allocates far less than the 50 MB it would expand to.
    tracemalloc.start()
    try:
        raises_input_error(path, "compressed file", "unzip it first")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, f"{peak:,} bytes allocated for a refused gzip file"


def test_text_likeness_counts_control_characters_against_the_length():
    ok, bad = "a\n" + "1\n" * 49, "a\n" + "1\n" * 549  # 100 and 1,100 characters
    assert guards.looks_like_text(ok[:-2] + "\x01\x02")  # 2 controls: allowed in a short text
    assert not guards.looks_like_text(ok[:-3] + "\x01\x02\x03")
    assert guards.looks_like_text(bad[:-11] + "\x01" * 11)  # 11 of 1,100: 1 %, allowed
    assert not guards.looks_like_text(bad[:-12] + "\x01" * 12)
    assert guards.looks_like_text("\t\f\v\r\n" * 20)  # whitespace controls do not count
    assert not guards.looks_like_text("a\n1\n2\n\x7f\x7f\x7f")  # DEL counts
    assert not guards.looks_like_text("a,b\n1,2\n\x00")  # one NUL is enough
    assert guards.looks_like_text("x" * 97 + "\ufffd" * 7)  # 104 // 20 + 2 = 7 replacement chars
    assert not guards.looks_like_text("x" * 96 + "\ufffd" * 8)
    # the refusal names the formats that are read (the reader words it: it knows the registry)
    assert refusal(named(b"a\n1\n2\n\x01\x02\x03", "f.csv")) == (
        "The file 'f.csv' does not look like a text file (it contains binary data), nor like "
        "a format read here (.xlsx, .xlsm, .xls, .ods, .parquet, .pq, .h5, .hdf5, .hdf, .he5, "
        ".mat, .wav, .wave, .flac, .tdms, .edf, .bdf, .mseed, .miniseed, .ms, .sac). Choose a "
        "CSV file, or export your data as CSV from the program that made it."
    )


# ------------------------------------------------------------------ long lines: which line, and the limit
def test_overlong_line_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"a,b\n" + b"1" * 5_000_000  # 5 MB without a newline

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pandas parsed a file with an overlong line")

    monkeypatch.setattr(pd, "read_csv", no_parse)  # refused before pandas sees it
    raises_input_error(data, "line 2", "longer than 1,000,000 characters")
    raises_input_error(b"a\n1\n" + b"2" * 50 + b"\n3\n", "line 3", max_line_chars=20)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_the_overlong_line_is_named_by_its_number(newline):
    rows = [b"a,b", b"1,2", b"3,4", b"5" * 30, b"6,7"]
    data = newline.join(rows) + newline
    assert refusal(data, max_line_chars=20) == (
        "Line 4 of the file is longer than 20 characters, so it is not a table with one row per line. "
        "Check that you chose the right file, or put each measurement on its own line."
    )
    # the last line, without a line break after it
    assert refusal(newline.join(rows[:3] + [b"9" * 21]), max_line_chars=20).startswith("Line 4 of the file is")
    # exactly at the limit is fine
    assert read_series(newline.join([b"a", b"1", b"2" * 20, b"3"]), max_line_chars=20).report.rows == 3


def test_line_numbers_and_limits_have_thousands_separators():
    data = b"a\n" + b"1\n" * 1500 + b"2" * 1_000_001 + b"\n3\n"
    assert refusal(data).startswith("Line 1,502 of the file is longer than 1,000,000 characters, so")


def test_line_lengths_count_code_units_after_the_bom():
    rows = "a,b\n1,2\n" + "5" * 30 + "\n6,7\n"
    # (in UTF-16 the byte after a line break, its second half, counts towards the next line)
    for bom, codec, fits in [(b"\xff\xfe", "utf-16-le", 31), (b"\xef\xbb\xbf", "utf-8", 30)]:
        data = bom + rows.encode(codec)
        assert refusal(data, max_line_chars=20).startswith("Line 3 of the file is longer than 20 characters")
        assert refusal(data, max_line_chars=fits - 1).startswith("Line 3 of the file")
        assert read_series(data, max_line_chars=fits).report.rows == 3


def test_a_long_line_is_found_across_scan_chunks(monkeypatch):
    monkeypatch.setattr(guards, "SCAN_CHUNK", 16)  # many chunks from a small file
    lines = [b"a"] + [b"1"] * 40 + [b"2" * 25] + [b"3"] * 5
    data = b"\n".join(lines) + b"\n"
    assert refusal(data, max_line_chars=24).startswith("Line 42 of the file is longer than 24 characters")
    assert read_series(data, max_line_chars=25).report.rows == len(lines) - 1
    # a line that spans chunk ends without a break inside a chunk
    data = b"a\n1\n" + b"2" * 40 + b"\n3\n"
    assert refusal(data, max_line_chars=39).startswith("Line 3 of the file")
    assert read_series(data, max_line_chars=40).report.rows == 3
    enc = Encoding("utf-8", "utf-8", 0, 1)
    guards.check_line_lengths(b"ab\n" * 20, enc, 2, None)  # many chunks, none too long
    with pytest.raises(InputError, match="Line 21 of"):
        guards.check_line_lengths(b"ab\n" * 20 + b"abc", enc, 2, None)  # the tail after the last break


# ------------------------------------------------------------------ columns
def test_too_many_columns() -> None:
    row = ",".join(["1.0"] * (MAX_COLUMNS + 1))
    raises_input_error(f"{row}\n{row}\n".encode(), "1,001 columns", "at most 1,000")
    raises_input_error(b"1,2,3\n4,5,6\n", "3 columns", "at most 2", max_columns=2)
    header = ",".join(f"c{i}" for i in range(10_000))
    wide = ",".join(["1.5"] * 10_000)
    raises_input_error(f"{header}\n{wide}\n{wide}\n".encode(), "10,000 columns", "at most 1,000")


def test_too_many_columns_names_both_counts():
    row = ",".join(["1"] * 1200).encode()
    assert refusal(row + b"\n" + row + b"\n") == (
        "The file has 1,200 columns; at most 1,000 are supported. Remove unused columns or split the file, "
        "then try again."
    )
    assert read_series(b"1,2,3\n4,5,6\n", max_columns=3).values.shape == (2, 3)


def test_refusals_of_a_named_file_carry_its_name():
    assert refusal(named(b"a\n1\n" + b"2" * 30 + b"\n"), max_line_chars=20).startswith(
        "Line 3 of the file 'f.csv' is longer than 20 characters"
    )
    row = ",".join(["1"] * 12).encode()
    assert refusal(named(row + b"\n" + row + b"\n"), max_columns=10).startswith(
        "The file 'f.csv' has 12 columns; at most 10 are supported."
    )


# ------------------------------------------------------------------ the time budget
def test_a_spent_time_budget_stops_the_read_saying_where():
    budget = guards.BUDGET
    saved = (budget.deadline, budget.seconds, budget.name)
    try:
        budget.deadline, budget.seconds, budget.name = time.monotonic() - 1.0, 2.5, "slow.csv"
        with pytest.raises(InputError) as err:
            guards.tick("sniffing the format")
        assert str(err.value) == (
            "Reading the file 'slow.csv' took longer than 2.5 s (while sniffing the format), so it was stopped. "
            "A table of numbers reads much faster: check that this is the right file, or split it into smaller files."
        )
        budget.deadline = time.monotonic() + 3600.0
        guards.tick("anything")  # time left: no error
        budget.deadline = None
        guards.tick("anything")
    finally:
        budget.deadline, budget.seconds, budget.name = saved


def test_a_read_over_its_time_budget_stops_with_a_clear_message() -> None:
    with pytest.raises(InputError, match=r"took longer than 0 s .*stopped"):
        read_series(b"t,v\n0,1\n1,2\n2,3\n", time_budget=0)
    assert read_series(b"t,v\n0,1\n1,2\n2,3\n").report.rows == 3


def test_digit_runs_read_in_bounded_time() -> None:
    """A 200 KB run of digits and a letter: ~40 minutes with the old patterns; a 120 s hang guard here."""
    code = (
        "from denoiser.io import read_series; import sys\n"
        "rows = '\\n'.join(f'{i},{i}' for i in range(5))\n"
        "for sep in (',', ';'):\n"
        "    data = f't{sep}v\\n{rows.replace(\",\", sep)}\\n5{sep}' + '1' * 200_000 + 'a\\n'\n"
        "    print(read_series(data.encode()).report.columns)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["['v']", "['v']"]
