"""Which serving engines run on which chips (catalogs/engines.toml): hardware and software apart.

A profile is a software build fitted on some chips; composing it with another chip is only
meaningful where that engine runs. `check` makes an unsupported pair bad input naming the
engines that run on the chip; `runs_on` lets a default design space leave such chips out.

>>> from designer.model.catalog import Catalog
>>> cat = Catalog.load()
>>> runs_on(cat, "mi300x", "tensorrt-llm"), runs_on(cat, "mi300x", "vllm")
(False, True)
>>> engines_for(cat, "mi300x")
('deepspeed', 'sglang', 'tgi', 'vllm')
"""

from __future__ import annotations

import functools
import re

from designer.model.catalog import Catalog, bundled_dir
from designer.model.errors import InputError
from designer.model.files import read_toml

FILE = "engines.toml"


@functools.lru_cache(maxsize=1)
def _raw() -> tuple[str, dict]:
    """(path, tables) of catalogs/engines.toml."""
    path = bundled_dir() / FILE
    return str(path), read_toml(path, "the engines catalog")


@functools.lru_cache(maxsize=1)
def table() -> dict[str, tuple[str, ...]]:
    """Engine → vendors whose chips it runs on."""
    path, raw = _raw()
    out = {}
    for engine, body in raw.items():
        if not body.get("source") or not isinstance(body.get("vendors"), list):
            raise InputError("expected vendors = [...] and a source", where=path, key=engine)
        out[engine] = tuple(body["vendors"])
    return out


@functools.lru_cache(maxsize=1)
def _activations() -> dict[str, str]:
    raw = _raw()[1]
    return {e: str(body.get("activation_dtype", "")) for e, body in raw.items()}


def activation(engine: str) -> str:
    """The GEMM activation dtype `engine` runs quantized weights with (`activation_dtype` of
    catalogs/engines.toml, with its source): "fp4" for an engine running NVFP4 W4A4 GEMMs where
    the chip has an FP4 rate (the next wider rate, FP8, elsewhere: `Chip.flops`), "fp8" for FP8
    W8A8; "" when the table says nothing (bf16 activations for sub-8-bit weights).

    >>> activation("tensorrt-llm"), activation("lmdeploy")
    ('fp4', '')
    """
    return _activations().get(engine, "")


@functools.lru_cache(maxsize=1)
def _mixed() -> dict[str, str]:
    raw = _raw()[1]
    return {e: str(body["mixed_batches"]) for e, body in raw.items() if "mixed_batches" in body}


def version(engine: str, software: str) -> tuple[int, ...] | None:
    """The engine version a measurement's `software` states: the first dotted number after the
    engine's name ("vLLM 0.7.3.dev138" → (0, 7, 3)); None when it states none.

    >>> version("vllm", "vLLM 0.7.4.dev181+gf35f8e22 offline LLM")
    (0, 7, 4)
    >>> version("tensorrt-llm", "NVIDIA NIM 1.8.0 (TensorRT-LLM backend)") is None
    True
    """
    stated = stated_version(engine, software)
    return parse_version(stated) if stated else None


@functools.lru_cache(maxsize=1)
def _names() -> dict[str, tuple[str, ...]]:
    path, raw = _raw()
    out = {}
    for e, body in raw.items():
        names = body.get("names", [])
        if not (isinstance(names, list) and all(isinstance(n, str) and n for n in names)):
            raise InputError('expected names = ["...", ...]', where=path, key=f"{e}.names")
        out[e] = tuple(names)
    return out


def names_of(engine: str) -> tuple[str, ...]:
    """The other spellings of `engine` (its `names` in catalogs/engines.toml).

    >>> names_of("tensorrt-llm")[:2]
    ('TRT-LLM', 'trtllm')
    """
    return _names().get(engine, ())


def canonical(name: str) -> str:
    """The catalogs/engines.toml id a measurement's `engine` cell spells (its id in any case, or
    one of its `names`), so that a row's physics (mixed batches, GEMM precision) and profile
    follow the engine whatever the spelling; a name the table does not know, as written.

    >>> canonical("TensorRT-LLM"), canonical("SGLang"), canonical("trtllm"), canonical("mlc")
    ('tensorrt-llm', 'sglang', 'tensorrt-llm', 'mlc')
    """
    folded = name.strip().casefold()
    for engine, names in _names().items():
        if folded in {engine.casefold(), *(n.casefold() for n in names)}:
            return engine
    return name.strip()


