"""designer.model.catalog: sources, units of presets and datasheets, dtype fallback, overrides,
errors."""

from __future__ import annotations

import json
import re

import pytest

from designer.model.catalog import Catalog, Chip
from designer.model.dtypes import DTYPE_BYTES, dtype_bytes
from designer.model.errors import InputError

TiB = 2**40
GiB = 2**30


@pytest.mark.parametrize("section", ["chips", "memory", "interconnects", "models"])
def test_every_entry_has_a_source(catalog, section):
    ids = catalog.ids(section)
    assert ids
    for entry_id in ids:
        source = catalog.raw[section][entry_id].get("source")
        assert isinstance(source, str), (section, entry_id)
        assert source.strip(), (section, entry_id)


def test_cost_defaults_have_a_source(catalog):
    assert catalog.costs.source.strip()
    assert catalog.costs.chips_per_server == 8
    assert catalog.costs.server_power == 300.0


@pytest.mark.parametrize(
    ("chip_id", "bandwidth", "capacity", "fp8"),
    [
        ("xpu-hbm3", 4 * TiB, 96 * GiB, 2.25e15),
        ("xpu-hbm4", 18 * TiB, 192 * GiB, 2.25e15),
        ("xpu-3d-dram", 30 * TiB, 36 * GiB, 2.25e15),
        ("xpu-sram", 117 * TiB, 512 * 2**20, 1.13e15),
        ("xpu-cows", 2250 * TiB, 11 * GiB, 28.13e15),
    ],
)
def test_paper_presets_use_binary_units(catalog, chip_id, bandwidth, capacity, fp8):
    c = catalog.chip(chip_id)
    assert c.kind == "paper-preset"
    assert c.usable_memory_fraction == 1.0
    assert c.memory_bandwidth == bandwidth
    assert c.memory_capacity == capacity
    assert c.flops("fp8") == pytest.approx(fp8, rel=1e-12)
    assert c.interconnect == "paper"
    assert "2507.14397" in c.source


def test_exactly_the_five_presets_are_paper_presets(catalog):
    presets = {i for i in catalog.ids("chips") if catalog.chip(i).kind == "paper-preset"}
    assert presets == {"xpu-hbm3", "xpu-hbm4", "xpu-3d-dram", "xpu-sram", "xpu-cows"}


def test_paper_interconnect(catalog):
    ic = catalog.interconnect("paper")
    assert ic.domain_size == 8
    assert ic.intra_domain_latency == pytest.approx(0.2e-6, rel=1e-12)
    assert ic.inter_domain_latency == pytest.approx(2.25e-6, rel=1e-12)


def test_datasheet_values(catalog):
    h = catalog.chip("h100-sxm")
    assert h.kind == "datasheet"
    assert h.memory_bandwidth == pytest.approx(3.35e12, rel=1e-12)
    assert h.memory_capacity == pytest.approx(80e9, rel=1e-12)
    assert h.flops("fp8") == pytest.approx(1979e12, rel=1e-12)
    assert h.flops("bf16") == pytest.approx(989e12, rel=1e-12)
    assert h.tdp == 700.0
    assert h.die_area == pytest.approx(814e-6, rel=1e-12)
    assert h.usable_memory_fraction == 0.9
    assert catalog.chip("tpu-v5p").memory_capacity == 95 * GiB  # GiB as in Google's docs
    assert catalog.chip("b200").memory_bandwidth == pytest.approx(8e12, rel=1e-12)


def test_catalog_corrections(catalog):
    b300 = catalog.chip("b300")
    assert b300.memory_capacity == pytest.approx(288e9, rel=1e-12)
    assert b300.memory_bandwidth == pytest.approx(8e12, rel=1e-12)
    wse = catalog.chip("cerebras-wse3")
    assert wse.compute == {"fp16": pytest.approx(15.6e15, rel=1e-12)}  # dense, not 125 PF sparse
    assert "sparse" in wse.notes and "assumption" in wse.source


