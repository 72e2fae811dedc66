"""Published decode measurements (CSV) and the model's prediction of what each one measured.

A measurement row names a platform (catalog `chip` × serving `engine`), a `catalog_model`,
dtypes, the partition (`tp`, `pp`), the `batch` (requests in flight), the prompt and output
lengths, and `ms_per_output_token` with a `measure` saying what that number is
(catalogs/measurements/README.md):

- `itl`: inter-token latency as a serving benchmark reports it, (request latency − TTFT) /
  (output tokens − 1), with `batch` requests kept in flight (each replaced when it finishes):
  one decode step at the batch, plus the other requests' prefills that run while this one
  decodes: as stand-alone passes that stall the decode (`closed_loop_itl`), or, for engine
  builds that run arriving prompts inside the decode steps (`engines.mixed_batches`), as prompt
  tokens those steps carry (`mixed_load`, `mixed_cost`); at batch 1 exactly one decode step;
- `e2e_per_output_token`: request latency / output tokens, one prefill of the batch's prompts
  plus `output_tokens − 1` decode steps, divided by `output_tokens`;
- `throughput_step`: batch / output tokens per second with prefill included, the same
  quantity for a static batch.

Decode steps are taken at the mean context, `input_tokens + output_tokens / 2`. An empty
`kv_dtype` (the source does not say) is read as the weight dtype: FP8 engines of TensorRT-LLM
keep an FP8 KV cache, 16-bit engines a 16-bit one (several FP8 rows would not fit their batch in
memory with a 16-bit cache; catalogs/measurements/README.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from designer.calibration import engines, plain_names
from designer.model import partition as partitions
from designer.model import perf, serving
from designer.model.assumptions import Assumptions
from designer.model.catalog import Catalog
from designer.model.dtypes import DTYPE_BYTES
from designer.model.errors import BadRow, InputError, excerpt, one_line, unknown
from designer.model.files import read_csv
from designer.model.partition import MAX_PARTITION
from designer.model.prefill import link_bandwidth, prefill_time, total_time
from designer.model.units import MAX_TOKENS
from designer.model.workload import Efficiency, Workload

MEASURES = ("itl", "e2e_per_output_token", "throughput_step")
# other names of a measure: a serving benchmark's TPOT, (request latency − TTFT) / (output
# tokens − 1), is what `itl` rows hold (vLLM's benchmark_serving.py reports both), with the
# names benchmarks print for its mean (vLLM's and SGLang's "Mean TPOT", "Mean ITL"; genai-perf's
# "Inter Token Latency", "Time Per Output Token"); a median or a percentile is not a mean and
# stays an unknown measure
MEASURE_SPELLINGS = {
    **{
        name: "itl"
        for name in (
            "tpot",
            "mean tpot",
            "mean itl",
            "time per output token",
            "inter token latency",
        )
    },
    # a benchmark's mean time to first token (of one request: `measure` = `ttft` rows)
    "mean ttft": "ttft",
    "time to first token": "ttft",
}

# a one-request time to first token: `load` hands such rows to `designer validate` (`FirstToken`)
TTFT = "ttft"
# the columns `configuration` reads, which every measurements CSV has
CONFIGURATION_COLUMNS = (
    "id",
    "source_url",
    "chip",
    "engine",
    "catalog_model",
    "weight_dtype",
    "kv_dtype",
    "tp",
    "pp",
)
COLUMNS = (
    *CONFIGURATION_COLUMNS,
    "batch",
    "input_tokens",
    "output_tokens",
    "ms_per_output_token",
    "measure",
)
# columns a file may leave out (or a row leave empty), as `ep`, `attention` and `chips`: one
# pipeline stage, and a KV cache in the weights' dtype (the source does not state it)
OPTIONAL = ("pp", "kv_dtype")


# every name `measure_of` reads, as it folds them: the measures' own and their spellings
_MEASURE_NAMES = {m.replace("_", " "): m for m in (*MEASURES, TTFT)} | MEASURE_SPELLINGS


def measure_of(written: str) -> str:
    """The catalog's name of a `measure` cell: lower case, `_`/`-` read as spaces, a unit of
    milliseconds at the end dropped (benchmarks' `Mean TPOT (ms)`, `mean_tpot_ms`: the value's
    unit, which `ms_per_output_token` states), a spelling of `MEASURE_SPELLINGS` as its measure
    (unknown names are returned for the caller to refuse).

    >>> measure_of("Mean_TPOT"), measure_of("Inter-Token Latency (ms)"), measure_of("itl_ms")
    ('itl', 'itl', 'itl')
    >>> measure_of("E2E per output token (ms)")
    'e2e_per_output_token'
    >>> measure_of("Mean TPOT (s)")  # a value in seconds under that name: not read
    'mean tpot (s)'
    """
    key = " ".join(written.casefold().replace("_", " ").replace("-", " ").split())
    key = re.sub(r"\s*(?:\(ms\)|\bms)$", "", key)
    return _MEASURE_NAMES.get(key, written.strip().casefold())


def required(columns: tuple[str, ...]) -> list[str]:
    """`columns` without those a file may leave out (`OPTIONAL`)."""
    return [c for c in columns if c not in OPTIONAL]


@dataclass(frozen=True)
class Configuration:
    """What every published row states of the configuration it measured, in catalog terms
    (`configuration`): decode rows (`Measurement`) and TTFT rows (`ttft.Row`) alike."""

    id: str
    source_url: str
    chip: str
    engine: str
    model: str
    weight_dtype: str
    kv_dtype: str
    tp: int
    pp: int

    @property
    def platform(self) -> str:
        """Chip × serving engine, e.g. 'h100-sxm/tensorrt-llm'."""
        return f"{self.chip}/{self.engine}"


@dataclass(frozen=True)
class Measurement(Configuration):
    """One published measurement, in catalog terms."""

    batch: int
    input_tokens: int
    output_tokens: int
    measured_ms: float
    measure: str
    ep: int = 1  # expert-parallel degree (optional column `ep`)
    attention: str = "tp"  # attention layout (optional column `attention`: tp | dp)
    software: str = ""  # the engine build as the source names it (optional column `software`)
    # copies of the tensor × pipeline group the row's system ran (optional column `chips`:
    # chips / (tp × pp)); `batch` is then each copy's share of the system's (`replicas`)
    replicas: int = 1
    date: str = ""  # when it was measured or published, as written (optional column `date`)

    @property
    def mixed(self) -> bool:
        """Whether the row's engine build runs arriving prompts inside its decode steps
        (`engines.mixed_batches`): what the in-flight correction of an `itl` row charges."""
        return engines.mixed_batches(self.engine, self.software, self.date)

    @property
    def version(self) -> str | None:
        """The engine build the row's `software` states ("0.5.6"), None when it states none."""
        return engines.stated_version(self.engine, self.software)

    @property
    def build(self) -> str | None:
        """The engine build the row is predicted as running: the one its `software` states,
        else, when its software names the engine alone, the newest its `date` shows was out
        (`engines.build`: SGLang 0.5.6 for an SGLang row of 2025-12), else None."""
        return engines.build(self.engine, self.software, self.date)

    @property
    def build_from_date(self) -> str | None:
        """The build the row is taken to run from its date alone (`build` when its software
        states none), None when its software states one or nothing implies one."""
        return None if self.version else self.build

    @property
    def source(self) -> str:
        """The publication, for leave-one-source-out."""
        return self.source_url

    @property
    def decode_context(self) -> int:
        """Mean tokens of context over the decode: prompt + output / 2."""
        return self.input_tokens + self.output_tokens // 2