# after the engine's name: separators as package pins, wheel and image tags write them
# ("vllm==0.9.1", "vllm-0.9.0.2.dev108", "rocm/vllm:rocm6.4.1_vllm_0.9.1", "sglang:v0.5.2"),
# vLLM's engine generation ("vLLM V1 engine v0.9.2"), a parenthesis before the number
# ("TensorRT-LLM (PyTorch backend) 0.20", "vLLM (ROCm 6.4.1) 0.9.1") or around it ("vLLM
# (v0.9.1, V1)"), an optional word "version", then a dotted number ("v0.13", "1.2.0rc2")
_AFTER_NAME = (
    r"(?:\s+v[01](?:\s+engine)?\b)?(?:\s*\([^()]*\))?"
    r"[\s_:=/(-]*(?:version\b[\s:]*)?v?(\d+(?:\.\d+)+[a-z0-9]*)"
)
# an orchestrator's name joined to the engine's by a hyphen, whose own version follows it:
# "dynamo-vllm 0.4.1" is NVIDIA Dynamo 0.4.1 serving vLLM ("rocm-vllm 0.9.1" is vLLM's)
_COMPOUND = r"(?<!dynamo-)"


def stated_version(engine: str, software: str) -> str | None:
    """The version text after the engine's name (its id, or one of its `names` in
    catalogs/engines.toml) in `software`, as written ("1.2.0rc2"); None when no dotted number
    follows any of them ("TensorRT-LLM (commit f51ea9dc)", "vllm:rocm6.4.1").

    >>> stated_version("tensorrt-llm", "TensorRT-LLM 1.2.0rc2 (nvcr.io/...)")
    '1.2.0rc2'
    >>> stated_version("vllm", "Mango LLMBoost, vllm-0.9.0.2.dev108+g71faa1880.rocm641")
    '0.9.0.2'
    >>> stated_version("vllm", "rocm/vllm:rocm6.4.1_vllm_0.9.1_20250715")
    '0.9.1'
    >>> stated_version("tensorrt-llm", "TRT-LLM 0.17, TensorRT 10.8")
    '0.17'
    >>> stated_version("tensorrt-llm", "TensorRT-LLM (commit f51ea9dc) ; TensorRT 10.11") is None
    True
    >>> stated_version("vllm", "vLLM V1 engine v0.9.2"), stated_version("vllm", "dynamo-vllm 0.4.1")
    ('0.9.2', None)
    >>> stated_version("tensorrt-llm", "TensorRT-LLM (PyTorch backend) 0.20")
    '0.20'
    >>> stated_version("vllm", "vLLM (V1 engine) 0.9.2"), stated_version("vllm", "rocm-vllm 0.9.1")
    ('0.9.2', '0.9.1')
    >>> stated_version("vllm", "vLLM (ROCm 6.4.1) 0.9.1"), stated_version("vllm", "vLLM (v0.9.1)")
    ('0.9.1', '0.9.1')
    """
    m = re.search(_COMPOUND + named(engine) + _AFTER_NAME, software, re.IGNORECASE)
    return m.group(1) if m else None


def named(engine: str) -> str:
    """A regular expression (to match in any case) for `engine`'s id or one of its `names`,
    not the end of a longer word on its left ("rocm/vllm", "trtllm-bench", "dynamo-vllm", not
    "myvllm") nor of the projects named after one ("nano-vllm", "mini-sglang")."""
    names = "|".join(re.escape(n) for n in (engine, *names_of(engine)))
    return rf"(?<![a-z0-9])(?<!nano-)(?<!mini-)(?:{names})"


