"""Cost and power models: catalog values, parametric estimates, TCO and $ per million tokens."""

from __future__ import annotations

import pytest

from designer.catalog import Catalog
from designer.cost import HOURS_PER_YEAR, SECONDS_PER_YEAR, chip_cost, cost_per_mtoken
from designer.evaluate import evaluate


@pytest.fixture(scope="module")
def cat():
    return Catalog.load()


def test_datasheet_chip_uses_its_price_and_tdp_plus_the_server_share(cat):
    cc = chip_cost(cat, "h100-sxm")
    c = cat.costs
    assert cc.price_usd == 28000 and cc.price_basis == "catalog price"
    assert cc.power_w == 700
    assert cc.capex_usd == 28000 + c.server_overhead_usd_per_chip
    assert cc.it_power_w == pytest.approx(700 + 300 / 8)


def test_parametric_price_is_calibrated_on_the_b200(cat):
    """logic $/mm² was chosen so that a B200-like part (1,600 mm², 180 GB HBM3e) is ~$40k."""
    b200_like = cat.with_overrides({"chips.b200.die_area": "1600 mm^2"})
    raw = b200_like.raw["chips"]["b200"]
    raw.pop("price_usd")
    cc = chip_cost(b200_like, "b200")
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
    chips = 8
    capex = chips * (28000 + c.server_overhead_usd_per_chip)
    power = chips * (700 + 300 / 8)
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
