"""Cost and power models: catalog values, parametric estimates, TCO and $ per million tokens."""

from __future__ import annotations

import copy
import math

import pytest

from designer.calibration.evaluate import evaluate
from designer.model.catalog import Catalog
from designer.model.cost import (
    HOURS_PER_YEAR,
    SECONDS_PER_YEAR,
    CostBasis,
    chip_cost,
    cost_per_mtoken,
)


@pytest.fixture(scope="module")
def cat():
    return Catalog.load()


def test_a_server_costs_its_chips_plus_the_rest_and_draws_its_rating(cat):
    cc = chip_cost(cat, "h100-sxm")
    chip = cat.chip("h100-sxm")
    c = cat.costs
    n = chip.server_chips or c.chips_per_server
    assert cc.price_usd == 28000 and cc.price_basis.startswith("catalog price (sourced")
    assert cc.price_kind == "sourced"
    assert cc.power_w == 700
    rest = (
        chip.server_price_usd
        if chip.server_price_usd is not None
        else n * c.server_overhead_usd_per_chip
    )
    assert cc.server_capex_usd == n * 28000 + rest
    # energy at the published typical draw, limits at the vendor's maximum rating
    assert cc.server_power_w == pytest.approx(chip.server_power_typical) == 7500
    assert cc.server_power_limit_w == pytest.approx(chip.server_power) == 10200
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
    assert "parametric" in cc.price_basis and cc.price_kind == "estimate"
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
    """rubin (announced) has neither a price, an estimate_from nor a die area."""
    cc = chip_cost(cat, "rubin")
    assert cc.price_usd != cc.price_usd and cc.price_kind == "unknown"
    rec = evaluate(
        "llama3.1-8b", "rubin", tp=2, context_tokens=4096, weight_dtype="fp8", catalog=cat
    )
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


SHIPPING = [c for c in Catalog.load().ids("chips") if Catalog.load().chip(c).kind == "datasheet"]


@pytest.mark.parametrize("chip_id", SHIPPING)
def test_every_shipping_chip_has_a_price_power_and_rent_with_a_source(cat, chip_id):
    """No shipping chip leaves a cost question for lack of a number: a sourced price (with its
    URL and date) or an estimate that names its method, a TDP, a typical and a maximum server
    power with their bases, and on-demand and reserved $/h."""
    chip = cat.chip(chip_id)
    cc = chip_cost(cat, chip_id)
    assert cc.price_usd > 0 and cc.price_kind in ("sourced", "estimate")
    if cc.price_kind == "sourced":
        assert "https://" in chip.price_source and chip.price_date
    else:
        assert cc.price_basis.startswith("estimate")
    assert cc.power_w > 0 and cc.power_basis
    assert 0 < cc.server_power_typical_w <= cc.server_power_max_w
    assert cc.server_power_typical_basis and cc.server_power_max_basis
    assert cc.server_power_max_w >= cc.server_chips * cc.power_w  # accelerators at TDP at least
    for term in ("on_demand", "reserved"):
        rent = chip_cost(cat, chip_id, CostBasis("rent", rent_term=term))
        assert rent.rent_usd_per_hour > 0 and rent.rent_kind in ("sourced", "estimate")
        if rent.rent_kind == "sourced":
            assert "https://" in chip.rent_source and chip.rent_date


def test_estimates_follow_their_stated_method(cat):
    """b300 from b200: half from its $/GB, half from its $/TFLOP; TDP likewise for TPU v6e."""
    b200, b300 = cat.chip("b200"), cat.chip("b300")
    price = 0.5 * (
        b200.price_usd / b200.memory_capacity * b300.memory_capacity
        + b200.price_usd / b200.compute["bf16"] * b300.compute["bf16"]
    )
    assert chip_cost(cat, "b300").price_usd == pytest.approx(price)
    h100, v6e = cat.chip("h100-sxm"), cat.chip("tpu-v6e")
    tdp = 0.5 * (
        h100.tdp / h100.memory_bandwidth * v6e.memory_bandwidth
        + h100.tdp / h100.compute["bf16"] * v6e.compute["bf16"]
    )
    assert chip_cost(cat, "tpu-v6e").power_w == pytest.approx(tdp)


