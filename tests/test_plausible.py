"""designer.interface.plausible: values that parse but are almost certainly unit typos are warned
about."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer.interface.cli import main
from designer.interface.plausible import warnings
from designer.optimize.problem import load_problem

QUICK = "problems/quickstart.toml"


@pytest.mark.parametrize(
    ("sets", "needle"),
    [
        ({"limits.max_power": "500 mW"}, "limits.max_power = 0.5 W: a fleet power cap under 1 kW"),
        ({"limits.max_facility_power": "900 W"}, "limits.max_facility_power = 900 W"),
        ({"limits.max_capex_usd": 0.5}, "limits.max_capex_usd = 0.5: a budget under $1"),
        ({"chips.h100-sxm.price_usd": 0.5}, "chips.h100-sxm.price_usd = 0.5: a price under $1"),
    ],
)
def test_unit_typos_are_warned(sets, needle):
    found = warnings(load_problem(QUICK, sets))
    assert len(found) == 1 and found[0].startswith(needle)


def test_plausible_values_are_not_warned():
    assert warnings(load_problem(QUICK, {"limits.max_power": "500 MW"})) == []
    assert warnings(load_problem(QUICK)) == []


def test_the_cli_warns_on_stderr_and_names_the_real_cause(capsys):
    code = main(["solve", QUICK, "--set", 'limits.max_power="500 mW"'])
    out, err = capsys.readouterr()
    assert code == 3
    assert err.startswith(f"designer: warning: {QUICK}: limits.max_power = 0.5 W")
    text = " ".join((out + err).split())
    assert "infeasible: no single replica" in text and "max_power = 0.5 W)" in text
    assert "cost data" not in text


def test_values_that_change_nothing_are_warned():
    """A supply of a chip the space does not search, and a rent term under the purchase basis,
    were taken without a word (round 21's review)."""
    p = load_problem(
        "problems/supply-limited-purchase.toml",
        {"supply.trainium2": 16, "costs.rent_term": "reserved"},
    )
    found = warnings(p)
    assert any(w.startswith("supply.trainium2 = 16: trainium2 is not in the space") for w in found)
    assert any(w.startswith("costs.rent_term = 'reserved' applies to rented") for w in found)
    rented = load_problem(
        "problems/supply-limited-purchase.toml",
        {"costs.basis": "rent", "costs.rent_term": "reserved"},
    )
    assert not any("rent_term" in w for w in warnings(rented))
    assert warnings(load_problem("problems/supply-limited-purchase.toml")) == []


def test_an_infeasible_answer_says_no_ttft_was_reached(tmp_path, capsys):
    """Where every replica's prompts fill its queue the text said `min_ttft_s: inf`: 900
    concurrent users (a request rate may load a replica as lightly as it likes, so its
    queue always has a steady state)."""
    text = Path("problems/serving-llama3.1-70b-30rps-ttft2s.toml").read_text()
    users = tmp_path / "users.toml"
    users.write_text(text.replace("requests_per_s = 30", "concurrent_users = 900"))
    argv = ["solve", str(users)]
    argv += ["--set", "serving.chunk_tokens=1", "--set", "serving.mode=aggregated"]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert "min_ttft_s: none reachable" in err and "inf\n" not in err


MTP = "ships no multi-token-prediction module"


def test_mtp_for_a_model_without_a_module_is_warned(tmp_path, capsys):
    """Speculative decoding by multi-token prediction drafts with the module a checkpoint
    ships: DeepSeek-V3/R1 ship one (their config's num_nextn_predict_layers), Llama none."""
    spec = {
        "workload.speculative": "mtp",
        "workload.draft_tokens": 1,
        "workload.acceptance_rate": 0.8,
    }
    found = [w for w in warnings(load_problem(QUICK, spec)) if MTP in w]
    assert len(found) == 1 and found[0].startswith("workload.speculative = 'mtp': llama3.1-70b")
    stated = {**spec, "models.llama3.1-70b.num_nextn_predict_layers": 1}
    assert not [w for w in warnings(load_problem(QUICK, stated)) if MTP in w]
    deepseek = {**spec, "workload.model": "deepseek-r1"}
    assert not [w for w in warnings(load_problem(QUICK, deepseek)) if MTP in w]
    base = ["evaluate", "--chip", "h200", "--tp", "8", "--batch", "8"]
    base += ["--speculative", "mtp", "--draft-tokens", "1", "--acceptance-rate", "0.8"]
    assert main([*base, "--model", "llama3.1-8b"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("designer: warning: --speculative mtp: llama3.1-8b " + MTP)
    assert main([*base, "--model", "deepseek-v3"]) == 0
    assert MTP not in capsys.readouterr().err


def test_a_config_states_its_mtp_modules(tmp_path, catalog):
    import json

    from designer.model.architecture import load_hf_config

    assert catalog.model("deepseek-r1").num_nextn_predict_layers == 1
    assert catalog.model("llama3.1-70b").num_nextn_predict_layers == 0
    config = {
        "num_hidden_layers": 2,
        "hidden_size": 64,
        "num_attention_heads": 4,
        "vocab_size": 100,
        "intermediate_size": 128,
        "num_nextn_predict_layers": 1,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert load_hf_config(path).num_nextn_predict_layers == 1


ONE_CLASS = """
[[class]]
name = "chat"
model = "llama3.1-8b"
context_tokens = "200K"
tokens_per_s_per_user = 50
concurrent_users = 8
speculative = "mtp"
draft_tokens = 1
acceptance_rate = 0.8

[objective]
minimize = "capex"

[space]
chips = ["h100-sxm"]
"""


def test_a_class_table_is_named_as_written_and_a_config_told_where_to_state_it(tmp_path, capsys):
    """One [[class]] table is `class.NAME` in a warning (it said `workload`), and a config.json
    model states its MTP module in the file (a --set of its id is no catalog entry's)."""
    path = tmp_path / "one.toml"
    path.write_text(ONE_CLASS)
    found = warnings(load_problem(path))
    assert [w.split(":")[0] for w in found] == [
        "class.chat.context_tokens = 204,800",  # 200K: binary thousands
        "class.chat.speculative = 'mtp'",
    ]
    assert "--set models.llama3.1-8b.num_nextn_predict_layers=1" in found[1]
    config = "tests/fixtures/hf/llama-3.1-8b/config.json"
    base = ["evaluate", "--model", config, "--chip", "h200", "--tp", "8", "--batch", "8"]
    base += ["--speculative", "mtp", "--draft-tokens", "1", "--acceptance-rate", "0.8"]
    assert main(base) == 0
    err = capsys.readouterr().err
    assert "num_nextn_predict_layers in its config.json states a module it has" in err
    assert "--set models." not in err
