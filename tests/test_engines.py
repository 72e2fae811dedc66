"""The engine × chip support table (designer/calibration/engines.py, catalogs/engines.toml)."""

from __future__ import annotations

import pytest

from designer.calibration import engines, measurements, profiles
from designer.calibration.evaluate import evaluate
from designer.interface.cli import main
from designer.model.errors import InputError


def test_every_engine_has_a_sourced_row_and_every_measurement_is_a_supported_pair(catalog):
    assert set(profiles.engines()) <= set(engines.table())
    for r in measurements.load(measurements.bundled_path(), catalog):
        assert engines.runs_on(catalog, r.chip, r.engine), r.id


def test_an_unsupported_pair_names_the_engines_that_run_on_the_chip(catalog):
    with pytest.raises(InputError) as exc:
        engines.check(catalog, "mi300x", "tensorrt-llm")
    assert "engines that do: deepspeed, sglang, tgi, vllm" in str(exc.value)
    engines.check(catalog, "h100-sxm", "tensorrt-llm")
    assert engines.runs_on(catalog, "xpu-hbm3", "tensorrt-llm")  # hypothetical: unrestricted


def test_a_tensorrt_llm_profile_on_mi300x_is_bad_input(capsys):
    argv = ["evaluate", "--model", "llama3.1-70b", "--chip", "mi300x", "--tp", "8"]
    assert main([*argv, "--engine", "tensorrt-llm"]) == 2
    assert "--engine: tensorrt-llm does not run on mi300x" in capsys.readouterr().err
    assert main([*argv, "--profile", "h100-sxm-tensorrt-llm"]) == 2
    assert "vllm" in capsys.readouterr().err
    with pytest.raises(InputError, match="tensorrt-llm does not run on mi300x"):
        evaluate("llama3.1-70b", "mi300x", tp=8, profile="generic-tensorrt-llm")


def test_a_space_keeps_the_chips_its_engine_runs_on(capsys):
    from designer.optimize.problem import load_problem

    p = load_problem("problems/quickstart.toml", {"efficiency.engine": "tensorrt-llm"})
    assert "mi300x" not in p.chips and "h100-sxm" in p.chips
    assert any(c == "mi300x" and "deepspeed, sglang, tgi, vllm" in why for c, why in p.left_out)
    sets = ["--set", 'space.chips=["mi300x"]']
    assert main(["solve", "problems/quickstart.toml", "--engine", "tensorrt-llm", *sets]) == 2
    assert "space.chips: tensorrt-llm does not run on mi300x" in capsys.readouterr().err


def test_every_mixed_batches_entry_is_a_version_or_always_with_a_source():
    from designer.model.catalog import bundled_dir
    from designer.model.files import read_toml

    raw = read_toml(bundled_dir() / engines.FILE, "the engines catalog")
    stated = {e: b for e, b in raw.items() if "mixed_batches" in b}
    assert stated  # the table states it for some engines
    for engine, body in stated.items():
        since = body["mixed_batches"]
        assert since == "always" or all(x.isdigit() for x in since.split(".")), engine
        assert body.get("mixed_batches_source", "").startswith("https://"), engine


@pytest.mark.parametrize(
    "engine, software, expected",
    [
        ("vllm", "vLLM 0.7.3.dev138+g21f6ca217 (rocm/vllm-dev)", False),
        ("vllm", "vLLM 0.8.0", True),
        ("vllm", "vLLM 0.10.1", True),
        ("vllm", "vLLM (version not stated; ROCm)", False),
        ("tensorrt-llm", "TensorRT-LLM PyTorch workflow (trtllm-bench)", True),
        ("sglang", "SGLang 0.4.3.post2", False),
        ("lmdeploy", "LMDeploy v0.1.0", False),
    ],
)
def test_mixed_batches_by_engine_and_version(engine, software, expected):
    assert engines.mixed_batches(engine, software) is expected


