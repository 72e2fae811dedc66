"""Shared fixtures: the bundled catalog (loaded once), paths to the test fixtures, the
repository's scripts as modules."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from designer.model import unitcache
from designer.model.catalog import Catalog

FIXTURES = Path(__file__).parent / "fixtures"
HF_FIXTURES = FIXTURES / "hf"
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


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


@pytest.fixture(scope="session")
def load_script():
    """`load_script(NAME)`: scripts/NAME.py as a module (the scripts are not a package)."""

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
