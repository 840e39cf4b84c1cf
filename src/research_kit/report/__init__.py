"""Country reports: what the notebooks show, and their export to self-contained HTML."""

from research_kit.report.country import CountryReport, check_parameters

__all__ = ["CountryReport", "check_parameters"]