@dataclass(frozen=True)
class FirstToken(Configuration):
    """One published time to first token of a one-request run (`ttft.Row`): a row of a TTFT
    file (catalogs/measurements/prefill.csv's layout), or a `measure` = `ttft` row of a
    measurements file."""

    input_tokens: int
    ttft_ms: float


def configuration(
    row: dict, where: str, catalog: Catalog, read: plain_names.Read | None = None
) -> dict:
    """The `Configuration` fields of a CSV row (`where`: its file and line): a catalog chip
    and model, an engine that runs on the chip (`engines.check`), dtypes (the KV cache's, when
    not stated, the weights'), positive TP and PP.
    A chip, engine or model id left empty (or its column absent) is read from the source's
    words, `hardware`, `software` and `model` (`plain_names.resolve`, recording in `read`)."""
    written = plain_names.resolve(row, "chip", where, catalog, read)
    chip = next((c for c in catalog.raw["chips"] if c.casefold() == written.casefold()), None)
    if chip is None:  # ids in any case ("H200" is h200)
        raise unknown("chip", written, catalog.raw["chips"], where=where, key="chip")
    named = plain_names.resolve(row, "catalog_model", where, catalog, read)
    model = catalog.model_id(named)  # an alias or a Hugging Face id: its catalog entry
    if model is None:
        raise unknown("model", named, catalog.model_names(), where=where, key="catalog_model")
    engine = engines.canonical(plain_names.resolve(row, "engine", where, catalog, read))
    # an engine that does not run on the chip (catalogs/engines.toml), as `designer evaluate`
    # refuses it: the words were misread, or the row misstates its chip or engine
    try:
        engines.check(catalog, chip, engine)
    except InputError as exc:
        raise _read_from(exc, row, chip, engine, where) from None
    kv = (row.get("kv_dtype") or "").strip()
    if kv.casefold() == "auto":  # an engine's --kv-cache-dtype auto, as its command says it
        kv = _auto_kv(engine, row["weight_dtype"], where)
    return {
        "id": row["id"].strip(),
        "source_url": row["source_url"].strip(),
        "chip": chip,
        "engine": engine,
        "model": model,
        "weight_dtype": _dtype(row["weight_dtype"], where, "weight_dtype"),
        "kv_dtype": _dtype(kv or row["weight_dtype"], where, "kv_dtype"),
        "tp": _int(row, "tp", where),
        "pp": _int(row, "pp", where, default=1),
    }


def _read_from(exc: InputError, row: dict, chip: str, engine: str, where: str) -> InputError:
    """`engines.check`'s error `exc` for a row whose engine does not run on its chip, naming
    the column the engine came from and the words each of the two was read from."""
    said = [
        f"{words} {excerpt((row.get(words) or '').strip())} read as {found}"
        for column, words, found in (("engine", "software", engine), ("chip", "hardware", chip))
        if not (row.get(column) or "").strip()
    ]
    written = (row.get("engine") or "").strip()
    return InputError(
        exc.message + (f" ({'; '.join(said)})" if said else ""),
        where=where,
        key="engine" if written else "software (no engine id)",
    )


# engines whose `--kv-cache-dtype auto` keeps the KV cache in the model's data type (the
# checkpoint's 16-bit torch_dtype, also for FP8 and FP4 checkpoints): vLLM's engine arguments
# ("If 'auto', will use model data type", https://docs.vllm.ai/en/v0.5.3/models/engine_args.html)
# and SGLang's server arguments (https://docs.sglang.io/advanced_features/server_arguments.html).
# TensorRT-LLM's `auto` follows the checkpoint's own KV quantization
# (https://github.com/NVIDIA/TensorRT-LLM/pull/16240), which a row does not state.
AUTO_KV_MODEL_DTYPE = ("vllm", "sglang")