@pytest.mark.parametrize(
    ("chip_id", "server_chips", "server_power", "server_price_usd"),
    [
        ("h100-sxm", 8, 10.2e3, 101_000.0),  # DGX H100 maximum; node capex - 8 GPUs
        ("h200", 8, 10.2e3, 101_000.0),
        ("b200", 8, 14.3e3, None),
        ("b300", 8, 14.5e3, None),
        ("gb200", 72, 120e3, 0.0),  # price_usd is a per-GPU share of the rack price
        ("gb300", 72, 120e3, 0.0),
        ("cerebras-wse3", 1, 23e3, 0.0),  # price_usd is the whole CS-3 system's
        ("mi300x", 8, None, None),
        ("tpu-v5e", 8, None, None),
        ("tpu-v5p", 4, None, None),
        ("trainium2", 16, None, None),
    ],
)
def test_server_data_in_si_units(catalog, chip_id, server_chips, server_power, server_price_usd):
    c = catalog.chip(chip_id)
    assert c.server_chips == server_chips and isinstance(c.server_chips, int)
    assert c.server_power == (None if server_power is None else pytest.approx(server_power))
    assert c.server_price_usd == server_price_usd


def test_server_ratings_cover_their_accelerators(catalog):
    """A server's rated power includes its accelerators: never below server_chips x TDP."""
    rated = 0
    for chip_id in catalog.ids("chips"):
        c = catalog.chip(chip_id)
        if c.server_power is not None:
            rated += 1
            assert c.server_chips is not None, chip_id
            assert c.tdp is not None and c.server_power >= c.server_chips * c.tdp, chip_id
        if c.server_price_usd == 0:
            assert c.price_usd, chip_id  # a server at no extra cost only when the price covers it
    assert rated >= 7


def test_every_datasheet_chip_states_its_server(catalog):
    for chip_id in catalog.ids("chips"):
        c = catalog.chip(chip_id)
        if c.kind == "datasheet":
            assert c.server_chips is not None or "chips per server are a gap" in c.notes, chip_id


def test_shipping_chips_are_datasheets(catalog):
    """Unreleased or preliminary parts are hypothetical and say why; the rest are shipping."""
    kinds = {i: catalog.chip(i).kind for i in catalog.ids("chips")}
    assert kinds["rubin"] == "hypothetical"
    assert "hypothetical" in catalog.chip("rubin").notes
    for chip_id, kind in kinds.items():
        c = catalog.chip(chip_id)
        if kind == "datasheet":
            assert "preliminary" not in (c.name + c.notes).lower(), chip_id
            assert "http" in c.source, chip_id


def test_every_chip_kind_is_valid(catalog):
    for chip_id in catalog.ids("chips"):
        c = catalog.chip(chip_id)
        assert c.kind in ("paper-preset", "datasheet", "hypothetical")
        assert 0 < c.usable_memory_fraction <= 1
        assert c.memory_bandwidth > 0 and c.memory_capacity > 0


def test_dtype_fallback(catalog):
    # TPU v5e has no FP8: FP8 runs at BF16; int8 is listed.
    v5e = catalog.chip("tpu-v5e")
    assert "fp8" not in v5e.compute
    assert v5e.flops("fp8") == pytest.approx(197e12, rel=1e-12)
    assert v5e.flops("int8") == pytest.approx(393e12, rel=1e-12)
    # H100 has no FP4: FP4 runs at FP8.
    assert catalog.chip("h100-sxm").flops("fp4") == pytest.approx(1979e12, rel=1e-12)
    # Cerebras lists only fp16 (dense: 125 PF sparse / 8): bf16 and fp8 run at fp16.
    wse = catalog.chip("cerebras-wse3")
    assert wse.flops("fp8") == wse.flops("bf16") == pytest.approx(15.6e15, rel=1e-12)
    # mxfp4 -> fp4 where the chip has it
    assert catalog.chip("b200").flops("mxfp4") == pytest.approx(9000e12, rel=1e-12)


