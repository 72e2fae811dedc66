"""Cost and power models: catalog values, parametric estimates, TCO and $ per million tokens."""

from __future__ import annotations

import copy

import pytest

from designer.catalog import Catalog
from designer.cost import HOURS_PER_YEAR, SECONDS_PER_YEAR, chip_cost, cost_per_mtoken
from designer.evaluate import evaluate


@pytest.fixture(scope="module")
def cat():
    return Catalog.load()


def test_a_server_costs_its_chips_plus_the_rest_and_draws_its_rating(cat):
    cc = chip_cost(cat, "h100-sxm")
    chip = cat.chip("h100-sxm")
    c = cat.costs
    n = chip.server_chips or c.chips_per_server
    assert cc.price_usd == 28000 and cc.price_basis == "catalog price"
    assert cc.power_w == 700
    rest = (
        chip.server_price_usd
        if chip.server_price_usd is not None
        else n * c.server_overhead_usd_per_chip
    )
    assert cc.server_capex_usd == n * 28000 + rest
    rating = chip.server_power if chip.server_power is not None else n * 700 + 300
    assert cc.server_power_w == pytest.approx(rating)
    assert cc.per_chip("capex") == pytest.approx(cc.server_capex_usd / n)  # the per-chip share


def test_the_paper_server_is_eight_chips_plus_300_w(cat):
    cc = chip_cost(cat, "xpu-hbm3")
    assert cc.server_chips == 8
    assert cc.server_power_w == pytest.approx(8 * cc.power_w + 300)


def test_designs_are_charged_whole_servers(cat):
    cc = chip_cost(cat, "xpu-hbm3")
    one = evaluate("llama3.1-8b", "xpu-hbm3", tp=1, context_tokens=4096, catalog=cat)
    eight = evaluate("llama3.1-8b", "xpu-hbm3", tp=8, context_tokens=4096, catalog=cat)
    nine = evaluate("llama3.1-8b", "xpu-hbm3", tp=1, replicas=9, context_tokens=4096, catalog=cat)
    assert one["metrics"]["capex_usd"] == pytest.approx(cc.server_capex_usd)
    assert eight["metrics"]["capex_usd"] == pytest.approx(cc.server_capex_usd)
    assert nine["metrics"]["servers"] == 2
    assert nine["metrics"]["power_w"] == pytest.approx(2 * cc.server_power_w)


def test_parametric_price_is_calibrated_on_the_b200(cat):
    """logic $/mm² was chosen so that a B200-like part (1,600 mm², 180 GB HBM3e) is ~$40k."""
    raw = copy.deepcopy(cat.raw)
    raw["chips"]["b200"].pop("price_usd")
    raw["chips"]["b200"]["die_area"] = "1600 mm^2"
    cc = chip_cost(Catalog(raw, dict(cat.origin)), "b200")
    assert cc.price_basis.startswith("parametric")
    assert cc.price_usd == pytest.approx(40_000, rel=0.01)


def test_paper_preset_power_is_area_density_plus_memory_energy(cat):
    cc = chip_cost(cat, "xpu-hbm3")
    chip = cat.chip("xpu-hbm3")
    mem = cat.memory(chip.memory_technology)
    expected = 1.0e6 * chip.die_area * 1.0 + mem.energy_per_byte * chip.memory_bandwidth
    assert cc.power_w == pytest.approx(expected, rel=1e-12)
    assert cc.power_basis.startswith("parametric")
    assert 800 < cc.power_w < 1000  # 800 mm² at 1 W/mm² plus ~4 pJ/bit at 4 TiB/s


def test_chip_without_price_or_area_has_unknown_cost(cat):
    cc = chip_cost(cat, "tpu-v5e")
    assert cc.price_usd != cc.price_usd  # NaN: neither a price nor a die area
    rec = evaluate("llama3.1-8b", "tpu-v5e", tp=2, context_tokens=4096, catalog=cat)
    assert rec["metrics"]["capex_usd"] is None


def test_tco_and_cost_per_million_tokens(cat):
    rec = evaluate(
        "llama3.1-70b", "h100-sxm", tp=4, batch=16, replicas=2, context_tokens=8192, catalog=cat
    )
    m, c = rec["metrics"], cat.costs
    cc = chip_cost(cat, "h100-sxm")
    servers = -(-8 // cc.server_chips)  # 8 chips in whole servers
    capex = servers * cc.server_capex_usd
    power = servers * cc.server_power_w
    assert m["capex_usd"] == pytest.approx(capex)
    assert m["power_w"] == pytest.approx(power)
    tco = (
        capex / c.amortization_years
        + power * c.pue * HOURS_PER_YEAR / 1000 * c.electricity_usd_per_kwh
    )
    assert m["tco_usd_per_year"] == pytest.approx(tco)
    tokens_per_year = m["system_tokens_per_s"] * c.utilization * SECONDS_PER_YEAR
    assert m["cost_per_mtoken_usd"] == pytest.approx(tco / tokens_per_year * 1e6)
    assert float(cost_per_mtoken(cat, tco, m["system_tokens_per_s"])) == pytest.approx(
        m["cost_per_mtoken_usd"]
    )


def test_cost_defaults_have_sources(cat):
    assert "http" in cat.costs.source and "assumption" in cat.costs.source
