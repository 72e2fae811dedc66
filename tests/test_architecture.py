"""designer.model.architecture: parameter counts, KV bytes, Hugging Face config.json import."""

from __future__ import annotations

import json

import pytest

from designer.calibration.evaluate import evaluate
from designer.model.architecture import Architecture, from_mapping, load_hf_config
from designer.model.assumptions import Assumptions
from designer.model.errors import InputError
from designer.model.workload import native_dtypes
from tests.contract import MODEL_IDS, MOE_IDS

DENSE_IDS = [m for m in MODEL_IDS if m not in MOE_IDS]


def test_catalog_holds_the_expected_models(catalog):
    assert set(MODEL_IDS) <= set(catalog.ids("models"))


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_total_params_within_1_percent_of_published(catalog, model_id):
    arch = catalog.model(model_id)
    assert arch.published_total_params > 0
    assert arch.total_params() == pytest.approx(arch.published_total_params, rel=0.01)


# Computed counts from the configs (K-LLAMA1, K-DSV3a, ...; they reproduce the published totals).
@pytest.mark.parametrize(
    ("model_id", "total"),
    [
        ("llama3.1-8b", 8.030e9),
        ("llama3.1-70b", 70.554e9),
        ("llama3.1-405b", 405.853e9),
        ("deepseek-v3", 671.03e9),
        ("qwen3-235b-a22b", 235.09e9),
        ("qwen3-32b", 32.76e9),
        ("gpt-oss-120b", 116.83e9),
        ("gpt-oss-20b", 20.92e9),
        ("mixtral-8x22b", 140.63e9),
        ("kimi-k2", 1026.4e9),
        ("qwen3-30b-a3b", 30.532e9),
    ],
)
def test_total_params_match_published(catalog, model_id, total):
    assert catalog.model(model_id).total_params() == pytest.approx(total, rel=5e-4)


@pytest.mark.parametrize("model_id", MOE_IDS)
def test_moe_active_params_within_2_percent_of_published(catalog, model_id):
    # Active counts the LM head but not the embedding lookup. The worst case is
    # Qwen3-235B-A22B (21.57 B vs the published 22 B, -2.0 %).
    arch = catalog.model(model_id)
    assert arch.published_active_params > 0
    assert arch.active_params() == pytest.approx(arch.published_active_params, rel=0.02)
    assert arch.active_params() < 0.35 * arch.total_params()


def test_qwen3_30b_a3b_published_active_counts_the_embedding_lookup_too(catalog):
    # 3.3 B published; 3.04 B as this catalog counts (the LM head, not the lookup); 3.35 B with it
    arch = catalog.model("qwen3-30b-a3b")
    assert arch.active_params() == pytest.approx(3.04e9, rel=2e-3)
    lookup = arch.vocab_size * arch.hidden_size
    assert arch.active_params() + lookup == pytest.approx(arch.published_active_params, rel=0.02)
    assert arch.total_params() == pytest.approx(arch.published_total_params, rel=0.01)


def test_deepseek_v3_active_params_incl_lm_head(catalog):
    # 37 B published = 36.6 B including the 0.9 B LM head (K-DSV3a).
    arch = catalog.model("deepseek-v3")
    assert arch.active_params() == pytest.approx(36.6e9, rel=2e-3)
    assert arch.lm_head_params() == 129280 * 7168
    assert arch.lm_head_params() == pytest.approx(0.93e9, rel=0.01)


@pytest.mark.parametrize(
    ("model_id", "active"),
    [("gpt-oss-120b", 5.13e9), ("gpt-oss-20b", 3.61e9), ("mixtral-8x22b", 38.96e9)],
)
def test_moe_active_params_match_published(catalog, model_id, active):
    assert catalog.model(model_id).active_params() == pytest.approx(active, rel=2e-3)


@pytest.mark.parametrize("model_id", DENSE_IDS)
def test_dense_active_params_are_total_minus_embedding(catalog, model_id):
    # A dense model touches every weight except the embedding table (a lookup, no FLOPs).
    # The published "active" figure of a dense model is its total, which includes the table.
    arch = catalog.model(model_id)
    assert arch.active_params() == arch.total_params() - arch.embedding_params()
    assert arch.total_params() == pytest.approx(arch.published_active_params, rel=0.01)