def _chip(compute: dict[str, float]) -> Chip:
    return Chip(
        id="t",
        name="t",
        vendor="",
        kind="hypothetical",
        memory_technology="hbm3",
        memory_capacity=1.0,
        memory_bandwidth=1.0,
        usable_memory_fraction=1.0,
        compute=compute,
        interconnect="paper",
    )


def test_dtype_fallback_synthetic_chain():
    c = _chip({"bf16": 1e15, "fp32": 5e14})
    assert c.flops("fp4") == 1e15  # fp4 -> fp8 -> bf16
    assert c.flops("int8") == 1e15  # int8 -> fp8 -> bf16
    assert c.flops("fp32") == 5e14


def test_bf16_falls_back_to_fp32_not_fp8():
    assert _chip({"fp8": 2e15, "fp32": 1e14}).flops("bf16") == 1e14


def test_dtype_bytes():
    assert dtype_bytes("fp8") == 1.0
    assert dtype_bytes("bf16") == 2.0
    assert dtype_bytes("mxfp4") == pytest.approx(4.25 / 8)
    assert set(DTYPE_BYTES) >= {"fp32", "bf16", "fp16", "fp8", "int8", "fp4"}
    with pytest.raises(InputError, match="closest valid name: fp8"):
        dtype_bytes("fp9")


# ---- overrides -------------------------------------------------------------------------------
def test_override_chip_bandwidth(catalog):
    c2 = catalog.with_overrides({"chips.xpu-hbm3.memory_bandwidth": "8 TiB/s"})
    assert c2.chip("xpu-hbm3").memory_bandwidth == 8 * TiB
    assert catalog.chip("xpu-hbm3").memory_bandwidth == 4 * TiB  # original untouched


def test_override_nested_compute(catalog):
    c2 = catalog.with_overrides({"chips.h100-sxm.compute.fp8": "2 PFLOPS"})
    assert c2.chip("h100-sxm").flops("fp8") == 2e15
    assert c2.chip("h100-sxm").flops("bf16") == pytest.approx(989e12)


def test_override_model_id_with_dots(catalog):
    c2 = catalog.with_overrides({"models.llama3.1-8b.hidden_size": 8192})
    assert c2.model("llama3.1-8b").hidden_size == 8192
    assert catalog.model("llama3.1-8b").hidden_size == 4096
    # the longest matching id wins: llama3.1-405b is not touched
    assert c2.model("llama3.1-405b").hidden_size == 16384


def test_override_interconnect_and_costs(catalog):
    c2 = catalog.with_overrides(
        {"interconnects.paper.intra_domain_latency": "1 us", "costs.defaults.pue": 1.5}
    )
    assert c2.interconnect("paper").intra_domain_latency == pytest.approx(1e-6)
    assert c2.costs.pue == 1.5


def test_empty_overrides_return_same_catalog(catalog):
    assert catalog.with_overrides({}) is catalog


def test_split_path(catalog):
    assert catalog.split_path("models.llama3.1-8b.hidden_size") == (
        "models",
        "llama3.1-8b",
        ["hidden_size"],
    )
    assert catalog.split_path("chips.xpu-hbm3.compute.fp8") == (
        "chips",
        "xpu-hbm3",
        ["compute", "fp8"],
    )


@pytest.mark.parametrize(
    ("path", "value", "closest_name"),
    [
        ("chip.xpu-hbm3.memory_bandwidth", "1 TB/s", "chips"),
        ("chips.xpu-hbm9.memory_bandwidth", "1 TB/s", "xpu-hbm4"),
        ("chips.xpu-hbm3.memory_bandwith", "1 TB/s", "memory_bandwidth"),
        ("chips.xpu-hbm3.compute.fp9", "1 PFLOPS", "fp8"),
        ("interconnects.papr.domain_size", 16, "paper"),
        ("models.deepseek-v4.hidden_size", 1, "deepseek-v3"),
    ],
)
def test_unknown_override_path_suggests_closest(catalog, path, value, closest_name):
    with pytest.raises(InputError) as info:
        catalog.with_overrides({path: value})
    assert f"(closest valid name: {closest_name})" in str(info.value)
    assert info.value.exit_code == 2


