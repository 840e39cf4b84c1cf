"""Report parameters: checked once, where the user calls in, with one-line errors."""

from __future__ import annotations

from pathlib import Path

from research_kit.countries import get_country
from research_kit.disclosure.policy import DisclosurePolicy
from research_kit.errors import ParameterError
from research_kit.i18n import check_language

__all__ = ["check_parameters", "policy_for"]


def check_parameters(country, language, min_count, data_path=None) -> tuple:
    """Validate the notebook's parameters; each problem is a one-line error naming the value and the choices."""
    c = get_country(country)
    check_language(language)
    if isinstance(min_count, bool) or not isinstance(min_count, (int, float, str)):
        raise ParameterError(f"min_count must be a whole number of at least 1, not {min_count!r}.")
    try:
        value = int(str(min_count).strip())
    except ValueError:
        raise ParameterError(f"min_count must be a whole number of at least 1, not {min_count!r}.") from None
    if value < 1 or (isinstance(min_count, float) and not min_count.is_integer()):
        raise ParameterError(f"min_count must be a whole number of at least 1, not {min_count!r}.")
    if data_path is not None and not isinstance(data_path, (str, Path)):
        raise ParameterError(f"data_path must be a path to an export or a study folder, not {data_path!r}.")
    return c, language, value


def policy_for(min_count: int) -> DisclosurePolicy:
    """The disclosure policy of a report run with threshold ``min_count``.

    Percentages need at least 25 respondents (or ``min_count``, if larger) and are flagged below 50.
    """
    min_den = max(25, int(min_count))
    return DisclosurePolicy(min_count=int(min_count), min_denominator=min_den, caution_denominator=max(50, min_den))
