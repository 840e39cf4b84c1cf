"""Population size estimates per country: the weights of the pooled node and regional estimates.

The user supplies them in a small CSV, by default ``<data_root>/population_sizes.csv``::

    country,population_size,source
    PRY,2777,Mapping by Unidas en la Esperanza 2025
    URY,1401,Ministry of Health estimate

``country`` is an ISO 3166 code (alpha-3 or alpha-2) of one of the network's countries,
``population_size`` a positive number, ``source`` (optional) says where it comes from and
is printed in the report. These sizes are sensitive (see the domain notes on maps and size
estimates): they are used as weights and shown in the report's method section only.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "population_sizes.csv"
>>> _ = path.write_text("country,population_size,source\\nPY,2777,mapping\\nURY,1401,\\n")
>>> read_population_sizes(path).to_dict("records")
[{'country': 'PRY', 'population_size': 2777.0, 'source': 'mapping'}, {'country': 'URY', 'population_size': 1401.0, 'source': ''}]
>>> _ = path.write_text("country,population_size\\nPRY,-5\\n")
>>> read_population_sizes(path)
Traceback (most recent call last):
...
research_kit.errors.DataFileError: ...population_sizes.csv row 2, column 'population_size': value '-5' is not a positive number. Write the estimated number of sex workers in the country (e.g. 2777).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd

from research_kit.countries import get_country
from research_kit.errors import CountryError, DataFileError

__all__ = ["read_population_sizes", "POPULATION_FILE", "COLUMNS"]

#: The file's name inside the data root.
POPULATION_FILE = "population_sizes.csv"
#: Columns of the frame :func:`read_population_sizes` returns.
COLUMNS = ("country", "population_size", "source")


def _parse(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """Rows that are usable, and one message per problem (file-level problems end the reading)."""
    empty = pd.DataFrame({c: pd.Series(dtype=float if c == "population_size" else object) for c in COLUMNS})
    if not path.is_file():
        return empty, [f"The population size file {path} does not exist. Create it with the columns "
                       "country,population_size,source (one row per country, e.g. 'PRY,2777,mapping 2025')."]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return empty, [f"The population size file {path} cannot be read as UTF-8 text ({exc}). Save it as CSV UTF-8."]
    sample = text[:2048]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("country", "population_size") if c not in header]
    if missing:
        return empty, [f"{path}: the header has no column {', '.join(map(repr, missing))} (it has {header}). "
                       "The first line must be: country,population_size,source"]
    rows, problems, seen = [], [], {}
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        code = row.get("country", "")
        try:
            iso3 = get_country(code).alpha_3
        except CountryError:
            problems.append(f"{path} row {line}, column 'country': value {code!r} is not the ISO code of one of the "
                            "network's countries. Use a code such as PRY or PY.")
            continue
        value = row.get("population_size", "")
        try:
            size = float(value.replace(" ", "").replace("_", ""))
        except ValueError:
            size = math.nan
        if not value:
            problems.append(f"{path} row {line}, column 'population_size': the size of {iso3} is missing. "
                            "Write the estimated number of sex workers in the country (e.g. 2777).")
            continue
        if not math.isfinite(size) or size <= 0:
            problems.append(f"{path} row {line}, column 'population_size': value {value!r} is not a positive number. "
                            "Write the estimated number of sex workers in the country (e.g. 2777).")
            continue
        if iso3 in seen:
            problems.append(f"{path} row {line}, column 'country': {iso3} was already given on row {seen[iso3]}. "
                            "Keep one row per country.")
            continue
        seen[iso3] = line
        rows.append({"country": iso3, "population_size": size, "source": row.get("source", "")})
    frame = pd.DataFrame(rows, columns=list(COLUMNS)) if rows else empty
    return frame, problems


def read_population_sizes(path: str | Path) -> pd.DataFrame:
    """Read a population size file (``country,population_size[,source]``).

    Parameters
    ----------
    path : str or Path
        The CSV file (comma, semicolon or tab separated, UTF-8).

    Returns
    -------
    DataFrame
        ``country`` (ISO alpha-3), ``population_size`` (float, positive), ``source`` (text, may be empty).

    Raises
    ------
    DataFileError
        If the file is missing or unreadable, lacks a column, or a row has an unknown country,
        a missing, non-numeric or non-positive size, or repeats a country; the message names the
        file, row, column and value of every problem.
    """
    frame, problems = _parse(Path(path))
    if problems:
        raise DataFileError(" ".join(problems))
    return frame


def read_population_sizes_lenient(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """The usable rows of a population size file and the problems found, without raising.

    A report uses this to render with what it has and say what is missing.
    """
    return _parse(Path(path))
