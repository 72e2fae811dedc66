"""A small problem every study test solves quickly: Llama 3.1 8B for 8 users, four chips, the
paper's equations (the studies' mechanics are under test, not the deployment model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer.optimize.problem import Problem, load_problem

SMALL = """
[workload]
model = "llama3.1-8b"
context_tokens = 4096
weight_dtype = "fp8"
kv_dtype = "fp8"

[sla]
tokens_per_s_per_user = 200
concurrent_users = 8

[assumptions]
preset = "paper"

[space]
chips = ["h100-sxm", "b200", "mi300x", "xpu-sram"]
tp = [1, 2, 4, 8]
pp = [1, 2]
"""


@pytest.fixture
def small_path(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture
def small(small_path: Path) -> Problem:
    return load_problem(small_path)


@pytest.fixture(scope="module")
def small_shared(tmp_path_factory) -> Problem:
    """The small problem, once per test module (for results several tests read)."""
    path = tmp_path_factory.mktemp("small") / "small.toml"
    path.write_text(SMALL)
    return load_problem(path)