def _auto_kv(engine: str, weight_dtype: str, where: str) -> str:
    """The KV dtype `auto` stands for under `engine`: the model's data type — fp16 or fp32 for
    such weights, else bf16 (the 16-bit torch_dtype of quantized checkpoints) — where the
    engine documents that (`AUTO_KV_MODEL_DTYPE`); elsewhere an error.

    >>> _auto_kv("vllm", "fp8", "f"), _auto_kv("sglang", "fp16", "f")
    ('bf16', 'fp16')
    """
    if engine not in AUTO_KV_MODEL_DTYPE:
        raise InputError(
            f"'auto' is {engine}'s choice of KV dtype (known here for "
            f"{' and '.join(AUTO_KV_MODEL_DTYPE)}: the model's data type); write the dtype the "
            "run used",
            where=where,
            key="kv_dtype",
        )
    weights = _dtype(weight_dtype, where, "weight_dtype")
    return weights if weights in ("fp16", "fp32") else "bf16"


def partition_of(row: dict, where: str, catalog: Catalog, config: dict) -> dict:
    """The group a row ran on, past `configuration`'s stated `tp` and `pp`: `tp` (the chips of a
    pipeline stage the model's layers spread over), `ep`, `attention` and `replicas` (copies of
    the group, `replicas`), checked as `designer evaluate` checks a design (`partition.reason`,
    `partition.expert_reason`, `partition.experts_reason`).

    With data-parallel attention an MoE model's experts spread over the chips of every attention
    rank, and a row written as vLLM's launch command has it is read as that group, as SGLang's and
    TensorRT-LLM's commands write it (`--tp 8 --enable-dp-attention`): `-dp 4 -tp 2
    --enable-expert-parallel` (`tp` 2, `ep` 8, EP = DP × TP) as `ep` chips; `-dp 8` without it
    (`tp` 1, `ep` 1, the MoE layers split over every rank) as the `chips` / `pp` it states. A row
    stating no attention layout is TP attention, or data-parallel when its `ep` exceeds its `tp`
    (no engine spreads experts wider than TP otherwise)."""
    stated = attention_of(row, where)
    ep = _int(row, "ep", where, default=1)
    model = catalog.model(config["model"])
    tp, pp = config["tp"], config["pp"]
    # unstated: TP attention, unless the experts spread over more chips than TP, which only
    # data-parallel attention ranks do (vLLM's `-dp 8 --enable-expert-parallel`, tp 1, ep 8)
    attention = stated or ("dp" if model.is_moe and ep > tp else "tp")
    if why := partitions.experts_reason(model, ep):
        raise InputError(why, where=where, key="ep")
    chips = _int(row, "chips", where, default=None)
    if attention == "dp" and model.is_moe:  # vLLM's DP ranks × TP: the experts' group
        if ep > tp:  # --enable-expert-parallel: EP = DP × TP
            tp = ep
        elif tp == ep == 1 and chips is not None and chips % pp == 0:  # MoE layers TP-split
            tp = chips // pp
    try:
        if why := partitions.expert_reason(tp, ep):
            raise InputError(why, where=where, key="ep")
        # a partition the model cannot run (TP not dividing the heads, more stages than layers)
        if why := partitions.reason(model, tp, pp, attention):
            key = "pp" if why.startswith(f"{pp} pipe") else "tp"
            raise InputError(why, where=where, key=key)
        copies = replicas(chips, tp * pp, where)
    except InputError as exc:  # on a group read from an inferred layout: say so
        if stated is not None or attention != "dp":
            raise
        note = f" (no attention stated: read as dp, since ep {ep} > tp {config['tp']})"
        raise InputError(exc.message + note, where=exc.where, key=exc.key) from None
    return {"tp": tp, "ep": ep, "attention": attention, "replicas": copies}


# the attention layouts as engines' documents write them, past the word "attention" (SGLang's
# "DP attention", TensorRT-LLM's "attention DP", vLLM's "data parallel attention")
ATTENTION_SPELLINGS = {"data parallel": "dp", "tensor parallel": "tp"}


def attention_of(row: dict, where: str) -> str | None:
    """The attention layout of a row (optional column `attention`): `tp` or `dp`, in any case
    and as engines write them (`dp attention`, `Attention DP`, `data-parallel`); None when the
    cell is absent or empty (`partition_of` reads the layout from the partition)."""
    written = (row.get("attention") or "").strip()
    words = written.casefold().replace("_", " ").replace("-", " ").split()
    key = " ".join(w for w in words if w != "attention")
    if not words:
        return None
    attention = ATTENTION_SPELLINGS.get(key, key)
    if attention not in perf.ATTENTION_LAYOUTS:
        raise unknown(
            "attention layout", written, perf.ATTENTION_LAYOUTS, where=where, key="attention"
        )
    return attention


# dtypes as publications and frameworks spell them → the catalog's (`DTYPE_BYTES`): NVFP4
# checkpoints are read as fp4, as the shipped rows write them (catalogs/measurements/README.md)
DTYPE_SPELLINGS = {
    "bfloat16": "bf16",
    "float16": "fp16",
    "half": "fp16",
    "float32": "fp32",
    "float8": "fp8",
    "e4m3": "fp8",
    "nvfp4": "fp4",
}


