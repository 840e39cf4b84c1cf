"""Sampling designs and design-based estimation.

:class:`SurveyDesign` carries a probability design (weights, strata, clusters,
finite population corrections) and :class:`RDSDesign` a respondent-driven
sample; both return tidy estimate tables.
"""

from __future__ import annotations

__all__ = ["SurveyDesign", "RDSDesign"]


def __getattr__(name: str):
    # Imported on first use so that ``import research_kit`` stays cheap.
    if name == "SurveyDesign":
        from research_kit.design.survey import SurveyDesign

        return SurveyDesign
    if name == "RDSDesign":
        from research_kit.design.rds import RDSDesign

        return RDSDesign
    raise AttributeError(f"module 'research_kit.design' has no attribute {name!r}")
