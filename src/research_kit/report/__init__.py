"""Country reports: what the notebooks show, and their export to self-contained HTML."""

from __future__ import annotations

from research_kit.report.parameters import check_parameters, policy_for

__all__ = ["CountryReport", "check_parameters", "policy_for"]


def __getattr__(name: str):
    # CountryReport pulls in estimation and plotting; load it only when a report is made.
    if name == "CountryReport":
        from research_kit.report.country import CountryReport

        return CountryReport
    raise AttributeError(f"module 'research_kit.report' has no attribute {name!r}")