def _dtype(text: str, where: str, key: str) -> str:
    """The catalog dtype a cell states: 'fp16/bf16' (the source does not distinguish) →
    'fp16' (both are 2 bytes); the first word of 'FP8 (E4M3)' or 'fp8_e4m3', past a
    quantization scheme's bit widths ('W8A8 FP8', as model cards write it: the scheme alone
    names no number format); a spelling of `DTYPE_SPELLINGS` ('bfloat16', 'NVFP4') as the
    catalog's.

    >>> _dtype("FP8 (E4M3)", "f", "weight_dtype"), _dtype("bfloat16", "f", "kv_dtype")
    ('fp8', 'bf16')
    >>> _dtype("W8A8-FP8", "f", "weight_dtype"), _dtype("w4a16 int4", "f", "weight_dtype")
    ('fp8', 'int4')
    >>> try:  # 4-bit weights, FP8 activations
    ...     _dtype("W4A8 FP8", "f", "weight_dtype")
    ... except InputError as e:
    ...     print(e.message)
    'W4A8 FP8' states 4-bit weights and fp8 (8-bit): write the weights' dtype
    """
    written = text.strip().lower().split("/")[0]
    words = re.findall(r"[a-z0-9]+", written)
    schemes = [int(m.group(1)) for w in words if (m := re.fullmatch(r"w(\d+)a\d+", w))]
    words = [w for w in words if not re.fullmatch(r"w\d+a\d+", w)]
    d = (words or [""])[0]
    d = DTYPE_SPELLINGS.get(d, d)
    if d not in DTYPE_BYTES:
        raise unknown("dtype", written, DTYPE_BYTES, where=where, key=key)
    if key == "weight_dtype" and any(int(8 * DTYPE_BYTES[d]) != bits for bits in schemes):
        raise InputError(
            f"{excerpt(text.strip())} states {schemes[0]}-bit weights and {d} "
            f"({int(8 * DTYPE_BYTES[d])}-bit): write the weights' dtype",
            where=where,
            key=key,
        )
    return d


MS_RANGE = (1e-3, 1e7)  # a time in ms: 1 µs to about 3 hours, else a typo or a unit slip


_REQUIRED = object()  # `_int`'s default: the cell must hold a number


def _int(row: dict, key: str, where: str, default: Any = _REQUIRED) -> Any:
    """The positive integer in cell `key`; `default` when given and the cell is empty or the
    column absent (an optional column: `ep`, `pp`, `chips`)."""
    text = (row.get(key) or "").strip()
    if not text and default is not _REQUIRED:
        return default
    # a spreadsheet writes 16 as "16.0", a table 1024 as "1,024"
    if re.fullmatch(r"[0-9]{1,3}(?:,[0-9]{3})+", text):
        text = text.replace(",", "")
    v = int(text.split(".")[0]) if re.fullmatch(r"[0-9]{1,12}(?:\.0*)?", text) else 0
    if v < 1:
        raise InputError(
            f"expected a positive integer (at most 12 digits), got {excerpt(text)}",
            where=where,
            key=key,
        )
    most = INT_BOUNDS.get(key)
    if most is not None and v > most:
        raise InputError(f"expected at most {most:,}, got {v:,}", where=where, key=key)
    return v


# the largest value a cell may state: as large as any input of an answer may be (a partition or
# a batch of `evaluate`, a context of the units' `MAX_TOKENS`); `ep`'s is the model's experts
INT_BOUNDS = {
    "tp": MAX_PARTITION,
    "pp": MAX_PARTITION,
    "chips": MAX_PARTITION,
    "batch": MAX_PARTITION,
    "input_tokens": MAX_TOKENS,
    "output_tokens": MAX_TOKENS,
}


def replicas(chips: int | None, group: int, where: str) -> int:
    """The copies of one tensor × pipeline group of `group` chips that a row's system ran: its
    `chips` (an optional column, the chips the source states) over `group`, 1 when the row
    states none. A row's `batch` is the system's (the clients' concurrency, or the batch
    submitted at once) and the copies share it, so each copy runs batch / copies (rounded, at
    least 1): the same ms per output token for every `measure`.

    >>> replicas(8, 2, "f.csv:2"), replicas(None, 8, "f.csv:2")
    (4, 1)
    """
    if chips is None:
        return 1
    if chips % group:
        raise InputError(
            f"expected a multiple of the {group} chips of one tensor × pipeline group (tp × pp; "
            f"ep × pp for an MoE model's data-parallel attention), got {chips}",
            where=where,
            key="chips",
        )
    return chips // group


def _ms(
    row: dict, where: str, key: str = "ms_per_output_token", what: str = "ms per output token"
) -> float:
    """The cell `key` in ms (`what`): a number, or a time with its unit ("43.8 ms", "0.0438
    s")."""
    text = row[key].strip()
    try:
        ms = float(text)
    except ValueError:
        ms = math.nan
        if re.search(r"[0-9]\s*[a-zµ]+$", text, re.IGNORECASE):
            from designer.model import units  # pint only for a cell that carries a unit

            with contextlib.suppress(InputError):  # reported below, as the number
                ms = units.parse(text, "time") * 1e3
    low, high = MS_RANGE
    if not low <= ms <= high:
        raise InputError(
            f"expected a positive number of {what}, from {low:g} to {high:,.0f}, "
            f"got {excerpt(text)}",
            where=where,
            key=key,
        )
    return ms


