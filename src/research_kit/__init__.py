"""research_kit: community-led research on sex work and HIV in Latin America and the Caribbean.

The public API fits on one page::

    import research_kit as rk
    form = rk.load_form("community_survey")          # the XLSForm questionnaire
    data = rk.read_export("export.csv", form=form)   # a KoboToolbox or ODK export, tidy
    result = rk.validate(data, form)                 # accepted rows, quarantine, error table
    study = rk.load_study("PY")                      # data + form + sampling design
    rk.indicators.compute(study.design, ["testing_12m"], by="age_group")
    rk.SurveyDesign(df, weights="wt", strata="stratum", psu="venue")
    rk.RDSDesign(df, respondent="coupon", recruiter="recruiter_coupon", degree="network_size")
    rk.disclosure.protect_estimates(table, rk.DisclosurePolicy())
    rk.report.CountryReport("PY")                    # what the country report shows
    rk.regional.RegionalReport()                     # the 17 countries side by side, pooled by node
    rk.synth.generate("data/synthetic")              # synthetic surveys with known truth

Modules are imported on first use, so ``import research_kit`` stays cheap.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_ATTRS = {
    "SurveyDesign": ("research_kit.design", "SurveyDesign"),
    "RDSDesign": ("research_kit.design", "RDSDesign"),
    "load_form": ("research_kit.forms", "load_form"),
    "read_xlsform": ("research_kit.forms", "read_xlsform"),
    "read_export": ("research_kit.ingest", "read_export"),
    "validate": ("research_kit.ingest", "validate"),
    "validate_export": ("research_kit.ingest", "validate_export"),
    "load_study": ("research_kit.study", "load_study"),
    "Study": ("research_kit.study", "Study"),
    "get_country": ("research_kit.countries", "get_country"),
    "DisclosurePolicy": ("research_kit.disclosure", "DisclosurePolicy"),
    "ResearchKitError": ("research_kit.errors", "ResearchKitError"),
}
_MODULES = ("capacity", "countries", "design", "disclosure", "errors", "explore", "forms", "i18n", "indicators", "ingest", "regional",
            "report", "study", "synth", "batch")

__all__ = ["__version__", *_ATTRS, *_MODULES]


def __getattr__(name: str):
    if name in _ATTRS:
        module, attr = _ATTRS[name]
        value = getattr(importlib.import_module(module), attr)
    elif name in _MODULES:
        value = importlib.import_module(f"research_kit.{name}")
    else:
        raise AttributeError(f"module 'research_kit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
