"""designer.calibration.measurements.load: a measurements CSV is read through the input gate; every
bad
row is one InputError naming the file, the line and the column."""

from __future__ import annotations

import csv
import os

import pytest

from designer.calibration import measurements, profiles
from designer.model import files
from designer.model.errors import InputError

BUNDLED = measurements.bundled_path()


def _rows(n: int = 3) -> tuple[str, list[str]]:
    lines = BUNDLED.read_text(encoding="utf-8").splitlines()
    return lines[0], lines[1 : 1 + n]


def _set(row: str, header: str, column: str, value: str) -> str:
    parts = row.split(",")  # the first rows quote nothing before `notes`
    parts[header.split(",").index(column)] = value
    return ",".join(parts)


def _write(tmp_path, header: str, rows: list[str], prefix: bytes = b"") -> str:
    p = tmp_path / "m.csv"
    p.write_bytes(prefix + ("\n".join([header, *rows]) + "\n").encode())
    return str(p)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    header, rows = _rows()
    found = measurements.load(_write(tmp_path, header, rows, b"\xef\xbb\xbf"))
    assert [r.id for r in found] == ["cal-01", "cal-02", "cal-03"]


def test_a_model_named_by_an_alias_or_its_hugging_face_id_is_its_catalog_entry(tmp_path):
    header, rows = _rows()
    rows[0] = _set(rows[0], header, "catalog_model", "meta-llama/Llama-3.3-70B-Instruct")
    rows[1] = _set(rows[1], header, "catalog_model", "deepseek-r1")
    found = measurements.load(_write(tmp_path, header, rows))
    assert [r.model for r in found[:2]] == ["llama3.3-70b", "deepseek-v3"]
    rows[2] = _set(rows[2], header, "chip", "H100-SXM")  # chip ids and measures in any case
    rows[2] = _set(rows[2], header, "measure", "ITL")
    assert (found := measurements.load(_write(tmp_path, header, rows)))[2].chip == "h100-sxm"
    assert found[2].measure == "itl"
    rows[2] = _set(rows[2], header, "catalog_model", "deepseek-r9")
    path = _write(tmp_path, header, rows)
    with pytest.raises(InputError, match="catalog_model: unknown model 'deepseek-r9'"):
        measurements.load(path)


def test_an_engine_spelled_another_way_is_its_catalog_engine(tmp_path, catalog):
    # a loaded TensorRT-LLM row (mixed steps, FP8/FP4 GEMMs) spelled as its vendor writes it is
    # predicted as the engine's id is; a name the engines table does not know stays as written
    with BUNDLED.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    row = next(r for r in rows if r[0] == "cal-438")
    at = header.index("engine")
    spelled = [[*row[:at], e, *row[at + 1 :]] for e in ("TensorRT-LLM", "trtllm", "mlc")]
    spelled[1][header.index("attention")] = "DP"  # layouts in any case too
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, row, *spelled])
    found = measurements.load(path, catalog)
    assert [r.engine for r in found] == ["tensorrt-llm", "tensorrt-llm", "tensorrt-llm", "mlc"]
    assert {r.attention for r in found} == {"dp"}  # cal-438 states data-parallel attention
    assert found[1].mixed and not found[3].mixed
    eff = profiles.get("generic").efficiency
    ms = [measurements.predict_ms(p, eff, catalog) for p in measurements.prepare(found, catalog)]
    assert ms[1] == ms[2] == ms[0] != ms[3]


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("tp", "9" * 400, "tp: expected a positive integer (at most 12 digits)"),
        ("batch", "9" * 5000, "batch: expected a positive integer"),
        ("input_tokens", "1.5", "input_tokens: expected a positive integer"),
        ("ms_per_output_token", "inf", "ms_per_output_token: expected a positive number of ms"),
        ("ms_per_output_token", "0", "from 0.001 to 10,000,000, got '0'"),
        ("ms_per_output_token", "1e-320", "got '1e-320'"),
        ("ms_per_output_token", "nan", "got 'nan'"),
    ],
)
def test_bad_cells_name_line_and_column(tmp_path, column, value, needle):
    header, rows = _rows()
    rows[1] = _set(rows[1], header, column, value)
    path = _write(tmp_path, header, rows)
    with pytest.raises(InputError) as info:
        measurements.load(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:3: ") and needle in msg and len(msg) < 300


def test_a_short_row_is_one_line(tmp_path):
    header, rows = _rows()
    rows[1] = ",".join(rows[1].split(",")[:5])
    path = _write(tmp_path, header, rows)
    with pytest.raises(InputError, match=r":3: 5 fields where the header has \d+"):
        measurements.load(path)


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p.write_bytes(b"id,x\n\xff\n"), "not UTF-8 text at byte 5"),
        (lambda p: os.mkfifo(p), "not a regular file"),
        (lambda p: p.mkdir(), "is a folder"),
    ],
)
def test_files_that_are_no_csv_are_refused_at_once(tmp_path, make, needle):
    p = tmp_path / "m.csv"
    make(p)
    with pytest.raises(InputError, match=needle):
        measurements.load(p)