def load(
    path: str | Path,
    catalog: Catalog | None = None,
    read: plain_names.Read | None = None,
    first_tokens: list[FirstToken] | None = None,
    skipped: list[Skipped] | None = None,
) -> list[Measurement]:
    """Read a measurements CSV (columns in `COLUMNS`; `hardware`, `software` and `model` may
    stand for `chip`, `engine` and `catalog_model`: `plain_names`), checking chips and models
    exist. `read`, when given, receives what the source's words were read as
    (`plain_names.resolve`; each distinct words read once). Rows whose `measure` is `ttft` (a
    one-request time to first token in `ms_per_output_token`) go to `first_tokens` when it is
    given (`designer validate` predicts them, no profile is fitted to them), else are an error.
    A row that is bad input is an error (`BadRow`), or, when `skipped` is given, left out and
    appended to it (`designer validate --skip-bad-rows`); a file with no good row is an error.

    >>> from designer.calibration.measurements import load, bundled_path
    >>> rows = load(bundled_path())
    >>> len(rows), rows[0].platform, rows[0].measure
    (461, 'h100-sxm/tensorrt-llm', 'itl')
    """
    p = Path(path)
    catalog = catalog or Catalog.load()
    read = {} if read is None else read
    ragged: list = []  # rows of more or fewer fields than the header: bad rows (`each_row`)
    header, rows = read_csv(p, "a measurements CSV", ragged=ragged)
    missing = plain_names.missing(header, required(COLUMNS))
    # a prefill.csv: validate reads it (`ttft.holds_ttft`)
    if missing and "ttft_ms" in header and "ms_per_output_token" not in header:
        raise InputError(
            "a file of times to first token (ttft_ms): designer validate predicts it; "
            "profiles are fitted to decode rows (expected the decode columns "
            f"{', '.join(COLUMNS)})",
            where=str(p),
        )
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)} (expected {', '.join(COLUMNS)})",
            where=str(p),
        )
    out = each_row(
        p, rows, ragged, read, skipped, lambda r, w: _measurement(r, w, catalog, read, first_tokens)
    )
    if not out and not first_tokens:
        raise InputError(f"no measurement rows{none_left(skipped)}", where=str(p))
    return out


def _measurement(
    row: dict, where: str, catalog: Catalog, read, first_tokens: list[FirstToken] | None
) -> Measurement | None:
    """The decode measurement of a CSV row, or None for a `ttft` row (`_first_token`)."""
    written = row["measure"].strip()
    measure = measure_of(written)
    if measure == TTFT:
        _first_token(row, where, catalog, read, first_tokens)
        return None
    if measure not in MEASURES:
        raise unknown("measure", written, (*MEASURES, TTFT), where=where, key="measure")
    ms = _ms(row, where)
    config = configuration(row, where, catalog, read)
    group = partition_of(row, where, catalog, config)
    copies = group["replicas"]
    return Measurement(
        **{**config, "tp": group["tp"]},
        batch=max(1, math.floor(_int(row, "batch", where) / copies + 0.5)),
        input_tokens=_int(row, "input_tokens", where),
        output_tokens=_int(row, "output_tokens", where),
        measured_ms=ms,
        measure=measure,
        ep=group["ep"],
        attention=group["attention"],
        software=(row.get("software") or "").strip(),
        replicas=copies,
        date=(row.get("date") or "").strip(),
    )


@dataclass(frozen=True)
class Skipped:
    """A row left out as bad input (`designer validate --skip-bad-rows`): its line in the file
    (where the row ends, as error lines name it), its `id` cell and the one-line error it would
    have been."""

    line: int
    id: str
    error: str


def each_row(path, rows, ragged, read: plain_names.Read, skipped: list[Skipped] | None, build):
    """`build(row, where)` of each CSV row of `path` (`read_csv`'s rows; None results dropped),
    in the file's order with the rows `read_csv` found `ragged`. A row that is bad input (a
    ragged one too) is an error (`BadRow`), or, when `skipped` is given, left out and appended
    to it; the words a row left out was read as are forgotten (`read` holds the words of the
    rows read)."""
    out = []
    ordered = sorted([(n, row, None) for n, row in rows] + list(ragged), key=lambda x: x[0])
    for n, row, bad in ordered:
        if bad is not None:  # a ragged row (`files.read_csv`)
            skip(bad, n, row, skipped)
            continue
        before = {column: set(words) for column, words in read.items()}
        try:
            got = build(row, f"{path}:{n}")
        except InputError as exc:
            for column in list(read):  # forget what this row's words were read as
                for w in set(read[column]) - before.get(column, set()):
                    del read[column][w]
                if not read[column]:
                    del read[column]
            skip(exc, n, row, skipped)
            continue
        if got is not None:
            out.append(got)
    return out


def skip(exc: InputError, line: int, row: dict, skipped: list[Skipped] | None) -> None:
    """Leave the row at `line` out, appending it to `skipped`; without a list, raise its error
    as a `BadRow`."""
    if skipped is None:
        raise BadRow(exc.message, where=exc.where, key=exc.key) from None
    skipped.append(Skipped(line, (row.get("id") or "").strip(), one_line(str(exc))))


def none_left(skipped: list[Skipped] | None) -> str:
    """What an empty file's error adds when rows were left out: how many, and the first's error."""
    if not skipped:
        return ""
    return f" ({len(skipped)} left out as bad input; the first: {skipped[0].error})"


def _first_token(
    row: dict, where: str, catalog: Catalog, read, first_tokens: list[FirstToken] | None
) -> None:
    """A `measure` = `ttft` row of a measurements file, appended to `first_tokens` (one
    request: `batch` 1; the TTFT in `ms_per_output_token`), or the error saying where such a
    row is read."""
    if first_tokens is None:
        raise InputError(
            "a time to first token (measure ttft): designer validate predicts it; profiles "
            "are fitted to decode rows",
            where=where,
            key="measure",
        )
    first_tokens.append(first_token(row, where, catalog, read, "ms_per_output_token"))


def first_token(row: dict, where: str, catalog: Catalog, read, column: str) -> FirstToken:
    """A one-request time to first token of `row`, in its cell `column` (`ttft_ms` in a TTFT
    file, `ms_per_output_token` for a `measure` = `ttft` row), on the group `partition_of`
    reads: `batch` 1, since the model's TTFT is one prefill pass with no queue."""
    if _int(row, "batch", where) != 1:
        raise InputError(
            "expected 1 for a time to first token (one request: the model's TTFT is one "
            "prefill pass; a TTFT under concurrency holds a queue it does not predict)",
            where=where,
            key="batch",
        )
    config = configuration(row, where, catalog, read)
    tp = partition_of(row, where, catalog, config)["tp"]
    # a TTFT is predicted under a profile of its engine (`ttft.answer_ms`): one that none is
    # fitted to is named here, with its row, not when it is predicted
    from designer.calibration import profiles

    profiles.check_engine(config["engine"], where=where, key="engine")
    return FirstToken(
        **{**config, "tp": tp},
        input_tokens=_int(row, "input_tokens", where),
        ttft_ms=_ms(row, where, column, "ms"),
    )