def test_llama_8b_count_by_hand(catalog):
    a = catalog.model("llama3.1-8b")
    d, L, V, ffn = 4096, 32, 128256, 14336
    attention = d * 32 * 128 + 2 * d * 8 * 128 + 32 * 128 * d
    expected = 2 * V * d + L * (attention + 3 * d * ffn + 2 * d) + d
    assert a.total_params() == expected == 8_030_261_248


def test_deepseek_v3_structure(catalog):
    a = catalog.model("deepseek-v3")
    assert a.is_moe and a.is_mla
    assert (a.moe_layers, a.dense_layers) == (58, 3)
    assert a.expert_params() == 3 * 7168 * 2048
    assert a.routed_params() == 58 * 256 * 3 * 7168 * 2048


@pytest.mark.parametrize(
    ("model_id", "kv_bytes"),
    [
        ("llama3.1-405b", 258_048),
        ("deepseek-v3", 35_136),
        ("llama3.1-70b", 163_840),
        ("llama3.1-8b", 65_536),
        ("kimi-k2", 35_136),
        ("mixtral-8x22b", 114_688),
        ("qwen3-235b-a22b", 96_256),
    ],
)
def test_kv_bytes_per_token_at_one_byte(catalog, model_id, kv_bytes):
    # docs/model.md §1 (FP8 KV, 1 byte per element); BF16 values are twice these.
    assert catalog.model(model_id).kv_elements_per_token() == kv_bytes


def test_sliding_window_layers_hold_only_the_window(catalog):
    a = catalog.model("gpt-oss-120b")
    per_layer = 2 * 8 * 64
    assert a.kv_elements_per_token() == 36 * per_layer
    S = 131072
    assert a.kv_elements_per_user(S) == per_layer * (18 * S + 18 * 128)
    # below the window every layer holds the full context
    assert a.kv_elements_per_user(100) == 36 * per_layer * 100


def test_mla_attention_flops_absorbed_form(catalog):
    a = catalog.model("deepseek-v3")
    S = 4096
    assert a.attention_flops_per_token(S) == 2.0 * 61 * S * 128 * (2 * 512 + 64)
    g = catalog.model("llama3.1-70b")
    assert g.attention_flops_per_token(S) == 4.0 * 80 * S * 64 * 128


# ---- Hugging Face config.json import -----------------------------------------------------------
HF_CASES = [
    ("llama-3.1-8b", "llama3.1-8b"),
    ("deepseek-v3", "deepseek-v3"),
    ("mixtral-8x22b", "mixtral-8x22b"),
    ("gpt-oss-120b", "gpt-oss-120b"),
]
STRUCTURE = [
    "num_hidden_layers",
    "hidden_size",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "vocab_size",
    "num_experts",
    "num_experts_per_tok",
    "num_shared_experts",
    "moe_intermediate_size",
    "first_k_dense_replace",
    "kv_lora_rank",
    "q_lora_rank",
    "qk_rope_head_dim",
    "qk_nope_head_dim",
    "v_head_dim",
    "attention_bias",
    "sliding_window",
    "sliding_window_layers",
    "tie_word_embeddings",
]


@pytest.mark.parametrize(("folder", "model_id"), HF_CASES)
def test_hf_import_counts_equal_catalog(catalog, hf_dir, folder, model_id):
    imported = load_hf_config(hf_dir / folder / "config.json")
    ref = catalog.model(model_id)
    assert imported.total_params() == ref.total_params()
    assert imported.active_params() == ref.active_params()
    assert imported.kv_elements_per_token() == ref.kv_elements_per_token()
    assert imported.kv_elements_per_user(131072) == ref.kv_elements_per_user(131072)
    for key in STRUCTURE:
        assert getattr(imported, key) == getattr(ref, key), key


def test_hf_import_through_catalog_model_path(catalog, hf_dir):
    path = str(hf_dir / "llama-3.1-8b" / "config.json")
    a = catalog.model(path)
    assert a.total_params() == 8_030_261_248
    assert a.id == "llama-3.1-8b"  # the folder name when there is no _name_or_path
    assert a.native_dtype == "bfloat16"
    assert a.head_dim == 128  # hidden_size / num_attention_heads when head_dim is absent


