"""The numbers of quantity strings parsed before, kept on disk so that a command loads no pint.

Importing pint and building its registry costs every command about 0.15 s of CPU, while the
catalogs it parses are the same from one run to the next. `units.parse` asks `lookup` first and
gives what pint returned to `remember`; the new numbers are written once, when the process
exits. Only numbers are kept, never errors (a malformed string goes to pint again and is
reported naming its key).

The file, `units-<fingerprint>.json`, is named after everything the numbers depend on: the text
of `designer/model/units.py` (the registry and the checks) and the installed pint (its version
and definitions files, by path, size and modification time), so a change of either starts a new
file. It lives in `$DESIGNER_CACHE_DIR`, else `$XDG_CACHE_HOME/designer`, else
`~/.cache/designer`; `DESIGNER_CACHE_DIR=""` turns the cache off. A cache that cannot be read,
holds anything but numbers, or cannot be written (a read-only home) is ignored: the strings are
parsed by pint as without it.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import math
import os
import tempfile
from importlib.util import find_spec
from pathlib import Path

MAX_ENTRIES = 20_000  # strings kept; past this the file is not grown (a sweep of odd values)
MAX_FILE_BYTES = 4 << 20
PINT_FILES = ("__init__.py", "default_en.txt", "constants_en.txt")


class _Cache:
    """The numbers read from the file and those added since (written at exit)."""

    def __init__(self, path: Path | None):
        self.path = path
        self.numbers: dict[str, float] = _read(path) if path else {}
        self.added: dict[str, float] = {}


_cache: _Cache | None = None


def folder() -> Path | None:
    """The cache folder (not created here); None when DESIGNER_CACHE_DIR is set empty."""
    if "DESIGNER_CACHE_DIR" in os.environ:
        given = os.environ["DESIGNER_CACHE_DIR"]
        return Path(given) if given else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        if home == "~":  # no home folder known: no cache (never one under the working folder)
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "designer"


def fingerprint() -> str | None:
    """A hash of units.py's text and the installed pint's files (path, size, mtime); None when
    either cannot be found (then nothing is cached)."""
    digest = hashlib.sha256()
    try:
        digest.update(Path(__file__).with_name("units.py").read_bytes())
        spec = find_spec("pint")
        if spec is None or spec.origin is None:
            return None
        pint_folder = Path(spec.origin).parent
        for name in PINT_FILES:
            st = (pint_folder / name).stat()
            digest.update(f"{pint_folder / name}|{st.st_size}|{st.st_mtime_ns}".encode())
    except (OSError, ValueError, ImportError):
        return None
    return digest.hexdigest()[:16]


def _key(text: str, kind: str) -> str:
    return f"{kind}|{text}"


def _read(path: Path) -> dict[str, float]:
    """The numbers in the file; {} when it is missing, too large or holds anything else."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or len(data) > MAX_ENTRIES:
        return {}
    ok = all(type(v) is float and math.isfinite(v) for v in data.values())
    return data if ok else {}


def _get() -> _Cache:
    global _cache
    if _cache is None:
        where, stamp = folder(), None
        if where is not None:
            stamp = fingerprint()
        _cache = _Cache(where / f"units-{stamp}.json" if where and stamp else None)
    return _cache


def lookup(text: str, kind: str) -> float | None:
    """The number a well-formed `text` of `kind` was parsed to before, else None."""
    return _get().numbers.get(_key(text, kind))


def remember(text: str, kind: str, number: float) -> None:
    """Keep the number pint parsed `text` to (written when the process exits)."""
    cache = _get()
    if cache.path is None or not math.isfinite(number):
        return
    if len(cache.numbers) >= MAX_ENTRIES:
        return
    if not cache.added:
        atexit.register(save)
    cache.numbers[_key(text, kind)] = cache.added[_key(text, kind)] = float(number)


def save() -> None:
    """Write the numbers added since the file was read, merged with what other processes wrote
    meanwhile (a temporary file renamed over it: a reader never sees half a file); errors are
    ignored."""
    cache = _cache
    if cache is None or cache.path is None or not cache.added:
        return
    numbers = _read(cache.path) | cache.added
    if len(numbers) > MAX_ENTRIES:
        return
    try:
        cache.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".units-", dir=cache.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(numbers, f, separators=(",", ":"))
            os.replace(tmp, cache.path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return
    cache.added = {}


def reset() -> None:
    """Forget the file read (the next lookup reads the folder named by the environment again);
    numbers added and not yet written are dropped."""
    global _cache
    _cache = None
