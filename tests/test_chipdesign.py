"""The parametric chip model of synthesis: die cost and yield, shoreline, the design grid,
limits and the spec's defaults and overrides."""

from __future__ import annotations

import itertools

import pytest

from designer.model import chipdesign as cd
from designer.optimize import synthesis as syn


def test_die_cost_matches_the_published_worked_example():
    """N5 $16k wafer, 814 mm², NB α = 3, D0 = 0.1: 63.5 gross dies, yield 0.49, ~$518/die."""
    dpw = cd.dies_per_wafer(814, 300)
    y = cd.die_yield(814, 0.1, 3.0)
    assert dpw == pytest.approx(63.5, abs=0.1)
    assert y == pytest.approx(0.49, abs=0.005)
    assert 16000 / (dpw * y) == pytest.approx(518, rel=0.01)


def test_shoreline_places_six_hbm_sites_on_an_h100_sized_die():
    assert cd.stacks_by_shoreline(814, 10.5, 858) == 6
    assert cd.stacks_by_shoreline(200, 10.5, 858) == 3


def test_grid_is_the_cross_product(catalog):
    spec = cd.resolve_fabric(
        cd.spec_from({"memory": ["hbm4"], "dies": [1, 2], "stacks": [1, 2, 3]}, catalog, where="t"),
        catalog,
    )
    d = syn.grid(spec)
    n = len(spec.values["die_areas_mm2"])
    assert len(d) == 1 * 2 * n * 3
    combos = set(zip(d.dies.tolist(), d.die_mm2.tolist(), d.stacks.tolist(), strict=True))
    assert combos == set(itertools.product([1, 2], spec.values["die_areas_mm2"], [1, 2, 3]))


def test_limits_name_what_each_design_breaks(catalog):
    spec = cd.resolve_fabric(
        cd.spec_from({"memory": ["hbm3", "3d-dram"]}, catalog, where="t"), catalog
    )
    d = cd.model(spec, [0, 0, 1, 0], [1, 1, 1, 1], [800, 200, 400, 858], [6, 4, 5, 9])
    assert not d.violates["shoreline"][0] and d.violates["shoreline"][1]
    assert d.violates["die area for 3D-DRAM"][2]  # 5 tiles of 100 mm^2 on 400 mm^2
    assert d.violates["package stacks"][3]
    assert d.feasible.tolist() == [True, False, False, False]


def test_price_and_power_are_the_sum_of_their_parts(catalog):
    spec = cd.resolve_fabric(cd.spec_from({"memory": ["hbm4"]}, catalog, where="t"), catalog)
    d = cd.model(spec, [0], [2], [600], [8])
    p = {k: float(v[0]) for k, v in d.parts.items()}
    cost = (
        sum(
            p[k]
            for k in (
                "logic_usd",
                "memory_usd",
                "stack_packaging_usd",
                "interposer_usd",
                "test_usd",
            )
        )
        / 0.97
    )
    assert p["cost_usd"] == pytest.approx(cost)
    assert d.price_usd[0] == pytest.approx(cost / (1 - 0.65))
    assert d.power_w[0] == pytest.approx(p["logic_w"] + p["memory_w"] + p["link_w"])
    assert p["logic_w"] == pytest.approx(1200.0)  # 1 W/mm^2 x 1,200 mm^2 at N4
    assert d.capacity[0] == pytest.approx(8 * 36e9) and d.bandwidth[0] == pytest.approx(16e12)


def test_problem_values_replace_the_catalog_defaults(catalog):
    spec = cd.spec_from(
        {"memory": ["hbm4"], "node": "n3", "gross_margin": 0,
         "process": {"n3": {"wafer_usd": 40000}}},
        catalog, where="t",
    )  # fmt: skip
    assert spec.node == "n3" and spec.process["wafer_usd"] == 40000
    assert spec.values["gross_margin"] == 0.0
    assert cd.spec_from({"memory": ["hbm4"]}, catalog, where="t").process["wafer_usd"] == 17000