def test_hf_deepseek_aliases_and_derived_fields(hf_dir):
    a = load_hf_config(hf_dir / "deepseek-v3" / "config.json")
    assert (a.num_experts, a.num_shared_experts, a.first_k_dense_replace) == (256, 1, 3)
    assert a.head_dim == 128 + 64  # qk_nope + qk_rope when head_dim is absent
    assert a.num_nextn_predict_layers == 1  # the MTP module: stated, its weights not counted
    assert a.total_params() == pytest.approx(671e9, rel=1e-3)


def test_hf_mixtral_expert_width_from_intermediate_size(hf_dir):
    a = load_hf_config(hf_dir / "mixtral-8x22b" / "config.json")
    assert "moe_intermediate_size" not in json.loads(
        (hf_dir / "mixtral-8x22b" / "config.json").read_text()
    )
    assert a.num_experts == 8
    assert a.moe_intermediate_size == 16384
    assert a.first_k_dense_replace == 0
    assert a.moe_layers == 56
    assert a.sliding_window == 0  # "sliding_window": null


def test_hf_gpt_oss_layer_types(hf_dir):
    a = load_hf_config(hf_dir / "gpt-oss-120b" / "config.json")
    assert a.sliding_window == 128
    assert a.sliding_window_layers == 18
    assert a.num_experts_per_tok == 4
    assert a.num_experts == 128


def test_hf_name_or_path_is_the_id(tmp_path, hf_dir):
    raw = json.loads((hf_dir / "llama-3.1-8b" / "config.json").read_text())
    raw["_name_or_path"] = "meta-llama/Llama-3.1-8B"
    p = tmp_path / "config.json"
    p.write_text(json.dumps(raw))
    a = load_hf_config(p)
    assert a.id == "meta-llama/Llama-3.1-8B"
    assert a.total_params() == 8_030_261_248


def test_hf_text_config_is_read(tmp_path, hf_dir):
    inner = json.loads((hf_dir / "llama-3.1-8b" / "config.json").read_text())
    p = tmp_path / "config.json"
    p.write_text(json.dumps({"model_type": "mllama", "text_config": inner}))
    assert load_hf_config(p).total_params() == 8_030_261_248


def test_malformed_json_names_the_path(tmp_path):
    p = tmp_path / "config.json"
    p.write_text('{"hidden_size": 4096,\n "num_hidden_layers": }')
    with pytest.raises(InputError) as info:
        load_hf_config(p)
    msg = str(info.value)
    assert msg.startswith(str(p) + ": ")
    assert "malformed JSON at line 2" in msg
    assert info.value.exit_code == 2


def test_missing_file_names_the_path(tmp_path):
    p = tmp_path / "nope" / "config.json"
    with pytest.raises(InputError, match="no such file") as info:
        load_hf_config(p)
    assert str(p) in str(info.value)


def test_json_array_is_an_error(tmp_path):
    p = tmp_path / "config.json"
    p.write_text("[1, 2]")
    with pytest.raises(InputError, match="expected a JSON object"):
        load_hf_config(p)


@pytest.mark.parametrize(
    "missing", ["num_hidden_layers", "hidden_size", "num_attention_heads", "vocab_size"]
)
def test_missing_required_field_names_the_key(tmp_path, hf_dir, missing):
    raw = json.loads((hf_dir / "llama-3.1-8b" / "config.json").read_text())
    del raw[missing]
    p = tmp_path / "config.json"
    p.write_text(json.dumps(raw))
    with pytest.raises(InputError, match="missing required field") as info:
        load_hf_config(p)
    assert info.value.key == missing
    assert str(info.value).startswith(f"{p}: {missing}: ")


def test_heads_not_a_multiple_of_kv_heads(tmp_path, hf_dir):
    raw = json.loads((hf_dir / "llama-3.1-8b" / "config.json").read_text())
    raw["num_key_value_heads"] = 6
    p = tmp_path / "config.json"
    p.write_text(json.dumps(raw))
    with pytest.raises(InputError, match=r"not a multiple of num_key_value_heads \(6\)") as info:
        load_hf_config(p)
    assert info.value.key.endswith(".num_key_value_heads")
    assert info.value.where == str(p)