def test_unknown_dotted_model_id_suggests_closest(catalog):
    with pytest.raises(InputError, match=r"closest valid name: llama3\.1-8b\)"):
        catalog.with_overrides({"models.llama3.1-8.hidden_size": 1})


def test_override_with_wrong_dimension(catalog):
    with pytest.raises(InputError) as info:
        catalog.with_overrides({"chips.xpu-hbm3.memory_bandwidth": "8 TiB"}, where="p.toml")
    msg = str(info.value)
    assert msg.startswith("p.toml: chips.xpu-hbm3.memory_bandwidth: expected a bandwidth")
    assert "'8 TiB'" in msg


def test_override_path_without_key(catalog):
    with pytest.raises(InputError, match="expected section.entry.key"):
        catalog.with_overrides({"chips.xpu-hbm3": "1"})


def test_override_into_a_value_is_an_error(catalog):
    with pytest.raises(InputError, match="not a table"):
        catalog.with_overrides({"chips.xpu-hbm3.memory_bandwidth.x": "1 TB/s"})


def test_unknown_chip_and_model_lookups(catalog):
    with pytest.raises(InputError, match=r"unknown chip 'h100' \(closest valid name: h100-sxm\)"):
        catalog.chip("h100")
    with pytest.raises(InputError, match=r"closest valid name: llama3.1-405b"):
        catalog.model("llama3.1-405c")
    with pytest.raises(InputError, match="unknown interconnect"):
        catalog.interconnect("nvlink9")
    with pytest.raises(InputError, match="unknown memory technology"):
        catalog.memory("hbm9")


# ---- other names of a model: aliases and Hugging Face ids ------------------------------------
def test_an_alias_or_a_hugging_face_id_answers_as_the_catalog_entry(catalog):
    v3 = catalog.model("deepseek-v3")
    for name in ("deepseek-r1", "deepseek-ai/DeepSeek-R1-0528", "DeepSeek-AI/deepseek-v3"):
        assert catalog.model_id(name) == "deepseek-v3"
        assert catalog.model(name) is v3  # the same entry: the data's measured MoE model
    assert catalog.model("meta-llama/Llama-2-70b-chat-hf").id == "llama2-70b"
    assert catalog.model_id("deepseek-r2") is None
    # an unknown name is hinted by every name that resolves
    with pytest.raises(
        InputError, match=r"unknown model 'deepseek-r2' \(closest valid name: deepseek-r1\)"
    ):
        catalog.model("deepseek-r2")
    # the entries list their ids only: an alias is not another model
    assert "deepseek-r1" not in catalog.ids("models")
    # hints spell names as written; an id is exact (llama3.1-8B is a typo of llama3.1-8b)
    with pytest.raises(InputError, match="closest valid name: meta-llama/Llama-2-70b-chat-hf"):
        catalog.model("meta-llama/Llama-2-70b-chat-hfx")
    assert catalog.model_id("llama3.1-8B") is None


def test_a_changed_entry_answers_its_other_names_anew(catalog):
    assert catalog.model("deepseek-r1").num_hidden_layers == 61  # asked before the change
    small = catalog.with_overrides({"models.deepseek-v3.num_hidden_layers": 10})
    assert small.model("deepseek-r1") is small.model("deepseek-v3")
    assert small.model("deepseek-r1").num_hidden_layers == 10
    unnamed = catalog.with_overrides({"models.deepseek-v3.aliases": []})
    assert unnamed.model_id("deepseek-r1") is None


def test_a_stray_file_named_like_an_alias_leaves_the_alias_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deepseek-r1").write_text("not a config")  # no folder separator, no .json
    assert Catalog.load().model("deepseek-r1").id == "deepseek-v3"


