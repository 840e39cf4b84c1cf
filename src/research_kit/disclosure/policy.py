"""The disclosure policy: the thresholds and protection a project publishes under."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Mapping

from research_kit.errors import DisclosureError

__all__ = ["DisclosurePolicy", "METHODS", "COSTS", "RELIABILITY_RULES"]

#: Complementary suppression methods.
METHODS = ("optimal", "heuristic")
#: What the optimal method minimises: the number of suppressed cells, or their total value.
COSTS = ("value", "cells")
#: Reliability standards for percentages (``None``: not applied).
RELIABILITY_RULES = ("nchs",)


def _whole(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise DisclosureError(f"The {name} must be a whole number of at least {low}, not {value!r}.")


def _number(name: str, value, low: float, high: float | None = None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and value >= low and (high is None or value <= high)
    if not ok:
        rng = f"in [{low}, {high}]" if high is not None else f"at least {low}"
        raise DisclosureError(f"The {name} must be a number {rng}{' or None' if allow_none else ''}, not {value!r}.")


@dataclass(frozen=True)
class DisclosurePolicy:
    """Thresholds that decide which numbers may be published, and how hidden ones are protected.

    Parameters
    ----------
    min_count : int, default 5
        Smallest count that may be published. Smaller counts (including 0) are suppressed, and
        a percentage is suppressed when fewer than ``min_count`` respondents have the attribute
        or fewer than ``min_count`` do not have it (0 % and 100 % of a small group disclose
        everyone in it).
    min_denominator : int, default 25
        Smallest unweighted number of respondents a percentage may be computed on (as DHS).
    caution_denominator : int, default 50
        Percentages on fewer respondents than this are flagged "interpret with caution".
    group_disclosure : bool, default True
        Suppress a percentage when its numerator or its complement ``n - n_event`` is under
        ``min_count``.
    reliability : {None, 'nchs'}, default None
        ``'nchs'`` applies the NCHS presentation standards for proportions (Parker et al.
        2017): not shown when the effective sample size ``n / deff`` is under
        ``min_effective_n``, when the Korn–Graubard interval is ``max_ci_width`` wide or wider,
        or (for intervals wider than 0.05) when its width relative to the estimate exceeds
        ``max_relative_ci_width``.
    min_effective_n : float, default 30
    max_ci_width : float, default 0.30
    max_relative_ci_width : float or None, default 1.30
    ci_level : float, default 0.95
        Level of the Korn–Graubard interval of the reliability rule.
    upper_protection, lower_protection, sliding_protection : int, default 1, 1, 2
        Protection levels of every primary cell, in counts, as τ-ARGUS defines them: an
        attacker's feasible interval ``[lo, hi]`` for a suppressed cell of value ``a`` must
        reach ``hi >= a + upper``, ``lo <= a - lower`` (``lower`` is capped at ``a``: a count
        cannot be negative) and ``hi - lo >= sliding``. ``sliding`` is also what a public
        audit, which does not know the hidden values, checks.
    method : {'optimal', 'heuristic'}, default 'optimal'
        Complementary suppression: the optimal mixed-integer programme, or the hypercube heuristic.
    cost : {'value', 'cells'}, default 'value'
        Information loss the optimal method minimises: the total of suppressed values, or
        their number.
    singletons : bool, default True
        Also protect against a respondent alone in a suppressed cell, who knows its value.

    Examples
    --------
    >>> DisclosurePolicy(min_count=10).min_count
    10
    >>> DisclosurePolicy(min_count=0)
    Traceback (most recent call last):
    ...
    research_kit.errors.DisclosureError: The minimum count must be a whole number of at least 1, not 0.
    >>> DisclosurePolicy.from_dict(DisclosurePolicy(reliability="nchs").to_dict()).reliability
    'nchs'
    """

    min_count: int = 5
    min_denominator: int = 25
    caution_denominator: int = 50
    group_disclosure: bool = True
    reliability: str | None = None
    min_effective_n: float = 30
    max_ci_width: float = 0.30
    max_relative_ci_width: float | None = 1.30
    ci_level: float = 0.95
    upper_protection: int = 1
    lower_protection: int = 1
    sliding_protection: int = 2
    method: str = "optimal"
    cost: str = "value"
    singletons: bool = True

    def __post_init__(self):
        for name, value, low in (("minimum count", self.min_count, 1), ("minimum denominator", self.min_denominator, 1),
                                 ("caution denominator", self.caution_denominator, 1),
                                 ("upper protection level", self.upper_protection, 0),
                                 ("lower protection level", self.lower_protection, 0),
                                 ("sliding protection level", self.sliding_protection, 1)):
            _whole(name, value, low)
        if self.min_denominator < self.min_count:
            raise DisclosureError(
                f"The minimum denominator ({self.min_denominator}) cannot be smaller than the minimum count ({self.min_count})."
            )
        if self.caution_denominator < self.min_denominator:
            raise DisclosureError(
                f"The caution denominator ({self.caution_denominator}) cannot be smaller than the minimum denominator "
                f"({self.min_denominator})."
            )
        for name in ("group_disclosure", "singletons"):
            if not isinstance(getattr(self, name), bool):
                raise DisclosureError(f"{name} must be True or False, not {getattr(self, name)!r}.")
        if self.reliability is not None and self.reliability not in RELIABILITY_RULES:
            raise DisclosureError(f"reliability must be None or one of {', '.join(RELIABILITY_RULES)}, not {self.reliability!r}.")
        _number("minimum effective sample size", self.min_effective_n, 1)
        _number("maximum interval width", self.max_ci_width, 0, 1)
        _number("maximum relative interval width", self.max_relative_ci_width, 0, allow_none=True)
        _number("interval level", self.ci_level, 0.5, 0.9999)
        if self.method not in METHODS:
            raise DisclosureError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}.")
        if self.cost not in COSTS:
            raise DisclosureError(f"cost must be one of {', '.join(COSTS)}, not {self.cost!r}.")

    def to_dict(self) -> dict:
        """The policy as plain data, for manifests and published table metadata."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> "DisclosurePolicy":
        """The policy recorded by :meth:`to_dict` (unknown keys are an error, not ignored)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DisclosureError(f"Unknown disclosure policy setting(s) {unknown}; known: {sorted(known)}.")
        return cls(**dict(data))

    def describe(self) -> str:
        """One line for report notes and logs.

        Examples
        --------
        >>> DisclosurePolicy().describe()
        'min_count=5, min_denominator=25, caution_denominator=50, protection upper=1 lower=1 sliding=2, method=optimal'
        """
        text = (f"min_count={self.min_count}, min_denominator={self.min_denominator}, "
                f"caution_denominator={self.caution_denominator}, protection upper={self.upper_protection} "
                f"lower={self.lower_protection} sliding={self.sliding_protection}, method={self.method}")
        if self.reliability:
            text += f", reliability={self.reliability}"
        return text