BASE = {
    "num_hidden_layers": 2,
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 100,
    "intermediate_size": 128,
}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"num_hidden_layers": 2.5}, "non-negative integer"),
        ({"num_hidden_layers": "2"}, "non-negative integer"),
        ({"hidden_size": -64}, "positive integer"),
        ({"num_key_value_heads": True}, "non-negative integer"),
        ({"tie_word_embeddings": "no"}, "true or false"),
        ({"published_total_params": "8B"}, "expected a number"),
        ({"num_experts": 8, "num_experts_per_tok": 0}, "num_experts_per_tok"),
        ({"num_experts": 8, "num_experts_per_tok": 9}, "num_experts_per_tok"),
        ({"num_experts": 8, "num_experts_per_tok": 2, "first_k_dense_replace": 3}, "exceeds"),
        ({"hidden_size": 0}, "positive integer"),
    ],
)
def test_invalid_fields(change, match):
    with pytest.raises(InputError, match=match) as info:
        from_mapping("m", {**BASE, **change}, where="x.json")
    assert str(info.value).startswith("x.json: ")


def test_small_mapping_counts():
    a = from_mapping("m", BASE, where="x.json")
    assert isinstance(a, Architecture)
    d, L, V = 64, 2, 100
    attention = d * 4 * 16 + 2 * d * 2 * 16 + 4 * 16 * d
    assert a.total_params() == 2 * V * d + L * (attention + 3 * d * 128 + 2 * d) + d
    assert a.kv_elements_per_token() == 2 * 2 * 2 * 16


def test_zero_attention_heads_is_an_input_error():
    with pytest.raises(InputError):
        from_mapping("m", {**BASE, "num_attention_heads": 0, "num_key_value_heads": 0}, where="x")


def test_zero_layers_is_an_input_error():
    with pytest.raises(InputError):
        a = from_mapping("m", {**BASE, "num_hidden_layers": 0}, where="x.json")
        a.kv_elements_per_user(1024)


# Models of the measured data (catalogs/measurements/decode.csv) and of issue 8: counted from
# their Hugging Face configs; published totals as on their model pages.
@pytest.mark.parametrize(
    ("model_id", "total", "active"),
    [
        ("llama3-8b", 8.030e9, None),
        ("llama3-70b", 70.554e9, None),
        ("llama3.3-70b", 70.554e9, None),
        ("llama2-7b", 6.738e9, None),
        ("llama2-13b", 13.016e9, None),
        ("llama2-70b", 68.977e9, None),
        ("qwen2.5-72b", 72.707e9, None),
        ("mistral-7b", 7.242e9, None),
        ("llama4-maverick", 400.71e9, 16.15e9),
        ("llama4-scout", 107.77e9, 16.14e9),
    ],
)
def test_measured_data_models(catalog, model_id, total, active):
    arch = catalog.model(model_id)
    assert arch.total_params() == pytest.approx(total, rel=5e-4)
    if active:
        # the published 17 B active counts the embedding table (1.03 B) too
        assert arch.active_params() + arch.embedding_params() == pytest.approx(17e9, rel=0.02)
    # Scout's published 109 B includes the vision encoder; the text model is 1.1% smaller
    rel = 0.015 if model_id == "llama4-scout" else 0.01
    assert arch.total_params() == pytest.approx(arch.published_total_params, rel=rel)


def test_llama2_7b_count_by_hand(catalog):
    a = catalog.model("llama2-7b")
    d, L, V, ffn = 4096, 32, 32000, 11008
    expected = 2 * V * d + L * (4 * d * d + 3 * d * ffn + 2 * d) + d
    assert a.total_params() == expected
    assert a.kv_elements_per_token() == 2 * 32 * 32 * 128  # multi-head attention


