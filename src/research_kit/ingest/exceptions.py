"""Exceptions of the export reader and the validator, one class per kind of problem.

All derive from :class:`research_kit.errors.DataFileError`, so code that already catches the
kit's data-file errors keeps working.
"""

from __future__ import annotations

from research_kit.errors import DataFileError

__all__ = ["EmptyExportError", "ExportFormatError", "ExportColumnsError", "MalformedLinesError", "PseudonymKeyError"]


class EmptyExportError(DataFileError):
    """The export holds no submissions: an empty file, or a header and nothing else."""


class ExportFormatError(DataFileError):
    """The file is not an export research_kit can read (not CSV/XLSX, or not laid out like an export)."""


class ExportColumnsError(DataFileError):
    """The export lacks columns of the form, or names them ambiguously (another form, or another version)."""


class MalformedLinesError(DataFileError):
    """Lines of a CSV export do not have as many fields as the header (truncated file, stray separator).

    Raised by :func:`~research_kit.ingest.read_export` with ``on_bad_lines="raise"``; with
    ``on_bad_lines="keep"`` the lines are kept and :func:`~research_kit.ingest.validate`
    quarantines them.
    """


class PseudonymKeyError(DataFileError):
    """The project key for pseudonyms is missing, unreadable, or kept inside a data folder."""
