"""A measurement row's chip, engine and model read from the words its source uses.

The calibration files name each row's platform twice: as the publication writes it
(`hardware`, `software`, `model`) and as catalog ids (`chip`, `engine`, `catalog_model`). A
file with only the words (the layout the calibration set was first collected in) is read by
matching them to the catalogs, and so is a row whose id cell is left empty. An id cell, when
written, is taken as the id (`measurements.configuration`): the words are never second-guessed
over it.

Words that match no catalog entry, or several, are bad input: one line naming the row, the
column, the candidates, and the id column that settles it. What each file's words were read
as is reported (`designer validate`: a line, and `read_as` in `--json`; `designer calibrate`: the
line on standard error).

>>> from designer.model.catalog import Catalog
>>> cat = Catalog.load()
>>> [chip(w, cat) for w in ("h100", "8xH100", "A100-SXM4-80GB", "NVIDIA H200 141GB", "MI325X")]
['h100-sxm', 'h100-sxm', 'a100-80gb', 'h200', 'mi325x']
>>> engine("NVIDIA NIM 1.8.0 (TensorRT-LLM backend)"), engine("DeepSpeed-MII")
('tensorrt-llm', 'deepspeed-mii')
>>> model("Llama 3.1 70B", cat), model("nvidia/DeepSeek-R1-0528-FP4-V2", cat)
('llama3.1-70b', 'deepseek-v3')
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from designer.calibration import engines
from designer.model.catalog import Catalog
from designer.model.errors import InputError, excerpt

# id column → the column of the source's words it can be read from
WORDS = {"chip": "hardware", "engine": "software", "catalog_model": "model"}

Read = dict[str, dict[str, str]]  # words column → {words: the catalog id they were read as}


def missing(header: Iterable[str], required: Iterable[str]) -> list[str]:
    """The `required` columns `header` lacks, an id column counting as present when its words
    column is (`WORDS`); each missing id column named with its alternative.

    >>> missing(["hardware", "software", "model", "tp"], ["chip", "engine", "catalog_model", "tp"])
    []
    >>> missing(["software", "tp"], ["chip", "engine", "tp", "pp"])
    ['chip (or hardware)', 'pp']
    """
    have = set(header)
    out = []
    for c in required:
        if c in have or WORDS.get(c) in have:
            continue
        out.append(f"{c} (or {WORDS[c]})" if c in WORDS else c)
    return out


def resolve(row: dict, column: str, where: str, catalog: Catalog, read: Read | None = None) -> str:
    """The id column's cell of `row` when it is written; else its words column read as a
    catalog id (recorded in `read`, which also answers words read before: a file repeats them
    row after row); an error when the row gives neither."""
    written = (row.get(column) or "").strip()
    words_column = WORDS[column]
    words = (row.get(words_column) or "").strip()
    if written:
        return written
    if not words:
        raise InputError(
            f"empty: write the catalog id in `{column}` or the source's words in `{words_column}`",
            where=where,
            key=column if column in row else words_column,
        )
    if read is not None and words in read.get(words_column, {}):
        return read[words_column][words]
    key = f"{words_column} (no {column} id)"
    if column == "chip":
        found = chip(words, catalog, where=where, key=key)
    elif column == "engine":
        found = engine(words, where=where, key=key)
    else:
        found = model(words, catalog, where=where, key=key)
    if read is not None:
        read.setdefault(words_column, {})[words] = found
    return found


# words that make a part another than the catalog's of the same name unless its id or catalog
# name states them: form factors (an H100 PCIe or NVL card is not the SXM module), product
# variants, a Grace superchip (GH200 is not an H100 alone), a MIG slice, MLPerf's CTS parts
# (a custom thermal solution at another power: H200-SXM-141GB-CTS runs at 1000 W)
_VARIANTS = {
    "pcie": "PCIe",
    "nvl": "NVL",
    "cnx": "CNX",
    "ultra": "Ultra",
    "cpx": "CPX",
    "lite": "Lite",
    "grace": "Grace",
    "mig": "MIG",
    "cts": "CTS",
}
_MEMORY = ("hbm2", "hbm2e", "hbm3", "hbm3e", "hbm4", "hbm4e", "gddr6", "gddr7", "lpddr5x")
_UNITS = ("gb", "gib", "g", "tb", "w", "gbps", "tbps")  # never the first half of a joined word
# a bandwidth ("900 GB/s", "200 Gbps"): neither a capacity nor, at its slash, two parts
_BANDWIDTH = re.compile(r"\d+(?:\.\d+)?\s*(?:[gtm]i?b/s|[gt]bps)", re.IGNORECASE)
TOLERANCE = 0.1  # a stated "192GB" names a chip of 180 GB (DGX B200 reports 180), "750W" of 750


def _tokens(text: str) -> list[str]:
    """Lower-case words of a hardware name, and each pair of neighbours joined ("Gaudi 2" →
    gaudi2, "80 GB" → 80gb; not a unit and a number, "GB 200"). "PCI Express" is pcie, "1.2 kW"
    1200w, a rack's "NVL 72" one word (nvl72). Left out: the alternatives "SXM or PCIe (not
    stated)", counts before the chip ("8xH100", "2x8xH100") and totals ("1128 GB total"); a
    bandwidth is taken out before (`chip`)."""
    plain = unicode_hyphens(text).casefold()
    plain = re.sub(r"\b(?:sxm\s+or\s+pcie|pcie\s+or\s+sxm)\b(?:\s+not\s+stated)?", " ", plain)
    plain = re.sub(r"\bpci[\s-]*(?:express|e)\b", "pcie", plain)
    plain = re.sub(r"\d+(?:\.\d+)?\s*[gt]i?b\s+total\b", " ", plain)
    plain = re.sub(
        r"(\d+(?:\.\d+)?)\s*kw\b", lambda m: f"{round(float(m.group(1)) * 1000)}w", plain
    )
    plain = re.sub(r"\bnvl\s+(\d+)\b(?!\s*gb)", r"nvl\1", plain)
    words = [re.sub(r"^(?:\d+x)+(?=[a-z])", "", w) for w in re.split(r"[^a-z0-9]+", plain)]
    words = [w for w in words if w]
    pairs = [a + b for a, b in zip(words, words[1:], strict=False) if a not in _UNITS]
    return words + pairs


def unicode_hyphens(text: str) -> str:
    """`text` with the hyphens and dashes typesetting puts in names ("TensorRT‑LLM", U+2011)
    as "-"."""
    return re.sub("[\u2010-\u2015\u2212]", "-", text)


def _own_words(catalog: Catalog, chip_id: str) -> set[str]:
    """What a chip's id and catalog name state ("NVIDIA B300 (HGX B300 NVL16, Blackwell
    Ultra)": ultra, nvl16); a GB/GH superchip states Grace."""
    name = str((catalog.raw["chips"].get(chip_id) or {}).get("name", ""))
    grace = {"grace"} if chip_id.startswith(("gb", "gh")) else set()
    return {*chip_id.split("-"), *_tokens(name), *grace}