# ---- issue 7: configs validated like problem files ---------------------------------------------
@pytest.mark.parametrize(
    ("change", "key", "match"),
    [
        ({"hidden_size": None}, "hidden_size", "missing required field"),
        ({"num_hidden_layers": float("nan")}, "m.num_hidden_layers", "non-negative integer"),
        ({"vocab_size": 2**63}, "m.vocab_size", "at most 2147483647"),
        ({"num_key_value_heads": 0}, "m.num_key_value_heads", "positive integer"),
        (
            {"hidden_size": 2, "num_attention_heads": 4, "num_key_value_heads": 4},
            "m.head_dim",
            "is 0",
        ),
        ({"sliding_window": 128, "sliding_window_layers": 3}, "m.sliding_window_layers", "exceeds"),
        (
            {"sliding_window": 128, "layer_types": ["sliding_attention"] * 5},
            "m.sliding_window_layers",
            "exceeds num_hidden_layers",
        ),
        (
            {"num_experts": 8, "num_experts_per_tok": 2, "intermediate_size": 0},
            "m.moe_intermediate_size",
            "positive expert width",
        ),
        ({"kv_lora_rank": 64, "qk_rope_head_dim": 16}, "m.v_head_dim", "MLA"),
        ({"published_total_params": float("inf")}, "m.published_total_params", "number from 0"),
    ],
)
def test_inconsistent_fields_name_the_key(change, key, match):
    with pytest.raises(InputError, match=match) as info:
        from_mapping("m", {**BASE, **change}, where="x.json")
    assert info.value.key == key and info.value.where == "x.json"


def test_null_optional_fields_are_absent():
    a = from_mapping(
        "m", {**BASE, "tie_word_embeddings": None, "sliding_window": None}, where="x.json"
    )
    assert a == from_mapping("m", BASE, where="x.json")


def test_sliding_window_layers_beyond_the_layers_are_rejected_not_negative(tmp_path, hf_dir):
    """Once this gave negative KV bytes and negative tokens/s with exit 0."""
    raw = json.loads((hf_dir / "llama-3.1-8b" / "config.json").read_text())
    raw.update(sliding_window=4096, sliding_window_layers=33)
    p = tmp_path / "config.json"
    p.write_text(json.dumps(raw))
    with pytest.raises(InputError) as info:
        load_hf_config(p)
    assert str(info.value).startswith(f"{p}: ") and "sliding_window_layers (33)" in str(info.value)


@pytest.mark.parametrize("text", ['{"hidden_size": NaN}', "[" * 50_000 + "]" * 50_000])
def test_hf_config_nan_and_deep_nesting(tmp_path, text):
    p = tmp_path / "config.json"
    p.write_text(text)
    with pytest.raises(InputError) as info:
        load_hf_config(p)
    assert str(info.value).startswith(f"{p}: ")


def test_a_native_dtype_we_do_not_know_is_bad_input_in_a_catalog_entry(catalog, hf_dir, tmp_path):
    """A catalog entry's (or a --set's) `native_dtype` must name a dtype: a typo was read as
    'none published' and answered in fp8 silently. A Hugging Face config's `torch_dtype` we do
    not model (float64) leaves it unset, and its weights must then be given: answered in fp8
    without a word before. With no torch_dtype at all the default, fp8, is said."""
    with pytest.raises(InputError, match=r"llama3\.1-8b\.native_dtype.*closest valid name: bf16"):
        catalog.with_overrides({"models.llama3.1-8b.native_dtype": "bf61"})
    assert catalog.with_overrides({"models.llama3.1-8b.native_dtype": "float16"})
    config = json.loads((hf_dir / "llama-3.1-8b" / "config.json").read_text())
    deployment = Assumptions.preset("deployment")
    config["torch_dtype"] = "float64"  # not one of ours
    (tmp_path / "config.json").write_text(json.dumps(config))
    a = load_hf_config(tmp_path / "config.json")
    assert a.native_dtype == ""
    with pytest.raises(InputError, match="torch_dtype 'float64'.*--weight-dtype"):
        native_dtypes(a, deployment)
    assert native_dtypes(a, deployment, "bf16") == ("bf16", "bf16")
    assert native_dtypes(a, Assumptions.preset("paper")) == ("fp8", "fp8")
    del config["torch_dtype"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert native_dtypes(load_hf_config(tmp_path / "config.json"), deployment) == ("fp8", "bf16")
    rec = evaluate(str(tmp_path / "config.json"), "h200", assumptions="deployment")
    assert rec["workload"]["weight_dtype"] == "fp8"
    assert rec["workload"]["weight_dtype_from"] == "default"