def test_rows_beyond_the_cap_are_refused(tmp_path, monkeypatch):
    header, rows = _rows(5)
    monkeypatch.setattr(files, "MAX_ROWS", 4)
    with pytest.raises(InputError, match="more than 4 rows"):
        measurements.load(_write(tmp_path, header, rows))


def test_chips_beyond_one_group_are_copies_that_share_the_batch(tmp_path, catalog, capsys):
    """`chips` over tp × pp: the system ran copies of the group and its batch (the clients'
    concurrency, or the batch submitted) is shared among them, so each copy runs its share —
    predicted as one group at that batch; chips equal to tp × pp (every shipped row) change
    nothing; chips that are no multiple of tp × pp are one line of bad input."""
    import json

    from designer.interface.cli import main

    with BUNDLED.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    col = {c: k for k, c in enumerate(header)}
    base = next(r for r in rows if r[0] == "cal-450")  # vLLM, H200, TP 1, batch 8
    assert (base[col["tp"]], base[col["pp"]], base[col["batch"]]) == ("1", "1", "8")
    shared = list(base)
    shared[col["id"]], shared[col["chips"]], shared[col["batch"]] = "x8", "8", "64"
    odd = list(shared)  # 61 clients over 8 copies: 7.6 each, run as 8
    odd[col["id"]], odd[col["batch"]] = "x8-odd", "61"
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, base, shared, odd])
    found = measurements.load(path, catalog)
    assert [(r.batch, r.replicas) for r in found] == [(8, 1), (8, 8), (8, 8)]
    eff = profiles.get("generic").efficiency
    ms = [measurements.predict_ms(p, eff, catalog) for p in measurements.prepare(found, catalog)]
    assert ms[0] == ms[1] == ms[2]
    assert main(["validate", str(path), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["rows"]
    assert "replicas" not in got[0] and got[1]["replicas"] == 8 and got[1]["in_flight"] == 8

    bad = list(shared)
    bad[col["chips"]], bad[col["tp"]] = "6", "4"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, bad])
    with pytest.raises(InputError) as info:
        measurements.load(path, catalog)
    msg = str(info.value)
    assert msg.startswith(f"{path}:2: chips: expected a multiple of the 4 chips of one tensor")
    assert "got 6" in msg


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"tp": "1", "ep": "8", "chips": "1"}, "ep: expected ep to divide tp (1), got 8"),
        ({"tp": "6", "ep": "1", "chips": "6"}, "tp: tensor parallelism 6 must divide the 128"),
        ({"pp": "99", "chips": "792"}, "pp: 99 pipeline stages exceed the 61 layers of"),
    ],
)
def test_a_partition_the_model_cannot_run_is_one_line_of_bad_input(
    tmp_path, catalog, changes, needle
):
    """As `designer evaluate` refuses it (`partition.reason`, `partition.expert_reason`): a row
    is not predicted on a partition no engine could have run."""
    with BUNDLED.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    row = next(r for r in rows if r[0] == "cal-437")  # DeepSeek-R1 FP4, 8 B200, TP 8, EP 8, DP
    row[header.index("attention")] = "tp"
    for column, value in changes.items():
        row[header.index(column)] = value
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, row])
    with pytest.raises(InputError) as info:
        measurements.load(path, catalog)
    assert str(info.value).startswith(f"{path}:2: ") and needle in str(info.value)