def test_one_server_power_model_for_every_vendor(cat):
    """Without a published rating a server draws chips × (TDP + host) at maximum and chips ×
    (load × TDP + host) typically; the host figures reproduce the DGX H100's published draw."""
    c = cat.costs
    mi = chip_cost(cat, "mi300x")
    assert mi.server_power_max_w == pytest.approx(8 * (750 + c.host_power_max_per_chip))
    typical = 8 * (c.accelerator_load_typical * 750 + c.host_power_typical_per_chip)
    assert mi.server_power_typical_w == pytest.approx(typical)
    h = cat.chip("h100-sxm")
    model_max = 8 * (700 + c.host_power_max_per_chip)
    model_typ = 8 * (c.accelerator_load_typical * 700 + c.host_power_typical_per_chip)
    assert model_max == pytest.approx(h.server_power)  # DGX H100 maximum, 10.2 kW
    assert model_typ == pytest.approx(h.server_power_typical)  # DGX H100 typical midpoint


def test_power_basis_chooses_the_server_power(cat):
    typical = chip_cost(cat, "b200")
    maximum = chip_cost(cat, "b200", CostBasis(power_basis="maximum"))
    assert typical.server_power_w < typical.server_power_limit_w == maximum.server_power_w
    assert maximum.server_power_limit_w == maximum.server_power_w
    assert maximum.server_tco_usd_per_year > typical.server_tco_usd_per_year


def test_rent_costs_its_hours_and_includes_power(cat):
    c = cat.costs
    rent = chip_cost(cat, "h100-sxm", CostBasis("rent"))
    assert rent.rent_usd_per_hour == 2.42 and rent.rent_kind == "sourced"
    per_year = 8 * 2.42 * HOURS_PER_YEAR
    assert rent.server_tco_usd_per_year == pytest.approx(per_year)
    assert rent.server_capex_usd == pytest.approx(per_year * c.amortization_years)
    reserved = chip_cost(cat, "h100-sxm", CostBasis("rent", rent_term="reserved"))
    assert reserved.rent_usd_per_hour == pytest.approx(2.42 * c.reserved_to_on_demand)
    assert reserved.rent_kind == "estimate"


def test_a_published_rent_needs_no_purchase_price(cat):
    """Renting a chip with a published $/h but no price, price estimate or die area: the rent
    is the published one (was NaN: the rent path required a finite purchase capex)."""
    raw = copy.deepcopy(cat.raw)
    chip = raw["chips"]["b200"]
    for key in ("price_usd", "die_area", "estimate_from"):
        chip.pop(key, None)
    chip["rent_on_demand_usd_per_hour"] = 5.0
    catalog = Catalog(raw, dict(cat.origin))
    assert math.isnan(chip_cost(catalog, "b200").price_usd)  # nothing to buy it by
    cc = chip_cost(catalog, "b200", CostBasis("rent"))
    assert cc.rent_usd_per_hour == 5.0 and cc.rent_kind == "sourced"
    assert cc.server_tco_usd_per_year == pytest.approx(cc.server_chips * 5.0 * HOURS_PER_YEAR)
    reserved = chip_cost(catalog, "b200", CostBasis("rent", rent_term="reserved"))
    assert reserved.rent_kind == "estimate" and reserved.rent_usd_per_hour < 5.0
    chip.pop("rent_on_demand_usd_per_hour")
    chip.pop("rent_reserved_usd_per_hour", None)
    unknown = chip_cost(Catalog(raw, dict(cat.origin)), "b200", CostBasis("rent"))
    assert unknown.rent_kind == "unknown" and math.isnan(unknown.server_tco_usd_per_year)