RACK = 36  # NVLink domains of this many chips or more are racks (NVL72), fewer boards (NVL2)


def _nvl(words: list[str]) -> list[tuple[str, int]]:
    """The NVLink-domain words ("nvl72") with their sizes."""
    return [(w, int(m.group(1))) for w in words if (m := re.fullmatch(r"nvl(\d+)", w))]


def _racks(words: list[str]) -> list[str]:
    """Words naming a rack ("NVL72"): a Grace superchip's (GB200 NVL72, the GB200's B200), not
    the chip alone ("B200 NVL72" is no HGX B200)."""
    return [w for w, n in _nvl(words) if n >= RACK]


def _parts(words: list[str]) -> list[str]:
    """Words naming a board of a few chips ("NVL2", "NVL16": another part than the chip alone
    unless its name says so) or a part number ("HL-338")."""
    boards = [w for w, n in _nvl(words) if n < RACK]
    return boards + [w for w in words if re.fullmatch(r"hl\d+[a-z]?", w)]


def _generations(words: list[str], own: set[str]) -> list[str]:
    """The generations ("v2") `words` state other than the one a chip's catalog name states
    ("Groq LPU (GroqChip, TSP v1)"); none for a chip whose name states none, as a cloud's
    "ND H100 v5" is the VM series, not the chip's."""
    stated = {w for w in own if re.fullmatch(r"v\d+", w)}
    return [w for w in words if stated and re.fullmatch(r"v\d+", w) and w not in stated]


