"""A generated fuzz corpus of every input family of issue 7, reproducible from a seed.

Families: `problem` (mutated problem files: nasty values, deleted and unknown keys, duplicate
list entries), `problem-text` (byte-level damage to valid TOML), `argv` (command lines of
evaluate, solve and catalog), `hf` (mutated Hugging Face configs), `catalog` (catalog folders
through DESIGNER_CATALOG_PATH) and `special` (folders, FIFOs, /dev/zero, symlink loops, binary,
UTF-16 and oversized files, deep nesting). Each case says whether it is known bad, known valid
or only bound by the contract (see harness.Case).
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import tomllib
from pathlib import Path

from tests.fuzz.harness import ROOT, Case

FIXTURES = ROOT / "tests" / "fixtures" / "hf"
CATALOGS = ROOT / "catalogs"
NAN, INF = math.nan, math.inf

# ---- value pools -----------------------------------------------------------------------------
BAD_NUMBERS = [NAN, INF, -INF, -1, -0.5, -(2**63), 1e308, -1e308]
HUGE_NUMBERS = [2**63 - 1, 2**64, 10**30 + 1]  # absurd, yet finite: valid for some keys
BAD_TYPES = [True, "", "abc", "x" * 5000, [], [1, 2], {"a": 1}, "50", "1e3"]
QUANTITY_ATTACKS = [
    "1 us * 9**9**9",
    "1 W % 2",
    "114 us # x",
    "2**10 B",
    "1e999 W",
    "nan W",
    "inf W",
    "-inf W",
    "1 us)",
    "(1 us",
    "1 W; import os",
    "__import__('os')",
    "1 " + "k" * 3000 + "W",
    "0x10 W",
    "1_000 W",
    "½ W",
    "1 W^9",
    "9" * 400 + " W",
    "1e-400 W",
    "1e31 W",
    "5",
    "",
    "1 MWh",
    "1 meter",
    "1 delta_degC",
]
MODELS = ["llama3.1-8b", "llama3.1-70b", "qwen3-32b", "mixtral-8x22b", "gpt-oss-20b"]
FAST_CHIPS = ["xpu-hbm3", "xpu-hbm4", "h100-sxm", "b200", "mi300x", "tpu-v5e"]
DTYPES = ["bf16", "fp16", "fp8", "int8", "fp4", "int4", "mxfp4"]  # fp32: not every chip has it

# key → (valid values, values that must be rejected)
PROBLEM_KEYS: dict[str, tuple[list, list]] = {
    "workload.model": (MODELS, ["llama3.1-8B", "", 8, "../nope/config.json", "x" * 3000]),
    "workload.context_tokens": ([1, 4096, 131072, 2**20, 8192.0], [0, -1, 2**31, 1.5, NAN]),
    "workload.weight_dtype": (DTYPES, ["fp9", "", 8, "FP8"]),
    "workload.kv_dtype": (DTYPES, ["fp9", "", None]),
    "workload.collectives_per_layer": ([0, 1, 2, 4], [-1, 2000, 1.5]),
    "sla.tokens_per_s_per_user": ([1, 20, 50, 1000, 1e6, 0.5], [0, -1, "50 tok/s"]),
    "sla.concurrent_users": ([1, 32, 256, 10**5], [0, -3, 2**31, 0.5]),
    "objective.minimize": (["capex", "power", "tco", "cost_per_mtoken", "chips"], ["cost", 1]),
    "space.chips": (
        [["xpu-hbm3"], ["h100-sxm", "h100-sxm", "b200"], ["mi300x", "tpu-v5e"]],
        [[], ["nope"], [1], "xpu-hbm3", ["xpu-hbm3"] * 2000],
    ),
    "space.tp": ([[1, 2, 4, 8], [8, 8, 8], [1], [3, 5]], [[0], [2**21], [], ["8"], [1.5], 8]),
    "space.pp": ([[1, 2], [1], [4, 4]], [[0], [-1], [2**40], [NAN]]),
    "space.max_batch": ([1, 16, 64, 256], [0, -1, 2**21, 2.5]),
    "space.max_chips": ([0, 8, 64, 10**6], [-1, 2**41]),
    "limits.max_power": (["0 W", "10 kW", "1 MW", "1 GW", 0], ["-1 W", "1 MWh", "10", 10]),
    "limits.max_capex_usd": ([0, 1e5, 5e7, 1e12], [-1, "5e7", "5e7 USD"]),
    "limits.max_chips": ([0, 4, 100], [-4, 2.5]),
    "efficiency.bandwidth": ([0.5, 0.8, 1, 1.0], [0, 1.5, -0.2]),
    "efficiency.compute": ([0.3, 1], [0, 2]),
    "efficiency.overhead_per_layer": (["0 us", "0 s", "114 us", "1 µs", "1 μs"], ["-1 us"]),
}
OVERRIDES: list[tuple[str, object, str]] = [
    ("chips.xpu-hbm3.memory_bandwidth", "8 TiB/s", "ok"),
    ("chips.xpu-hbm3.memory_capacity", "192 GiB", "ok"),
    ("chips.h100-sxm.price_usd", 30000, "ok"),
    ("chips.h100-sxm.price_usd", 0, "ok"),
    ("interconnects.paper.inter_domain_latency", "1 us", "ok"),
    ("interconnects.paper.intra_domain_latency", "0 us", "ok"),
    ("costs.defaults.electricity_usd_per_kwh", 0.2, "ok"),
    ("models.llama3.1-8b.num_hidden_layers", 16, "ok"),
    ("chips.xpu-hbm3.compute.fp8", "1 PFLOPS", "ok"),
    ("chips.h100-sxm.price_usd", NAN, "bad"),
    ("chips.h100-sxm.price_usd", INF, "bad"),
    ("chips.h100-sxm.tdp", "nan W", "bad"),
    ("chips.h100-sxm.tdp", "0 W", "bad"),
    ("chips.h100-sxm.tdp", "1e999 W", "bad"),
    ("chips.xpu-hbm3.memory_bandwidth", "0 TB/s", "bad"),
    ("chips.xpu-hbm3.compute.fp8", "0 PFLOPS", "bad"),
    ("chips.xpu-hbm3.usable_memory_fraction", NAN, "bad"),
    ("chips.xpu-hbm3.server_chips", 2**40, "bad"),
    ("costs.defaults.amortization_years", 0, "bad"),
    ("costs.defaults.pue", INF, "bad"),
    ("costs.defaults.utilization", 0, "bad"),
    ("interconnects.paper.domain_size", 0, "bad"),
    ("interconnects.paper.inter_domain_latency", "-1 us", "bad"),
    ("models.llama3.1-8b.num_hidden_layers", 0, "bad"),
    ("models.llama3.1-8b.num_hidden_layers", 2**40, "bad"),
    ("models.llama3.1-8b.hidden_size", NAN, "bad"),
    ("models.llama3.1-8b.sliding_window_layers", 1000, "bad"),
    ("models.mixtral-8x22b.num_experts_per_tok", 0, "bad"),
    ("chips.nope.memory_bandwidth", "1 TB/s", "bad"),
    ("chips.xpu-hbm3.nope", 1, "bad"),
    ("chips.xpu-hbm3", 1, "bad"),
    ("chips.xpu-hbm3.memory_bandwidth.x", 1, "bad"),
]


# ---- writing TOML ----------------------------------------------------------------------------
def toml_value(v) -> str:
    """A TOML literal for `v` (NaN and ±inf included, which TOML has as nan and inf)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    if v is None:
        return '""'  # TOML has no null; an empty string is as wrong for every key
    raise TypeError(type(v))


