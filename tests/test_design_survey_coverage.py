"""Coverage of design-based intervals over repeated samples from a known population.

One synthetic population of venues (clusters) in strata; many stratified
two-stage samples are drawn from it with numpy (vectorised), and every sample's
interval is computed in one ``SurveyDesign`` call per batch: each sample is a
domain of a stacked design whose strata and PSUs are labelled by sample, so
the domain variance is exactly that sample's own design-based variance.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from research_kit.design.survey import SurveyDesign

N_STRATA, N_CLUSTERS, n_CLUSTERS, m_PEOPLE = 8, 150, 10, 6
N_SURVEYS, BATCH = 1000, 125


def population(rng):
    """Cluster sizes, and y (binary) and x (numeric) of every person, flattened."""
    sizes = rng.integers(30, 71, size=(N_STRATA, N_CLUSTERS))
    logit = np.log(0.3 / 0.7) + rng.normal(0, 0.6, sizes.shape)
    p_cluster = np.repeat((1 / (1 + np.exp(-logit))).ravel(), sizes.ravel())
    y = (rng.uniform(size=p_cluster.size) < p_cluster).astype(float)
    x = rng.normal(30 + 8 * p_cluster, 6)
    offsets = np.r_[0, np.cumsum(sizes.ravel())[:-1]].reshape(sizes.shape)
    return sizes, offsets, y, x, y.mean(), x.mean()


def draw(rng, sizes, offsets, y, x, n_surveys):
    """Stack ``n_surveys`` independent stratified two-stage samples (all numpy)."""
    # stage 1: n_CLUSTERS clusters per stratum without replacement
    chosen = np.argsort(rng.uniform(size=(n_surveys, N_STRATA, N_CLUSTERS)), axis=2)[..., :n_CLUSTERS]
    h = np.broadcast_to(np.arange(N_STRATA)[None, :, None], chosen.shape)
    M = sizes[h, chosen]  # (surveys, strata, clusters)
    # stage 2: m_PEOPLE people per cluster without replacement (random keys)
    keys = rng.uniform(size=M.shape + (sizes.max(),))
    keys[np.arange(sizes.max()) >= M[..., None]] = np.inf
    people = np.argsort(keys, axis=-1)[..., :m_PEOPLE]
    idx = offsets[h, chosen][..., None] + people
    shape = idx.shape
    survey = np.broadcast_to(np.arange(n_surveys)[:, None, None, None], shape)
    stratum = survey * N_STRATA + h[..., None]
    venue = stratum * N_CLUSTERS + chosen[..., None]
    wt = np.broadcast_to((N_CLUSTERS / n_CLUSTERS * M / m_PEOPLE)[..., None], shape)
    return pd.DataFrame(
        dict(survey=survey.ravel(), stratum=stratum.ravel(), venue=venue.ravel(),
             wt=wt.ravel(), y=y[idx.ravel()], x=x[idx.ravel()])
    )


@pytest.fixture(scope="module")
def results():
    rng = np.random.default_rng(20240605)
    sizes, offsets, y, x, truth_p, truth_x = population(rng)
    start = time.perf_counter()
    props, means = [], []
    for _ in range(N_SURVEYS // BATCH):
        df = draw(rng, sizes, offsets, y, x, BATCH)
        d = SurveyDesign(df, weights="wt", strata="stratum", psu="venue")
        props.append(d.proportion("y", by="survey", ci="logit"))
        means.append(d.mean("x", by="survey"))
    elapsed = time.perf_counter() - start
    return pd.concat(props), pd.concat(means), truth_p, truth_x, elapsed


def test_logit_interval_covers_95_percent(results):
    props, _, truth, _, _ = results
    covered = ((props["ci_low"] <= truth) & (truth <= props["ci_high"])).mean()
    assert len(props) == N_SURVEYS
    assert 0.93 <= covered <= 0.97, covered


def test_mean_interval_covers_95_percent(results):
    _, means, _, truth, _ = results
    covered = ((means["ci_low"] <= truth) & (truth <= means["ci_high"])).mean()
    assert 0.93 <= covered <= 0.97, covered


def test_simulation_is_fast(results):
    assert results[-1] < 20
