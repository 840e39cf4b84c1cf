"""Country reports: what the notebooks show, and their export to self-contained HTML."""

from __future__ import annotations

__all__ = ["CountryReport", "check_parameters", "policy_for"]


def __getattr__(name: str):
    # CountryReport pulls in estimation and plotting, the parameter checks disclosure control: load them
    # when used (the batch's workers import research_kit.report.html alone).
    if name == "CountryReport":
        from research_kit.report.country import CountryReport

        return CountryReport
    if name in ("check_parameters", "policy_for"):
        from research_kit.report import parameters

        return getattr(parameters, name)
    raise AttributeError(f"module 'research_kit.report' has no attribute {name!r}")
