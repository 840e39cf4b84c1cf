"""Bytes of a CSV export → a raw table of text, with each record's line number and what went wrong.

The fast path hands the bytes to pandas' C parser (about twice as fast as decoding to text
first). Only a file that the fast path cannot take — not UTF-8, several encodings mixed, lines
with too many fields, a quote left open by a truncated last line — is decoded line by line and
parsed with the :mod:`csv` module, which lets every record be kept and every problem be
reported with its line number.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from research_kit.ingest.exceptions import EmptyExportError, ExportFormatError

__all__ = ["Issue", "RawTable", "read_csv_table"]

_SEPARATORS = (";", ",", "\t")
_SOMETHING = re.compile(rb"[^\s\xef\xbb\xbf]")  # a byte that is neither white space nor part of a BOM
# Magic numbers of files people send instead of a CSV export.
_MAGIC = {b"PK\x03\x04": "a ZIP archive or an Excel workbook (.xlsx)", b"%PDF": "a PDF document",
          b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)", b"{\\rtf": "an RTF document"}


@dataclass(frozen=True)
class Issue:
    """One problem found while reading or validating, tied to a record of a file.

    ``line`` is the line (CSV) or sheet row (XLSX) where the record starts; ``key`` names the
    message in :mod:`research_kit.ingest.messages` and ``params`` fills it in.
    """

    source: str
    line: int
    column: str
    value: str
    rule: str
    key: str
    params: dict = field(default_factory=dict, hash=False, compare=False)
    severity: str = "error"  # "error": the record is quarantined; "warning": kept, but look at it


@dataclass
class RawTable:
    """A parsed file: every cell as text, plus where each record starts and what went wrong."""

    frame: pd.DataFrame
    lines: np.ndarray
    separator: str
    encoding: str
    issues: list[Issue] = field(default_factory=list)
    header: list[str] = field(default_factory=list)


def _sniff_separator(header: str) -> str:
    """The separator used most often outside quotes in the header record."""
    counts = dict.fromkeys(_SEPARATORS, 0)
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] else ";"


def _check_not_binary(raw: bytes, path: Path) -> None:
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            hint = " Give it the .xlsx extension, or export again as CSV." if magic == b"PK\x03\x04" else \
                " Export the data from KoboToolbox or ODK Central as CSV or XLSX."
            raise ExportFormatError(f"{path}: this is {what}, not a CSV export.{hint}")
    head = raw[:4096]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExportFormatError(f"{path}: the file holds binary data, not a CSV export. "
                                "Export the data from KoboToolbox or ODK Central as CSV or XLSX.")


def _decode_lines(raw: bytes, source: str) -> tuple[str, str, list[Issue]]:
    """Decode line by line: UTF-8 where the line is UTF-8, Windows-1252 (Excel) where it is not.

    A file written entirely in Windows-1252 is simply read as such; when both encodings occur
    (files pasted together), each line read as Windows-1252 is reported as a warning, because
    accented text in it may need checking.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16", []
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    parts = raw.split(b"\n")
    out: list[str] = []
    legacy: list[int] = []
    utf8_nonascii = False
    for number, part in enumerate(parts, start=1):
        try:
            text = part.decode("utf-8")
            utf8_nonascii = utf8_nonascii or not part.isascii()
        except UnicodeDecodeError:
            try:
                text = part.decode("cp1252")
            except UnicodeDecodeError:
                text = part.decode("latin-1")
            legacy.append(number)
        out.append(text)
    text = "\n".join(out)
    if not legacy:
        return text, "utf-8", []
    if not utf8_nonascii:
        return text, "cp1252", []
    issues = [Issue(source, n, "", "", "encoding", "mixed_encoding", {}, "warning") for n in legacy]
    return text, "utf-8+cp1252", issues


def _header_record(text: str, sep: str) -> tuple[list[str], int]:
    """The header's fields and how many physical lines it spans (labels may hold line breaks)."""
    reader = csv.reader(io.StringIO(text[:1_000_000]), delimiter=sep)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return [], 1
    return header, reader.line_num