def toml_text(raw: dict) -> str:
    lines = []
    for section, body in raw.items():
        if isinstance(body, dict):
            lines.append(f"[{json.dumps(section)}]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in body.items()]
        else:
            lines.insert(0, f"{json.dumps(section)} = {toml_value(body)}")
    return "\n".join(lines) + "\n"


def base_problem(rng: random.Random) -> dict:
    """A small valid problem that solves in well under a second."""
    return {
        "workload": {"model": rng.choice(MODELS[:3]), "context_tokens": rng.choice([4096, 8192])},
        "sla": {"tokens_per_s_per_user": rng.choice([20, 50, 100]), "concurrent_users": 64},
        "objective": {"minimize": rng.choice(["capex", "power", "tco", "chips"])},
        "space": {
            "chips": rng.sample(FAST_CHIPS, 3),
            "tp": [1, 2, 4, 8],
            "pp": [1, 2],
            "max_batch": 64,
        },
    }


def _device(folder: Path, device: str, name: str) -> str:
    """An output name that is a symlink to `device`: a designer that refuses devices refuses
    it, and one that writes a temporary file and renames it over the name replaces the link,
    never the device itself (run as root, that rename would replace /dev/null)."""
    link = folder / name
    os.symlink(device, link)
    return str(link)


def _set(raw: dict, dotted: str, value) -> None:
    section, _, key = dotted.partition(".")
    raw.setdefault(section, {})[key] = value


class Corpus:
    """Writes the files of the cases it generates under `folder`."""

    def __init__(self, folder: Path, seed: int = 7):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rng = random.Random(seed)
        self.n = 0

    def path(self, name: str) -> Path:
        self.n += 1
        d = self.folder / f"c{self.n:05d}"
        d.mkdir()
        return d / name

    def write(self, name: str, text: str | bytes) -> Path:
        p = self.path(name)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")
        return p

    def solve(self, raw: dict, family: str, expect: str, note: str, *extra: str) -> Case:
        p = self.write("problem.toml", toml_text(raw))
        json_flag = ["--json"] if self.rng.random() < 0.7 else []
        return Case(family, ["solve", str(p), *json_flag, *extra], expect=expect, note=note)

    # ---- families ----------------------------------------------------------------------------
    def problem(self) -> Case:
        rng = self.rng
        raw = base_problem(rng)
        key = rng.choice(list(PROBLEM_KEYS))
        valid, bad = PROBLEM_KEYS[key]
        roll = rng.random()
        if roll < 0.35:
            value, expect = copy.deepcopy(rng.choice(valid)), "ok"
        elif roll < 0.6:
            value, expect = copy.deepcopy(rng.choice(bad)), "bad"
        elif roll < 0.75:  # bad for most keys, valid for a few ([1, 2] as space.tp)
            value = copy.deepcopy(rng.choice(BAD_NUMBERS + HUGE_NUMBERS + BAD_TYPES))
            expect = "any"
        else:  # never a quantity, never a name
            value, expect = rng.choice(QUANTITY_ATTACKS), "bad"
        _set(raw, key, value)
        note = f"{key} = {str(value)[:60]!r}"
        roll = rng.random()
        if roll < 0.08:  # a required key deleted
            section, k = rng.choice(
                [
                    ("workload", "model"),
                    ("workload", "context_tokens"),
                    ("sla", "tokens_per_s_per_user"),
                ]
            )
            raw[section].pop(k, None)
            expect, note = "bad", f"{note}; {section}.{k} deleted"
        elif roll < 0.14:  # an unknown key or section
            where = rng.choice(["workload", "sla", "spaces", "limit", "efficiency"])
            raw.setdefault(where, {})["contex_tokens"] = 1
            expect, note = "bad", f"{note}; unknown key in {where}"
        elif roll < 0.2:
            raw["workload"] = rng.choice([1, "x", [1]])
            expect, note = "bad", "workload is not a table"
        elif roll < 0.35:
            path, value, kind = rng.choice(OVERRIDES)
            raw["overrides"] = {path: value}
            expect = "bad" if kind == "bad" else expect
            note = f"{note}; override {path} = {str(value)[:40]!r}"
        return self.solve(raw, "problem", expect, note)

    def problem_text(self) -> Case:
        """Valid problem text damaged at the byte level."""
        rng = self.rng
        files = sorted((ROOT / "problems").glob("*.toml"))
        text = rng.choice(files).read_bytes()
        data = bytearray(text)
        for _ in range(rng.randint(1, 6)):
            op = rng.random()
            i = rng.randrange(len(data) + 1)
            if op < 0.3:
                data[i : i + 1] = bytes([rng.randrange(256)])
            elif op < 0.5:
                del data[i : i + rng.randint(1, 40)]
            elif op < 0.7:
                data[i:i] = rng.choice(
                    [
                        b"=",
                        b"[",
                        b"]",
                        b'"',
                        b"\n",
                        b"nan",
                        b"inf",
                        b"\x00",
                        b"\xff",
                        b"**9",
                        b"#",
                        b"%",
                        b"-",
                        b"9" * 30,
                    ]
                )
            else:
                data = data[: rng.randrange(len(data) + 1)]
        p = self.write("problem.toml", bytes(data))
        return Case("problem-text", ["solve", str(p), "--json"], note="damaged TOML")

    def argv(self) -> Case:
        rng = self.rng
        cmd = rng.choice(["evaluate", "evaluate", "solve", "catalog", "top"])
        expect = "any"
        if cmd == "evaluate":
            args = [
                "evaluate",
                "--model",
                rng.choice(MODELS + ["nope", ""]),
                "--chip",
                rng.choice(FAST_CHIPS + ["nope"]),
            ]
            for flag, good, bad in [
                ("--tp", ["1", "8", "64"], ["0", "-1", "4611686018427387904", "1.5", "nan", "x"]),
                ("--pp", ["1", "4"], ["0", "-2", "9" * 30]),
                ("--batch", ["1", "64", "1024"], ["0", "-9223372036854775808", "1e3"]),
                ("--replicas", ["1", "3"], ["0", str(2**62)]),
                (
                    "--context",
                    ["8192", "128K", "128k", "1.5K"],
                    ["0", "-5", "inf", "nanK", "12x", "1e400K", "99999999999"],
                ),
                ("--weight-dtype", DTYPES, ["fp9", ""]),
                ("--kv-dtype", DTYPES, ["int3"]),
                ("--bandwidth-efficiency", ["0.5", "1"], ["0", "nan", "inf", "1.5", "-1"]),
                ("--compute-efficiency", ["0.9"], ["nan", "2"]),
                (
                    "--overhead-per-layer",
                    ["114 us", "0 s", "1 µs"],
                    QUANTITY_ATTACKS[:14] + ["-1 us"],
                ),
                (
                    "--set",
                    ["chips.xpu-hbm3.memory_bandwidth=8TiB/s", "costs.defaults.pue=1.2"],
                    [
                        "chips.xpu-hbm3.memory_bandwidth=nan TB/s",
                        "chips.h100-sxm.price_usd=nan",
                        "chips.h100-sxm.price_usd=inf",
                        "sla.x=1",
                        "nonsense",
                        "=",
                        "models.llama3.1-8b.sliding_window_layers=999",
                        "chips.b300.tdp=1 W * 9**99",
                    ],
                ),
            ]:
                if rng.random() < 0.3:
                    if rng.random() < 0.5:
                        args += [flag, rng.choice(good)]
                    else:
                        args += [flag, rng.choice(bad)]
                        expect = "bad"
            if args[2] in ("nope", "") or args[4] == "nope":
                expect = "bad"
        elif cmd == "solve":
            problem = rng.choice(sorted((ROOT / "problems").glob("*.toml")))
            args = ["solve", str(problem)]
            if rng.random() < 0.5:
                args += [
                    "--set",
                    rng.choice(
                        [
                            "sla.tokens_per_s_per_user=1500",
                            "objective.minimize=power",
                            "space.max_batch=8",
                            "limits.max_power=1MW",
                            "limits.max_power=0",
                            "sla.concurrent_users=1",
                            "space.tp=[8,8]",
                            'space.chips=["b200","b200"]',
                        ]
                    ),
                ]
                if rng.random() < 0.5:
                    args += [
                        "--set",
                        rng.choice(
                            [
                                "sla.tokens_per_s_per_user=nan",
                                "sla.tokens_per_s_per_user=inf",
                                "space.tp=[4611686018427387904]",
                                "space.max_batch=0",
                                "sla.concurrent_users=-9223372036854775808",
                                "limits.max_power=1 W % 2",
                                "efficiency.overhead_per_layer=114 us # x",
                                "space.tp=[]",
                                "workload.context_tokens=1e300",
                                "chips.h100-sxm.price_usd=nan",
                                "efficiency.bandwidth=nan",
                                "workload.kv_dtype=fp9",
                                "space.tp=" + "[" * 5000,
                                "space.max_batch=" + "9" * 5000,
                            ]
                        ),
                    ]
                    expect = "bad"
            if rng.random() < 0.3:
                tl = rng.choice(["0", "-1", "nan", "inf", "1e400", "x"])
                args += ["--time-limit", tl]
                expect = "bad"
            elif rng.random() < 0.2:
                args += ["--time-limit", rng.choice(["5", "30", "0.5"])]
            if rng.random() < 0.3:
                args += ["--no-prune"]
            args += ["--json"] if rng.random() < 0.7 else []
        elif cmd == "catalog":
            section = rng.choice(
                ["chips", "models", "memory", "interconnects", "costs", "chip", ""]
            )
            args = ["catalog", rng.choice(["list", "show", "shw"]), section]
            if args[1] == "show":
                ids = {
                    "chips": ["b300", "xpu-hbm3", "h100-sxm", "rubin", "nope"],
                    "models": ["deepseek-v3", "kimi-k2", "x"],
                    "memory": ["hbm3"],
                    "interconnects": ["paper"],
                    "costs": ["defaults"],
                }.get(section, ["x"])
                if rng.random() < 0.9:
                    args.append(rng.choice(ids))
            if rng.random() < 0.7:
                args.append("--json")
        else:
            args = rng.choice(
                [
                    [],
                    ["--version"],
                    ["--help"],
                    ["bogus"],
                    ["evaluate"],
                    ["solve"],
                    ["evaluate", "--help"],
                    ["catalog"],
                    ["-x"],
                ]
            )
            expect = "any"
        return Case("argv", args, expect=expect, note=" ".join(args)[:120])

    def hf(self) -> Case:
        rng = self.rng
        folder = rng.choice(sorted(p for p in FIXTURES.iterdir() if p.is_dir()))
        raw = json.loads((folder / "config.json").read_text())
        expect, note = "ok", f"{folder.name} unchanged"
        roll = rng.random()
        ints = [
            "num_hidden_layers",
            "hidden_size",
            "num_attention_heads",
            "vocab_size",
            "num_key_value_heads",
            "intermediate_size",
            "head_dim",
        ]
        if roll < 0.15:
            key = rng.choice(
                ["num_hidden_layers", "hidden_size", "num_attention_heads", "vocab_size"]
            )
            raw[key] = None if rng.random() < 0.5 else raw.pop(key) and None
            if raw[key] is None and rng.random() < 0.5:
                del raw[key]
            expect, note = "bad", f"{key} null or missing"
        elif roll < 0.4:
            key = rng.choice([k for k in ints if k in raw] or ints)
            value = rng.choice([NAN, INF, -1, 0, 2**63, 1e300, 1.5, "32", True, [], {}])
            raw[key] = value
            expect, note = "bad", f"{folder.name}: {key} = {value!r}"
            mla = "kv_lora_rank" in raw
            if (key == "intermediate_size" and value == 0) or (
                mla and key in ("num_key_value_heads", "head_dim") and value == 0
            ):
                expect = "any"
        elif roll < 0.55:  # mixture-of-experts fields that contradict
            raw.update(
                rng.choice(
                    [
                        {"num_local_experts": 8, "num_experts_per_tok": 9},
                        {"num_local_experts": 8, "num_experts_per_tok": 0},
                        {
                            "n_routed_experts": 4,
                            "num_experts_per_tok": 2,
                            "moe_intermediate_size": 0,
                            "intermediate_size": 0,
                        },
                        {
                            "num_local_experts": 8,
                            "num_experts_per_tok": 2,
                            "first_k_dense_replace": 10**6,
                        },
                    ]
                )
            )
            expect, note = "bad", "inconsistent MoE fields"
        elif roll < 0.7:  # sliding windows beyond the layers
            layers = raw.get("num_hidden_layers") or 32
            raw.update(
                rng.choice(
                    [
                        {
                            "sliding_window": 128,
                            "sliding_window_layers": layers + rng.randint(1, 1000),
                        },
                        {
                            "sliding_window": 4096,
                            "layer_types": ["sliding_attention"] * (layers + 5),
                        },
                    ]
                )
            )
            expect, note = "bad", "more sliding-window layers than layers"
        elif roll < 0.8:
            raw[
                rng.choice(
                    [
                        "tie_word_embeddings",
                        "attention_bias",
                        "mlp_only_layers",
                        "text_config",
                        "layer_types",
                        "_name_or_path",
                        "torch_dtype",
                    ]
                )
            ] = rng.choice([None, 1, "yes", [1], {"a": None}, -1])
            expect, note = "any", "odd optional field"
        elif roll < 0.9:
            raw = rng.choice([[], 1, "x", None, {"text_config": None}, {}])
            expect, note = "bad", "not a config object"
        text = json.dumps(raw)  # NaN and Infinity written as JSON's non-standard tokens
        p = self.write("config.json", text)
        if rng.random() < 0.7:
            args = [
                "evaluate",
                "--model",
                str(p),
                "--chip",
                rng.choice(FAST_CHIPS),
                "--tp",
                rng.choice(["1", "8"]),
                "--context",
                rng.choice(["8192", "128K"]),
                "--json",
            ]
            return Case("hf", args, expect=expect, note=note)
        prob = base_problem(rng)
        prob["workload"]["model"] = "config.json"  # relative to the problem file
        pp = p.parent / "problem.toml"
        pp.write_text(toml_text(prob))
        return Case("hf", ["solve", str(pp), "--json"], expect=expect, note=note + " (solve)")

    def catalog(self) -> Case:
        rng = self.rng
        d = self.path("catalog").parent / "catalog"
        d.mkdir()
        section = rng.choice(["chips", "memory", "interconnects", "models", "costs"])
        raw = tomllib.loads((CATALOGS / f"{section}.toml").read_text())
        entry_id = rng.choice(sorted(raw))
        entry = raw[entry_id]
        keys = [k for k in entry if k not in ("source", "notes", "name", "confidence")]
        key = rng.choice(keys)
        roll = rng.random()
        expect = "any"
        if roll < 0.35:
            was_bool = isinstance(entry[key], bool)
            entry[key] = rng.choice(BAD_NUMBERS + HUGE_NUMBERS + BAD_TYPES)
            expect = "bad" if entry[key] not in HUGE_NUMBERS else "any"
            if key in ("vendor", "kind", "name") and isinstance(entry[key], str):
                expect = "any"
            if was_bool and isinstance(entry[key], bool):
                expect = "any"  # true is a valid value of a true/false key
        elif roll < 0.55:
            free_text = isinstance(entry[key], str) and not entry[key][:1].isdigit()
            entry[key] = rng.choice(QUANTITY_ATTACKS)
            expect = "any" if free_text else "bad"
        elif roll < 0.65:
            del entry[key]
        elif roll < 0.75:
            raw[entry_id] = rng.choice([1, "x", [], {}])
            expect = "bad"
        elif roll < 0.85:
            new = copy.deepcopy(entry)
            raw[entry_id + "-copy"] = new
            expect = "ok"
        note = f"{section}.{entry_id}.{key} = {str(entry.get(key))[:40]!r}"
        (d / f"{section}.toml").write_text(toml_text(raw))
        env = {"DESIGNER_CATALOG_PATH": str(d)}
        if rng.random() < 0.1:
            env = {
                "DESIGNER_CATALOG_PATH": rng.choice(
                    [
                        str(d) + os.pathsep + str(d / "nope"),
                        "::",
                        str(d / "chips.toml"),
                        "/dev/null",
                    ]
                )
            }
            expect, note = "any", note + " odd path list"
        cmds = [
            ["catalog", "list", section, "--json"],
            ["catalog", "show", section, entry_id, "--json"],
            ["evaluate", "--model", "llama3.1-8b", "--chip", "xpu-hbm3", "--json"],
        ]
        if section == "chips":
            cmds.append(["evaluate", "--model", "llama3.1-8b", "--chip", entry_id, "--json"])
        if section == "models":
            cmds.append(["evaluate", "--model", entry_id, "--chip", "b200", "--tp", "8", "--json"])
        args = rng.choice(cmds)
        return Case("catalog", args, env=env, expect=expect, note=note)

    def special(self) -> Case:
        rng = self.rng
        kind = rng.choice(
            [
                "dir",
                "fifo",
                "devzero",
                "devnull",
                "loop",
                "dangling",
                "binary",
                "utf16",
                "bom",
                "huge",
                "deep-array",
                "deep-table",
                "deep-dotted",
                "deep-json",
                "nul-path",
                "long-path",
                "bigint",
            ]
        )
        d = self.path("x").parent
        expect = "bad"
        if kind == "dir":
            p = d / "problem.toml"
            p.mkdir()
        elif kind == "fifo":
            p = d / "problem.toml"
            os.mkfifo(p)
        elif kind == "devzero":
            p = Path("/dev/zero")
        elif kind == "devnull":
            p = Path("/dev/null")
        elif kind == "loop":
            p = d / "loop.toml"
            os.symlink(p, p)
        elif kind == "dangling":
            p = d / "dangling.toml"
            os.symlink(d / "missing", p)
        elif kind == "binary":
            p = d / "problem.toml"
            p.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(1, 5000))))
            expect = "any"
        elif kind == "utf16":
            p = d / "problem.toml"
            p.write_text(toml_text(base_problem(rng)), encoding="utf-16")
        elif kind == "bom":  # a valid problem file (it is no catalog and no config.json)
            p = d / "problem.toml"
            p.write_bytes(b"\xef\xbb\xbf" + toml_text(base_problem(rng)).encode())
        elif kind == "huge":
            p = d / "problem.toml"
            p.write_text(toml_text(base_problem(rng)) + "# " + "x" * (2 << 20) + "\n")
        elif kind == "deep-array":
            n = rng.choice([40, 1000, 100000])
            p = d / "problem.toml"
            p.write_text(toml_text(base_problem(rng)) + "[overrides]\nx = " + "[" * n + "]" * n)
        elif kind == "deep-table":
            n = rng.choice([40, 5000])
            p = d / "problem.toml"
            p.write_text("x = " + "{a = " * n + "1" + "}" * n + "\n")
        elif kind == "deep-dotted":
            n = rng.choice([40, 50000])
            p = d / "problem.toml"
            p.write_text(".".join(["a"] * n) + " = 1\n")
        elif kind == "deep-json":
            n = rng.choice([40, 100000])
            p = d / "config.json"
            p.write_text("[" * n + "]" * n)
        elif kind == "nul-path":
            p = Path(str(d / "a") + "\x00b.toml")
        elif kind == "long-path":
            p = d / ("x" * 300 + ".toml")
        else:  # an integer of 5000 digits
            p = d / "problem.toml"
            p.write_text(toml_text(base_problem(rng)).replace("64", "9" * 5000, 1))
        use = rng.choice(["problem", "hf", "catalog", "catalog-file"])
        if p.name == "config.json":
            use = "hf"
        if use == "problem":
            args, env = ["solve", str(p), "--json"], {}
            expect = "ok" if kind == "bom" else expect
        elif use == "hf":
            args = [
                "evaluate",
                "--model",
                str(p) if str(p).endswith(".json") or "/" in str(p) else str(p) + "/",
                "--chip",
                "xpu-hbm3",
                "--json",
            ]
            env = {}
        elif use == "catalog":
            args, env = ["catalog", "list", "chips", "--json"], {"DESIGNER_CATALOG_PATH": str(p)}
            expect = "bad" if kind != "dir" else "any"
        else:
            cat = d / "cat"
            cat.mkdir()
            target = cat / "chips.toml"
            if kind not in ("nul-path", "long-path"):
                os.symlink(p, target)
            args = ["catalog", "list", "chips", "--json"]
            env = {"DESIGNER_CATALOG_PATH": str(cat)}
            if kind in ("dangling", "nul-path", "long-path"):
                expect = "any"
        if "\x00" in str(p) and env:
            env = {}
            args = ["solve", str(p)]
        return Case("special", args, env=env, expect=expect, note=f"{kind} as {use}")

    # ---- issue 17: every file read or written, and the processes a sweep starts ---------------
    def _hostile(self, d: Path, name: str, kind: str, valid: str) -> Path:
        """A file of `kind` at d/name (`valid`: the text of a good one, for bom/huge/latin1)."""
        p = d / name
        if kind == "fifo":
            os.mkfifo(p)
        elif kind == "devzero":
            return Path("/dev/zero")
        elif kind == "dir":
            p.mkdir()
        elif kind == "latin1":
            p.write_bytes(valid.encode() + b"# caf\xe9\n")
        elif kind == "bom":
            p.write_bytes(b"\xef\xbb\xbf" + valid.encode())
        elif kind == "huge":
            p.write_text(valid + "# " + "x" * (70 << 20) + "\n")
        else:
            p.write_text(valid)
        return p

    def _problem_file(self, d: Path, users: int = 64) -> Path:
        raw = base_problem(self.rng)
        raw["sla"]["concurrent_users"] = users
        raw["space"]["chips"] = ["h100-sxm", "b200"]
        p = d / f"problem-{users}.toml"
        p.write_text(toml_text(raw))
        return p

    def _study_file(self, d: Path, problem: Path, body: str, name: str = "study.toml") -> Path:
        p = d / name
        p.write_text(f"problem = {json.dumps(problem.name)}\n{body}")
        return p

    def study(self) -> Case:
        rng = self.rng
        d = self.path("x").parent
        problem = self._problem_file(d)
        good = self._study_file(
            d, problem, '[grid]\n"sla.tokens_per_s_per_user" = [20, 50]\n', "good.toml"
        )
        good = good.read_text()
        kind = rng.choice(
            [
                "valid",
                "bom",
                "fifo",
                "devzero",
                "dir",
                "latin1",
                "huge",
                "grid-1e6",
                "list-1e6",
                "unequal",
                "unknown-key",
                "empty",
                "not-list",
                "workers",
                "time-limit",
                "bad-path",
                "problem-fifo",
                "problem-key",
                "bigint",
            ]
        )
        expect = "bad"
        body = None
        if kind in ("valid", "bom"):
            expect = "ok"
        elif kind == "grid-1e6":
            body = (
                '[grid]\n"sla.tokens_per_s_per_user" = ['
                + ", ".join(str(v) for v in range(1, 1001))
                + ']\n"sla.concurrent_users" = ['
                + ", ".join(str(v) for v in range(1, 1001))
                + "]\n"
            )
        elif kind == "list-1e6":
            body = (
                '[list]\n"sla.tokens_per_s_per_user" = ['
                + ", ".join(str(1 + v % 90) for v in range(10**6))
                + "]\n"
            )
        elif kind == "unequal":
            body = '[list]\n"sla.tokens_per_s_per_user" = [20, 50]\n"sla.concurrent_users" = [1]\n'
        elif kind == "unknown-key":
            body = '[grid]\n"sla.tokens_per_s_per_user" = [20]\n[option]\nworkers = 1\n'
        elif kind == "empty":
            body = '[grid]\n"sla.tokens_per_s_per_user" = []\n'
        elif kind == "not-list":
            body = '[grid]\n"sla.tokens_per_s_per_user" = 20\n'
        elif kind == "workers":
            body = (
                '[grid]\n"sla.tokens_per_s_per_user" = [20]\n[options]\nworkers = '
                + rng.choice(['"x"', "-1", "0", "1e9", str(2**70)])
                + "\n"
            )
        elif kind == "time-limit":
            body = (
                '[grid]\n"sla.tokens_per_s_per_user" = [20]\n[options]\ntime_limit = '
                + rng.choice(['"x"', "-1", "0", "nan", "inf"])
                + "\n"
            )
        elif kind == "bad-path":
            body = '[grid]\n"sla.tokens_per_s_per_usr" = [20]\n'
        elif kind == "problem-fifo":
            os.mkfifo(d / "fifo.toml")
            text = 'problem = "fifo.toml"\n[grid]\n"sla.tokens_per_s_per_user" = [20]\n'
            (d / "study.toml").write_text(text)
        elif kind == "problem-key":
            text = 'problem = 5\n[grid]\n"sla.tokens_per_s_per_user" = [20]\n'
            (d / "study.toml").write_text(text)
        elif kind == "bigint":
            body = '[grid]\n"sla.tokens_per_s_per_user" = [' + "9" * 5000 + "]\n"
        if body is not None:
            study = self._study_file(d, problem, body)
        elif kind in ("problem-fifo", "problem-key"):
            study = d / "study.toml"
        else:
            study = self._hostile(d, "study.toml", kind, good)
        out = str(d / "out.csv")
        args = ["sweep", str(study), "--out", out, "--workers", "1", "--quiet"]
        work = 3.0 if expect == "ok" else 1.0  # a valid study solves its points
        return Case("study", args, expect=expect, note=f"study: {kind}", csv_out=out, work=work)

    def sweep(self) -> Case:
        """Output files of a sweep, its resume, --force, --workers and --scheduler."""
        from tests.fuzz import servers

        rng = self.rng
        d = self.path("x").parent
        problem = self._problem_file(d)
        grid = '[grid]\n"sla.tokens_per_s_per_user" = [20, 50]\n'
        study = self._study_file(d, problem, grid)
        out = d / "out.csv"
        kind = rng.choice(
            [
                "fresh",
                "formula",
                "problem",
                "study",
                "unrelated",
                "unrelated-force",
                "resume",
                "changed",
                "dir",
                "devfull",
                "devnull",
                "fifo",
                "parquet",
                "parquet-unrelated",
                "plot-unrelated",
                "plot-dir",
                "workers",
                "refused",
                "silent",
                "garbage",
                "malformed",
                "subdir",
            ]
        )
        expect, keep, before, extra = "bad", [], [], []
        run = ["sweep", str(study), "--out", str(out), "--workers", "1", "--quiet"]
        if kind == "fresh":
            expect = "ok"
        elif kind == "formula":  # a swept value that a spreadsheet would run
            study = self._study_file(
                d,
                problem,
                '[grid]\n"workload.model" = ["=1+2", "@SUM(A1)", "llama3.1-8b"]\n',
                "formula.toml",
            )
            run[1] = str(study)
            expect = "ok"
        elif kind == "problem":
            run[3] = str(problem)
            keep = [str(problem)]
        elif kind == "study":
            run[3] = str(study)
            keep = [str(study)]
        elif kind in ("unrelated", "unrelated-force"):
            out.write_text("name,value\nmine,1\n")
            keep = [str(out)] if kind == "unrelated" else []
            if kind == "unrelated-force":
                extra, expect = ["--force"], "ok"
        elif kind == "resume":
            before = [list(run)]
            expect = "ok"
        elif kind == "changed":  # the problem changed (64 → 640 users) under the same output
            other = self._problem_file(d, users=640)
            study2 = self._study_file(d, other, grid, "study-640.toml")
            before = [list(run)]
            run[1] = str(study2)
            keep = [str(out)]
        elif kind == "dir":
            out.mkdir()
        elif kind == "devfull":
            run[3] = _device(d, "/dev/full", "full.csv")
        elif kind == "devnull":
            run[3] = _device(d, "/dev/null", "null.csv")
        elif kind == "fifo":
            os.mkfifo(out)
        elif kind == "parquet":
            run[3] = str(d / "out.parquet")
            expect = "ok"
        elif kind == "parquet-unrelated":
            (d / "out.parquet").write_bytes(b"PAR1 not mine")
            run[3] = str(d / "out.parquet")
            keep = [run[3]]
        elif kind == "plot-unrelated":
            (d / "mine.png").write_bytes(b"\x89PNG\r\n\x1a\n not made by designer")
            extra = ["--plot", str(d / "mine.png")]
            keep = [str(d / "mine.png")]
        elif kind == "plot-dir":
            (d / "plot.png").mkdir()
            extra = ["--plot", str(d / "plot.png")]
        elif kind == "workers":
            run[5] = rng.choice(["0", "-1", "1000000000", "x"])
        elif kind == "refused":
            extra = ["--scheduler", "tcp://127.0.0.1:1"]
        elif kind == "silent":
            extra = ["--scheduler", servers.silent()]
        elif kind == "garbage":
            extra = ["--scheduler", servers.garbage()]
        elif kind == "malformed":
            extra = ["--scheduler", rng.choice(["nonsense", "tcp://[::1", "tcp://x:99999", ""])]
        elif kind == "subdir":
            run[3] = str(d / "new" / "deeper" / "out.csv")
            expect = "ok"
        csv_out = run[3] if run[3].endswith(".csv") else ""
        return Case(
            "sweep",
            [*run, *extra],
            expect=expect,
            note=f"sweep --out: {kind}",
            before=before,
            keep=keep,
            csv_out=csv_out,
            work=1.0 if kind in ("silent", "garbage", "refused", "malformed") else 3.0,
        )

    def pareto(self) -> Case:
        rng = self.rng
        d = self.path("x").parent
        problem = self._problem_file(d)
        kind = rng.choice(
            [
                "ok",
                "points",
                "time-limit",
                "out-dir",
                "out-devfull",
                "out-unrelated",
                "out-problem",
                "out-json",
                "out-csv",
                "plot-dir",
                "plot-ext",
                "stdout-full",
                "stdout-closed",
            ]
        )
        args = ["pareto", str(problem), "--points", "3", "--time-limit", "20"]
        expect, keep, csv_out, stdout = "bad", [], "", ""
        if kind == "ok":
            expect = "ok"
            args.append("--json")
        elif kind == "points":
            args[3] = rng.choice(["0", "-1", "1", "1000000", "nan", "x", str(2**70)])
        elif kind == "time-limit":
            args[5] = rng.choice(["0", "-1", "nan", "inf", "1e400"])
        elif kind == "out-dir":
            args += ["--out", str(d)]
        elif kind == "out-devfull":
            args += ["--out", _device(d, "/dev/full", "full.csv")]
        elif kind == "out-unrelated":
            (d / "mine.csv").write_text("a,b\n1,2\n")
            args += ["--out", str(d / "mine.csv")]
            keep = [str(d / "mine.csv")]
        elif kind == "out-problem":
            args += ["--out", str(problem)]
            keep = [str(problem)]
        elif kind == "out-json":
            args += ["--out", str(d / "front.json")]
            expect = "ok"
        elif kind == "out-csv":
            csv_out = str(d / "front.csv")
            args += ["--out", csv_out]
            expect = "ok"
        elif kind == "plot-dir":
            args += ["--plot", str(d)]
        elif kind == "plot-ext":
            args += ["--plot", str(d / "front.txt")]
        else:
            stdout = kind.removeprefix("stdout-")
            args.append("--json")
            expect = "any"
        return Case(
            "pareto",
            args,
            expect=expect,
            note=f"pareto: {kind}",
            keep=keep,
            csv_out=csv_out,
            stdout=stdout,
            work=3.0,
        )

    def compare(self) -> Case:
        rng = self.rng
        d = self.path("x").parent
        problem = self._problem_file(d)
        kind = rng.choice(
            [
                "ok",
                "mixed-plot",
                "top",
                "time-limit",
                "plot-dir",
                "plot-ext",
                "plot-unrelated",
                "plot-devfull",
            ]
        )
        args = ["compare", str(problem), "--by", rng.choice(["chip", "tp", "memory"])]
        expect, keep = "bad", []
        if kind == "ok":
            expect = "ok"
            args += ["--json", "--plot", str(d / "steps.png")]
        elif kind == "mixed-plot":  # quickstart's rows include mixed fleets (issue 17, item 8)
            args = [
                "compare",
                str(ROOT / "problems" / "quickstart.toml"),
                "--by",
                "chip",
                "--plot",
                str(d / "x.png"),
            ]
            expect = "ok"
        elif kind == "top":
            args += ["--top", rng.choice(["0", "-1", "x", str(2**70)])]
        elif kind == "time-limit":
            args += ["--time-limit", rng.choice(["0", "-1", "nan", "inf"])]
        elif kind == "plot-dir":
            args += ["--plot", str(d)]
        elif kind == "plot-ext":
            args += ["--plot", str(d / "steps.csv")]
        elif kind == "plot-unrelated":
            (d / "mine.svg").write_text("<svg>mine</svg>")
            args += ["--plot", str(d / "mine.svg")]
            keep = [str(d / "mine.svg")]
        else:
            args += ["--plot", _device(d, "/dev/full", "full.png")]
        return Case("compare", args, expect=expect, note=f"compare: {kind}", keep=keep, work=3.0)

    def _csv_text(self, n: int = 6) -> tuple[str, list[str]]:
        lines = (CATALOGS / "measurements" / "decode.csv").read_text().splitlines()
        return lines[0], lines[1 : 1 + n]

    def profile(self) -> Case:
        rng = self.rng
        d = self.path("x").parent
        good = (
            '[mine]\nname = "mine"\nbandwidth = 0.8\ncompute = 0.5\noverhead_per_layer = "20 us"\n'
        )
        kind = rng.choice(
            [
                "valid",
                "bom",
                "unknown-key",
                "fifo",
                "devzero",
                "dir",
                "latin1",
                "huge",
                "nan",
                "scalar",
                "empty",
                "limit",
                "bigint",
            ]
        )
        expect = "bad"
        text = good
        if kind in ("valid", "bom"):
            expect = "ok"
        elif kind == "unknown-key":
            text = good + rng.choice(["bandwith = 0.7\n", 'overhead_per_layr = "1 us"\n'])
        elif kind == "nan":
            text = good.replace("0.8", rng.choice(["nan", "inf", "0", "1.5"]))
        elif kind == "scalar":
            text = "bandwidth = 0.8\n"
        elif kind == "empty":
            text = "# nothing\n"
        elif kind == "limit":
            text = good.replace("[mine]", "[limit]")
        elif kind == "bigint":
            text = good.replace("0.8", "9" * 5000)
        p = self._hostile(
            d,
            "profile.toml",
            kind if kind in ("fifo", "devzero", "dir", "latin1", "huge", "bom") else "plain",
            text,
        )
        header, rows = self._csv_text()
        data = d / "m.csv"
        data.write_text("\n".join([header, *rows]) + "\n")
        cmd = rng.choice(["validate", "solve", "evaluate"])
        if cmd == "validate":
            args = ["validate", str(data), "--profile", str(p), "--json"]
        elif cmd == "solve":
            args = ["solve", str(self._problem_file(d)), "--profile", str(p), "--json"]
        else:
            args = [
                "evaluate",
                "--model",
                "llama3.1-8b",
                "--chip",
                "h100-sxm",
                "--profile",
                str(p),
                "--json",
            ]
        return Case("profile", args, expect=expect, note=f"profile: {kind} ({cmd})")

    def csv(self) -> Case:
        rng = self.rng
        d = self.path("x").parent
        header, rows = self._csv_text()
        cols = header.split(",")
        kind = rng.choice(
            [
                "valid",
                "bom",
                "formula-id",
                "short-row",
                "bigint",
                "latin1",
                "inf",
                "zero",
                "tiny",
                "nan",
                "negative",
                "fifo",
                "devzero",
                "dir",
                "missing-column",
                "rows-1e6",
                "huge",
                "empty",
                "plot-problem",
                "out-problem",
                "out-dir",
                "plot-devfull",
            ]
        )
        expect, keep, extra = "bad", [], []
        ms = cols.index("ms_per_output_token")

        def cell(row: str, i: int, value: str) -> str:
            # the first rows quote no field before `notes`, so splitting on commas is exact
            parts = row.split(",")
            parts[i] = value
            return ",".join(parts)

        if kind in ("valid", "bom", "plot-problem", "out-problem", "out-dir", "plot-devfull"):
            expect = "ok"
        elif kind == "formula-id":
            rows[0] = cell(rows[0], 0, rng.choice(['=HYPERLINK("x")', "+1+2", "@SUM(A1)"]))
            expect = "ok"
        elif kind == "short-row":
            rows[1] = ",".join(rows[1].split(",")[: rng.randint(1, 10)])
        elif kind == "bigint":
            rows[1] = cell(
                rows[1],
                cols.index(rng.choice(["tp", "batch", "input_tokens"])),
                "9" * rng.choice([400, 5000]),
            )
        elif kind in ("inf", "zero", "tiny", "nan", "negative"):
            value = {"inf": "inf", "zero": "0", "tiny": "1e-320", "nan": "nan", "negative": "-3"}[
                kind
            ]
            rows[1] = cell(rows[1], ms, value)
        elif kind == "missing-column":
            header = header.replace("measure", "measur")
        elif kind == "empty":
            rows = []
        text = "\n".join([header, *rows]) + "\n"
        if kind == "rows-1e6":
            p = d / "m.csv"
            with open(p, "w") as f:
                f.write(header + "\n")
                f.write((",".join(["x"] * len(cols)) + "\n") * 1_000_000)
        else:
            p = self._hostile(
                d,
                "m.csv",
                kind if kind in ("fifo", "devzero", "dir", "latin1", "huge", "bom") else "plain",
                text,
            )
        problem = self._problem_file(d)
        if kind == "plot-problem":
            extra, expect, keep = ["--plot", str(problem)], "bad", [str(problem)]
        elif kind == "plot-devfull":
            extra, expect = ["--plot", _device(d, "/dev/full", "full.png")], "bad"
        cmd = rng.choice(["validate", "calibrate"])
        if kind in ("out-problem", "out-dir"):
            cmd = "calibrate"
            target = str(problem) if kind == "out-problem" else str(d)
            extra, expect, keep = ["--out", target], "bad", [str(problem)]
        if cmd == "validate" or extra[:1] == ["--plot"]:
            args = ["validate", str(p), "--json", *extra]
        else:
            args = ["calibrate", str(p), "--name", "t", "--json", *extra]
        return Case("csv", args, expect=expect, note=f"csv: {kind} ({args[0]})", keep=keep)

    def values(self) -> Case:
        """Values accepted or misread before issue 17: unit typos, rates at the float limits."""
        rng = self.rng
        kind = rng.choice(["5e-324", "mW", "cheap", "quickstart-nan-price"])
        q = str(ROOT / "problems" / "quickstart.toml")
        if kind == "5e-324":
            args = ["solve", q, "--set", "sla.tokens_per_s_per_user=5e-324", "--json"]
            return Case("values", args, expect="any", note="a rate of 5e-324 tokens/s")
        if kind == "mW":
            args = ["solve", q, "--set", 'limits.max_power="500 mW"']
            return Case("values", args, expect="any", note="max_power 500 mW (typo for MW)")
        if kind == "cheap":
            args = ["solve", q, "--set", "chips.h100-sxm.price_usd=0.5", "--json"]
            return Case("values", args, expect="any", note="a price under $1")
        args = [
            "solve",
            q,
            "--set",
            'space.chips=["h100-sxm","xpu-hbm3"]',
            "--set",
            "objective.minimize=chips",
        ]
        return Case("values", args, expect="any", note="an unpriced chip in a text report")

    def limits(self) -> Case:
        """Large but valid searches: solver speed and --time-limit (issue 7, item 6)."""
        rng = self.rng
        problem = str(rng.choice(sorted((ROOT / "problems").glob("*.toml"))))
        args = rng.choice(
            [
                ["solve", problem, "--set", f"space.max_batch={rng.choice([8000, 10**5])}"],
                ["solve", problem, "--no-prune", "--time-limit", rng.choice(["0.5", "1", "5"])],
                ["solve", problem, "--time-limit", "0.1"],
            ]
        )
        return Case("limits", [*args, "--json"], expect="ok", note="large search")


FAMILIES = ("problem", "problem-text", "argv", "hf", "catalog", "special")
WEIGHTS = {"problem": 30, "problem-text": 8, "argv": 25, "hf": 15, "catalog": 14, "special": 8}
# issue 17: the files a study, a profile or a calibration reads and writes (run_corpus.py
# --files N; a sample of each runs in tests/fuzz/test_fuzz.py)
FILE_FAMILIES = ("study", "sweep", "pareto", "compare", "profile", "csv", "values")
FILE_WEIGHTS = {
    "study": 16,
    "sweep": 24,
    "pareto": 12,
    "compare": 8,
    "profile": 12,
    "csv": 20,
    "values": 8,
}


def generate(n: int, folder: Path, seed: int = 7, weights: dict[str, int] = WEIGHTS) -> list[Case]:
    """`n` cases across the families of `weights` (in its proportions), files under `folder`."""
    c = Corpus(folder, seed)
    total = sum(weights.values())
    cases: list[Case] = []
    for family, weight in weights.items():
        make = getattr(c, family.replace("-", "_"))
        cases += [make() for _ in range(max(1, n * weight // total))]
    first = getattr(c, next(iter(weights)).replace("-", "_"))
    while len(cases) < n:
        cases.append(first())
    return cases
