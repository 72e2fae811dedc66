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