def _stated(words: list[str], pattern: str, scale: dict[str, float]) -> list[float]:
    """The quantities `words` state in a unit of `scale` ("141gb", "94gib", "750w")."""
    out = []
    for w in words:
        m = re.fullmatch(pattern, w)
        if m:
            out.append(int(m.group(1)) * scale[m.group(2)])
    return out


def _matches(stated: list[float], value: float | None) -> bool:
    return value is not None and any(abs(s - value) <= TOLERANCE * value for s in stated)


def chip(text: str, catalog: Catalog, *, where: str | None = None, key: str = "hardware") -> str:
    """The catalog chip a hardware name names: its id or catalog name in any case; else the
    chips whose id's first part is one of its words ("H100" → h100-sxm). The words must name
    one part (each side of a slash or "vs" the same chip: "H100/H200", "MI350X / MI355X" name
    two), and what else they state must be the chip's, else an error: a form factor, variant,
    board or part number (PCIe, NVL, Ultra, Grace, MIG, CTS, NVL2, HL-338 …) its id or catalog
    name states; a generation other than its name's ("LPU v2"; `_generations`); a rack (NVL72)
    only of a Grace superchip; the memory type (HBM2e), capacity ("141GB", "94GiB", or one its
    name states) and power ("750W", "1.2 kW"), within 10%. Where the id's first part is a
    vendor's name or shared by variants (cerebras-wse3; tpu-v5e; a100-40gb, a100-80gb), the
    words must state the id's other parts ("WSE-3", "TPU v5e", "A100 80GB").

    >>> from designer.model.catalog import Catalog
    >>> cat = Catalog.load()
    >>> def error(f, *a):
    ...     try:
    ...         f(*a)
    ...     except InputError as e:
    ...         return e.message.split(":")[0]
    >>> error(chip, "a100", cat)
    "'a100' does not name one catalog chip (a100-40gb, a100-80gb)"
    >>> error(chip, "GH200 144GB", cat)
    "'GH200 144GB' states 144 GB of memory; the catalog's gh200 has 96 GB"
    """
    ids = list(catalog.raw["chips"])
    plain = _BANDWIDTH.sub(" ", text)
    sides = [x for x in re.split(r"\s*/\s*|\s+vs\.?\s+|\s+versus\s+", plain) if x.strip()]
    if len(sides) > 1:  # each side must name the same chip ("MI350X / MI355X" names two)
        each = set()
        for side in sides:
            try:
                each.add(chip(side, catalog, where=where, key=key))
            except InputError:
                each.add(f"{excerpt(side.strip())} (no one catalog chip)")
        if len(each) == 1:
            return each.pop()
        raise InputError(
            f"{excerpt(text)} names several parts ({', '.join(sorted(each))}): write one "
            "catalog id in a `chip` column",
            where=where,
            key=key,
        )
    folded = text.strip().casefold()
    exact = [
        c
        for c, e in catalog.raw["chips"].items()
        if folded in (c.casefold(), str((e or {}).get("name", "")).casefold())
    ]
    if exact:
        return exact[0]
    words = _tokens(plain)
    found = [c for c in ids if c.split("-")[0] in words]
    parts = sorted({c.split("-")[0] for c in found})
    if len(parts) > 1:
        raise InputError(
            f"{excerpt(text)} names several catalog chips ({', '.join(sorted(found))}): write "
            "one in a `chip` column",
            where=where,
            key=key,
        )
    own = {c: _own_words(catalog, c) for c in found}
    variants = [w for w in _VARIANTS if w in words]
    generations = [w for c in found for w in _generations(words, own[c])]
    for word in variants + _parts(words) + generations + [w for w in _MEMORY if w in words]:
        if found and not any(
            word in own[c] or word == catalog.chip(c).memory_technology for c in found
        ):
            label = word if re.fullmatch(r"v\d+", word) else word.upper()
            _not_the_chip(text, _VARIANTS.get(word, label), found, where, key)
    for word in _racks(words):
        if found and not any("grace" in own[c] or word in own[c] for c in found):
            _not_the_chip(text, word.upper(), found, where, key)
    found = [c for c in found if all(w in own[c] for w in variants)]
    for quantity, pattern, scale, unit, value in (
        (
            "memory",
            r"(\d+)(gb|gib|g)",
            {"gb": 1e9, "gib": 2**30, "g": 1e9},
            "GB",
            "memory_capacity",
        ),
        ("power", r"(\d+)(w)", {"w": 1.0}, "W", "tdp"),
    ):
        # a capacity the chip's name states is its own (GH200's "480GB" of Grace memory); a
        # bare "8g" is a cloud's machine type (a3-highgpu-8g), not a capacity
        stated = _stated([w for w in words if not re.fullmatch(r"\d{1,2}g", w)], pattern, scale)
        if found and stated:
            kept = [
                c
                for c in found
                if _matches(stated, getattr(catalog.chip(c), value))
                or any(w in own[c] for w in words if re.fullmatch(pattern, w))
            ]
            if not kept:
                have = ", ".join(
                    f"{c} has {_amount(getattr(catalog.chip(c), value), unit)}" for c in found
                )
                raise InputError(
                    f"{excerpt(text)} states {_amount(stated[0], unit)} of {quantity}; the "
                    f"catalog's {have}: write a catalog id in a `chip` column, or add the part "
                    "to the chips catalog",
                    where=where,
                    key=key,
                )
            found = kept
    vendor = bool(parts) and not re.search(r"\d", parts[0])  # "cerebras", "tpu": not a part
    if len(found) > 1 or vendor:  # the one whose other id parts it states
        named = [c for c in found if all(p in words for p in c.split("-")[1:])]
        if len(named) != 1:
            raise InputError(
                f"{excerpt(text)} does not name one catalog chip ({', '.join(sorted(found))}): "
                "write one in a `chip` column, or add the part to the chips catalog",
                where=where,
                key=key,
            )
        found = named
    if not found:
        _architecture(text, catalog, where, key)
    return _one(text, found, "chip", "chip", where, key)


