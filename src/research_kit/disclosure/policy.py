"""The disclosure policy: the thresholds a project publishes under."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from research_kit.errors import DisclosureError

__all__ = ["DisclosurePolicy"]


@dataclass(frozen=True)
class DisclosurePolicy:
    """Thresholds that decide which numbers may be published.

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

    Examples
    --------
    >>> DisclosurePolicy(min_count=10).min_count
    10
    >>> DisclosurePolicy(min_count=0)
    Traceback (most recent call last):
    ...
    research_kit.errors.DisclosureError: The minimum count must be a whole number of at least 1, not 0.
    """

    min_count: int = 5
    min_denominator: int = 25
    caution_denominator: int = 50

    def __post_init__(self):
        for name, value, low in (("minimum count", self.min_count, 1), ("minimum denominator", self.min_denominator, 1),
                                 ("caution denominator", self.caution_denominator, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise DisclosureError(f"The {name} must be a whole number of at least {low}, not {value!r}.")
        if self.min_denominator < self.min_count:
            raise DisclosureError(
                f"The minimum denominator ({self.min_denominator}) cannot be smaller than the minimum count ({self.min_count})."
            )
        if self.caution_denominator < self.min_denominator:
            raise DisclosureError(
                f"The caution denominator ({self.caution_denominator}) cannot be smaller than the minimum denominator "
                f"({self.min_denominator})."
            )

    def to_dict(self) -> dict:
        """The policy as plain data, for manifests and published table metadata."""
        return asdict(self)
