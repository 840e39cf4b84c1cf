"""Shared fixtures: synthetic studies generated once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: One respondent-driven country, one time-location country, and the smallest sample (Belize).
FIXTURE_COUNTRIES = ("PRY", "URY", "BLZ")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory) -> Path:
    """Synthetic studies of a few countries, generated with the default seed."""
    from research_kit import synth

    root = tmp_path_factory.mktemp("synthetic")
    synth.generate(root, FIXTURE_COUNTRIES)
    return root


@pytest.fixture(scope="session")
def form():
    from research_kit.forms import load_form

    return load_form("community_survey")
