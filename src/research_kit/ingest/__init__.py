"""Read survey exports into one tidy frame named and coded as the form says, and validate them.

:func:`read_export` reads KoboToolbox CSV and XLSX exports and ODK Central CSV (or ZIP)
exports — either separator, either encoding, BOM or not, XML names or labels in any of the
form's languages, ``/``- or ``-``-joined group names or none — and returns one column per
form field, in form order, holding the XML codes as text (``''`` where unanswered).

:func:`validate` checks the frame against the schema generated from the form and returns the
accepted rows, a quarantine of rejected rows and an error table that names the file, row,
column, value and rule of every failure, in Spanish, English or Portuguese.

Direct identifiers never pass the reader: fields the form flags as identifying
(free text, names, phones, GPS, device ids) are dropped here, so no analysis, table or
report downstream can show them; respondent ids can be replaced by keyed pseudonyms
(:mod:`research_kit.ingest.protect`).

Examples
--------
>>> import research_kit as rk, tempfile
>>> folder = rk.synth.generate_country("UY", tempfile.mkdtemp(), seed=7)
>>> data = read_export(folder / "community_survey.csv", form="community_survey")
>>> "age" in data.columns, "comments" in data.columns
(True, False)
>>> result = validate(data, "community_survey")
>>> len(result.accepted) + len(result.quarantine) == len(data)
True
"""

from __future__ import annotations

from research_kit.ingest.exceptions import (EmptyExportError, ExportColumnsError, ExportFormatError,
                                            MalformedLinesError, PseudonymKeyError)
from research_kit.ingest.protect import ProjectKey, project_key, pseudonymise
from research_kit.ingest.reader import KEPT_META, read_export
from research_kit.ingest.validation import ValidationResult, validate, validate_export

__all__ = ["read_export", "validate", "validate_export", "ValidationResult", "KEPT_META", "project_key", "ProjectKey",
           "pseudonymise", "EmptyExportError", "ExportColumnsError", "ExportFormatError", "MalformedLinesError",
           "PseudonymKeyError"]