def parse_version(
    text: str, *, where: str | None = None, key: str | None = None
) -> tuple[int, ...]:
    """The (major, minor, patch) of a version string, missing parts 0 ("0.13" is 0.13.0);
    suffixes such as "rc2" or ".post4" are dropped ("1.2.0rc2" → (1, 2, 0)). InputError when it
    starts with no number.

    >>> parse_version("0.5.6"), parse_version("1.2.0rc2"), parse_version("v0.13")
    ((0, 5, 6), (1, 2, 0), (0, 13, 0))
    """
    m = re.match(r"v?(\d+(?:\.\d+)*)", text.strip())
    if not m:
        raise InputError(f"expected a version such as 0.5.6, got {text!r}", where=where, key=key)
    parts = [int(x) for x in m.group(1).split(".")[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def check_version(
    version: str,
    engine: str | None,
    *,
    engine_key: str,
    where: str | None = None,
    key: str,
    hint: str = "",
) -> str:
    """`version` when it is a version (`parse_version`) of a named `engine`, else an
    InputError at `key`; `engine_key` names where the engine is given (`hint`: how).

    >>> check_version("0.5.6", "sglang", engine_key="--engine", key="--engine-version")
    '0.5.6'
    """
    if engine is None:
        raise InputError(
            f"expected {engine_key} too: the version of which engine{hint}", where=where, key=key
        )
    parse_version(version, where=where, key=key)
    return version


def oldest_builds(rows) -> dict[str, str]:
    """Per serving engine, the oldest build that `rows` (measurements with `engine` and
    `software`) state, as written ("0.5.5"); an engine with a row that states no version is
    left out, since its oldest build is not known.

    >>> from types import SimpleNamespace as R
    >>> oldest_builds([R(engine="vllm", software="vLLM 0.13.0"),
    ...                R(engine="vllm", software="vLLM v0.11.2 (ROCm)"),
    ...                R(engine="sglang", software="SGLang")])
    {'vllm': '0.11.2'}
    """
    return {e: oldest for e, (oldest, _) in stated_builds(rows).items()}


def stated_builds(rows, *, strict: bool = True) -> dict[str, tuple[str, str]]:
    """Per serving engine, the (oldest, newest) builds that `rows` state, as written; with
    `strict`, an engine with a row that states no version is left out, since its range is not
    known; without, such rows are not counted (the range of the builds stated).

    >>> from types import SimpleNamespace as R
    >>> stated_builds([R(engine="vllm", software="vLLM 0.13.0"),
    ...                R(engine="vllm", software="vLLM v0.11.2 (ROCm)"),
    ...                R(engine="tensorrt-llm", software="TensorRT-LLM 1.2.0rc2")])
    {'tensorrt-llm': ('1.2.0rc2', '1.2.0rc2'), 'vllm': ('0.11.2', '0.13.0')}
    """
    found: dict[str, list[tuple[tuple[int, ...], str]]] = {}
    unversioned = set()
    for r in rows:
        stated = stated_version(r.engine, r.software)
        if not stated:
            unversioned.add(r.engine)
            continue
        found.setdefault(r.engine, []).append((parse_version(stated), stated))
    return {
        e: (min(v)[1], max(v)[1])
        for e, v in sorted(found.items())
        if not (strict and e in unversioned)
    }


def side(version: str, oldest: str, newest: str) -> int:
    """Where build `version` lies against two stated builds: -1 before the oldest, 1 after the
    newest, 0 between them (suffixes dropped: 1.2.0rc2 is 1.2.0).

    >>> [side(v, "0.4.2", "0.4.3") for v in ("0.4.0", "0.4.3", "0.5.1")]
    [-1, 0, 1]
    >>> side("0.5.6", "0.5.5", "0.5.7"), side("0.6.0", "0.5.5", "0.5.7")
    (0, 1)
    """
    v = parse_version(version)
    return -1 if v < parse_version(oldest) else int(v > parse_version(newest))


def mixed_batches(engine: str, software: str, date: str = "") -> bool:
    """Whether the build `software` of `engine` runs arriving prompts inside its decode steps by
    default (`mixed_batches` of catalogs/engines.toml, with its source): always for an engine
    whose every release does, from the stated version otherwise (or the one a measurement's
    `date` implies: `build`); a build that states no version is taken to predate it.

    >>> mixed_batches("tensorrt-llm", "NVIDIA NIM 1.8.0 (TensorRT-LLM backend)")
    True
    >>> mixed_batches("vllm", "vLLM 0.7.3.dev138"), mixed_batches("vllm", "vLLM 0.8.5")
    (False, True)
    >>> mixed_batches("sglang", "SGLang 0.4.3.post2")
    False
    """
    since = _mixed().get(engine)
    if since is None:
        return False
    if since == "always":
        return True
    stated = build(engine, software, date)
    return stated is not None and parse_version(stated) >= parse_version(since)


_MONTH_NAMES = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_YEAR = r"(?:19|20)[0-9]{2}"
_DATED = re.compile(
    # a year, with its month after it: 2025-12, 2025/12, 2025.12, 2025-12-17, 20251217, 2025年12月
    rf"(?<![0-9a-z#])(?P<year>{_YEAR})(?:[-/.年]\s?(?P<month>[0-9]{{1,2}})(?![0-9])"
    r"|(?P<compact>[0-9]{2})[0-9]{2}(?![0-9])|(?![0-9]))"
    # a month's number before its year: 12/2025, 12.2025
    rf"|(?<![0-9/.a-z#])(?P<number>[0-9]{{1,2}})[/.](?P<number_year>{_YEAR})(?![0-9])"
    # a month's name (the first of a range of them) before its year, a day between them or not:
    # Dec 2025, December 17, 2025, Nov-Dec 2025, Dec-Jan 2026 (December 2025 to January 2026)
    rf"|\b(?P<name>{_MONTH_NAMES})\b\.?(?:\s?[-/]\s?(?P<to_name>{_MONTH_NAMES})\b\.?)?"
    rf"(?:\s[0-9]{{1,2}}(?:st|nd|rd|th)?)?,?\s(?P<named_year>{_YEAR})(?![0-9])"
    # a quarter (the first of a range of them): Q4 2025, Q3/Q4 2025, Q4-Q1 2026
    rf"|\bq(?P<quarter>[1-4])(?:\s?[-/]\s?q(?P<to_quarter>[1-4]))?\s?(?P<quarter_year>{_YEAR})"
    r"(?![0-9])",
    re.IGNORECASE,
)
# what makes a date a bound from above or an estimate rather than when the row was measured
# ("pre-2026", "before 2026-01", "<= 2026-01", "2026-01 or earlier", "~2026", "est. 2026",
# "2026?", "FY 2026"): wherever it is written, no start is read
_NOT_A_START = re.compile(
    rf"\bby\s(?=[0-9]|q[1-4]\b|(?:{_MONTH_NAMES})\b)"
    r"|\b(?:pre|before|until|till|til|prior|up\sto|earlier|latest|approx\w*|circa|c|ca|around"
    r"|about|roughly|est|estimated?|fiscal|fy\w*|tbd|unknown)\b|[<≤≈~?]",
    re.IGNORECASE,
)
# addresses are not dates: a scheme's, a www., or a dotted domain with a path
_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+|www\.\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)+/\S*", re.I)
_ABBREVIATIONS = tuple(n[:3] for n in _MONTH_NAMES.replace("\n", "").split("|"))
_DASHES = str.maketrans("‐‑‒–—―−", "-------")
_LONGEST = 120  # characters: a longer `date` cell is notes, not a date (no start is read)


def _month(m: re.Match) -> tuple[int, int]:
    """(year, month) of one `_DATED` match (a year alone, or no such month: its January); a
    range of months that wraps the year (Dec-Jan 2026, Q4-Q1 2026) starts in the year before."""
    if m["name"]:
        first = _ABBREVIATIONS.index(m["name"][:3].casefold()) + 1
        last = _ABBREVIATIONS.index(m["to_name"][:3].casefold()) + 1 if m["to_name"] else first
        return int(m["named_year"]) - (last < first), first
    if m["quarter"]:
        first, last = int(m["quarter"]), int(m["to_quarter"] or m["quarter"])
        return int(m["quarter_year"]) - (last < first), 3 * first - 2
    if m["number"]:
        year, month = int(m["number_year"]), int(m["number"])
    else:
        year, month = int(m["year"]), int(m["month"] or m["compact"] or 1)
    return year, month if 1 <= month <= 12 else 1


def earliest_month(date: str) -> tuple[int, int] | None:
    """The earliest (year, month) a measurement's `date` admits: the earliest of the dates it
    writes (a range's start, a year alone its January, a range of months its first); None when
    it writes none, or marks one as a bound from above or an estimate (`_NOT_A_START`), since
    its start is then not known. Addresses are not dates, nor is a cell longer than `_LONGEST`.

    >>> earliest_month("2025-12-17"), earliest_month("2025-12/2026-01"), earliest_month("2026")
    ((2025, 12), (2025, 12), (2026, 1))
    >>> earliest_month("Dec 17, 2025"), earliest_month("Nov-Dec 2025"), earliest_month("Q4 2025")
    ((2025, 12), (2025, 11), (2025, 10))
    >>> earliest_month("Dec-Jan 2026"), earliest_month("Jun 2026 (data of Nov 2025)")
    ((2025, 12), (2025, 11))
    >>> [earliest_month(d) for d in ("pre-2026", "~2026-01", "2026?", "FY2026", "x.org/pull/2026")]
    [None, None, None, None, None]
    """
    text = date.translate(_DASHES)
    if len(text) > _LONGEST:
        return None
    text = _URL.sub(" ", text)
    if _NOT_A_START.search(text):
        return None
    found = [_month(m) for m in _DATED.finditer(text)]
    return min(found) if found else None


@functools.lru_cache(maxsize=1)
def _published() -> dict[str, tuple[tuple[tuple[int, int], str], ...]]:
    """Engine → ((year, month), build) of `published` in catalogs/engines.toml, by month."""
    path, raw = _raw()
    out = {}
    for engine, body in raw.items():
        table = body.get("published", {})
        key = f"{engine}.published"
        if not isinstance(table, dict) or (table and not body.get("published_source")):
            raise InputError(
                'expected published = { "0.5.5" = "2025-12" } and a published_source',
                where=path,
                key=key,
            )
        found = []
        for build, month in table.items():
            parse_version(build, where=path, key=key)
            m = re.fullmatch(r"((?:19|20)[0-9]{2})-(0[1-9]|1[0-2])", str(month))
            if m is None:
                raise InputError(
                    f"expected a month such as 2025-12, got {str(month)!r}",
                    where=path,
                    key=f"{key}.{build}",
                )
            found.append(((int(m[1]), int(m[2])), build))
        out[engine] = tuple(sorted(found, key=lambda f: (f[0], parse_version(f[1]))))
    return out


def dated_build(engine: str, date: str) -> str | None:
    """The build a measurement of `engine` dated `date` is taken to run when its software names
    the engine but states no build: the latest that catalogs/engines.toml's `published` says was
    out by the earliest month the date admits (`earliest_month`). That assumes the row ran the
    newest build then out, as the benchmarks of a build's release do; a date only bounds the
    build from above, so an answer judges it as possibly older (`Profile.asked_dated`).
    None when the date is too early or gives no start, or the engine lists no build.

    >>> dated_build("sglang", "2025-12/2026-01"), dated_build("sglang", "2025-11-03")
    ('0.5.6', None)
    >>> dated_build("vllm", "2026-01-02"), dated_build("vllm", "~2026"), dated_build("tgi", "2026")
    ('0.13.0', None, None)
    """
    month = earliest_month(date)
    if month is None:
        return None
    out = [build for since, build in _published().get(engine, ()) if since <= month]
    return max(out, key=parse_version) if out else None


def build(engine: str, software: str, date: str = "") -> str | None:
    """The engine build a measurement is predicted as running: the one its `software` states
    (`stated_version`), else, when `software` names `engine` (`named`) and writes no other
    version (a bundle's, "NVIDIA NIM 1.8.0 (TensorRT-LLM backend)", pins a build it does not
    state), the one its `date` implies (`dated_build`), else None.

    >>> build("sglang", "SGLang 0.4.3", "2026-01"), build("sglang", "SGLang", "2026-01")
    ('0.4.3', '0.5.7')
    >>> build("sglang", "", "2026-01"), build("sglang", "vLLM", "2026-01")
    (None, None)
    >>> build("tensorrt-llm", "NVIDIA NIM 1.8.0 (TensorRT-LLM backend)", "2026-01") is None
    True
    """
    stated = stated_version(engine, software)
    if (
        stated
        or not re.search(named(engine), software, re.IGNORECASE)
        or re.search(r"[0-9]\.[0-9]", software)
    ):
        return stated
    return dated_build(engine, date)


def runs_on(catalog: Catalog, chip_id: str, engine: str) -> bool:
    """Whether `engine` runs on `chip_id` (an engine not in the table, or a hypothetical chip,
    is not restricted: there is nothing stated to check against)."""
    chip = catalog.chip(chip_id)
    vendors = table().get(engine)
    return chip.kind != "datasheet" or vendors is None or chip.vendor in vendors


def engines_for(catalog: Catalog, chip_id: str) -> tuple[str, ...]:
    """The engines of the table that run on `chip_id`, by name."""
    return tuple(sorted(e for e in table() if runs_on(catalog, chip_id, e)))


def check(
    catalog: Catalog, chip_id: str, engine: str, *, where: str | None = None, key: str = "engine"
) -> None:
    """InputError unless `engine` runs on `chip_id`, naming the engines that do."""
    if not runs_on(catalog, chip_id, engine):
        chip = catalog.chip(chip_id)
        others = ", ".join(engines_for(catalog, chip_id)) or "none in catalogs/engines.toml"
        raise InputError(
            f"{engine} does not run on {chip_id} ({chip.vendor}); engines that do: {others}",
            where=where,
            key=key,
        )


def of_profile(profile) -> str | None:
    """The serving engine a profile was fitted to (its `engine`, or its platform's)."""
    if profile.engine:
        return profile.engine
    if "/" in profile.platform:
        return profile.platform.split("/", 1)[1]
    return None
