"""The regional report: the network's countries side by side, pooled by node and region, on a map.

Everything the regional report shows is computed once by :func:`collect` (every country's
indicators with its own design, disclosure-protected, and the respondents by country and
age group protected jointly with each country's own table) and kept in a
:class:`RegionalInputs`, which a batch saves and hands to the notebooks::

    import research_kit as rk
    inputs = rk.regional.collect(data_root="data/synthetic")   # or collect(["PRY", "URY"], ...)
    inputs.save("reports/.inputs/regional.pkl")
    inputs.country_table("PRY", "sample_age_group")            # what Paraguay's report publishes
    rk.regional.pool(inputs.estimates, inputs.population_sizes, inputs.denominator_shares)
    rk.regional.RegionalReport(batch_inputs="reports/.inputs/regional.pkl", language="en")
    rk.regional.boundaries()                                    # Natural Earth, shipped in the package

Modules are imported on first use, so ``import research_kit`` stays cheap (no geopandas).
"""

from __future__ import annotations

import importlib

_ATTRS = {
    "collect": ("research_kit.regional.inputs", "collect"),
    "RegionalInputs": ("research_kit.regional.inputs", "RegionalInputs"),
    "read_population_sizes": ("research_kit.regional.population", "read_population_sizes"),
    "pool": ("research_kit.regional.pooled", "pool"),
    "pooled_estimate": ("research_kit.regional.pooled", "pooled_estimate"),
    "boundaries": ("research_kit.regional.geo", "boundaries"),
    "RegionalReport": ("research_kit.regional.report", "RegionalReport"),
}

__all__ = list(_ATTRS)


def __getattr__(name: str):
    if name in _ATTRS:
        module, attr = _ATTRS[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'research_kit.regional' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