@pytest.mark.parametrize(
    "engine, software, expected",
    [
        (
            "tensorrt-llm",
            "TensorRT-LLM 1.2.0rc2 (nvcr.io/nvidia/tensorrt-llm/release:1.2.0rc2)",
            "1.2.0rc2",
        ),
        ("vllm", "vLLM 0.7.3.dev138+g21f6ca217", "0.7.3"),
        # package pins, wheel names and image tags
        ("vllm", "Mango LLMBoost, vllm-0.9.0.2.dev108+g71faa1880.d20250717.rocm641", "0.9.0.2"),
        ("vllm", "vllm==0.10.1", "0.10.1"),
        ("vllm", "rocm/vllm:rocm6.4.1_vllm_0.9.1_20250715", "0.9.1"),
        ("vllm", "rocm/vllm:rocm6.3.1_instinct_vllm0.8.3_20250410", "0.8.3"),
        ("vllm", "vllm/vllm-openai:v0.13.0", "0.13.0"),
        ("sglang", "lmsysorg/sglang:v0.5.2-rocm630-mi30x", "0.5.2"),
        ("vllm", "vLLM version 0.6.3", "0.6.3"),
        # the engine's other names (catalogs/engines.toml `names`)
        ("tensorrt-llm", "TRT-LLM 0.17, TensorRT 10.8", "0.17"),
        ("tensorrt-llm", "trtllm 1.0.0rc4", "1.0.0rc4"),
        ("tensorrt-llm", "TensorRT LLM 0.18.2", "0.18.2"),
        # no version of the engine stated
        ("tensorrt-llm", "TensorRT-LLM (commit f51ea9dc) ; TensorRT 10.11, CUDA 12.9", None),
        ("tensorrt-llm", "TensorRT-LLM PyTorch workflow (trtllm-bench)", None),
        ("vllm", "vLLM (rocm/vllm-dev:20250112 image)", None),
        ("vllm", "rocm/vllm:rocm6.4.1", None),
        ("deepspeed", "DeepSpeed-MII 0.2.1", None),
        ("vllm", "xvllm 0.9.1", None),
    ],
)
def test_the_build_a_software_text_states(engine, software, expected):
    assert engines.stated_version(engine, software) == expected


def test_a_wheel_named_build_routes_the_row_as_its_version_does(tmp_path, catalog):
    """A row whose `software` names its build as a wheel ("vllm-0.9.0.2.dev108…") is the same
    build as "vLLM 0.9.0.2": mixed batches from 0.8.0, and the same prediction."""
    from designer.calibration.validate import validate

    src = measurements.bundled_path().read_text().splitlines()
    header = src[0].split(",")
    rows = []
    for software in ("vLLM 0.9.0.2.dev108", "LLMBoost, vllm-0.9.0.2.dev108+g71faa1880"):
        cells = dict.fromkeys(header, "")
        cells.update(
            id=f"x-{len(rows)}",
            source_url="https://example.org",
            chip="mi300x",
            engine="vllm",
            catalog_model="llama2-70b",
            weight_dtype="fp8",
            tp="1",
            pp="1",
            batch="64",
            input_tokens="1024",
            output_tokens="256",
            ms_per_output_token="40",
            measure="itl",
            software=f'"{software}"',
        )
        rows.append(",".join(cells[h] for h in header))
    path = tmp_path / "rows.csv"
    path.write_text("\n".join([src[0], *rows]) + "\n")
    loaded = measurements.load(path, catalog)
    assert [r.mixed for r in loaded] == [True, True]
    out = validate(loaded, None, catalog)["rows"]
    assert out[0]["predicted_ms"] == out[1]["predicted_ms"]
    assert out[0]["profile"] == out[1]["profile"]


def test_names_must_be_a_list_of_strings(tmp_path, monkeypatch):
    from designer.model import catalog as cat_mod

    text = (cat_mod.bundled_dir() / engines.FILE).read_text()
    (tmp_path / engines.FILE).write_text(text.replace('names = ["vllm-openai"]', 'names = "vllm"'))
    monkeypatch.setattr(engines, "bundled_dir", lambda: tmp_path)
    caches = (engines._raw, engines._names)
    for c in caches:
        c.cache_clear()
    try:
        with pytest.raises(InputError, match=r"vllm\.names.*expected names"):
            engines.stated_version("vllm", "vLLM 0.9.1")
    finally:
        for c in caches:
            c.cache_clear()