def test_a_config_json_on_disk_comes_before_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deepseek-ai" / "DeepSeek-R1").mkdir(parents=True)  # a folder: not a config
    config = {"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4}
    config |= {"intermediate_size": 128, "vocab_size": 100, "_name_or_path": "tiny-r1"}
    (tmp_path / "deepseek-ai" / "DeepSeek-R1-0528").write_text(json.dumps(config))
    cat = Catalog.load()
    assert cat.model("deepseek-ai/DeepSeek-R1-0528").id == "tiny-r1"  # the file, as before
    assert cat.model("deepseek-ai/DeepSeek-R1").id == "deepseek-v3"


@pytest.mark.parametrize(
    ("aliases", "match"),
    [
        ('["llama3.1-8b"]', "alias 'llama3.1-8b' already names model 'llama3.1-8b'"),
        ('["deepseek-r1"]', "alias 'deepseek-r1' already names model 'deepseek-v3'"),
        ('["META-LLAMA/Llama-3.1-8B"]', "already names model 'llama3.1-8b'"),  # its hf_id
        ('"tiny-2"', "expected a list of names"),
        ("[1]", "expected a list of names"),
    ],
)
def test_bad_aliases_are_an_error_at_load_naming_the_file_and_key(tmp_path, aliases, match):
    path = tmp_path / "models.toml"
    path.write_text(
        "[tiny]\nnum_hidden_layers = 2\nhidden_size = 64\nnum_attention_heads = 4\n"
        f'vocab_size = 100\nsource = "assumption: a test model"\naliases = {aliases}\n'
    )
    with pytest.raises(InputError, match=re.escape(match)) as info:
        Catalog.load(extra_dirs=[tmp_path])
    assert str(info.value).startswith(f"{path}: tiny.aliases: ")


def test_an_alias_on_another_entrys_hugging_face_id_is_an_error_in_either_order(tmp_path):
    for first, second in (("a", "b"), ("b", "a")):
        entries = {
            "a": 'aliases = ["org/B"]\n',
            "b": 'hf_id = "org/b"\n',
        }
        body = "".join(
            f"[{m}]\nnum_hidden_layers = 2\nhidden_size = 64\nnum_attention_heads = 4\n"
            f'vocab_size = 100\nsource = "assumption: a test model"\n{entries[m]}'
            for m in (first, second)
        )
        (tmp_path / "models.toml").write_text(body)
        with pytest.raises(InputError, match="alias 'org/B' already names model 'b'") as info:
            Catalog.load(extra_dirs=[tmp_path])
        assert ": a.aliases: " in str(info.value)


# ---- user catalog folders --------------------------------------------------------------------
GOOD_CHIP = """
[my-chip]
name = "My chip"
kind = "hypothetical"
memory_technology = "hbm3e"
memory_capacity = "64 GB"
memory_bandwidth = "2 TB/s"
compute = { fp8 = "1 PFLOPS" }
interconnect = "paper"
source = "assumption: a test chip"
"""


def test_extra_dir_adds_a_chip(tmp_path):
    (tmp_path / "chips.toml").write_text(GOOD_CHIP)
    cat = Catalog.load(extra_dirs=[tmp_path])
    c = cat.chip("my-chip")
    assert c.memory_bandwidth == 2e12
    assert c.memory_capacity == 64e9
    assert c.flops("fp4") == 1e15  # fp4 -> fp8, the next wider dtype the chip has
    with pytest.raises(InputError, match="chips.my-chip.compute: .* no compute rate for 'bf16'"):
        c.flops("bf16")  # no wider dtype than bf16 on this chip
    assert c.usable_memory_fraction == 1.0
    assert cat.where("chips", "my-chip") == str(tmp_path / "chips.toml")
    assert "xpu-hbm3" in cat.ids("chips")  # bundled entries remain


def test_env_var_adds_a_folder(tmp_path, monkeypatch):
    (tmp_path / "chips.toml").write_text(GOOD_CHIP)
    monkeypatch.setenv("DESIGNER_CATALOG_PATH", str(tmp_path))
    assert Catalog.load().chip("my-chip").memory_bandwidth == 2e12


def test_extra_dir_replaces_a_bundled_entry(tmp_path):
    (tmp_path / "chips.toml").write_text(GOOD_CHIP.replace("[my-chip]", "[xpu-hbm3]"))
    cat = Catalog.load(extra_dirs=[tmp_path])
    assert cat.chip("xpu-hbm3").memory_bandwidth == 2e12


def test_missing_catalog_folder(tmp_path):
    with pytest.raises(InputError, match="catalog folder not found") as info:
        Catalog.load(extra_dirs=[tmp_path / "nope"])
    assert str(tmp_path / "nope") in str(info.value)


def test_malformed_toml_names_the_file(tmp_path):
    path = tmp_path / "chips.toml"
    path.write_text('[my-chip]\nname = "unterminated\n')
    with pytest.raises(InputError) as info:
        Catalog.load(extra_dirs=[tmp_path])
    assert str(info.value).startswith(f"{path}: malformed TOML")


def test_bandwidth_in_gb_names_file_and_key(tmp_path):
    path = tmp_path / "chips.toml"
    path.write_text(GOOD_CHIP.replace('"2 TB/s"', '"2000 GB"'))
    with pytest.raises(InputError) as info:
        Catalog.load(extra_dirs=[tmp_path])
    msg = str(info.value)
    assert msg.startswith(f"{path}: chips.my-chip.memory_bandwidth: expected a bandwidth")
    assert "'2000 GB'" in msg
    assert info.value.where == str(path)
    assert info.value.key == "chips.my-chip.memory_bandwidth"


def test_unknown_chip_key_suggests_closest(tmp_path):
    path = tmp_path / "chips.toml"
    path.write_text(GOOD_CHIP.replace("memory_capacity", "memory_capacty"))
    with pytest.raises(InputError) as info:
        Catalog.load(extra_dirs=[tmp_path])
    msg = str(info.value)
    assert msg.startswith(f"{path}: chips.my-chip.memory_capacty: unknown key")
    assert "(closest valid name: memory_capacity)" in msg


@pytest.mark.parametrize(
    ("old", "new", "key", "match"),
    [
        (
            'source = "assumption: a test chip"\n',
            "",
            "chips.my-chip.source",
            "missing required key",
        ),
        ('"hbm3e"', '"hbm3x"', "chips.my-chip.memory_technology", "closest valid name: hbm3"),
        ('interconnect = "paper"', 'interconnect = "papr"', "chips.my-chip.interconnect", "paper"),
        (
            '"hypothetical"',
            '"hypotetical"',
            "chips.my-chip.kind",
            "closest valid name: hypothetical",
        ),
        ('"1 PFLOPS"', '"1 PB/s"', "chips.my-chip.compute.fp8", "expected a compute"),
        ('"2 TB/s"', "2e12", "chips.my-chip.memory_bandwidth", "bare number"),
        ('"2 TB/s"', '"0 TB/s"', "chips.my-chip.memory_bandwidth", "positive"),
        (
            '"2 TB/s"',
            '"-2 TB/s"',
            "chips.my-chip.memory_bandwidth",
            "expected a positive bandwidth",
        ),
        (
            'kind = "hypothetical"',
            "usable_memory_fraction = 1.5",
            "chips.my-chip.usable_memory_fraction",
            "fraction",
        ),
    ],
)
def test_invalid_chip_entries(tmp_path, old, new, key, match):
    path = tmp_path / "chips.toml"
    text = GOOD_CHIP.replace(old, new)
    assert text != GOOD_CHIP
    path.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        Catalog.load(extra_dirs=[tmp_path])
    assert str(info.value).startswith(f"{path}: {key}: ")


def test_interconnect_with_wrong_latency_unit(tmp_path):
    path = tmp_path / "interconnects.toml"
    path.write_text(
        '[fab]\ndomain_size = 8\nintra_domain_latency = "2 GB/s"\n'
        'inter_domain_latency = "10 us"\nsource = "assumption"\n'
    )
    with pytest.raises(InputError, match="expected a time") as info:
        Catalog.load(extra_dirs=[tmp_path])
    assert str(info.value).startswith(f"{path}: interconnects.fab.intra_domain_latency: ")


def test_interconnect_pipeline_latency_defaults_to_inter(tmp_path):
    (tmp_path / "interconnects.toml").write_text(
        '[fab]\ndomain_size = 8\nintra_domain_latency = "2 us"\n'
        'inter_domain_latency = "10 us"\nsource = "assumption"\n'
    )
    ic = Catalog.load(extra_dirs=[tmp_path]).interconnect("fab")
    assert ic.pipeline_latency == pytest.approx(10e-6)
    assert ic.domain_size == 8


def test_model_in_extra_dir_is_validated(tmp_path):
    path = tmp_path / "models.toml"
    path.write_text(
        "[tiny]\nnum_hidden_layers = 2\nhidden_size = 64\nnum_attention_heads = 4\n"
        "num_key_value_heads = 3\nvocab_size = 100\n"
    )
    with pytest.raises(InputError, match="not a multiple") as info:
        Catalog.load(extra_dirs=[tmp_path])
    assert str(info.value).startswith(f"{path}: tiny.num_key_value_heads: ")


# ---- wildcards and relative values -----------------------------------------------------------
def test_wildcard_and_factor_equal_the_explicit_per_entry_sets(catalog):
    wild = catalog.with_overrides({"chips.*.memory_bandwidth": "x2"})
    explicit = catalog.with_overrides(
        {
            f"chips.{c}.memory_bandwidth": f"{2 * catalog.chip(c).memory_bandwidth!r} B/s"
            for c in catalog.ids("chips")
        }
    )
    for c in catalog.ids("chips"):
        assert wild.chip(c) == explicit.chip(c)
        assert wild.chip(c).memory_bandwidth == 2 * catalog.chip(c).memory_bandwidth
    assert catalog.chip("xpu-hbm3").memory_bandwidth == 4 * TiB  # original untouched


def test_factor_keeps_units_numbers_and_integers(catalog):
    c2 = catalog.with_overrides(
        {
            "interconnects.paper.inter_domain_latency": "x0.2",
            "interconnects.paper.domain_size": "×2",
            "costs.defaults.pue": "x1.1",
            "chips.h100-sxm.compute.fp8": "x3",
        }
    )
    assert c2.interconnect("paper").inter_domain_latency == pytest.approx(0.45e-6)
    assert c2.interconnect("paper").domain_size == 16
    assert c2.raw["interconnects"]["paper"]["domain_size"] == 16
    assert c2.costs.pue == pytest.approx(1.1 * catalog.costs.pue)
    assert c2.chip("h100-sxm").flops("fp8") == pytest.approx(
        3 * catalog.chip("h100-sxm").flops("fp8")
    )
    assert c2.chip("h100-sxm").flops("bf16") == catalog.chip("h100-sxm").flops("bf16")


def test_wildcard_applies_to_entries_that_have_the_key(catalog):
    priced = [c for c in catalog.ids("chips") if "price_usd" in catalog.raw["chips"][c]]
    unpriced = [c for c in catalog.ids("chips") if c not in priced]
    assert priced and unpriced
    c2 = catalog.with_overrides({"chips.*.price_usd": 1000})
    assert all(c2.chip(c).price_usd == 1000 for c in priced)
    assert all(c2.chip(c).price_usd is None for c in unpriced)
    fp4 = catalog.with_overrides({"chips.*.compute.fp4": "x2"})
    for c in catalog.ids("chips"):
        had = "fp4" in catalog.raw["chips"][c]["compute"]
        assert ("fp4" in fp4.raw["chips"][c]["compute"]) == had


def test_only_touched_entries_are_copied(catalog):
    c2 = catalog.with_overrides({"chips.xpu-hbm3.memory_bandwidth": "x2"})
    assert c2.raw["models"] is catalog.raw["models"]
    assert c2.raw["chips"]["h100-sxm"] is catalog.raw["chips"]["h100-sxm"]
    assert c2.raw["chips"]["xpu-hbm3"] is not catalog.raw["chips"]["xpu-hbm3"]


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        ("chips.*.memory_bandwith", "x2", "chips.*.memory_bandwith: no entry of chips has the key"),
        ("chips.*.name", "x2", "cannot scale 'xPU-HBM3' (not a quantity)"),
        ("chips.xpu-hbm3.tdp", "x2", "chips.xpu-hbm3.tdp: x2 needs a value to scale"),
        ("chipz.*.tdp", "x2", "closest valid name: chips"),
    ],
)
def test_bad_wildcard_or_factor_is_one_line_naming_the_key(catalog, path, value, needle):
    with pytest.raises(InputError) as info:
        catalog.with_overrides({path: value})
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_bad_wildcard_value_is_named_by_the_wildcard_path(catalog):
    with pytest.raises(InputError) as info:
        catalog.with_overrides({"chips.*.memory_bandwidth": "8 TiB"}, where="p.toml")
    assert str(info.value).startswith("p.toml: chips.*.memory_bandwidth: expected a bandwidth")


