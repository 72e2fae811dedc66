"""Problem files: validation, units, --set changes, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer.model.errors import InputError
from designer.optimize.problem import (
    DEFAULT_PP,
    DEFAULT_TP,
    load_problem,
    parse_set,
    problem_from_dict,
)

ROOT = Path(__file__).resolve().parent.parent
BASE = {
    "workload": {"model": "llama3.1-8b", "context_tokens": 4096},
    "sla": {"tokens_per_s_per_user": 100, "concurrent_users": 1},
}


def test_defaults_follow_the_design_notes():
    pr = problem_from_dict(BASE)
    assert pr.objective == "capex" and pr.sense == "minimize" and pr.users == 1
    assert pr.tp == DEFAULT_TP and pr.tp[-1] == 1024
    assert pr.pp == DEFAULT_PP and pr.pp[-1] == 64
    assert pr.max_batch == 256
    # deployment (the default): the model's native dtype (Llama 3.1: bf16) and bf16 KV
    assert pr.workload.assumptions.name == "deployment"
    assert pr.workload.weight_dtype == "bf16" and pr.workload.kv_dtype == "bf16"
    paper = problem_from_dict({**BASE, "assumptions": {"preset": "paper"}})
    assert paper.workload.weight_dtype == "fp8" and paper.workload.kv_dtype == "fp8"
    assert pr.max_configurations is None and pr.max_chip_types is None and pr.supply == ()


def test_the_default_space_is_shipping_chips_and_says_what_it_leaves_out():
    pr = problem_from_dict(BASE)
    kinds = {c: pr.catalog.chip(c).kind for c in pr.catalog.ids("chips")}
    assert set(pr.chips) == {c for c, k in kinds.items() if k == "datasheet"}
    assert {c for c, _ in pr.left_out} == {c for c, k in kinds.items() if k != "datasheet"}
    assert all("include_hypothetical" in why for _, why in pr.left_out)
    every = problem_from_dict({**BASE, "space": {"include_hypothetical": True}})
    assert set(every.chips) == set(kinds) and every.left_out == ()
    named = problem_from_dict({**BASE, "space": {"chips": ["xpu-hbm3"]}})
    assert named.chips == ("xpu-hbm3",)


def test_concurrent_users_are_required():
    raw = {**BASE, "sla": {"tokens_per_s_per_user": 100}}
    with pytest.raises(InputError, match="sla.concurrent_users: missing required key"):
        problem_from_dict(raw, where="q.toml")
    # maximize asks how many: then the count is not needed
    pr = problem_from_dict({**raw, "objective": {"maximize": "users"}})
    assert pr.sense == "maximize" and pr.users is None


def test_accepted_inputs_zero_overhead_and_context_with_a_suffix():
    pr = problem_from_dict(
        {
            "workload": {"model": "llama3.1-8b", "context_tokens": "32K"},
            "sla": {"tokens_per_s_per_user": 100, "concurrent_users": 3},
            "efficiency": {"overhead_per_layer": "0 us"},
        }
    )
    assert pr.workload.context_tokens == 32768
    assert pr.workload.efficiency.overhead_per_layer == 0.0


def test_a_model_path_is_relative_to_the_problem_file(tmp_path, hf_dir):
    import shutil

    (tmp_path / "models").mkdir()
    shutil.copy(hf_dir / "llama-3.1-8b" / "config.json", tmp_path / "models" / "l8.json")
    (tmp_path / "q.toml").write_text(
        '[workload]\nmodel = "models/l8.json"\ncontext_tokens = 4096\n'
        "[sla]\ntokens_per_s_per_user = 50\nconcurrent_users = 2\n"
    )
    pr = load_problem(tmp_path / "q.toml")
    assert pr.workload.model.num_hidden_layers == 32


def test_classes_fleet_supply_and_facility_power():
    pr = problem_from_dict(
        {
            "class": [
                {
                    "name": "chat",
                    "model": "llama3.1-8b",
                    "context_tokens": 4096,
                    "tokens_per_s_per_user": 80,
                    "concurrent_users": 100,
                },
                {
                    "name": "reason",
                    "model": "qwen3-32b",
                    "context_tokens": "32K",
                    "tokens_per_s_per_user": 40,
                    "concurrent_users": 20,
                },
            ],
            "fleet": {"max_configurations": 2, "max_chip_types": 1},
            "supply": {"b200": 64},
            "limits": {"max_facility_power": "100 kW"},
        }
    )
    assert [c.name for c in pr.classes] == ["chat", "reason"]
    assert pr.classes[1].workload.context_tokens == 32768
    assert pr.max_configurations == 2 and pr.max_chip_types == 1
    assert pr.supply == (("b200", 64),) and pr.max_facility_power == 1e5
    changed = pr.with_changes({"class.reason.concurrent_users": 7, "supply.b200": 8})
    assert changed.classes[1].users == 7 and changed.supply == (("b200", 8),)


def test_limits_are_parsed_with_units():
    pr = problem_from_dict(
        {
            **BASE,
            "limits": {"max_power": "1.5 MW", "max_capex_usd": 5e7, "max_chips": 64},
            "space": {"max_chips": 128},
        }
    )
    assert pr.max_power == pytest.approx(1.5e6)
    assert pr.max_capex_usd == 5e7
    assert pr.max_chips == 64  # the tighter of [space] and [limits]


def test_overrides_reach_the_catalog():
    pr = problem_from_dict({**BASE, "overrides": {"chips.xpu-hbm3.memory_bandwidth": "8 TiB/s"}})
    assert pr.catalog.chip("xpu-hbm3").memory_bandwidth == 8 * 2**40


@pytest.mark.parametrize(
    "text,path,value",
    [
        ("sla.tokens_per_s_per_user=1500", "sla.tokens_per_s_per_user", 1500),
        ("chips.xpu-hbm3.memory_bandwidth=8TiB/s", "chips.xpu-hbm3.memory_bandwidth", "8TiB/s"),
        ('space.chips=["h100-sxm","b200"]', "space.chips", ["h100-sxm", "b200"]),
        ("objective.minimize=power", "objective.minimize", "power"),
        ("limits.max_capex_usd=2.5e6", "limits.max_capex_usd", 2.5e6),
    ],
)
def test_parse_set(text, path, value):
    assert parse_set(text) == (path, value)


def test_with_changes_routes_problem_and_catalog_paths():
    pr = problem_from_dict(BASE).with_changes(
        {"sla.concurrent_users": 7, "chips.h100-sxm.price_usd": 20000}
    )
    assert pr.users == 7
    assert pr.catalog.chip("h100-sxm").price_usd == 20000


@pytest.mark.parametrize(
    "raw,needle",
    [
        ({**BASE, "slaa": {}}, "slaa: unknown section (closest valid name: sla)"),
        ({**BASE, "sla": {"tokens_per_s_per_usr": 5}}, "closest valid name: tokens_per_s_per_user"),
        (
            {"workload": {"model": "llama3.1-8b"}, "sla": {"tokens_per_s_per_user": 5}},
            "workload.context_tokens: missing required key",
        ),
        ({**BASE, "objective": {"minimize": "capx"}}, "closest valid name: capex"),
        ({**BASE, "space": {"chips": ["h100"]}}, "closest valid name: h100-sxm"),
        ({**BASE, "limits": {"max_power": "1 MWh"}}, "limits.max_power: expected a power"),
        (
            {**BASE, "sla": {"tokens_per_s_per_user": -3, "concurrent_users": 1}},
            "expected a positive number",
        ),
        (
            {**BASE, "workload": {"model": "llama3.1-8B", "context_tokens": 4096}},
            "workload.model: unknown model",
        ),
        ({**BASE, "space": {"tp": [0, 2]}}, "space.tp: expected a positive integer"),
        ({**BASE, "supply": {"b20": 8}}, "supply.b20: unknown chip 'b20' (closest valid name"),
        ({**BASE, "objective": {"maximize": "user"}}, "closest valid name: users"),
        ({**BASE, "fleet": {"max_configuration": 1}}, "closest valid name: max_configurations"),
        (
            {"class": [{"name": "a", "model": "llama3.1-8b"}]},
            "class.a.context_tokens: missing required key",
        ),
        # a class's keys have their section's bounds (it took 2e9 users that [sla] refuses)
        (
            {
                "class": [
                    {
                        "name": "a",
                        "model": "llama3.1-8b",
                        "context_tokens": 4096,
                        "tokens_per_s_per_user": 20,
                        "concurrent_users": 2_000_000_000,
                    }
                ]
            },
            "class.a.concurrent_users: expected a positive integer (at most 1073741824)",
        ),
        (
            {
                "class": [
                    {
                        "name": "a",
                        "model": "llama3.1-8b",
                        "prompt_tokens": 100,
                        "output_tokens": 10,
                        "tokens_per_s_per_user": 20,
                        "ttft": "1 s",
                        "requests_per_s": 1,
                        "chunk_tokens": 2_000_000_000,
                    }
                ]
            },
            "class.a.chunk_tokens: expected a positive integer (at most",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_key(raw, needle):
    with pytest.raises(InputError) as exc:
        problem_from_dict(raw, where="q.toml")
    msg = str(exc.value)
    assert needle in msg and "\n" not in msg
    assert msg.startswith("q.toml")


def test_malformed_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[workload\nmodel = 1\n")
    with pytest.raises(InputError, match="bad.toml: malformed TOML"):
        load_problem(bad)
    with pytest.raises(InputError, match="no such file"):
        load_problem(tmp_path / "missing.toml")


def test_set_with_an_unknown_path_names_it():
    with pytest.raises(InputError, match="closest valid name: concurrent_users"):
        load_problem(ROOT / "problems" / "quickstart.toml", {"sla.concurrent_user": 3})


def test_relative_and_wildcard_sets_equal_explicit_sets():
    pr = problem_from_dict({**BASE, "limits": {"max_power": "1 MW"}})
    rel = pr.with_changes(
        {
            "sla.tokens_per_s_per_user": "x2.5",
            "limits.max_power": "x0.5",
            "interconnects.*.inter_domain_latency": "x0.2",
        }
    )
    explicit = pr.with_changes(
        {
            "sla.tokens_per_s_per_user": 250,
            "limits.max_power": "500 kW",
            **{
                f"interconnects.{i}.inter_domain_latency": (
                    f"{0.2 * pr.catalog.interconnect(i).inter_domain_latency!r} s"
                )
                for i in pr.catalog.ids("interconnects")
            },
        }
    )
    assert rel.target_utps == explicit.target_utps == 250
    assert rel.max_power == explicit.max_power == pytest.approx(5e5)
    for i in pr.catalog.ids("interconnects"):
        assert rel.catalog.interconnect(i) == explicit.catalog.interconnect(i)


def test_a_factor_scales_the_problems_own_override():
    pr = problem_from_dict({**BASE, "overrides": {"chips.xpu-hbm3.memory_bandwidth": "8 TiB/s"}})
    same_path = pr.with_changes({"chips.xpu-hbm3.memory_bandwidth": "x2"})
    wildcard = pr.with_changes({"chips.*.memory_bandwidth": "x2"})
    for p in (same_path, wildcard):
        assert p.catalog.chip("xpu-hbm3").memory_bandwidth == 16 * 2**40
    assert (
        wildcard.catalog.chip("xpu-hbm4").memory_bandwidth
        == 2 * pr.catalog.chip("xpu-hbm4").memory_bandwidth
    )


def test_with_changes_keeps_the_catalog_instead_of_reloading(tmp_path, monkeypatch):
    (tmp_path / "chips.toml").write_text(
        '[my-chip]\nmemory_technology = "hbm3"\nmemory_capacity = "80 GB"\n'
        'memory_bandwidth = "3 TB/s"\ncompute = { fp8 = "1 PFLOPS" }\ninterconnect = "paper"\n'
        'source = "assumption: a test chip"\n'
    )
    monkeypatch.setenv("DESIGNER_CATALOG_PATH", str(tmp_path))
    pr = problem_from_dict(BASE)
    monkeypatch.delenv("DESIGNER_CATALOG_PATH")
    changed = pr.with_changes({"chips.my-chip.memory_bandwidth": "x2"})
    assert changed.catalog.chip("my-chip").memory_bandwidth == 6e12
    assert pr.catalog.chip("my-chip").memory_bandwidth == 3e12


@pytest.mark.parametrize(
    "sets,needle",
    [
        ({"workload.model": "x2"}, "--set: workload.model: cannot scale a str"),
        ({"limits.max_chips": "x1.5"}, "limits.max_chips: x1.5 needs a value"),
        ({"sla.concurrent_users": "x1.5"}, "sla.concurrent_users: expected a positive integer"),
        ({"limits.max_power": "x2"}, "limits.max_power: x2 needs a value"),
    ],
)
def test_bad_factor_is_one_line(sets, needle):
    with pytest.raises(InputError) as info:
        problem_from_dict(BASE).with_changes(sets)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_factor_scales_token_counts_and_class_keys():
    pr = problem_from_dict({**BASE, "workload": {"model": "llama3.1-8b", "context_tokens": "64K"}})
    assert pr.with_changes({"workload.context_tokens": "x2"}).workload.context_tokens == 131072
    two = {
        "class": [
            {**BASE["workload"], **BASE["sla"], "name": "chat"},
            {**BASE["workload"], **BASE["sla"], "name": "batch", "concurrent_users": 8},
        ]
    }
    changed = problem_from_dict(two).with_changes({"class.batch.concurrent_users": "x4"})
    assert [c.users for c in changed.classes] == [1, 32]


# ---- issue 7: numbers, limits, duplicates, files ------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("sla.tokens_per_s_per_user", float("nan"), "expected a positive number, got nan"),
        ("sla.tokens_per_s_per_user", float("inf"), "expected a positive number, got inf"),
        ("sla.tokens_per_s_per_user", 1e300, "at most 1e+30"),
        ("sla.tokens_per_s_per_user", 1e-40, "expected a number at least 1e-30, got 1e-40"),
        ("sla.concurrent_users", -(2**63), "expected a positive integer (at most 1073741824)"),
        ("sla.concurrent_users", float("nan"), "expected a positive integer"),
        ("workload.context_tokens", 1e300, "expected a positive integer"),
        ("workload.context_tokens", 10**1000, "an integer of 1001 digits"),
        ("workload.collectives_per_layer", -1, "expected a non-negative integer"),
        ("space.tp", [2**62], "space.tp: expected a positive integer (at most 1048576)"),
        ("space.max_batch", 2**21, "expected a positive integer (at most 1048576)"),
        ("space.chips", ["b200"] * 2000, "at most 1024 names"),
        ("limits.max_power", "-1 W", "expected a positive power"),
        ("limits.max_power", "1 W % 2", "expected one number and a unit"),
        ("limits.max_capex_usd", float("-inf"), "expected a positive number"),
        ("efficiency.overhead_per_layer", "-1 us", "expected a non-negative time"),
        ("efficiency.overhead_per_layer", "114 us # x", "expected one number and a unit"),
    ],
)
def test_bad_numbers_name_file_and_key(key, value, needle):
    section, _, name = key.partition(".")
    raw = {**BASE, section: {**BASE.get(section, {}), name: value}}
    with pytest.raises(InputError) as info:
        problem_from_dict(raw, where="q.toml")
    msg = str(info.value)
    assert msg.startswith(f"q.toml: {key}: ") and needle in msg, msg
    assert len(msg) < 200


@pytest.mark.parametrize(
    ("section", "body", "key"),
    [
        ("workload", {"weight_dtype": "fp9"}, "workload.weight_dtype"),
        ("efficiency", {"bandwidth": 1.5}, "efficiency.bandwidth"),
        ("overrides", {"chips.nope.memory_bandwidth": "1 TB/s"}, "chips.nope.memory_bandwidth"),
    ],
)
def test_errors_raised_below_the_problem_name_the_file(section, body, key):
    raw = {**BASE, section: {**BASE.get(section, {}), **body}}
    with pytest.raises(InputError) as info:
        problem_from_dict(raw, where="q.toml")
    assert str(info.value).startswith("q.toml"), str(info.value)
    assert key in str(info.value)


def test_zero_is_valid_where_it_means_something():
    pr = problem_from_dict(
        {
            **BASE,
            "efficiency": {"overhead_per_layer": "0 us"},
            "workload": {**BASE["workload"], "collectives_per_layer": 0},
            "limits": {"max_power": "0 W", "max_capex_usd": 0, "max_chips": 0},
            "space": {"max_chips": 0},
        }
    )
    assert pr.workload.efficiency.overhead_per_layer == 0.0
    assert pr.workload.collectives_per_layer == 0
    assert (pr.max_power, pr.max_capex_usd, pr.max_chips) == (None, None, None)  # no limit


def test_duplicate_list_entries_are_merged():
    pr = problem_from_dict(
        {**BASE, "space": {"chips": ["b200", "h100-sxm", "b200"], "tp": [8, 8, 1], "pp": [2, 2]}}
    )
    assert pr.chips == ("b200", "h100-sxm")
    assert pr.tp == (1, 8) and pr.pp == (2,)


def test_a_model_path_next_to_the_problem_file(tmp_path, hf_dir):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "config.json").write_text((hf_dir / "llama-3.1-8b" / "config.json").read_text())
    p = folder / "problem.toml"
    p.write_text(
        '[workload]\nmodel = "config.json"\ncontext_tokens = 4096\n'
        "[sla]\ntokens_per_s_per_user = 50\nconcurrent_users = 1\n"
    )
    assert load_problem(p).workload.model.total_params() == 8_030_261_248


def test_a_model_named_by_its_hugging_face_id_or_an_alias(tmp_path):
    # a Hugging Face download folder beside the problem is no config: the name is the entry's
    (tmp_path / "deepseek-ai" / "DeepSeek-R1").mkdir(parents=True)
    p = tmp_path / "problem.toml"
    for name in ("deepseek-ai/DeepSeek-R1", "deepseek-r1"):
        p.write_text(
            f'[workload]\nmodel = "{name}"\ncontext_tokens = 4096\n'
            "[sla]\ntokens_per_s_per_user = 50\nconcurrent_users = 1\n"
        )
        assert load_problem(p).workload.model.id == "deepseek-v3"


@pytest.mark.parametrize("make", [lambda p: p.mkdir(), lambda p: p.write_bytes(b"\xff\xfe[\x00")])
def test_problem_file_that_is_no_text_file(tmp_path, make):
    p = tmp_path / "p.toml"
    make(p)
    with pytest.raises(InputError) as info:
        load_problem(p)
    assert str(info.value).startswith(f"{p}: ") and "expected a problem TOML" in str(info.value)


@pytest.mark.parametrize("value", ["[" * 5000, "9" * 5000])
def test_set_values_too_deep_or_too_long_for_toml_stay_strings(value):
    assert parse_set(f"space.tp={value}") == ("space.tp", value)
    with pytest.raises(InputError, match="--set|space.tp"):
        load_problem(ROOT / "problems" / "quickstart.toml", {"space.tp": value})


def test_every_profile_parameter_is_a_problem_efficiency_key():
    """`[efficiency]` of a problem takes every parameter a profile has (a new one forgotten
    here could be fitted and shipped but not set in a what-if)."""
    from designer.calibration.profiles import FRACTION_FIELDS, RATIO_FIELDS, TIME_FIELDS
    from designer.optimize.problem import SCHEMA

    fields = {*TIME_FIELDS, *FRACTION_FIELDS, *RATIO_FIELDS}
    assert fields <= set(SCHEMA["efficiency"])


def test_an_unknown_long_name_is_cut_in_its_one_line_message():
    """A hostile value for a name (here 3,002 characters for the objective, a case the fuzz
    corpus found) is shown as an excerpt with its length, never in full."""
    from designer.model.errors import InputError
    from designer.optimize.problem import problem_from_dict

    raw = {
        "workload": {"model": "llama3.1-8b"},
        "sla": {"tokens_per_s_per_user": 20, "concurrent_users": 1},
        "objective": {"minimize": "1 " + "k" * 3000},
    }
    with pytest.raises(InputError) as e:
        problem_from_dict(raw, where="q.toml")
    msg = str(e.value)
    assert len(msg) < 300 and "(3002 characters)" in msg and "expected one of: capex" in msg
