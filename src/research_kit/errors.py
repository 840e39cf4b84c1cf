"""Exceptions raised by research_kit.

Every error the kit raises on purpose derives from :class:`ResearchKitError`, so a
batch run or a notebook can catch the kit's own problems in one place. Each
message says what was wrong (the file, row, column or value) and what to do.
"""

from __future__ import annotations

__all__ = [
    "ResearchKitError",
    "CountryError",
    "ParameterError",
    "DataFileError",
    "FormError",
    "DesignError",
    "EstimationError",
    "DisclosureError",
    "ReportError",
]


class ResearchKitError(Exception):
    """Base class of every error raised by research_kit."""


class CountryError(ResearchKitError, ValueError):
    """A country code or name that is not one of the network's countries."""


class ParameterError(ResearchKitError, ValueError):
    """A parameter given by the user has the wrong type or value."""


class DataFileError(ResearchKitError, OSError):
    """A data file is missing, unreadable, or not shaped like the export it claims to be."""


class FormError(ResearchKitError, ValueError):
    """An XLSForm questionnaire is malformed or refers to something it does not define."""


class DesignError(ResearchKitError, ValueError):
    """A sampling design cannot be built from the data (bad weights, lonely PSU, broken recruitment chain...)."""


class EstimationError(ResearchKitError, ValueError):
    """An estimate was asked of a variable or domain that cannot support it."""


class DisclosureError(ResearchKitError, ValueError):
    """A table cannot be protected, or an unprotected table was about to be published."""


class ReportError(ResearchKitError, RuntimeError):
    """A report could not be produced."""