@pytest.mark.parametrize(
    ("chip", "bandwidth", "fp8"),
    [
        ("a100-80gb", 2.039e12, 312e12),  # no FP8 units: FP8 runs at the BF16 rate
        ("a100-40gb", 1.555e12, 312e12),
        ("gh200", 4.0e12, 1979e12),
        ("gaudi2", 2.45e12, 865e12),
        ("h800", 3.35e12, 1979e12),
        ("l40s", 0.864e12, 733e12),
    ],
)
def test_measured_data_chips(catalog, chip, bandwidth, fp8):
    c = catalog.chip(chip)
    assert c.memory_bandwidth == pytest.approx(bandwidth)
    assert c.flops("fp8") == pytest.approx(fp8)
    assert c.source.startswith("https://")


# ---- issue 7: numbers in catalogs and overrides ------------------------------------------------
@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        ("chips.h100-sxm.price_usd", float("nan"), "expected a non-negative number, got nan"),
        ("chips.h100-sxm.price_usd", float("inf"), "expected a non-negative number, got inf"),
        ("chips.h100-sxm.price_usd", 1e300, r"at most 1e\+30"),
        ("chips.h100-sxm.tdp", "0 W", "expected a positive power"),
        ("chips.h100-sxm.tdp", "nan W", "expected one number and a unit"),
        ("chips.xpu-hbm3.compute.fp8", "0 PFLOPS", "expected a positive compute"),
        ("chips.xpu-hbm3.server_chips", 2**40, "at most 1048576"),
        ("costs.defaults.amortization_years", 0, "expected a positive number"),
        ("costs.defaults.pue", float("inf"), "expected a positive number, got inf"),
        ("interconnects.paper.inter_domain_latency", "-1 us", "expected a non-negative time"),
    ],
)
def test_non_finite_or_meaningless_override_names_the_key(catalog, path, value, match):
    with pytest.raises(InputError, match=match) as info:
        catalog.with_overrides({path: value}, where="--set")
    assert info.value.key == path
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("chips.h100-sxm.price_usd", 0),  # a free part is a valid what-if
        ("interconnects.paper.intra_domain_latency", "0 us"),  # an ideal link
        ("costs.defaults.electricity_usd_per_kwh", 0),
    ],
)
def test_zero_where_it_means_something(catalog, path, value):
    cat = catalog.with_overrides({path: value})
    section, entry, key = path.split(".")
    assert cat.raw[section][entry][key] == value


def test_catalog_file_that_is_no_text_file(tmp_path):
    (tmp_path / "chips.toml").write_text("x = 1\n", encoding="utf-16")
    with pytest.raises(InputError) as info:
        Catalog.load(extra_dirs=[tmp_path])
    assert str(info.value).startswith(f"{tmp_path / 'chips.toml'}: not UTF-8 text")
