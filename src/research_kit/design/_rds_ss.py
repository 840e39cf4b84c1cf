"""Gile's successive-sampling (SS) weights.

Private helper of :mod:`research_kit.design.rds`. Mirrors R ``gile.ss.weights``
/ ``getestCstacked`` / ``getinclCstacked`` of the RDS package (Gile 2011,
"Improved inference for respondent-driven sampling data with application to
HIV prevalence estimation", JASA 106:135-146).

The population is pictured as ``N`` units whose degrees follow the estimated
degree distribution; samples of size ``n`` are drawn *successively* without
replacement with probability proportional to degree, and the inclusion
probability of each degree class is estimated from how often the simulated
samples contain it. The degree distribution is then re-estimated from those
probabilities, and the cycle repeated (5 times by default).

R draws each successive sample one unit at a time in C. Here all samples of
an iteration are drawn at once with the exponential-clock representation of
successive sampling: give each unit ``E_u / d_u`` with ``E_u ~ Exp(1)``; the
``n`` smallest clocks are a successive sample with probability proportional
to ``d``, in the same distribution as R's draw-by-draw scheme. The random
numbers differ from R's, so results agree with R in distribution only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SSMapping", "ss_inclusion", "ss_weights"]


@dataclass(frozen=True)
class SSMapping:
    """Estimated inclusion probability of each degree class."""

    classes: np.ndarray  # distinct degrees, ascending
    probs: np.ndarray  # inclusion probability per class
    props: np.ndarray  # estimated population share per class
    population_size: float

    def weights_for(self, degree: np.ndarray) -> np.ndarray:
        """Inverse inclusion probabilities for the given degrees.

        Degrees between classes are interpolated linearly in ``1/pi`` and
        those outside are clamped to the end classes, as R's
        ``approx(..., rule = 2)`` does; this is what lets bootstrap samples
        reuse the mapping.
        """
        if len(self.classes) == 1:
            return np.asarray(degree, dtype=float).copy()
        return np.interp(np.asarray(degree, dtype=float), self.classes, 1.0 / self.probs)


def _probtodist(nums: np.ndarray, prob: np.ndarray) -> np.ndarray:
    # R probtodist (Hajek form): population shares proportional to count / pi.
    props = nums / prob
    return props / props.sum()


def _class_sizes(props: np.ndarray, n_pop: int, rng: np.random.Generator) -> np.ndarray:
    """Integer class sizes summing to ``n_pop`` (R ``getinclCstacked`` + its C prologue)."""
    props2 = props / props.sum()
    nby = np.rint(n_pop * props2).astype(np.int64)  # R's round() also rounds half to even
    nby[nby == 0] = 1  # every observed degree exists at least once in the population
    offby = int(n_pop - nby.sum())
    # Distribute the rounding error one unit at a time, with probability
    # proportional to how far each class is below (above) its target share.
    for _ in range(max(offby, 0)):
        dif = props2 - nby / n_pop
        cdif = np.cumsum(np.maximum(dif, 0.0))
        cdif += dif[0] - max(dif[0], 0.0)  # R keeps the unclamped first term in the running sum
        u = rng.random() * cdif[-1]
        j = min(int(np.searchsorted(cdif, u, side="left")), len(nby) - 1)
        nby[j] += 1
    for _ in range(max(-offby, 0)):
        dif = np.maximum(nby / n_pop - props2, 0.0)
        dif[nby == 1] = 0.0
        if dif.sum() == 0.0:
            dif = 1.0 - (props2 - nby / n_pop)
            dif[nby == 1] = 0.0
        cdif = np.cumsum(dif)
        u = rng.random() * cdif[-1]
        j = min(int(np.searchsorted(cdif, u, side="left")), len(nby) - 1)
        nby[j] -= 1
    return nby


def _simulated_counts(
    classes: np.ndarray,
    nby: np.ndarray,
    n_sample: int,
    n_draws: int,
    rng: np.random.Generator,
    max_cells: int = 4_000_000,
) -> np.ndarray:
    """Total times each class is drawn over ``n_draws`` successive samples."""
    k = len(classes)
    n_pop = int(nby.sum())
    if n_sample >= n_pop:
        return nby * n_draws
    label = np.repeat(np.arange(k), nby)
    inv_size = 1.0 / classes[label]
    counts = np.zeros(k, dtype=np.int64)
    chunk = max(1, min(n_draws, max_cells // n_pop))
    done = 0
    while done < n_draws:
        r = min(chunk, n_draws - done)
        clocks = rng.standard_exponential((r, n_pop)) * inv_size
        picked = np.argpartition(clocks, n_sample - 1, axis=1)[:, :n_sample]
        counts += np.bincount(label[picked].ravel(), minlength=k)
        done += r
    return counts


def _inclusion(
    classes: np.ndarray,
    props: np.ndarray,
    nums: np.ndarray,
    n_pop: int,
    n_sample: int,
    n_draws: int,
    rng: np.random.Generator,
) -> np.ndarray:
    nby = _class_sizes(props, n_pop, rng)
    nk = _simulated_counts(classes, nby, n_sample, n_draws, rng)
    # R adds the observed sample once to the simulated ones before turning
    # counts into per-unit inclusion probabilities.
    share = (nk + nums) / (nk.sum() + n_sample)
    return n_sample * share / nby


def ss_inclusion(
    degree: np.ndarray,
    population_size: float,
    rng: np.random.Generator,
    n_iterations: int = 5,
    n_draws: int = 500,
    ss_infinity: float = 0.01,
) -> SSMapping:
    """Estimate SS inclusion probabilities by degree (R ``getestCstacked``).

    ``n_iterations`` and ``n_draws`` are R's ``number.ss.iterations`` and
    ``number.ss.samples.per.iteration``; ``ss_infinity`` is R's
    ``control.rds.estimates()$SS.infinity``: when the sampling fraction is
    below it the SS weights reduce to RDS-II's and no simulation is run.
    """
    d = np.asarray(degree, dtype=float)
    n = len(d)
    n_pop = int(round(population_size))
    classes, nums = np.unique(d, return_counts=True)
    nums = nums.astype(float)
    prob = classes / d.sum()
    prob = prob * np.sum(nums / prob) / n_pop
    props = _probtodist(nums, prob)
    if n_pop * ss_infinity < n:
        pvec = _inclusion(classes, props, nums, n_pop, n, n_draws, rng)
        for _ in range(n_iterations):
            props = _probtodist(nums, pvec)
            pvec = _inclusion(classes, props, nums, n_pop, n, n_draws, rng)
    elif n < n_pop:
        pvec = n * classes / (n_pop * np.sum(props * classes))
    else:
        pvec = np.full(len(classes), n / n_pop)
    props = _probtodist(nums, pvec)
    return SSMapping(classes=classes, probs=pvec, props=props, population_size=float(population_size))


def ss_weights(degree: np.ndarray, mapping: SSMapping) -> np.ndarray:
    """SS weights for ``degree`` summing to the population size (R ``gile.ss.weights``)."""
    w = mapping.weights_for(degree)
    return mapping.population_size * w / w.sum()