# architectures of several parts of the chips catalog, by the name their vendor gives them;
# sources: https://www.nvidia.com/en-us/data-center/technologies/hopper-architecture/,
# https://www.nvidia.com/en-us/data-center/technologies/blackwell-architecture/ (Blackwell and
# Blackwell Ultra), https://www.nvidia.com/en-us/data-center/ampere-architecture/,
# https://www.amd.com/en/technologies/cdna.html (CDNA 3: MI300 series, MI325X; CDNA 4: MI350
# series)
ARCHITECTURES = {
    "Hopper": ("gh200", "h100-sxm", "h200", "h800"),
    "Blackwell": ("b200", "b300", "gb200", "gb300"),
    "Ampere": ("a100-40gb", "a100-80gb"),
    "CDNA 3": ("mi300x", "mi325x"),
    "CDNA 4": ("mi355x",),
}
# words of a hardware name that name no part beside an architecture ("8x NVIDIA Blackwell
# GPUs", "AMD Instinct (CDNA 3)"); a name with any other word may name a part outside the
# catalog ("RTX PRO 6000 Blackwell", "H20 (Hopper)"); "grace" and "ultra" pick its parts
_ALONGSIDE = {"nvidia", "amd", "gpu", "gpus", "instinct", "accelerator", "accelerators", "grace"}
_ALONGSIDE |= {"superchip", "ultra"}