def test_vllm_data_parallel_attention_written_as_its_launch_command_is_the_ep_group(
    tmp_path, catalog
):
    """`-dp 8 -tp 1 --enable-expert-parallel` written as tp 1, ep 8, attention dp is the group of
    8 chips the experts spread over, as tp 8, ep 8, attention dp (SGLang's and TensorRT-LLM's
    way): the same prediction; with 16 chips, two such groups share the batch."""
    with BUNDLED.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    col = {c: k for k, c in enumerate(header)}
    row = next(r for r in rows if r[0] == "cal-437")  # TP 8, EP 8, attention dp, 8 B200
    vllm = list(row)
    vllm[col["id"]], vllm[col["tp"]] = "dp8tp1", "1"
    two = list(vllm)
    two[col["id"]], two[col["chips"]] = "two-groups", "16"
    two[col["batch"]] = str(2 * int(row[col["batch"]]))
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, row, vllm, two])
    found = measurements.load(path, catalog)
    assert [(r.tp, r.ep, r.replicas) for r in found] == [(8, 8, 1), (8, 8, 1), (8, 8, 2)]
    eff = profiles.get("generic").efficiency
    ms = [measurements.predict_ms(p, eff, catalog) for p in measurements.prepare(found, catalog)]
    assert ms[0] == ms[1] == ms[2]


def test_kv_dtype_auto_is_the_model_dtype_where_the_engine_documents_it(tmp_path, catalog):
    """vLLM's and SGLang's `--kv-cache-dtype auto` keeps the model's data type: `auto` under
    vLLM is the 16-bit cache dstack's vLLM rows state (cal-143 …, their commands pass no KV
    dtype), the same prediction; under TensorRT-LLM (the checkpoint's own KV quantization,
    not stated) it is one line of bad input."""
    with BUNDLED.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    col = {c: k for k, c in enumerate(header)}
    row = next(r for r in rows if r[0] == "cal-143")
    assert (row[col["engine"]], row[col["weight_dtype"]], row[col["kv_dtype"]]) == (
        "vllm",
        "fp8",
        "bf16",
    )
    auto = list(row)
    auto[col["id"]], auto[col["kv_dtype"]] = "auto", "AUTO"
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, row, auto])
    a, b = measurements.load(path, catalog)
    assert b.kv_dtype == a.kv_dtype == "bf16" and b.weight_dtype == "fp8"
    trt = list(auto)
    trt[col["engine"]] = "tensorrt-llm"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, trt])
    with pytest.raises(InputError) as info:
        measurements.load(path, catalog)
    assert "kv_dtype: 'auto' is tensorrt-llm's choice of KV dtype" in str(info.value)


@pytest.mark.parametrize(
    ("cells", "group"),
    [
        ({"tp": "2", "ep": "8"}, (8, 8, 1)),  # -dp 4 -tp 2 --enable-expert-parallel
        ({"tp": "1", "ep": "1", "chips": "8"}, (8, 1, 1)),  # -dp 8: MoE layers over every rank
        ({"tp": "1", "ep": "8", "chips": "16"}, (8, 8, 2)),  # two such systems share the batch
    ],
)
def test_an_moe_rows_data_parallel_attention_group_as_vllm_writes_it(
    tmp_path, catalog, cells, group
):
    with BUNDLED.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    row = next(r for r in rows if r[0] == "cal-437")  # TP 8, EP 8, attention dp, 8 B200
    for column, value in cells.items():
        row[header.index(column)] = value
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, row])
    (r,) = measurements.load(path, catalog)
    assert (r.tp, r.ep, r.replicas) == group and r.attention == "dp"


@pytest.mark.parametrize(
    ("model", "ep", "needle"),
    [
        ("deepseek-v3", "999999999999", "ep: expected at most the 256 experts of deepseek-v3"),
        ("llama3.1-70b", "8", "ep: expected 1: llama3.1-70b has no experts, got 8"),
    ],
)
def test_an_expert_parallel_degree_beyond_the_experts_is_one_line(
    tmp_path, catalog, capsys, model, ep, needle
):
    """As many experts as there are at most (none for a dense model): before, 10^12 ranks
    asked numpy for terabytes (an internal error)."""
    from designer.interface.cli import main

    with BUNDLED.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    row = next(r for r in rows if r[0] == "cal-437")
    row[header.index("catalog_model")], row[header.index("ep")] = model, ep
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, row])
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_the_over_capacity_line_says_a_copys_share(tmp_path, capsys):
    """cal-152 states 256 sequences where 107 fit; as one of two copies sharing 512 it is named
    with its copy's share."""
    from designer.interface.cli import main

    with BUNDLED.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    col = {c: k for k, c in enumerate(header)}
    row = next(r for r in rows if r[0] == "cal-152")
    row[col["chips"]] = str(2 * int(row[col["tp"]]))
    row[col["batch"]] = str(2 * int(row[col["batch"]]))
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, row])
    assert main(["validate", str(path)]) == 0
    assert "cal-152 256 per copy of 2 → 107" in capsys.readouterr().out