def _robust_parse(text: str, sep: str, header: list[str], source: str) -> tuple[pd.DataFrame, np.ndarray, list[Issue]]:
    """Parse record by record, keeping records with the wrong number of fields and saying so."""
    n = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    issues: list[Issue] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
    previous_end = 0
    first = True
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a NUL byte inside a line
            start = previous_end + 1
            previous_end = reader.line_num
            rows.append([""] * n)
            lines.append(start)
            issues.append(Issue(source, start, "", "", "line: unreadable", "line_unreadable", {"detail": str(exc)}))
            continue
        start, previous_end = previous_end + 1, reader.line_num
        if first:
            first = False
            continue
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # a blank line holds no record
        if len(record) != n:
            key = "line_short" if len(record) < n else "line_long"
            issues.append(Issue(source, start, "", sep.join(record)[:60], f"line: {n} fields", key,
                                {"found": len(record), "expected": n}))
            record = (record + [""] * n)[:n]
        rows.append(record)
        lines.append(start)
    # A quote left open at the end: the download was cut inside the last record.
    if rows and text.count('"') % 2 and not any(i.line == lines[-1] for i in issues):
        issues.append(Issue(source, lines[-1], "", sep.join(rows[-1])[-60:], f"line: {n} fields", "line_truncated",
                            {"expected": n}))
    frame = pd.DataFrame(rows, columns=range(n), dtype=object) if rows else pd.DataFrame(columns=range(n), dtype=object)
    return frame, np.asarray(lines, dtype=np.int64), issues


def _last_line_fields(raw: bytes, sep: str) -> int:
    """Number of fields on the last line of the file (a truncated download has too few)."""
    tail = raw[-65536:].decode("utf-8", errors="replace").rstrip("\r\n")
    last_line = tail.rsplit("\n", 1)[-1]
    try:
        return len(next(csv.reader([last_line], delimiter=sep)))
    except (StopIteration, csv.Error):
        return 0


def read_csv_table(path: Path, source: str | None = None) -> RawTable:
    """Read a CSV export into text cells; raise only when the file cannot be read at all.

    Parameters
    ----------
    path : Path
        The file; only read.
    source : str, optional
        Name used in messages (the file name by default).

    Raises
    ------
    EmptyExportError
        The file is empty, holds only white space, or only a header.
    ExportFormatError
        The file is binary (a PDF, a ZIP, an old .xls) or has no header.
    """
    source = source or path.name
    raw = path.read_bytes()
    if not _SOMETHING.search(raw):
        raise EmptyExportError(f"{path}: the file is empty. Download the export again from KoboToolbox or ODK Central.")
    _check_not_binary(raw, path)

    encoding = "utf-8-sig"
    issues: list[Issue] = []
    text: str | None = None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, encoding, issues = _decode_lines(raw, source)
        head = text[:1_000_000]
    else:
        head = raw[:1_000_000].decode("utf-8-sig", errors="replace")
    sep = _sniff_separator(head.split("\n", 1)[0])
    header, header_lines = _header_record(head, sep)
    if not header or not any(h.strip() for h in header):
        raise ExportFormatError(f"{path}: the first line holds no column names. Export again with headers.")
    n = len(header)

    if text is None:
        try:
            frame = pd.read_csv(io.BytesIO(raw), sep=sep, dtype=object, keep_default_na=False, na_filter=False,
                                encoding="utf-8-sig", header=0, skip_blank_lines=True)
        except UnicodeDecodeError:
            text, encoding, issues = _decode_lines(raw, source)
        except (pd.errors.ParserError, ValueError):
            pass
        else:
            frame.columns = range(n)
            total_lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
            if total_lines == header_lines + len(frame):  # one line per record: number them directly
                if not len(frame):
                    raise EmptyExportError(f"{path}: the file has a header but no submissions.")
                lines = np.arange(header_lines + 1, header_lines + 1 + len(frame), dtype=np.int64)
                found = _last_line_fields(raw, sep)
                if found < n:
                    issues.append(Issue(source, int(lines[-1]), "", "", f"line: {n} fields", "line_short",
                                        {"found": found, "expected": n}))
                return RawTable(frame, lines, sep, encoding, issues, header)
            # blank lines, or line breaks inside values: let the csv module number the records
    if text is None:
        text = raw.decode("utf-8-sig", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    frame, lines, more = _robust_parse(text, sep, header, source)
    if not len(frame):
        raise EmptyExportError(f"{path}: the file has a header but no submissions.")
    return RawTable(frame, lines, sep, encoding, issues + more, header)


def normalise(text: str) -> str:
    """A header or label compared loosely: white space collapsed, case folded."""
    return " ".join(str(text).split()).casefold()


# A separator followed by white space: a literal first character lets the regex engine skip ahead fast.
_EDGE_SPACE = re.compile("\x00[ \t\r\n\xa0]")


def strip_cells(values: pd.Series) -> pd.Series:
    """Strip white space around each cell, touching the column only when some cell needs it."""
    arr = values.to_numpy(dtype=object)
    if not len(arr):
        return values
    # Two C-speed scans of the joined column (forwards for leading space, reversed for trailing)
    # instead of a Python call per cell.
    joined = "\x00" + "\x00".join(arr) + "\x00"
    if not _EDGE_SPACE.search(joined) and not _EDGE_SPACE.search(joined[::-1]):
        return values
    return pd.Series([v.strip() for v in arr], index=values.index, dtype=object)