def _architecture(text: str, catalog: Catalog, where: str | None, key: str) -> None:
    """An error naming an architecture's parts in the catalog when `text` names one and no
    other word but counts and `_ALONGSIDE` (a Grace superchip's or Blackwell Ultra's parts
    only, when it says so); nothing otherwise."""
    plain = re.sub(r"\b\d+\s*x\b", " ", unicode_hyphens(text).casefold())  # counts: 8x
    words = re.findall(r"[a-z]+|\d+", plain)
    for name, parts in ARCHITECTURES.items():
        own = name.casefold().split()
        rest = [w for w in words if w not in own]
        if not all(w in words for w in own) or any(w not in _ALONGSIDE for w in rest):
            continue
        for word in ("grace", "ultra"):  # the parts whose id or catalog name say so
            if word in rest:
                parts = tuple(p for p in parts if word in _own_words(catalog, p))
        raise InputError(
            f"{excerpt(text)} names an architecture ({name}: {', '.join(parts)}), not one part: "
            "write one in a `chip` column",
            where=where,
            key=key,
        )


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "none stated"
    return f"{value / 1e9:.0f} GB" if unit == "GB" else f"{value:.0f} {unit}"


def _not_the_chip(text: str, what: str, found: list[str], where: str | None, key: str) -> None:
    raise InputError(
        f"{excerpt(text)} states {what}, which the catalog's {', '.join(found)} does not (another "
        "part or variant): write a catalog id in a `chip` column, or add the part to the chips "
        "catalog",
        where=where,
        key=key,
    )


def _one(text: str, found: list[str], kind: str, column: str, where: str | None, key: str) -> str:
    """The one entry `found`, else an error: none or several. No closest id is suggested: a
    publication's words near an id name another part or model as often as that one ("H20" is
    not the H200, "LLaMA 70B" not Llama 3)."""
    if len(found) == 1:
        return found[0]
    if found:
        raise InputError(
            f"{excerpt(text)} names several catalog {kind}s ({', '.join(sorted(found))}): "
            f"write one in a `{column}` column",
            where=where,
            key=key,
        )
    raise InputError(
        f"{excerpt(text)} names no catalog {kind} (`designer catalog list {kind}s` lists them): "
        f"write the catalog id in a `{column}` column, or add the {kind} to its catalog",
        where=where,
        key=key,
    )


# serving stacks outside catalogs/engines.toml that publications compare with its engines: named
# beside one, which of them served is not said
OTHER_SERVERS = (
    "llama.cpp",
    "ollama",
    "modular max",
    "max serve",
    "mlc-llm",
    "mlc llm",
    "lightllm",
    "exllama",
    "ctranslate2",
    "openvino",
    "facebookresearch/fastgen",
)


def engine(text: str, *, where: str | None = None, key: str = "software") -> str:
    """The catalogs/engines.toml engine a software description names: its id or one of its
    `names`, as a word in any case ("vllm-0.9.1", "rocm/vllm:…", "trtllm-bench"), a name inside
    a longer one not counted (deepspeed in DeepSpeed-MII). Two engines named ("vLLM's
    benchmark_serving.py against SGLang") is an error: which one served is not said.

    >>> engine("rocm/vllm:rocm6.4.1_vllm_0.9.1_20250715"), engine("DeepSpeed-FastGen")
    ('vllm', 'deepspeed-mii')
    """
    text = unicode_hyphens(text)
    others = [o for o in OTHER_SERVERS if re.search(rf"(?<![a-z0-9]){re.escape(o)}", text, re.I)]
    hits = []
    for e in engines.table():
        pattern = engines.named(e) + r"(?![a-z0-9]|-(?:jax|mlx)\b)"  # sglang-jax: a port
        hits += [(m.start(), m.end(), e) for m in re.finditer(pattern, text, re.IGNORECASE)]
    inside = {h for h in hits for o in hits if o[0] <= h[0] and h[1] <= o[1] and o != h}
    named = sorted({h[2] for h in hits if h not in inside})
    if named and others:
        raise InputError(
            f"{excerpt(text, limit=80)} names {', '.join(others)} beside {', '.join(named)}: "
            "write the engine that served in an `engine` column",
            where=where,
            key=key,
        )
    if len(named) == 1:
        return named[0]
    if named:
        raise InputError(
            f"{excerpt(text, limit=80)} names several engines ({', '.join(named)}): write the "
            "one that served in an `engine` column",
            where=where,
            key=key,
        )
    raise InputError(
        f"{excerpt(text, limit=80)} names no engine of catalogs/engines.toml "
        f"({', '.join(sorted(engines.table()))}): write the engine in an `engine` column",
        where=where,
        key=key,
    )


