"""Chip synthesis: the parametric model, enumeration against the MILP, presets as points of the
space, chip files that re-evaluate to the answer, and --set synthesis.… changing the chip."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from designer.interface.cli import main
from designer.model import chipdesign as cd
from designer.model.errors import InfeasibleError, InputError
from designer.optimize import synthesis as syn
from designer.optimize import synthesize
from designer.optimize.problem import load_problem, problem_from_dict
from designer.optimize.solve import solve

ROOT = Path(__file__).resolve().parent.parent
PROBLEM_405B = ROOT / "problems" / "synthesis-llama3-405b-2000utps-128k.toml"


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, _ = capsys.readouterr()
    return code, out


def small_problem(catalog, **synthesis) -> dict:
    table = {
        "memory": ["hbm3", "3d-dram"],
        "die_areas_mm2": [300, 600, 800],
        "dies": [1],
        "stacks": [2, 4, 6],
        "presets": False,
        **synthesis,
    }
    return {
        "workload": {"model": "llama3.1-70b", "context_tokens": "32K"},
        "sla": {"tokens_per_s_per_user": 300, "concurrent_users": 40},
        "assumptions": {"preset": "paper"},
        "objective": {"minimize": "capex"},
        "space": {"tp": [1, 2, 4, 8, 16], "pp": [1, 2]},
        "synthesis": table,
    }


# ---- the model -------------------------------------------------------------------------------


def test_non_dominated_equals_brute_force(catalog):
    spec = cd.resolve_fabric(
        cd.spec_from({"memory": ["hbm3", "hbm4"]}, catalog, where="t"), catalog
    )
    d = syn.grid(spec)
    d = d.take(np.flatnonzero(d.feasible))
    keep = syn.non_dominated(d)
    more = np.stack([d.bandwidth, d.capacity, d.fp8], 1)
    less = np.stack([d.price_usd, d.power_w], 1)
    for i in range(len(d)):
        dominated = any(
            (more[j] >= more[i]).all()
            and (less[j] <= less[i]).all()
            and ((more[j] > more[i]).any() or (less[j] < less[i]).any() or j < i)
            for j in range(len(d))
            if j != i
        )
        assert keep[i] == (not dominated)


def test_every_kept_design_is_within_every_limit(catalog):
    p = problem_from_dict(small_problem(catalog, presets=True, memory=["hbm3", "hbm4"]))
    s = p.synthesis
    assert s.designs.feasible.all() or set(s.chips) - set(s.presets)
    v = s.spec.values
    for c in s.chips:
        chip = p.catalog.chip(c)
        assert chip.kind == "hypothetical" and "hypothetical" in chip.notes
        if c not in s.presets:
            assert chip.tdp <= v["max_chip_power"] * (1 + 1e-9)


# ---- the MILP against enumeration ------------------------------------------------------------


def test_synthesis_optimum_equals_enumeration_of_the_design_space(catalog):
    raw = small_problem(catalog)
    problem = problem_from_dict(raw)
    s = problem.synthesis
    best = solve(problem, with_sensitivity=False).objective
    # every grid point within the limits, dominated or not, as its own catalog chip
    ok = np.flatnonzero(s.full.feasible)
    entries = {
        ("chips", s.full_ids[i]): syn.chip_table(
            s.spec, s.full, int(i), s.interconnect, name=s.full_ids[i]
        )
        for i in ok
    }
    cat = problem.catalog.with_entries(entries, where="test")
    values = []
    for i in ok:
        one = dataclasses.replace(problem, chips=(s.full_ids[i],), catalog=cat, synthesis=None)
        try:
            values.append(solve(one, with_sensitivity=False, compare_single=False).objective)
        except InfeasibleError:
            continue
    assert len(values) >= 2
    assert best == pytest.approx(min(values), rel=1e-9)
    assert len(s.chips) <= len(ok)


# ---- presets ---------------------------------------------------------------------------------


def test_presets_are_points_of_the_default_space_priced_alike(catalog):
    raw = small_problem(catalog)
    raw["synthesis"] = {"memory": ["hbm3", "hbm4", "3d-dram"]}
    p = problem_from_dict(raw)
    s = p.synthesis
    assert set(s.presets) == {"syn-xpu-hbm3", "syn-xpu-hbm4", "syn-xpu-3d-dram"}
    ids, d = syn.preset_designs(s.spec, catalog)
    for k, pid in enumerate(ids):
        preset = catalog.chip(pid)
        if (
            f"syn-{pid}" not in s.chips
        ):  # dominated by a synthesized design: some kept design is as good
            assert any(
                (s.designs.bandwidth >= d.bandwidth[k] * (1 - 1e-12))
                & (s.designs.capacity >= d.capacity[k] * (1 - 1e-12))
                & (s.designs.fp8 >= d.fp8[k] * (1 - 1e-12))
                & (s.designs.price_usd <= d.price_usd[k] * (1 + 1e-12))
                & (s.designs.power_w <= d.power_w[k] * (1 + 1e-12))
            )
            continue
        copy = p.catalog.chip(f"syn-{pid}")
        assert copy.memory_bandwidth == preset.memory_bandwidth
        assert copy.memory_capacity == preset.memory_capacity
        assert copy.compute == pytest.approx(preset.compute)
        assert copy.price_usd == pytest.approx(d.price_usd[k])


def test_synthesized_optimum_is_never_costlier_than_the_best_preset():
    problem = load_problem(PROBLEM_405B, {"sla.tokens_per_s_per_user": 1000})
    s = problem.synthesis
    best = solve(problem, with_sensitivity=False).objective
    presets = [c for c in s.presets if c in s.chips]
    assert presets
    values = []
    for c in presets:
        one = dataclasses.replace(problem, chips=(c,), synthesis=None)
        try:
            values.append(solve(one, with_sensitivity=False, compare_single=False).objective)
        except InfeasibleError:  # this preset cannot serve the question at all
            continue
    assert values
    assert best <= min(values) * (1 + 1e-9)


# ---- the answer and chip files ---------------------------------------------------------------


def test_a_written_chip_re_evaluates_to_the_answer(capsys, tmp_path):
    out = tmp_path / "chip.toml"
    code, text = run(capsys, "solve", str(PROBLEM_405B), "--json", "--chip-out", str(out))
    assert code == 0
    r = json.loads(text)
    block = r["synthesis"]
    assert block["hypothetical"] and block["profile"] == "limit"
    assert block["chosen"] and block["chosen"][0]["binds"]
    assert set(block["runner_up"]) == {"hbm3", "hbm4", "3d-dram"}
    d, m = r["design"], r["metrics"]
    code, text = run(
        capsys, "evaluate", "--model", "llama3.1-405b", "--chip", str(out),
        "--tp", str(d["tp"]), "--pp", str(d["pp"]), "--batch", str(d["batch"]),
        "--replicas", str(d["replicas"]), "--context", "128K", "--assumptions", "paper",
        "--json",
    )  # fmt: skip
    assert code == 0
    e = json.loads(text)
    assert e["design"]["chip"] == d["chip"]
    for key in (
        "tokens_per_s_per_user",
        "step_time_s",
        "memory_per_chip_bytes",
        "capex_usd",
        "power_w",
    ):
        assert e["metrics"][key] == pytest.approx(m[key], rel=1e-9), key


def test_space_chips_accepts_a_chip_file(capsys, tmp_path):
    out = tmp_path / "chip.toml"
    assert run(capsys, "solve", str(PROBLEM_405B), "--json", "--chip-out", str(out))[0] == 0
    raw = {
        "workload": {"model": "llama3.1-405b", "context_tokens": 131072},
        "sla": {"tokens_per_s_per_user": 2000, "concurrent_users": 32},
        "assumptions": {"preset": "paper"},
        "space": {"chips": ["chip.toml"]},
    }
    p = problem_from_dict(raw, base_dir=tmp_path)
    assert p.chips[0].startswith("syn-") and p.synthesis is None
    assert solve(p, with_sensitivity=False).status == "optimal"


def test_set_synthesis_changes_the_chip(capsys):
    base = load_problem(PROBLEM_405B)
    chip = solve(base, with_sensitivity=False).fleet[0]["chip"]
    cheaper_power = load_problem(PROBLEM_405B, {"synthesis.max_chip_power": "900 W"})
    other = solve(cheaper_power, with_sensitivity=False).fleet[0]["chip"]
    assert other != chip
    assert cheaper_power.catalog.chip(other).tdp <= 900
    n2 = load_problem(PROBLEM_405B, {"synthesis.process.n4.fp8_tflops_per_mm2": "x2"})
    i = n2.synthesis.chips.index(chip) if chip in n2.synthesis.chips else None
    if i is not None:
        assert n2.catalog.chip(chip).compute["fp8"] == pytest.approx(
            2 * base.catalog.chip(chip).compute["fp8"]
        )


def test_max_designs_bounds_the_chip_types(catalog):
    raw = small_problem(catalog, max_designs=1)
    p = problem_from_dict(raw)
    assert p.max_chip_types == 1
    sol = solve(p, with_sensitivity=False)
    assert len({r["chip"] for r in sol.fleet}) == 1
    raw = small_problem(catalog, max_designs=2, tape_out_usd=1e6)
    p = problem_from_dict(raw)
    assert p.max_chip_types == 2 and p.chip_type_fixed_cost_usd == 1e6


# ---- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("synthesis", "key", "hint"),
    [
        ({"memory": ["hbm5"]}, "synthesis.memory", "hbm"),
        ({"memory": ["hbm4"], "nod": "n3"}, "synthesis.nod", "node"),
        ({"memory": ["hbm4"], "node": "n1"}, "synthesis.node", "closest valid name"),
        ({}, "synthesis.memory", "missing"),
        ({"memory": ["hbm4"], "die_areas_mm2": [900]}, "synthesis.die_areas_mm2", "reticle"),
        ({"memory": ["hbm4"], "max_chip_power": "1 W"}, "synthesis", "no design"),
    ],
)
def test_bad_synthesis_input_is_one_clear_line(catalog, synthesis, key, hint):
    raw = small_problem(catalog)
    raw["synthesis"] = synthesis
    with pytest.raises(InputError) as exc:
        problem_from_dict(raw, where="p.toml")
    assert key in str(exc.value) and hint in str(exc.value)


def test_unknown_set_path_names_the_closest_key():
    with pytest.raises(InputError, match="closest valid name: max_chip_power"):
        load_problem(PROBLEM_405B, {"synthesis.max_chip_powr": "900 W"})
    with pytest.raises(InputError, match="wafer_usd"):
        load_problem(PROBLEM_405B, {"synthesis.process.n4.wafer": "1"})


def test_a_node_or_technology_no_answer_uses_is_named(catalog):
    """A process node or memory technology table (or --set) under a name that is neither the
    catalog's nor the one the problem uses changed nothing: it was ignored with exit 0 (`n44`
    for `n4`); now it is an error naming the closest. A node the problem defines and uses is
    still allowed."""
    match = r"^--set: synthesis\.process\.n44\.wafer_usd: .*closest valid name: n4"
    with pytest.raises(InputError, match=match):
        load_problem(PROBLEM_405B, {"synthesis.process.n44.wafer_usd": 1})
    with pytest.raises(InputError, match="closest valid name: 3d-dram"):
        problem_from_dict(
            small_problem(catalog, memory_tech={"3d-dramm": {"bandwidth_gb_s_per_mm2": 5}}),
            catalog=catalog,
        )
    n4 = cd.defaults_table()["process"]["n4"]
    mine = problem_from_dict(
        small_problem(catalog, node="n9", process={"n9": dict(n4)}), catalog=catalog
    )
    assert mine.synthesis is not None


def test_a_star_sets_every_node_or_technology_with_the_key():
    """`--set synthesis.memory_tech.*.KEY=V` (and `process.*`) sets every entry that has KEY,
    as a `*` path does elsewhere; it matched nothing before."""
    tech = "synthesis.memory_tech.*.bandwidth_gb_s_per_mm2"
    doubled = load_problem(PROBLEM_405B, {tech: "x2"})
    base = load_problem(PROBLEM_405B)
    chip = next(c for c in base.synthesis.chips if "3d-dram" in c)
    assert doubled.catalog.chip(chip).memory_bandwidth == pytest.approx(
        2 * base.catalog.chip(chip).memory_bandwidth
    )
    cheap = load_problem(PROBLEM_405B, {"synthesis.process.*.wafer_usd": 1})
    assert {
        n: t["wafer_usd"] for n, t in cheap.raw["synthesis"]["process"].items()
    } == dict.fromkeys(cd.defaults_table()["process"], 1)


# ---- portfolios --------------------------------------------------------------------------------


def portfolio(max_designs: int, tape_out_usd: float) -> dict:
    return {
        "class": [
            {"name": "chat", "model": "llama3.1-8b", "context_tokens": "8K",
             "tokens_per_s_per_user": 400, "concurrent_users": 3000},
            {"name": "long", "model": "llama3.1-70b", "context_tokens": "64K",
             "tokens_per_s_per_user": 150, "concurrent_users": 300},
        ],
        "assumptions": {"preset": "paper"},
        "objective": {"minimize": "tco"},
        "space": {"tp": [1, 2, 4, 8], "pp": [1, 2]},
        "synthesis": {
            "memory": ["hbm3", "3d-dram"],
            "die_areas_mm2": [300, 800],
            "dies": [1],
            "stacks": [2, 4, 6],
            "presets": False,
            "max_designs": max_designs,
            "tape_out_usd": tape_out_usd,
        },
    }  # fmt: skip


@pytest.mark.parametrize(("k", "tape_out"), [(1, 0.0), (2, 0.0), (2, 2e6)])
def test_design_sets_equal_the_whole_milp(k, tape_out):
    p = problem_from_dict(portfolio(k, tape_out))
    by_sets = synthesize.solve(p, with_sensitivity=False, compare_single=False)
    assert by_sets.record["design_sets"]["proven"]
    whole = solve(p, with_sensitivity=False, compare_single=False)
    assert whole.status == "optimal"
    assert by_sets.objective == pytest.approx(whole.objective, rel=1e-9)
    assert len({r["chip"] for r in by_sets.fleet}) <= k


def test_one_design_portfolio_equals_enumeration_of_designs():
    p = problem_from_dict(portfolio(1, 0.0))
    values = []
    for c in p.chips:
        try:
            one = dataclasses.replace(p, chips=(c,), synthesis=None)
            values.append(solve(one, with_sensitivity=False, compare_single=False).objective)
        except InfeasibleError:
            continue
    assert synthesize.solve(p, with_sensitivity=False).objective == pytest.approx(
        min(values), rel=1e-9
    )


def test_text_answer_says_hypothetical_names_binds_and_runner_ups(capsys):
    code, text = run(capsys, "solve", str(PROBLEM_405B))
    assert code == 0
    assert "hypothetical" in text and "profile limit" in text
    assert "binds:" in text and "runner-up hbm4" in text and "runner-up 3d-dram" in text


def test_a_bad_chip_file_is_bad_input(capsys, tmp_path):
    bad = tmp_path / "chip.toml"
    bad.write_text('[models.x]\nname = "x"\n')
    code = main(["evaluate", "--model", "llama3.1-8b", "--chip", str(bad)])
    assert code == 2
    assert "chip.toml" in capsys.readouterr().err
    code = main(["solve", str(PROBLEM_405B), "--chip-out", str(tmp_path)])  # a folder
    assert code == 2
    assert "--chip-out" in capsys.readouterr().err


def test_a_node_the_problem_defines_whole_can_be_switched_away_from(catalog):
    """A node defined whole in the problem (`[synthesis.process.n2x]` with every key) is no
    typo: `--set synthesis.node=n3` (or a sweep over the node) still solves with it defined
    (the first form of the check refused it as an unknown node)."""
    n4 = cd.defaults_table()["process"]["n4"]
    raw = small_problem(catalog, node="n2x", process={"n2x": dict(n4)})
    raw["synthesis"]["node"] = "n3"
    assert problem_from_dict(raw, catalog=catalog).synthesis.spec.node == "n3"
    partial = small_problem(catalog, process={"n2x": {"wafer_usd": 1}})
    with pytest.raises(InputError, match=r"process\.n2x: unknown process node"):
        problem_from_dict(partial, catalog=catalog)


def test_a_set_into_a_node_that_is_no_table_is_bad_input(catalog):
    raw = small_problem(catalog, process={"n4": 5})
    with pytest.raises(InputError, match=r"synthesis\.process\.n4: expected a table"):
        syn.set_path(raw["synthesis"], "process.n4.wafer_usd", 1, where="p.toml", path="p")
    with pytest.raises(InputError, match="expected a table"):
        syn.set_path(raw["synthesis"], "process.*.wafer_usd", 1, where="p.toml", path="p")


def test_binds_are_the_decode_rows_in_a_disaggregated_fleet():
    """A chip serving both pools: its step-time binds come from its decode row (a prefill row's
    bound is its prompt's pass, compute at 6,000 tokens)."""
    raw = {
        "workload": {"model": "llama3.1-70b", "prompt_tokens": 6000, "output_tokens": 1000,
                     "weight_dtype": "fp8", "kv_dtype": "fp8"},
        "assumptions": {"preset": "paper"},
        "sla": {"tokens_per_s_per_user": 100, "requests_per_s": 10, "ttft": "2 s"},
        "serving": {"mode": "disaggregated"},
        "objective": {"minimize": "capex"},
        "synthesis": {"memory": ["hbm3"]},
    }  # fmt: skip
    problem = problem_from_dict(raw)
    record = synthesize.solve(problem).record
    block = synthesize.annotate(problem, record, runner_ups=False)
    decode = {r["chip"]: r for r in record["fleet"] if r["phase"] == "decode"}
    assert decode
    for c in block["chosen"]:
        if c["chip"] in decode:
            step = [b for b in c["binds"] if b.endswith("(step time)")]
            assert step == [f"{decode[c['chip']]['bottleneck']} (step time)"]


def test_a_design_set_stopped_by_a_limit_leaves_the_search_unproven(monkeypatch):
    """A set whose solve a time limit stops is not ruled out: the answer is not proven optimal
    (it said "optimal", proven, on the wrong set)."""
    from designer.model.errors import SolverLimitError
    from designer.optimize import solve as solving

    p = problem_from_dict(portfolio(2, 2e6))
    plain, calls = solving.solve, []

    def first_stopped(problem, **options):
        calls.append(problem.chips)
        if len(calls) == 1:
            raise SolverLimitError("solver stopped (Time limit reached) after 0.1 s")
        return plain(problem, **options)

    monkeypatch.setattr(solving, "solve", first_stopped)
    sol = synthesize.solve(p, with_sensitivity=False)
    assert sol.record["design_sets"]["proven"] is False
    assert sol.record["status"] == "feasible"