def measured_ranges(rows: list[Measurement], catalog: Catalog) -> dict[str, int]:
    """How far `rows` reach in the batch: the largest per model family (`dense_batch`,
    `moe_batch`, and `mla_batch` for the MLA models among them; a family without rows left
    out). A profile's `measured_ranges` (which also say which layer times its rows could set:
    `profiles.with_layer_times`); the interval table's ranges of the same names."""
    out: dict[str, int] = {}
    for r in rows:
        m = catalog.model(r.model)
        for f, member in (
            ("moe_batch", m.is_moe),
            ("dense_batch", not m.is_moe),
            ("mla_batch", m.is_mla),
        ):
            if member:
                out[f] = max(out.get(f, 0), r.batch)
    return dict(sorted(out.items()))


def bundled_path(name: str = "decode.csv") -> Path:
    """A shipped measurements file: the calibration set, catalogs/measurements/decode.csv, by
    default."""
    from designer.model.catalog import bundled_dir

    return bundled_dir() / "measurements" / name


@dataclass(frozen=True)
class Prepared:
    """A measurement with its workloads and hardware built once (fits re-predict often)."""

    row: Measurement
    decode: Workload
    prompt: Workload
    hw: dict
    link_bw: float
    in_flight: int  # sequences the engine holds at once: the batch, or what memory allows
    request: Workload  # the request (prompt + output tokens): the prompts' cost in mixed steps


def partition(r: Measurement) -> dict:
    """The row's expert-parallel degree and attention layout, as `perf.evaluate_arrays`
    keywords."""
    return {"ep": r.ep, "attention": r.attention}