# words after a model's name that name its checkpoint, not its architecture: instruction or
# chat tuning and a quantization ("-Instruct-FP8-KV", "-chat-hf"); a revision after a
# quantization ("-FP4-V2"). A version elsewhere is the model's own (DeepSeek-V2, Mistral v0.3).
_TUNING = re.compile(r"instruct|chat|hf|it|base", re.IGNORECASE)
_QUANTIZATION = re.compile(
    r"fp8|fp4|nvfp4|mxfp4|int4|int8|w4a16|w8a8|w4a8|awq|gptq|kv|bf16|fp16|preview|dynamic",
    re.IGNORECASE,
)
_REVISION = re.compile(r"v\d+", re.IGNORECASE)
# MLPerf's accuracy targets and scenario (llama2-70b-99, -99.9, llama3.1-405b-interactive)
_ACCURACY = re.compile(r"99(?:\.9)?|interactive", re.IGNORECASE)


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def _forms(name: str) -> list[str]:
    """The plain forms of a model name's last path part ("amd/Llama-3.1-405B-Instruct-FP8-KV"):
    as written, then with each checkpoint word at its end dropped in turn (`_TUNING`,
    `_QUANTIZATION`, and `_REVISION` right after a quantization)."""
    name = name.strip()
    last = name if re.search(r"\s", name) else name.rsplit("/", 1)[-1]  # "org/repo" is one word
    words = [w for w in re.split(r"[^A-Za-z0-9.]+", last) if w]
    out = [_plain(last)]
    while len(words) > 1 and _checkpoint_word(words[-1], words[-2]):
        words.pop()
        out.append(_plain("".join(words)))
    return out


def _checkpoint_word(word: str, before: str) -> bool:
    """Whether `word`, last of a model name after `before`, names the checkpoint (`_forms`)."""
    if _TUNING.fullmatch(word) or _QUANTIZATION.fullmatch(word) or _ACCURACY.fullmatch(word):
        return True
    return bool(_REVISION.fullmatch(word) and _QUANTIZATION.fullmatch(before))


def _indexed(name: str, index: dict[str, str | None]) -> str | None:
    """The entry the first of `name`'s plain forms (`_forms`) in `index` names, if any."""
    return next((index[f] for f in _forms(name) if index.get(f)), None)


def _sized(reading: str, index: dict[str, str | None], catalog: Catalog) -> str | None:
    """The entry a name with its total size at the end names ("DeepSeek-R1 671B"): the entry of
    the name before it, when its published total is that size within 10% ("DeepSeek-R1 7B" is
    a distilled model, not deepseek-v3)."""
    m = re.fullmatch(r"(.+?)[\s_-]+(\d+(?:\.\d+)?)b", reading.strip(), re.IGNORECASE)
    if not m:
        return None
    hit = _indexed(m.group(1), index)
    total = (catalog.raw["models"].get(hit) or {}).get("published_total_params") if hit else None
    size = float(m.group(2)) * 1e9
    return hit if isinstance(total, (int, float)) and abs(total - size) <= 0.1 * total else None