def test_pp_and_kv_dtype_may_be_left_out(tmp_path, catalog):
    """Without a `pp` or `kv_dtype` column (or with the cells empty) a row is one pipeline stage
    with its KV cache in the weights' dtype: the same rows as written out."""
    with BUNDLED.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    col = {c: k for k, c in enumerate(header)}
    kept = [
        r
        for r in rows
        if r[col["pp"]] == "1" and r[col["kv_dtype"]] in ("", r[col["weight_dtype"]])
    ]
    assert len(kept) > 100
    drop = [k for k, c in enumerate(header) if c not in ("pp", "kv_dtype")]
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([[r[k] for k in drop] for r in [header, *kept]])
    full = tmp_path / "full.csv"
    with full.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *kept])
    assert measurements.load(path, catalog) == measurements.load(full, catalog)


def _bundled_rows() -> tuple[list[str], list[list[str]], dict[str, int]]:
    with BUNDLED.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows, {c: k for k, c in enumerate(header)}


def _csv(path, header: list[str], rows: list[list[str]]) -> str:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return str(path)


def test_skip_bad_rows_predicts_the_others_and_names_each_left_out(tmp_path, capsys):
    """Two bad rows among five: without the flag the file is one line naming the first (exit 2)
    and saying how to predict the rest; with it the three good rows are predicted exactly as
    they are alone, and each bad row is named on standard error and in --json `skipped`."""
    import json

    from designer.interface.cli import main

    header, rows, col = _bundled_rows()
    good = rows[:3]
    bad_chip, bad_tp = list(rows[3]), list(rows[4])
    bad_chip[col["chip"]] = "h999"
    bad_tp[col["tp"]] = "0"
    alone = _csv(tmp_path / "good.csv", header, good)
    mixed = _csv(tmp_path / "mixed.csv", header, [good[0], bad_chip, good[1], bad_tp, good[2]])

    assert main(["validate", mixed]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mixed.csv:3: chip" in err and "--skip-bad-rows" in err

    assert main(["validate", alone, "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert main(["validate", mixed, "--json", "--skip-bad-rows"]) == 0
    out, err = capsys.readouterr()
    got = json.loads(out)
    skipped = got.pop("skipped")
    assert got == expected
    assert [(s["line"], s["id"]) for s in skipped] == [(3, bad_chip[0]), (5, bad_tp[0])]
    assert "mixed.csv:3: chip" in skipped[0]["error"] and "mixed.csv:5: tp" in skipped[1]["error"]
    lines = err.strip().splitlines()
    assert lines == [f"designer: left out: {s['error']}" for s in skipped]

    assert main(["validate", mixed, "--skip-bad-rows"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"2 row(s) left out as bad input and not predicted: {bad_chip[0]}, ")


def test_skip_bad_rows_with_no_good_row_is_bad_input(tmp_path, capsys):
    from designer.interface.cli import main

    header, rows, col = _bundled_rows()
    bad = [list(r) for r in rows[:2]]
    for r in bad:
        r[col["batch"]] = "-1"
    path = _csv(tmp_path / "bad.csv", header, bad)
    assert main(["validate", path, "--skip-bad-rows"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": batch:")[0] for line in err[:2]] == [
        f"designer: left out: {path}:2",
        f"designer: left out: {path}:3",
    ]
    assert "no measurement rows (2 left out as bad input; the first: " in err[2]
    assert len(err) == 3


def test_skip_bad_rows_reads_a_ragged_row_and_forgets_a_left_out_rows_words(tmp_path, capsys):
    """A row with more fields than the header (a comma in its notes) is left out like any bad
    row, in the file's order; the words of a row left out are not in `read_as`; a --platform
    whose rows may all have been left out says so."""
    import json

    from designer.interface.cli import main

    header, rows, col = _bundled_rows()
    good = list(rows[0])
    words = list(rows[1])
    words[col["chip"]], words[col["hardware"]] = "", "NVIDIA H200 SXM 141GB"
    words[col["batch"]] = "0"  # read as h200, then bad input
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerows([header, words])
        f.write(",".join(good) + ",one field too many\n")
        w.writerow(good)
    assert main(["validate", str(path), "--json", "--skip-bad-rows"]) == 0
    out, err = capsys.readouterr()
    got = json.loads(out)
    assert [s["line"] for s in got["skipped"]] == [2, 3]
    assert "3: 24 fields where the header has 23" in got["skipped"][1]["error"]
    assert "read_as" not in got and got["points"] == 1
    assert main(["validate", str(path), "--skip-bad-rows", "--platform", "h200/tensorrt-llm"]) == 2
    err = capsys.readouterr().err
    assert "unknown platform 'h200/tensorrt-llm'" in err
    assert "2 row(s) left out as bad input may be its rows (each named above)" in err


def test_skip_bad_rows_in_a_ttft_file(tmp_path, capsys):
    import json

    from designer.calibration import ttft
    from designer.interface.cli import main

    with ttft.bundled_path().open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    col = {c: k for k, c in enumerate(header)}
    bad = list(rows[1])
    bad[col["batch"]] = "4"  # a TTFT under concurrency: not the model's one-pass TTFT
    path = _csv(tmp_path / "ttft.csv", header, [rows[0], bad, rows[2]])
    assert main(["validate", path, "--json"]) == 2
    capsys.readouterr()
    assert main(["validate", path, "--json", "--skip-bad-rows"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["points"] == 2 and [s["line"] for s in got["skipped"]] == [3]


def test_a_row_whose_weights_exceed_the_chips_memory_is_named(tmp_path, capsys):
    """Llama 3 70B in bf16 (about 141 GB) on one 80 GB H100 is no deployment: the row is
    predicted as stated, named in a line and in its JSON row; the bundled rows name none."""
    import json

    from designer.interface.cli import main

    header, rows, col = _bundled_rows()
    row = next(
        list(r)
        for r in rows
        if r[col["chip"]] == "h100-sxm"
        and r[col["catalog_model"]] == "llama3-70b"
        and r[col["weight_dtype"]] == "bf16"
    )
    row[col["tp"]] = row[col["chips"]] = "1"
    path = _csv(tmp_path / "one.csv", header, [row])
    assert main(["validate", path, "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)["rows"][0]
    assert rec["memory_gb_per_chip"] == pytest.approx(80.0)
    assert 130 < rec["weights_gb_per_chip"] < 150
    assert main(["validate", path]) == 0
    out = capsys.readouterr().out
    assert "1 of 1 rows state a group whose weights alone exceed each chip's memory" in out
    assert f"{row[0]} {rec['weights_gb_per_chip']:,.0f} GB > 80 GB" in out
    assert main(["validate", str(BUNDLED), "--json"]) == 0
    assert not any("weights_gb_per_chip" in r for r in json.loads(capsys.readouterr().out)["rows"])
    # 141 GB of bf16 weights on one H200 ("141 GB": 140.4 GiB) is served, and 72 stages of 80
    # layers hold each stage's weights only, whatever the context
    fits = [list(row), list(row)]
    fits[0][col["chip"]] = "h200"
    fits[1][col["chips"]], fits[1][col["tp"]], fits[1][col["pp"]] = "576", "8", "72"
    fits[1][col["input_tokens"]] = "32000"
    assert main(["validate", _csv(tmp_path / "fits.csv", header, fits), "--json"]) == 0
    assert not any("weights_gb_per_chip" in r for r in json.loads(capsys.readouterr().out)["rows"])


@pytest.mark.parametrize(
    ("written", "layout"),
    [
        ("DP attention", "dp"),  # SGLang's words
        ("Attention DP", "dp"),  # TensorRT-LLM's (enable_attention_dp)
        ("data-parallel", "dp"),
        ("data parallel attention", "dp"),  # vLLM's
        ("Tensor_Parallel", "tp"),
        ("", "dp"),  # unstated, with ep 8 over tp 8: the row's own layout is not read from it
    ],
)
def test_attention_layouts_as_engines_write_them(tmp_path, catalog, written, layout):
    header, rows, col = _bundled_rows()
    row = next(list(r) for r in rows if r[0] == "cal-437")  # DeepSeek-R1, TP 8, EP 8, DP
    row[col["attention"]] = written
    (r,) = measurements.load(_csv(tmp_path / "m.csv", header, [row]), catalog)
    assert r.attention == (layout if written else "tp")


def test_an_unknown_attention_layout_quotes_the_cell(tmp_path, catalog):
    header, rows, col = _bundled_rows()
    row = next(list(r) for r in rows if r[0] == "cal-437")
    row[col["attention"]] = "Pipeline"
    with pytest.raises(InputError, match="attention: unknown attention layout 'Pipeline'"):
        measurements.load(_csv(tmp_path / "m.csv", header, [row]), catalog)


@pytest.mark.parametrize("cells", [{"attention": ""}, {}])
def test_experts_wider_than_tp_without_a_layout_are_data_parallel_attention(
    tmp_path, catalog, cells
):
    """vLLM's `-dp 8 --enable-expert-parallel` written as tp 1, ep 8 in a file with no (or an
    empty) `attention` column: only data-parallel attention ranks spread experts wider than TP,
    so it is read as the row stating `dp`; stating `tp` stays bad input."""
    header, rows, col = _bundled_rows()
    row = next(list(r) for r in rows if r[0] == "cal-437")
    row[col["tp"]] = "1"
    stated = measurements.load(_csv(tmp_path / "dp.csv", header, [row]), catalog)
    for column, value in cells.items():
        row[col[column]] = value
    keep = [k for k, c in enumerate(header) if c in cells or c != "attention"]
    path = _csv(tmp_path / "m.csv", [header[k] for k in keep], [[row[k] for k in keep]])
    assert measurements.load(path, catalog) == stated
    assert (stated[0].tp, stated[0].ep, stated[0].attention) == (8, 8, "dp")
    row[col["attention"]] = "tp"
    with pytest.raises(InputError, match="ep"):
        measurements.load(_csv(tmp_path / "tp.csv", header, [row]), catalog)


def test_a_row_beyond_its_models_context_is_named(tmp_path, capsys):
    """200,000 prompt tokens on Llama 3.1 (a context of 131,072) are misstated lengths or a
    context the source extended: predicted as stated, named in a line and its JSON row."""
    import json

    from designer.interface.cli import main

    header, rows, col = _bundled_rows()
    row = next(list(r) for r in rows if r[col["catalog_model"]] == "llama3.1-8b")
    row[col["input_tokens"]], row[col["output_tokens"]] = "200000", "1000"
    path = _csv(tmp_path / "long.csv", header, [row])
    assert main(["validate", path, "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)["rows"][0]
    assert (rec["context_tokens"], rec["model_context"]) == (201_000, 131_072)
    assert main(["validate", path]) == 0
    out = capsys.readouterr().out
    assert "1 of 1 rows state more tokens (prompt and output; a TTFT's prompt) than their" in out
    assert f"{row[0]} 201,000 > 131,072 tokens" in out


def test_an_engine_that_does_not_run_on_the_chip_is_one_line(tmp_path, catalog):
    """As `designer evaluate --engine` refuses it (catalogs/engines.toml): TensorRT-LLM on an
    MI300X is misread words or a misstated row, not a prediction."""
    header, rows, col = _bundled_rows()
    row = next(list(r) for r in rows if r[col["chip"]] == "mi300x")
    row[col["engine"]] = "tensorrt-llm"
    with pytest.raises(InputError) as info:
        measurements.load(_csv(tmp_path / "m.csv", header, [row]), catalog)
    assert "m.csv:2: engine: tensorrt-llm does not run on mi300x (AMD); engines that do:" in str(
        info.value
    )


def test_the_engine_error_of_a_row_in_words_names_what_was_read(tmp_path, catalog):
    header, rows, col = _bundled_rows()
    row = next(list(r) for r in rows if r[col["chip"]] == "mi300x")
    row[col["hardware"]], row[col["software"]] = "AMD Instinct MI300X", "TensorRT-LLM 0.20"
    keep = [k for k, c in enumerate(header) if c not in ("chip", "engine")]
    path = _csv(tmp_path / "m.csv", [header[k] for k in keep], [[row[k] for k in keep]])
    with pytest.raises(InputError) as info:
        measurements.load(path, catalog)
    assert "m.csv:2: software (no engine id): tensorrt-llm does not run on mi300x" in str(
        info.value
    )
    said = "(software 'TensorRT-LLM 0.20' read as tensorrt-llm; hardware 'AMD Instinct MI300X' "
    assert said + "read as mi300x)" in str(info.value)


def test_a_ragged_row_without_the_flag_is_a_bad_row_in_the_files_order(tmp_path, capsys):
    from designer.interface.cli import main

    header, rows, col = _bundled_rows()
    bad = list(rows[1])
    bad[col["batch"]] = "0"
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, rows[0], bad])
        f.write(",".join(rows[2]) + ",one field too many\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "m.csv:3: batch" in err and "--skip-bad-rows" in err and err.count("\n") == 1
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, rows[0]])
        f.write(",".join(rows[2]) + ",one field too many\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "m.csv:3: 24 fields where the header has 23" in err and "--skip-bad-rows" in err


def test_an_error_on_an_inferred_layout_says_it_was_inferred(tmp_path, catalog):
    header, rows, col = _bundled_rows()
    row = next(list(r) for r in rows if r[0] == "cal-437")  # DeepSeek-R1, 8 B200
    row[col["attention"]], row[col["tp"]], row[col["pp"]] = "", "4", "2"  # 16 chips by EP × PP
    with pytest.raises(InputError) as info:
        measurements.load(_csv(tmp_path / "m.csv", header, [row]), catalog)
    assert "chips: expected a multiple of the 16 chips" in str(info.value)
    assert "(no attention stated: read as dp, since ep 8 > tp 4)" in str(info.value)


def test_a_capacity_stated_in_gib_is_not_read_as_gib_again(tmp_path, capsys):
    """Llama 4 Scout in fp8 (108 GB) exceeds a Trainium2's 96 GiB (103 GB) and a TPU v5p's
    95 GiB: the weights line names both; an H100's "80 GB" is read as 80 GiB."""
    import json

    from designer.interface.cli import main

    header, rows, col = _bundled_rows()
    base = next(list(r) for r in rows if r[col["weight_dtype"]] == "fp8")
    out = []
    for chip in ("trainium2", "tpu-v5p"):
        row = list(base)
        row[col["id"]], row[col["chip"]], row[col["engine"]] = chip, chip, "vllm"
        row[col["catalog_model"]], row[col["tp"]], row[col["chips"]] = "llama4-scout", "1", "1"
        row[col["software"]] = "vLLM"
        out.append(row)
    assert main(["validate", _csv(tmp_path / "m.csv", header, out), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["rows"]
    assert [round(r["memory_gb_per_chip"], 1) for r in got] == [103.1, 102.0]


def test_a_ttft_row_beyond_memory_or_context_is_named_as_a_decode_row(tmp_path, capsys):
    """A TTFT file's rows get the same lines: Llama 3 70B bf16 on one H100 (141 GB > 80 GB),
    and a 200,000-token prompt on Llama 3.1 70B (a context of 131,072)."""
    import json

    from designer.calibration import ttft
    from designer.interface.cli import main

    with ttft.bundled_path().open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    col = {c: k for k, c in enumerate(header)}
    heavy = next(list(r) for r in rows if r[col["chip"]] == "h100-sxm")
    heavy[col["catalog_model"]], heavy[col["weight_dtype"]] = "llama3-70b", "bf16"
    heavy[col["kv_dtype"]], heavy[col["tp"]] = "bf16", "1"
    long = next(list(r) for r in rows if r[col["catalog_model"]] == "llama3.1-70b")
    long[col["input_tokens"]] = "200000"
    path = _csv(tmp_path / "ttft.csv", header, [heavy, long])
    assert main(["validate", path, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["rows"]
    assert got[0]["weights_gb_per_chip"] > 130 and "context_tokens" not in got[0]
    assert (got[1]["context_tokens"], got[1]["model_context"]) == (200_000, 131_072)
    assert main(["validate", path]) == 0
    out = capsys.readouterr().out
    assert "1 of 2 rows state a group whose weights alone exceed" in out
    assert "1 of 2 rows state more tokens" in out