def in_flight(r: Measurement, decode: Workload, hw: dict) -> int:
    """Sequences in flight: the row's batch, or fewer when their KV at the mean context does
    not fit beside the weights (`perf`'s memory per chip against the chip's usable capacity).
    Paged-KV engines (all of the data's) then hold as many as fit, on average over a step's
    life, and run the rest as those finish. The mean context is the average occupancy: a static
    batch reaches its peak only at its end, when the engine preempts the latest sequences. A
    batch of one is kept even when it does not fit (there is no smaller deployment to offer).

    >>> from designer.model.catalog import Catalog
    >>> cat = Catalog.load()
    >>> r = next(r for r in load(bundled_path(), cat) if r.id == "cal-05")
    >>> r.batch, prepare([r], cat)[0].in_flight  # its source derives ~86 by Little's law
    (100, 85)
    """
    # under data-parallel attention a rank holds ⌈B/t⌉ sequences: memory grows every t of them
    per = r.tp if r.attention == "dp" else 1
    mem = perf.evaluate_arrays(decode, hw, r.tp, r.pp, np.array([per, 2 * per]), **partition(r))[
        "memory_per_chip_bytes"
    ]
    room = float(hw["usable_capacity"]) - float(mem[0])
    if room < 0:
        return r.batch
    return int(min(r.batch, per * (1 + room // float(mem[1] - mem[0]))))


def weights_per_chip(
    workload: Workload, tp: int, pp: int, ep: int = 1, attention: str = "tp"
) -> float:
    """Bytes of the model's weights each chip of a group holds (`perf`'s share of a pipeline
    stage, of TP and of the experts; attention whole under data-parallel attention)."""
    dp = attention == "dp"
    return float(perf.weight_bytes_held_per_chip(workload, tp, pp, ep, dp))


# Measurements are predicted with the equations answers use by default: the deployment set
# (KV heads where their attention runs, collectives with bytes), so a profile's stated error
# is the error of the answers it serves.
MEASURED_ASSUMPTIONS = Assumptions.preset("deployment")


def prepare(rows: list[Measurement], catalog: Catalog) -> list[Prepared]:
    out = []
    for r in rows:
        arch = catalog.model(r.model)
        a = MEASURED_ASSUMPTIONS
        # the GEMM precision the row's engine runs (W8A8/W4A4: catalogs/engines.toml)
        act = {"assumptions": a, "activation_dtype": engines.activation(r.engine)}
        dec = Workload(arch, r.decode_context, r.weight_dtype, r.kv_dtype, **act)
        pro = Workload(arch, r.input_tokens, r.weight_dtype, r.kv_dtype, **act)
        req = Workload(
            arch,
            r.input_tokens + r.output_tokens,
            r.weight_dtype,
            r.kv_dtype,
            prompt_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            **act,
        )
        hw = perf.ChipArrays.build(catalog, [r.chip], dec.compute_dtype).take(0)
        bw = link_bandwidth(catalog, r.chip)
        out.append(Prepared(r, dec, pro, hw, bw, in_flight(r, dec, hw), req))
    return out


def closed_loop_itl(step_s: float, prefill_s: float, batch: int, output_tokens: int) -> float:
    """Mean inter-token latency with `batch` requests in flight, each replaced on completion.

    While one request decodes for `X = O·ITL` seconds, each of the other `B − 1` slots starts
    new requests at one per cycle `T_pf + X`, and each new request's prefill `T_pf` holds up
    the decode: `X = O·T_d + (B − 1)·T_pf·X / (T_pf + X)`, the positive root of
    `X² + (T_pf − O·T_d − (B−1)·T_pf)·X − O·T_d·T_pf = 0`. At `B = 1`, `ITL = T_d`.

    >>> closed_loop_itl(0.02, 0.4, 1, 500)
    0.02
    >>> round(closed_loop_itl(0.02, 0.4, 50, 500), 4)
    0.0587
    """
    o_td = output_tokens * step_s
    b = o_td + (batch - 2) * prefill_s
    x = (b + (b * b + 4.0 * o_td * prefill_s) ** 0.5) / 2.0
    return x / output_tokens


def mixed_load(item: Prepared) -> tuple[float, float]:
    """`(f, q)` of an `itl` row's mixed steps (`serving.chunk_share`): while one request decodes
    `O` tokens, the other `b − 1` slots each bring a new prompt of `P` tokens every `O` steps, so
    its steps carry `c = (b − 1)·P/O` prompt tokens on average, in chunks of the engine's default
    token budget (`serving.DEFAULT_CHUNK_TOKENS`)."""
    r = item.row
    c = (item.in_flight - 1) * r.input_tokens / r.output_tokens
    f, q = serving.chunk_share(item.request, c, serving.DEFAULT_CHUNK_TOKENS)
    return float(f), float(q)


def mixed_cost(item: Prepared, eff: Efficiency) -> tuple:
    """`serving.chunk_cost` of `q` prompt tokens (`mixed_load`) in a step of the row's
    sequences in flight, under profile `eff`."""
    r = item.row
    req = dataclasses.replace(item.request, efficiency=eff)
    q = mixed_load(item)[1]
    return serving.chunk_cost(req, item.hw, r.tp, item.in_flight, q, serving.DEFAULT_CHUNK_TOKENS)


def predict_ms(item: Prepared, eff: Efficiency, catalog: Catalog) -> float:
    """The model's value of what `item.row` measured, in ms per output token: `perf` and
    `prefill` evaluated for this one row (the reference `Terms.predict` is checked against).

    `b = item.in_flight` sequences run at once. `itl`: the closed-loop ITL at `b` (requests
    beyond it wait before their first token, which ITL does not count); for a mixed-batch
    build (`Measurement.mixed`) the mean of its steps with and without the other requests'
    prompt tokens (`mixed_load`, `serving.with_chunk`, `serving.averaged`). Static batches: `B/b`
    waves of one prefill of `b` prompts and `O − 1` decode steps at `b`, over `O` tokens.
    """
    r = item.row
    b = item.in_flight
    dec = dataclasses.replace(item.decode, efficiency=eff)
    step = float(perf.evaluate_arrays(dec, item.hw, r.tp, r.pp, b, **partition(r))["step_time_s"])
    pro = dataclasses.replace(item.prompt, efficiency=eff)
    if r.measure == "itl":
        if b == 1:
            return step * 1e3
        if r.mixed:
            m = perf.evaluate_arrays(dec, item.hw, r.tp, r.pp, b, **partition(r))
            f = mixed_load(item)[0]
            mixed = serving.with_chunk(
                step, float(m["memory_time_s"]), float(m["compute_time_s"]), *mixed_cost(item, eff)
            )
            return float(serving.averaged(f, mixed, step)) * 1e3
        one = prefill_time(
            pro, item.hw, item.link_bw, tp=r.tp, pp=r.pp, prompt_tokens=r.input_tokens
        )
        return closed_loop_itl(step, one.time_s, b, r.output_tokens) * 1e3
    pf = prefill_time(
        pro, item.hw, item.link_bw, tp=r.tp, pp=r.pp, prompts=b, prompt_tokens=r.input_tokens
    )
    waves = r.batch / b
    return waves * (pf.time_s + (r.output_tokens - 1) * step) / r.output_tokens * 1e3


def _prompts(item: Prepared) -> int:
    """Prompts in the prefill a row's measure includes: one for `itl` (another request's, in
    the closed loop), the sequences in flight for `e2e_per_output_token` and
    `throughput_step`."""
    return 1 if item.row.measure == "itl" else item.in_flight


# Every profile-dependent part of a prediction is a share of peak (time ∝ 1/η) or a software
# time the step adds (affine in the τ's), so each row is evaluated once at the hardware limit and
# once with a probe collective latency, and any profile is then applied to all rows as arrays.
_LIMIT = Efficiency()
_PROBE = Efficiency(collective_latency=1e-3)


@dataclass(frozen=True)
class Terms:
    """The profile-free parts of the rows' predictions, one array entry per row.

    `step_*` are one decode step's memory, compute and collective times at the hardware limit
    and its number of collectives (each adds the profile's τ_coll); `prefill_*` the same for the
    prefill the row's measure includes (`_prompts`). `predict` applies a profile; it equals
    `predict_ms` row by row (tests/test_calibrate.py) in under a thousandth of its time
    (benchmarks/bench_calibrate.py).
    """

    itl: np.ndarray  # True: closed-loop ITL (one decode step at batch 1), else per output token
    mixed: np.ndarray  # True: an `itl` row of a mixed-batch build (`Measurement.mixed`, b > 1)
    mixed_share: np.ndarray  # f of its mixed steps (`mixed_load`), 0 elsewhere
    chunk_memory: np.ndarray  # what the mixed steps' prompt tokens add at the limit (s)
    chunk_compute: np.ndarray
    chunk_sync: np.ndarray
    layers: np.ndarray
    width: np.ndarray  # `perf.sequence_scale` of the row's model (τ_seq multiplies it)
    moe_layers: np.ndarray
    mla_layers: np.ndarray
    step_experts: np.ndarray  # `perf.expert_passes` of a decode step (τ_expert multiplies it)
    prefill_experts: np.ndarray  # and of the prefill pass
    step_kv: np.ndarray  # KV bytes the busiest chip reads per step / its peak bandwidth (s)
    batch: np.ndarray  # sequences in flight (`Prepared.in_flight`)
    rank_batch: np.ndarray  # of them, those on the busiest rank (`perf.users_per_rank`)
    waves: np.ndarray  # static batches: the row's batch over the sequences in flight
    prompts: np.ndarray
    output_tokens: np.ndarray
    step_memory: np.ndarray
    step_compute: np.ndarray
    step_sync: np.ndarray
    step_collectives: np.ndarray
    prefill_memory: np.ndarray
    prefill_compute: np.ndarray
    prefill_sync: np.ndarray
    prefill_collectives: np.ndarray
    overlap: bool

    @classmethod
    def of(cls, items: list[Prepared]) -> Terms:
        cols: dict[str, list[float]] = {f: [] for f in cls.__dataclass_fields__ if f != "overlap"}
        for item in items:
            r = item.row
            dec = dataclasses.replace(item.decode, efficiency=_LIMIT)
            b = item.in_flight
            m = perf.evaluate_arrays(dec, item.hw, r.tp, r.pp, b, **partition(r))
            probe = perf.evaluate_arrays(
                dataclasses.replace(item.decode, efficiency=_PROBE),
                item.hw,
                r.tp,
                r.pp,
                b,
                **partition(r),
            )
            pf = [
                prefill_time(
                    dataclasses.replace(item.prompt, efficiency=e),
                    item.hw,
                    item.link_bw,
                    tp=r.tp,
                    pp=r.pp,
                    prompts=_prompts(item),
                    prompt_tokens=r.input_tokens,
                )
                for e in (_LIMIT, _PROBE)
            ]
            tau = _PROBE.collective_latency
            mixed = r.measure == "itl" and r.mixed and b > 1
            chunk = mixed_cost(item, _LIMIT) if mixed else (0.0, 0.0, 0.0)
            for name, v in (
                ("itl", r.measure == "itl"),
                ("mixed", mixed),
                ("mixed_share", mixed_load(item)[0] if mixed else 0.0),
                ("chunk_memory", float(chunk[0])),
                ("chunk_compute", float(chunk[1])),
                ("chunk_sync", float(chunk[2])),
                ("layers", dec.layers),
                ("width", perf.sequence_scale(dec.model)),
                ("moe_layers", dec.model.moe_layers),
                ("mla_layers", dec.layers if dec.model.is_mla else 0),
                (
                    "step_experts",
                    float(perf.expert_passes(dec, r.ep, b * dec.tokens_per_step)),
                ),
                (
                    "prefill_experts",
                    float(perf.expert_passes(dec, 1, _prompts(item) * r.input_tokens)),
                ),
                ("step_kv", float(perf.kv_read_time(dec, item.hw, r.tp, b, r.attention == "dp"))),
                ("batch", b),
                ("rank_batch", float(perf.users_per_rank(r.tp, b, r.attention == "dp"))),
                ("waves", 1.0 if r.measure == "itl" else r.batch / b),
                ("prompts", _prompts(item)),
                ("output_tokens", r.output_tokens),
                ("step_memory", float(m["memory_time_s"])),
                ("step_compute", float(m["compute_time_s"])),
                ("step_sync", float(m["sync_time_s"])),
                ("step_collectives", float(probe["sync_time_s"] - m["sync_time_s"]) / tau),
                ("prefill_memory", pf[0].memory_s),
                ("prefill_compute", pf[0].compute_s),
                ("prefill_sync", pf[0].collective_s),
                ("prefill_collectives", (pf[1].collective_s - pf[0].collective_s) / tau),
            ):
                cols[name].append(v)
        overlap = bool(items) and items[0].decode.assumptions.per_sequence_overlap
        flags = ("itl", "mixed")
        arrays = {k: np.array(v, dtype=bool if k in flags else float) for k, v in cols.items()}
        return cls(**arrays, overlap=overlap)

    def take(self, index) -> Terms:
        """The rows at `index` (an index array or mask)."""
        fields = [f for f in self.__dataclass_fields__ if f != "overlap"]
        return dataclasses.replace(self, **{f: getattr(self, f)[index] for f in fields})

    def predict(self, eff: Efficiency) -> np.ndarray:
        """ms per output token of every row under profile `eff`."""
        step = perf.step_time(
            self.step_memory / eff.bandwidth,
            self.step_compute / eff.compute,
            self.step_sync + self.step_collectives * eff.collective_latency,
            perf.software_time(
                eff,
                self.layers,
                self.rank_batch,
                self.moe_layers,
                self.mla_layers,
                self.step_kv,
                self.step_experts,
                self.width,
            ),
            perf.sequence_time(eff, self.layers, self.rank_batch, self.step_kv, self.width),
            self.overlap,
        )
        step = step * eff.step_scale  # homogeneous: the step of every term scaled (perf)
        pf = total_time(
            self.prefill_compute / eff.prefill_compute,
            self.prefill_memory / eff.bandwidth,
            self.prefill_sync + self.prefill_collectives * eff.collective_latency,
            perf.software_time(
                eff,
                self.layers,
                self.prompts,
                self.moe_layers,
                self.mla_layers,
                0.0,
                self.prefill_experts,
                self.width,
            ),
        )
        o = self.output_tokens
        mixed = serving.with_chunk(
            step,
            self.step_memory / eff.bandwidth * eff.step_scale,
            self.step_compute / eff.compute * eff.step_scale,
            self.chunk_memory / eff.bandwidth,
            self.chunk_compute / eff.prefill_compute,
            self.chunk_sync,
        )
        per_token = np.where(
            self.itl,
            np.where(
                self.mixed,
                serving.averaged(self.mixed_share, mixed, step),
                closed_loop_itl(step, pf, self.batch, o),
            ),
            self.waves * (pf + (o - 1) * step) / o,
        )
        return per_token * 1e3


def predict_all(items: list[Prepared], eff: Efficiency, catalog: Catalog) -> np.ndarray:
    """`predict_ms` of every item, as one array computation (`Terms`)."""
    return Terms.of(items).predict(eff)
