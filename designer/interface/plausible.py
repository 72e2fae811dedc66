"""Values that parse but are almost certainly typos, or change nothing: warnings, not errors.

A fleet power cap under 1 kW is below what one accelerator draws (`max_power = "500 mW"` is
0.5 W; megawatts are `MW`), and a price under $1 is no accelerator's or fleet budget's price
(a value meant in thousands or millions); a free chip (price 0) is worth saying, and so is a
context beyond the model's `max_position_embeddings`. A supply of a chip the space does not
search, and a rent term under the purchase basis, change nothing; speculative decoding by
multi-token prediction (`mtp`) for a model that ships no MTP module assumes one. Each warning
is one line naming the key and value.

>>> from designer.optimize.problem import load_problem
>>> p = load_problem("problems/quickstart.toml", {"limits.max_power": "500 mW"})
>>> warnings(p)[0][:60]
'limits.max_power = 0.5 W: a fleet power cap under 1 kW, less'
"""

from __future__ import annotations

from typing import Any

MIN_FLEET_POWER_W = 1e3
MIN_PRICE_USD = 1.0


def warnings(problem: Any) -> list[str]:
    """The plausibility warnings of a parsed problem (empty when nothing looks like a typo)."""
    out = []
    for key in ("max_power", "max_facility_power"):
        w = getattr(problem, key, None)
        if w is not None and 0 < w < MIN_FLEET_POWER_W:
            out.append(
                f"limits.{key} = {w:g} W: a fleet power cap under 1 kW, less than one "
                "accelerator draws (a unit typo? MW is megawatts, mW milliwatts)"
            )
    budget = getattr(problem, "max_capex_usd", None)
    if budget is not None and 0 < budget < MIN_PRICE_USD:
        out.append(
            f"limits.max_capex_usd = {budget:g}: a budget under $1 (the value is in USD, not "
            "thousands or millions)"
        )
    space = set(problem.chips)
    for chip, count in getattr(problem, "supply", ()):
        if chip not in space:  # a supply bounds only the chips the space searches
            out.append(
                f"supply.{chip} = {count}: {chip} is not in the space (space.chips, or left out "
                "of it), so this limit changes nothing"
            )
    raw = getattr(problem, "raw", None) or {}
    chips = problem.catalog.raw["chips"]
    used = {v for c in space for v in chips[c].values() if isinstance(v, str)}  # estimate_from
    for path in raw.get("overrides") or {}:
        section, _, rest = path.partition(".")
        chip = rest.partition(".")[0]
        unused = chip in chips and chip not in space and chip not in used
        if section == "chips" and chip != "*" and unused and problem.synthesis is None:
            out.append(
                f"{path}: {chip} is not in the space (space.chips, or left out of it), so "
                "this change changes nothing"
            )
    out += problem.catalog.replacement_notes()
    costs = raw.get("costs") or {}
    if "rent_term" in costs and problem.cost_basis.basis != "rent":
        out.append(
            f"costs.rent_term = {costs['rent_term']!r} applies to rented fleets: under costs.basis "
            f"= {problem.cost_basis.basis!r} it changes nothing"
        )
    for wc in getattr(problem, "classes", ()):
        table = f"class.{wc.name}" if "class" in raw else "workload"  # one [[class]] too
        model = wc.workload.model
        for line in (
            context_warning(model, wc.workload.context_tokens, f"{table}.context_tokens"),
            mtp_warning(
                model, wc.workload.speculative, f"{table}.speculative = 'mtp'", problem.catalog
            ),
        ):
            if line:
                out.append(line)
    for chip in problem.chips:
        price = problem.catalog.chip(chip).price_usd
        if price == 0:
            out.append(
                f"chips.{chip}.price_usd = 0: the chip is free, only its server's other costs count"
            )
        elif price is not None and 0 < price < MIN_PRICE_USD:
            out.append(
                f"chips.{chip}.price_usd = {price:g}: a price under $1 (the value is in USD, "
                "not thousands)"
            )
    return out


def mtp_warning(model: Any, speculative: str, said: str, catalog: Any) -> str | None:
    """`speculative = "mtp"` for a model whose checkpoint ships no multi-token-prediction
    module (`num_nextn_predict_layers` 0 or absent; None otherwise): the answer drafts with
    one it assumes, a layer of the target's own shape, which the model does not have. A model
    of `catalog` states one by a change, a config.json in the file."""
    if speculative != "mtp" or getattr(model, "num_nextn_predict_layers", 0) > 0:
        return None
    state = (
        f"--set models.{model.id}.num_nextn_predict_layers=1"
        if model.id in catalog.raw["models"]
        else "num_nextn_predict_layers in its config.json"
    )
    return (
        f"{said}: {model.id} ships no multi-token-prediction module "
        "(num_nextn_predict_layers is 0 or absent in its config); the answer assumes one, a "
        f"layer of its own shape (eagle or a draft model fits a model without one; {state} "
        "states a module it has)"
    )


def context_warning(model: Any, context: int, key: str) -> str | None:
    """A context beyond the model's `max_position_embeddings` (None when within, or unknown):
    the model was not trained for it, though a serving stack may extend it (RoPE scaling)."""
    most = getattr(model, "max_position_embeddings", 0)
    if not most or context <= most:
        return None
    return (
        f"{key} = {context:,}: longer than {model.id}'s max_position_embeddings ({most:,}); "
        "the answer holds the KV cache of that context, which the model is not configured for "
        "(RoPE scaling may extend it)"
    )
