"""Fuzzing the command line and the input readers against the contract of the README (issue 7).

A sample of the generated corpus (every family) runs through `designer.interface.cli.main` in a
worker
process with a 10 s clock, a few cases through a real process, and hypothesis drives the problem,
Hugging Face config and command-line readers. The whole corpus (2,000+ inputs, with counts) is
`tests/fuzz/run_corpus.py`. Solver answers may change; the contract may not.
"""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer.model.architecture import Architecture, from_mapping
from designer.model.errors import InputError
from designer.optimize.problem import Problem, problem_from_dict
from tests.fuzz.corpus import (
    FAMILIES,
    FILE_FAMILIES,
    FILE_WEIGHTS,
    MODELS,
    PROBLEM_KEYS,
    QUANTITY_ATTACKS,
    Corpus,
    generate,
)
from tests.fuzz.harness import Case, Worker, run_subprocess, violations

SAMPLE = int(os.environ.get("DESIGNER_FUZZ_SAMPLE", "150"))
SEED = int(os.environ.get("DESIGNER_FUZZ_SEED", "11"))
FILE_SAMPLE = int(os.environ.get("DESIGNER_FUZZ_FILES", "24"))


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.close()


def _report(bad: list[tuple[Case, list[str], object]]) -> str:
    return "\n".join(
        f"{v} [{c.family}] {c.note[:60]}: designer {' '.join(c.argv)[:200]} env={c.env} → "
        f"exit {o.code}: {(o.err or o.out)[-200:]}"
        for c, v, o in bad[:10]
    )


def test_corpus_sample_keeps_the_contract(worker, tmp_path):
    cases = generate(SAMPLE, tmp_path, seed=SEED)
    assert {c.family for c in cases} == set(FAMILIES)
    bad = []
    for case in cases:
        if "--no-prune" in case.argv and "problems" in " ".join(case.argv):
            # Solving a bundled problem with every candidate takes 5-10 s today: solver speed
            # and --time-limit are counted by run_corpus.py, not asserted on a loaded CI box.
            continue
        outcome = worker.run(case)
        found = violations(case, outcome)
        if found:
            bad.append((case, found, outcome))
    assert not bad, _report(bad)


def test_file_families_keep_the_contract(worker, tmp_path):
    """Issue 17: studies, sweep outputs and schedulers, pareto, compare, profiles, measurement
    CSVs and unit typos (the whole corpus: run_corpus.py --files N --signals N)."""
    cases = generate(FILE_SAMPLE, tmp_path, seed=SEED, weights=FILE_WEIGHTS)
    assert {c.family for c in cases} == set(FILE_FAMILIES)
    bad = []
    for case in cases:
        outcome = worker.run(case)
        found = violations(case, outcome)
        if found:
            bad.append((case, found, outcome))
    assert not bad, _report(bad)


def test_a_sample_through_real_processes(tmp_path):
    c = Corpus(tmp_path, seed=SEED)
    cases = [c.problem(), c.special(), c.hf()]
    cases.append(Case("argv", ["catalog", "show", "chips", "b300", "--json"], expect="ok"))
    bad = []
    for case in cases:
        outcome = run_subprocess(case)
        found = violations(case, outcome)
        if found:
            bad.append((case, found, outcome))
    assert not bad, _report(bad)


# ---- hypothesis: the readers never fail other than with one InputError line ----------------------
NASTY = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.text(max_size=30),
    st.sampled_from(QUANTITY_ATTACKS),
    st.lists(st.integers(min_value=-5, max_value=2**22), max_size=5),
    st.lists(st.sampled_from(["b200", "h100-sxm", "nope", ""]), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@st.composite
def problem_dicts(draw):
    raw = {
        "workload": {"model": draw(st.sampled_from(MODELS)), "context_tokens": 4096},
        "sla": {"tokens_per_s_per_user": 50},
    }
    for key in draw(st.lists(st.sampled_from(sorted(PROBLEM_KEYS)), max_size=4, unique=True)):
        section, _, name = key.partition(".")
        valid, bad = PROBLEM_KEYS[key]
        value = draw(st.one_of(st.sampled_from(valid), st.sampled_from(bad), NASTY))
        raw.setdefault(section, {})[name] = value
    return raw


def _assert_one_line(exc: InputError, where: str) -> None:
    msg = str(exc)
    assert "\n" not in msg and msg.startswith(where), msg
    assert len(msg) < 700, msg


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=problem_dicts())
def test_problem_dicts_are_a_problem_or_one_input_error(catalog, raw):
    try:
        pr = problem_from_dict(raw, where="q.toml", catalog=catalog)
    except InputError as exc:
        _assert_one_line(exc, "q.toml: ")
        return
    assert isinstance(pr, Problem)
    assert math.isfinite(pr.target_utps) and pr.target_utps > 0
    assert 1 <= pr.users <= 2**30 and 1 <= pr.max_batch <= 2**20
    assert all(1 <= t <= 2**20 for t in (*pr.tp, *pr.pp))
    assert len(set(pr.chips)) == len(pr.chips)


HF_KEYS = [
    "num_hidden_layers",
    "hidden_size",
    "num_attention_heads",
    "num_key_value_heads",
    "vocab_size",
    "intermediate_size",
    "head_dim",
    "num_local_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "first_k_dense_replace",
    "kv_lora_rank",
    "qk_rope_head_dim",
    "qk_nope_head_dim",
    "v_head_dim",
    "sliding_window",
    "sliding_window_layers",
    "tie_word_embeddings",
    "layer_types",
    "text_config",
]
SMALL = {
    "num_hidden_layers": 4,
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 100,
    "intermediate_size": 128,
}


@settings(max_examples=200, deadline=None)
@given(
    changes=st.dictionaries(
        st.sampled_from(HF_KEYS),
        st.one_of(st.none(), st.integers(min_value=-2, max_value=40), NASTY),
        max_size=5,
    ),
    context=st.integers(min_value=1, max_value=2**20),
)
def test_hf_configs_are_an_architecture_or_one_input_error(changes, context):
    try:
        a = from_mapping("m", {**SMALL, **changes}, where="config.json")
    except InputError as exc:
        _assert_one_line(exc, "config.json: ")
        return
    assert isinstance(a, Architecture)
    assert a.total_params() > 0 and a.active_params() > 0
    assert a.kv_elements_per_user(context) >= 0
    assert a.attention_flops_per_token(context) >= 0
    assert 0 <= a.sliding_window_layers <= a.num_hidden_layers


TOKENS = st.sampled_from(
    [
        "evaluate",
        "solve",
        "catalog",
        "list",
        "show",
        "chips",
        "models",
        "--model",
        "llama3.1-8b",
        "--chip",
        "xpu-hbm3",
        "--tp",
        "--pp",
        "--batch",
        "--replicas",
        "--context",
        "--set",
        "--json",
        "--time-limit",
        "--overhead-per-layer",
        "--bandwidth-efficiency",
        "8",
        "0",
        "-1",
        "nan",
        "inf",
        "128K",
        "4611686018427387904",
        "chips.xpu-hbm3.memory_bandwidth=nan TB/s",
        "chips.h100-sxm.price_usd=inf",
        "1 us * 9**9**9",
        "problems/quickstart.toml",
        "/dev/zero",
        "/",
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv=st.lists(TOKENS, min_size=1, max_size=9))
def test_any_command_line_keeps_the_contract(worker, argv):
    case = Case("argv", argv)
    outcome = worker.run(case)
    assert not violations(case, outcome), (argv, outcome)
