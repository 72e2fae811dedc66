"""Shared fixtures: the bundled catalog (loaded once), paths to the test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from designer.model import unitcache
from designer.model.catalog import Catalog

FIXTURES = Path(__file__).parent / "fixtures"
HF_FIXTURES = FIXTURES / "hf"


@pytest.fixture(scope="session", autouse=True)
def _unit_cache(tmp_path_factory):
    """The unit cache (designer.model.unitcache) of this session, for every process it starts;
    never the caller's ~/.cache."""
    os.environ["DESIGNER_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    unitcache.reset()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The bundled catalogs only (a DESIGNER_CATALOG_PATH of the caller is ignored)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DESIGNER_CATALOG_PATH", raising=False)
        return Catalog.load()


@pytest.fixture(autouse=True)
def _no_user_catalogs(monkeypatch):
    """Tests see the bundled catalogs plus what they add themselves, never the caller's."""
    monkeypatch.delenv("DESIGNER_CATALOG_PATH", raising=False)


@pytest.fixture(scope="session")
def hf_dir() -> Path:
    return HF_FIXTURES