def _two_models(piece: str, named) -> list[str]:
    """`piece` split at each slash whose left side names a catalog model by itself
    ("llama2-70b/mixtral-8x7b"); an organization before a slash ("meta-llama/…") does not."""
    out, rest = [], piece
    while "/" in rest:
        left, right = rest.split("/", 1)
        if not named([left.split()[-1] if left.split() else ""]):
            break
        out.append(left)
        rest = right
    return [*out, rest]


def _model_index(catalog: Catalog) -> dict[str, str | None]:
    """Plain forms of every model's id, name, Hugging Face id and aliases (`_forms`) → its id;
    None for a form two entries share."""
    out: dict[str, str | None] = {}
    for model_id, e in catalog.raw["models"].items():
        if not isinstance(e, dict):
            continue
        names = [model_id, e.get("name"), e.get("hf_id"), *(e.get("aliases") or [])]
        for n in names:
            if isinstance(n, str) and n:
                for form in _forms(n):
                    out[form] = model_id if out.get(form, model_id) == model_id else None
    return out


def model(text: str, catalog: Catalog, *, where: str | None = None, key: str = "model") -> str:
    """The catalog model a source's model name names: an id, alias or Hugging Face id
    (`Catalog.model_id`); else the entry whose id, name, Hugging Face id or alias reads the
    same in letters and digits ("Llama 3.1 70B" is llama3.1-70b), checkpoint words at the end
    dropped (`_forms`: "meta-llama/Llama-3.1-405B-FP8" is llama3.1-405b). The name outside any
    parenthesis must name the entry, each side of a slash the same one ("Llama 3.1 405B / Llama
    3.1 8B" and "llama2-70b/mixtral-8x7b" name two; "meta-llama/…" is an organization); a
    parenthesis and its words may name it again, not another; a distilled model is an error.

    >>> from designer.model.catalog import Catalog
    >>> cat = Catalog.load()
    >>> model("gpt-oss-120b lmsys/gpt-oss-120b-bf16 (BF16)", cat)
    'gpt-oss-120b'
    >>> try:
    ...     model("LLaMA 70B", cat)  # Llama 1, 2 or 3: the source must say
    ... except InputError as e:
    ...     print(e.message.split(":")[0])
    'LLaMA 70B' names no catalog model (`designer catalog list models` lists them)
    """
    index = _model_index(catalog)
    text = unicode_hyphens(text)

    def named(readings: Iterable[str]) -> set[str]:
        out = set()
        for reading in filter(None, (r.strip() for r in readings)):
            hit = catalog.model_id(reading)
            if hit is None:
                hit = _indexed(reading, index) or _sized(reading, index, catalog)
            if hit:
                out.add(hit)
        return out

    if re.search(r"distill", text, re.IGNORECASE):
        raise InputError(
            f"{excerpt(text)} names a distilled model, another model than its teacher: write "
            "its catalog id in a `catalog_model` column, or add it to the models catalog",
            where=where,
            key=key,
        )
    outside = re.sub(r"\([^)]*\)", " ", text).strip()
    # "405B / 8B (draft)" and "70B-Instruct/8B-Instruct" name two models; "org/repo" one
    pieces = [p for p in re.split(r"\s/|/\s", outside) if p.strip()]
    pieces = [q for p in pieces for q in _two_models(p, named)]
    each = [named([p, *(w for w in p.split() if "/" in w)]) for p in pieces]
    found = set().union(*each)
    if found and not all(each):  # one side names a model the catalog does not hold
        raise InputError(
            f"{excerpt(text)} names {excerpt(pieces[each.index(set())].strip())}, no catalog "
            f"model, beside {', '.join(sorted(found))}: write the one measured in a "
            "`catalog_model` column",
            where=where,
            key=key,
        )
    if found:  # a parenthesis, and each of its words, may only name the entry again
        inside = re.findall(r"\(([^)]*)\)", text)
        found |= named([*inside, *(w for p in inside for w in re.split(r"[\s,;:]+", p))])
    return _one(text, sorted(found), "model", "catalog_model", where, key)
