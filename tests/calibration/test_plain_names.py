"""Measurement rows that name their chip, engine and model only in the source's words."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from designer.calibration import measurements, plain_names, ttft
from designer.interface.cli import main
from designer.model.catalog import Catalog
from designer.model.errors import InputError

MEASUREMENTS = measurements.bundled_path().parent
SHIPPED = sorted([*MEASUREMENTS.glob("*.csv"), *MEASUREMENTS.glob("held_out/*.csv")])
IDS = ("chip", "engine", "catalog_model")


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return Catalog.load()


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict], drop: tuple[str, ...] = IDS) -> Path:
    fields = [k for k in rows[0] if k not in drop]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def _resolves(row: dict, cat: Catalog) -> bool:
    try:
        for column in IDS:
            plain_names.resolve(
                {plain_names.WORDS[column]: row[plain_names.WORDS[column]]}, column, "f", cat
            )
    except InputError:
        return False
    return True


@pytest.mark.parametrize("path", [p for p in SHIPPED if "hardware" in _rows(p)[0]], ids=str)
def test_words_never_read_as_another_entry_than_the_shipped_ids(path: Path, cat: Catalog) -> None:
    """Every shipped row's words, read without its ids, name the entry the row maps to, or are
    an error (ambiguous or unknown words): never a different chip, engine or model."""
    wrong = []
    for row in _rows(path):
        for column in IDS:
            words = row[plain_names.WORDS[column]]
            try:
                got = plain_names.resolve({plain_names.WORDS[column]: words}, column, "f", cat)
            except InputError:
                continue
            want = row[column]
            if column == "catalog_model":
                got, want = cat.model_id(got), cat.model_id(want)
            elif column == "engine":
                want = plain_names.engines.canonical(want)
            else:
                want = want.casefold()
            if got != want:
                wrong.append((row["id"], column, words, got, want))
    assert wrong == []


def test_a_file_of_words_loads_as_the_same_measurements(tmp_path: Path, cat: Catalog) -> None:
    """decode.csv without its id columns (the rows whose words name one entry each) loads as
    the very same measurements as with them, and most rows are such rows."""
    rows = [r for r in _rows(measurements.bundled_path()) if _resolves(r, cat)]
    assert len(rows) >= 300
    with_ids = measurements.load(_write(tmp_path / "ids.csv", rows, drop=()), cat)
    read: dict = {}
    words = measurements.load(_write(tmp_path / "words.csv", rows), cat, read)
    assert words == with_ids
    assert read["hardware"]["h100"] == "h100-sxm"
    assert read["software"]["NVIDIA NIM 1.8.0 (TensorRT-LLM backend)"] == "tensorrt-llm"
    assert read["model"]["deepseek-ai/DeepSeek-R1"] == "deepseek-v3"


def test_an_empty_id_cell_falls_back_to_the_words_and_a_written_id_wins(
    tmp_path: Path, cat: Catalog
) -> None:
    rows = _rows(measurements.bundled_path())[:3]
    rows[0]["chip"] = ""  # h100 → h100-sxm
    rows[1]["hardware"] = "no such part"  # the id is written: the words are not read
    read: dict = {}
    got = measurements.load(_write(tmp_path / "mixed.csv", rows, drop=()), cat, read)
    assert [r.chip for r in got] == ["h100-sxm"] * 3
    assert read == {"hardware": {"h100": "h100-sxm"}}


@pytest.mark.parametrize(
    ("words", "chip"),
    [
        ("H100", "h100-sxm"),
        ("8xH100", "h100-sxm"),
        ("NVIDIA H100 (SXM or PCIe not stated)", "h100-sxm"),
        ("NVIDIA H100 80GB HBM3", "h100-sxm"),
        ("A100-SXM4-40GB", "a100-40gb"),
        ("NVIDIA A100 80GB", "a100-80gb"),
        ("b200-trt", "b200"),
        ("NVIDIA B200 192GB", "b200"),
        ("AMD Instinct MI300X", "mi300x"),
        ("Intel Gaudi 2", "gaudi2"),
        ("TPU v5e", "tpu-v5e"),
        ("GB200 NVL72", "gb200"),
        ("GB200 NVL 72", "gb200"),  # a rack, not the NVL card
        ("2x8xH100", "h100-sxm"),
        ("Blackwell Ultra B300", "b300"),  # its catalog name says Ultra
        ("HGX B300 NVL16", "b300"),  # and NVL16
        ("GB200 Grace Blackwell", "gb200"),
        ("GB300 NVL72", "gb300"),  # a Grace superchip's rack
        ("Vera Rubin NVL144", "rubin"),
        ("MI300X-NPS1-SPX-192GB-750W", "mi300x"),  # capacity and power agree
        ("H100 SXM 80 GB 200 Gbps NIC", "h100-sxm"),  # "GB 200" is no GB200
        ("H100 80 GiB", "h100-sxm"),
        ("Cerebras WSE-3", "cerebras-wse3"),
        ("Google TPU v6e (Trillium)", "tpu-v6e"),
        ("NVIDIA GH200 480GB", "gh200"),  # nvidia-smi's name: 480 GB of Grace memory
        ("Azure ND H100 v5", "h100-sxm"),  # a cloud's VM series, not the chip's generation
        ("a3-highgpu-8g (8x H100)", "h100-sxm"),  # a machine type, not 8 GB
        ("8x H100, NVLink 900GB/s", "h100-sxm"),  # a bandwidth, not a capacity
        ("8x H200 (1128 GB total)", "h200"),
        ("HGX B200 1 kW", "b200"),
        ("gb200_dynamo-trt", "gb200"),  # InferenceMAX's labels
        ("H100-SXM-80GB", "h100-sxm"),  # MLPerf's accelerator names
        ("NVIDIA GH200 Grace Hopper (H100 GPU, 96 GB HBM3; Grace 480GB LPDDR5X)", "gh200"),
        ("H200", "h200"),
    ],
)
def test_hardware_names(words: str, chip: str, cat: Catalog) -> None:
    assert plain_names.chip(words, cat) == chip


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("a100", "does not name one catalog chip (a100-40gb, a100-80gb)"),
        ("TPU", "does not name one catalog chip"),
        ("H100 PCIe", "'H100 PCIe' states PCIe, which the catalog's h100-sxm does not"),
        ("NVIDIA H100 NVL 94GB", "states NVL, which"),
        ("NVIDIA H100 (PCIe, 80GB)", "states PCIe"),  # a parenthesis is read
        ("H100 (PCIe or NVL)", "states PCIe"),  # alternatives of another form factor
        ("H100 80GB HBM2e", "states HBM2E, which the catalog's h100-sxm does not"),
        ("GH200 HBM3e", "states HBM3E"),  # the 144 GB part
        ("GH200 144G", "states 144 GB of memory"),
        ("H100 94GiB", "states 101 GB of memory; the catalog's h100-sxm has 80 GB"),
        ("H100 350W", "states 350 W of power; the catalog's h100-sxm has 700 W"),  # the PCIe card
        ("B200 NVL72", "states NVL72"),  # an NVL72 rack's B200 is the GB200's
        ("Grace Blackwell B200", "states Grace"),
        ("Grace Hopper H100", "states Grace"),  # the GH200
        ("Intel Gaudi 3 HL-338", "states HL338"),  # the PCIe card; the catalog's is the OAM
        ("H100 CNX", "states CNX"),
        ("NVIDIA H100 PCI Express", "states PCIe"),
        ("8x H100 SXM, PCIe Gen5 host", "states PCIe"),  # SXM and PCIe: say which
        ("B200 1.2kW", "states 1200 W of power; the catalog's b200 has 1000 W"),  # GB200's B200
        ("H200-SXM-141GB-CTS", "states CTS"),  # MLPerf's 1000 W H200
        ("A100-SXM-80GB-MIG_1x1g.10gb", "states MIG"),  # a slice
        ("AMD Instinct MI350X / MI355X", "names several parts"),
        ("MI300X/MI308X", "names several parts"),
        ("H200 NVL", "states NVL, which the catalog's h200 does not"),
        ("Rubin CPX", "states CPX"),
        ("Rubin Ultra", "states Ultra"),
        ("GH200 144GB", "states 144 GB of memory; the catalog's gh200 has 96 GB"),
        ("GH200 (144GB HBM3e)", "states HBM3E"),
        ("H100 (94 GB)", "states 94 GB of memory; the catalog's h100-sxm has 80 GB"),
        ("H100/H200", "names several parts (h100-sxm, h200)"),
        ("H200 vs H100", "names several parts"),
        ("H100 (GH200 Grace Hopper)", "names several catalog chips (gh200, h100-sxm)"),
        ("B200 (in GB200 NVL72)", "names several catalog chips (b200, gb200)"),
        ("TPU v4", "does not name one catalog chip (tpu-ironwood, tpu-v5e"),
        ("Ascend 910B", "names no catalog chip (`designer catalog list chips` lists them)"),
        ("H20", "names no catalog chip"),  # no hint: the closest id, h200, is another part
        ("NVIDIA H100 PCIe Gen5 80GB", "states PCIe"),  # the card's own bus
        ("Cerebras WSE-2", "does not name one catalog chip (cerebras-wse3)"),  # a vendor's name
        ("Tenstorrent Wormhole n300", "does not name one catalog chip (tenstorrent-p150a)"),
        ("Groq LPU v2", "states v2"),  # the catalog's is TSP v1
        ("GH200 NVL2", "states NVL2"),  # a board of the 144 GB part
    ],
)
def test_hardware_that_names_no_one_chip_is_an_error(words: str, says: str, cat: Catalog) -> None:
    with pytest.raises(InputError, match="chip` column") as e:
        plain_names.chip(words, cat, where="f.csv:2", key="hardware")
    assert says in str(e.value)
    assert str(e.value).startswith("f.csv:2: hardware: ")


@pytest.mark.parametrize(
    ("words", "engine"),
    [
        ("vLLM 0.13.0 (vllm/vllm-openai:v0.13.0)", "vllm"),
        ("Mango LLMBoost, vllm-0.9.0.2.dev108+g71faa1880.rocm641", "vllm"),
        ("TRT-LLM 0.17, TensorRT 10.8", "tensorrt-llm"),
        ("trtllm-bench", "tensorrt-llm"),
        ("DeepSpeed (Habana)", "deepspeed"),
        ("DeepSpeed-MII", "deepspeed-mii"),
        ("DeepSpeed-FastGen (DeepSpeed-MII)", "deepspeed-mii"),
        ("DeepSpeed MII", "deepspeed-mii"),
        ("TensorRT\u2011LLM 0.19", "tensorrt-llm"),  # a non-breaking hyphen
        ("Text Generation Inference 2.4", "tgi"),
        ("dynamo-vllm", "vllm"),  # InferenceMAX's framework labels
        ("dynamo-sglang", "sglang"),
        ("text-generation-inference 2.0", "tgi"),
        ("NVIDIA NIM (vLLM backend)", "vllm"),
        ("lmsysorg/sglang:v0.5.6-cu129-amd64", "sglang"),
    ],
)
def test_software_names(words: str, engine: str) -> None:
    assert plain_names.engine(words) == engine


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("MLC LLM 0.1", r"names no engine .*write the engine in an `engine`"),
        # a benchmark client of one engine against another's server: which one served?
        ("vLLM benchmark_serving.py against SGLang 0.4", r"several engines \(sglang, vllm\)"),
        ("benchmark_serving.py (vLLM) on TGI 2.0", r"several engines \(tgi, vllm\)"),
        ("nano-vllm 0.2.0", "names no engine"),  # another project, not vLLM
        ("sglang-jax 0.0.1", "names no engine"),  # a JAX port, not SGLang
        ("vllm bench serve against Modular MAX 25.1", "names modular max beside vllm"),
        ("fastgen", "names no engine"),  # facebookresearch/fastgen, not DeepSpeed's
        ("MII (DeepSpeed)", r"several engines \(deepspeed, deepspeed-mii\)"),
    ],
)
def test_software_that_names_no_one_engine_is_an_error(words: str, says: str) -> None:
    with pytest.raises(InputError, match=says):
        plain_names.engine(words, where="f.csv:3")


@pytest.mark.parametrize(
    ("words", "model"),
    [
        ("llama3.1-70b", "llama3.1-70b"),
        ("Llama 3.1 70B", "llama3.1-70b"),
        ("meta-llama/Llama-3.1-405B-FP8", "llama3.1-405b"),
        ("amd/Llama-3.1-405B-Instruct-FP8-KV", "llama3.1-405b"),
        ("Llama 3.1 70B (amd/Llama-3.1-70B-Instruct-FP8-KV)", "llama3.1-70b"),
        ("Meta-Llama-3-70B-Instruct", "llama3-70b"),
        ("Llama-2-7b-chat-hf", "llama2-7b"),
        ("deepseek-r1", "deepseek-v3"),
        ("nvidia/DeepSeek-R1-0528-FP4-V2", "deepseek-v3"),
        ("amd/DeepSeek-R1-0528-MXFP4-Preview", "deepseek-v3"),
        ("DeepSeek-V3", "deepseek-v3"),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral-8x7b"),
        ("Qwen/Qwen3-235B-A22B-FP8", "qwen3-235b-a22b"),
        ("openai/gpt-oss-120b", "gpt-oss-120b"),
        ("meta-llama/Meta-Llama-3.1-70B-Instruct", "llama3.1-70b"),  # the name before the rename
        ("meta-llama/Meta-Llama-3.1-405B-Instruct-FP8", "llama3.1-405b"),
        ("llama2-70b-99.9", "llama2-70b"),  # MLPerf's benchmark name (an accuracy target)
        ("llama2-70b-interactive-99", "llama2-70b"),
        ("DeepSeek R1 671B", "deepseek-v3"),  # its published total
        ("Mistral-7B-Instruct-v0.1", "mistral-7b"),
    ],
)
def test_model_names(words: str, model: str, cat: Catalog) -> None:
    assert plain_names.model(words, cat) == model


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("LLaMA 70B", "'LLaMA 70B' names no catalog model"),  # Llama 1, 2 or 3?
        ("llama-7b", "names no catalog model"),
        ("Llama 3.1 405B (amd/Llama-3.1-70B-Instruct-FP8-KV)", "names several catalog models"),
        # a version is the model's own, not a checkpoint's: never read as another version
        ("DeepSeek-V2", "names no catalog model"),
        ("deepseek-ai/DeepSeek-V2.5", "names no catalog model"),
        ("DeepSeek", "names no catalog model"),
        ("Mistral-7B-Instruct-v0.3", "names no catalog model"),  # mistral-7b is v0.1
        # each side of a spaced slash: a target and its draft are two models
        ("Llama 3.1 405B / Llama 3.1 8B (draft)", "several catalog models (llama3.1-405b, llama"),
        ("DeepSeek-V2 / DeepSeek-V3", "names 'DeepSeek-V2', no catalog model, beside deepseek-v3"),
        # a parenthesis may only name the entry again: a distilled model is not its teacher
        ("DeepSeek-R1-Distill-Llama-70B (deepseek-ai/DeepSeek-R1)", "names a distilled model"),
        ("Llama-3.1-8B-Instruct (speculative: Llama-3.1-70B)", "several catalog models"),
        ("llama2-70b/mixtral-8x7b", "several catalog models (llama2-70b, mixtral-8x7b)"),
        ("Llama-3.1-70B-Instruct/Llama-3.1-8B-Instruct", "several catalog models"),
        ("DeepSeek-R1 (Distill-Llama-70B)", "names a distilled model"),
        ("deepseek-r1 7B", "names no catalog model"),  # 7 B is a distilled model's size
    ],
)
def test_model_words_that_name_no_one_entry_are_an_error(
    words: str, says: str, cat: Catalog
) -> None:
    with pytest.raises(InputError, match="catalog_model` column") as e:
        plain_names.model(words, cat)
    assert says in str(e.value)


def test_missing_columns_name_both_alternatives(tmp_path: Path, cat: Catalog) -> None:
    rows = _rows(measurements.bundled_path())[:2]
    path = _write(tmp_path / "bare.csv", rows, drop=(*IDS, "hardware"))
    with pytest.raises(InputError, match=r"missing column\(s\) chip \(or hardware\) \(expected"):
        measurements.load(path, cat)


def test_validate_reports_what_the_words_were_read_as(tmp_path: Path, capsys, cat: Catalog) -> None:
    rows = [r for r in _rows(measurements.bundled_path())[:40] if _resolves(r, cat)]
    path = _write(tmp_path / "words.csv", rows)
    assert main(["validate", str(path), "--profile", "default"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("read from the source's words where no catalog id was written")
    assert "'h100' → h100-sxm" in last
    assert main(["validate", str(path), "--profile", "default", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["read_as"]["hardware"]["h100"] == "h100-sxm"
    assert main(["validate", str(measurements.bundled_path()), "--json"]) == 0
    assert "read_as" not in json.loads(capsys.readouterr().out)  # ids written: nothing read


def test_an_ambiguous_row_is_one_line_naming_file_row_and_column(tmp_path: Path, capsys) -> None:
    rows = _rows(measurements.bundled_path())[:40]
    path = _write(tmp_path / "words.csv", rows)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    line = 1 + next(i for i, r in enumerate(rows, 1) if r["hardware"] == "a100")
    assert f"words.csv:{line}: hardware (no chip id): 'a100' does not name one catalog chip" in err


def test_dtype_and_measure_spellings(tmp_path: Path, cat: Catalog) -> None:
    rows = _rows(measurements.bundled_path())[:2]
    plain = measurements.load(_write(tmp_path / "a.csv", rows, drop=()), cat)
    rows[0].update(weight_dtype="FP8 (E4M3)", measure="TPOT")
    rows[1].update(kv_dtype="float8_e4m3fn", measure="ITL")
    spelled = measurements.load(_write(tmp_path / "b.csv", rows, drop=()), cat)
    assert spelled == plain
    rows[0]["weight_dtype"] = "q4_k_m"
    with pytest.raises(InputError, match="weight_dtype: unknown dtype 'q4_k_m'"):
        measurements.load(_write(tmp_path / "c.csv", rows, drop=()), cat)


@pytest.mark.parametrize(
    "written",
    [
        "Mean TPOT",
        "mean_tpot",
        "Mean ITL",
        "Inter Token Latency",
        "inter-token latency",
        "Time Per Output Token",
        " tpot ",
        "Mean TPOT (ms)",  # as vLLM's and SGLang's benchmarks print it
        "mean_tpot_ms",  # their JSON key
        "mean_itl_ms",
        "Inter Token Latency (ms)",  # genai-perf's header
        "ITL ms",
    ],
)
def test_a_benchmarks_name_of_its_mean_tpot_is_itl(tmp_path: Path, cat: Catalog, written) -> None:
    rows = _rows(measurements.bundled_path())[:1]
    assert rows[0]["measure"] == "itl"
    plain = measurements.load(_write(tmp_path / "a.csv", rows, drop=()), cat)
    rows[0]["measure"] = written
    assert measurements.load(_write(tmp_path / "b.csv", rows, drop=()), cat) == plain


@pytest.mark.parametrize("written", ["Median TPOT", "P99 ITL", "tpot_p90", "Mean TPOT (s)"])
def test_a_median_or_percentile_is_no_measure(tmp_path: Path, cat: Catalog, written) -> None:
    rows = _rows(measurements.bundled_path())[:1]
    rows[0]["measure"] = written
    with pytest.raises(InputError, match=re.escape(f"measure: unknown measure '{written}'")):
        measurements.load(_write(tmp_path / "a.csv", rows, drop=()), cat)


def test_ttft_rows_read_words_too(tmp_path: Path, cat: Catalog) -> None:
    rows = _rows(ttft.bundled_path())[:3]
    with_ids = ttft.load(_write(tmp_path / "ids.csv", rows, drop=()), cat)
    for r, loaded in zip(rows, with_ids, strict=True):
        r["hardware"] = loaded.chip.upper()
        r["model"] = cat.raw["models"][loaded.model]["name"]
    words = ttft.load(_write(tmp_path / "words.csv", rows, drop=("chip", "catalog_model")), cat)
    assert words == with_ids


def test_a_row_with_neither_id_nor_words_is_an_error(tmp_path: Path, cat: Catalog) -> None:
    rows = _rows(measurements.bundled_path())[:2]
    rows[1]["software"] = ""
    path = _write(tmp_path / "words.csv", rows)
    with pytest.raises(InputError, match=r"words.csv:3: software: empty: write the catalog id in"):
        measurements.load(path, cat)
    rows[1]["engine"] = ""
    with pytest.raises(InputError, match=r"words.csv:3: engine: empty"):
        measurements.load(_write(tmp_path / "words.csv", rows, drop=()), cat)


def test_calibrate_says_what_it_read_on_stderr(tmp_path: Path, capsys, cat: Catalog) -> None:
    rows = [r for r in _rows(measurements.bundled_path())[:40] if _resolves(r, cat)]
    path = _write(tmp_path / "words.csv", rows)
    assert main(["calibrate", str(path), "--name", "mine", "--json"]) == 0
    out, err = capsys.readouterr()
    json.loads(out)  # standard output stays one JSON document
    assert "read from the source's words where no catalog id was written: hardware:" in err


def test_spreadsheet_exports(tmp_path: Path, cat: Catalog) -> None:
    """A file as a spreadsheet writes it: semicolons (locales with a decimal comma), tabs,
    integers as "16.0", the time with its unit; read as the plain file is."""
    rows = _rows(measurements.bundled_path())[:3]
    plain = measurements.load(_write(tmp_path / "plain.csv", rows, drop=()), cat)
    for name, delimiter in (("semi.csv", ";"), ("tabs.csv", "\t")):
        path = tmp_path / name
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=delimiter)
            w.writeheader()
            w.writerows(rows)
        assert measurements.load(path, cat) == plain
    spelled = [dict(r) for r in rows]
    spelled[0]["batch"] = spelled[0]["batch"] + ".0"
    spelled[1]["ms_per_output_token"] = f"{float(rows[1]['ms_per_output_token']) / 1e3!r} s"
    spelled[2]["ms_per_output_token"] = rows[2]["ms_per_output_token"] + " ms"
    got = measurements.load(_write(tmp_path / "spelled.csv", spelled, drop=()), cat)
    assert [r.batch for r in got] == [r.batch for r in plain]
    assert [r.measured_ms for r in got] == pytest.approx([r.measured_ms for r in plain])
    spelled[0]["ms_per_output_token"] = "18 tokens"
    with pytest.raises(InputError, match="ms_per_output_token: expected a positive number"):
        measurements.load(_write(tmp_path / "bad.csv", spelled, drop=()), cat)
    spelled[0]["ms_per_output_token"] = "18 GB"  # not a time
    with pytest.raises(InputError, match="ms_per_output_token: expected a positive number"):
        measurements.load(_write(tmp_path / "bad.csv", spelled, drop=()), cat)


def test_integers_with_thousands_separators_and_quantization_schemes(
    tmp_path: Path, cat: Catalog
) -> None:
    """A blog table's "1,024" is 1024, and a model card's "W8A8 FP8" is fp8; a scheme alone
    ("W8A8": INT8 or FP8) and a decimal comma in an integer column are still errors."""
    rows = [r for r in _rows(measurements.bundled_path()) if r["weight_dtype"] == "fp8"][:1]
    rows[0]["input_tokens"] = "1024"
    plain = measurements.load(_write(tmp_path / "plain.csv", rows, drop=()), cat)
    rows[0].update(input_tokens="1,024", weight_dtype="W8A8 FP8")
    assert measurements.load(_write(tmp_path / "spelled.csv", rows, drop=()), cat) == plain
    rows[0]["weight_dtype"] = "W8A8"
    with pytest.raises(InputError, match="weight_dtype: unknown dtype 'w8a8'"):
        measurements.load(_write(tmp_path / "bad.csv", rows, drop=()), cat)
    rows[0].update(weight_dtype="fp8", input_tokens="1,5")
    with pytest.raises(InputError, match="input_tokens: expected a positive integer"):
        measurements.load(_write(tmp_path / "bad.csv", rows, drop=()), cat)


@pytest.mark.parametrize(
    ("words", "parts"),
    [("8x NVIDIA Blackwell GPUs", "b200, b300, gb200, gb300"), ("AMD CDNA 3", "mi300x, mi325x")],
)
def test_an_architecture_names_its_parts_not_one(cat: Catalog, words, parts) -> None:
    with pytest.raises(InputError, match=re.escape("names an architecture (")) as info:
        plain_names.chip(words, cat)
    assert parts in info.value.message
    part = parts.split(", ")[0]
    assert plain_names.chip(f"{words.split(' GPUs')[0]} {part.upper()}", cat) == part


@pytest.mark.parametrize(
    ("words", "needle"),
    [
        ("Blackwell Ultra", "(Blackwell: b300, gb300)"),
        ("NVIDIA Grace Hopper Superchip", "(Hopper: gh200)"),
        ("NVIDIA H20 (Hopper)", "names no catalog chip"),  # a part outside the catalog
        ("NVIDIA RTX PRO 6000 Blackwell", "names no catalog chip"),
        ("AMD Instinct MI308X (CDNA 3)", "names no catalog chip"),
    ],
)
def test_an_architecture_beside_other_words(cat: Catalog, words, needle) -> None:
    with pytest.raises(InputError, match=re.escape(needle)):
        plain_names.chip(words, cat)


@pytest.mark.parametrize(("written", "measure"), [("Mean TTFT (ms)", "ttft"), ("TTFT", "ttft")])
def test_a_benchmarks_name_of_its_mean_ttft(written, measure) -> None:
    assert measurements.measure_of(written) == measure


def test_a_scheme_whose_weight_width_is_not_the_dtypes_is_an_error(
    tmp_path: Path, cat: Catalog
) -> None:
    rows = [r for r in _rows(measurements.bundled_path()) if r["weight_dtype"] == "fp8"][:1]
    rows[0]["weight_dtype"] = "W4A8 FP8"  # 4-bit weights with FP8 activations
    with pytest.raises(InputError, match="'W4A8 FP8' states 4-bit weights and fp8 .8-bit."):
        measurements.load(_write(tmp_path / "m.csv", rows, drop=()), cat)
