"""The one gate for every file the tool writes: sweep and pareto results, calibrated profiles,
plots.

- A name that exists is replaced only when it is a regular file this tool wrote (it carries
  `MARK`: a first `#` line of a CSV or TOML, a `written_by` key of JSON, the creator field of a
  PNG, SVG or PDF), or with `force`; folders, devices (`/dev/full`, `/dev/null`) and FIFOs are
  refused at once.
- A file is written to a temporary name beside it and renamed over the name when complete, so
  a crash or a full disk never leaves half a file under the name.
- CSV cells that a spreadsheet would run as a formula (text starting with `= + - @`, a tab or
  a carriage return) are written with a leading `'`.

Every refusal and write failure is one `InputError` line naming the file.

    >>> cell("=HYPERLINK(1)"), cell("-3.5"), cell(-3.5), cell("h100-sxm")
    ("'=HYPERLINK(1)", '-3.5', -3.5, 'h100-sxm')
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from designer import __version__
from designer.model.errors import InputError, excerpt

MARK = "written by designer"
STAMP = f"{MARK} {__version__}"
_PEEK = 1 << 16  # bytes read at each end of a file when looking for MARK
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORCE_HINT = "give another name, or --force to replace it"


def cell(value: Any) -> Any:
    """`value`, with a leading `'` when it is text a spreadsheet would run as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        float(value)  # "-3.5" is a number, not a formula
    except ValueError:
        return "'" + value
    return value


def cells(row: dict[str, Any]) -> dict[str, Any]:
    """A table row with every cell through `cell`."""
    return {k: cell(v) for k, v in row.items()}


def made_here(path: str | Path) -> bool:
    """Whether the regular file `path` carries MARK near its start or end."""
    try:
        with open(path, "rb") as f:
            head = f.read(_PEEK)
            f.seek(max(0, os.fstat(f.fileno()).st_size - _PEEK))
            tail = f.read(_PEEK)
    except OSError:
        return False
    mark = MARK.encode()
    return mark in head or mark in tail


def check(
    path: str | Path,
    what: str,
    *,
    force: bool = False,
    mine: bool | None = None,
    key: str | None = None,
) -> Path:
    """`path` as a file this run may write `what` to (see the module doc), else an InputError
    (naming the option `key` that gave the name, when given).

    `mine` overrides the MARK test for callers that recognize their own files (a sweep)."""
    where = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Path(path)
    except ValueError:  # a NUL character
        raise InputError(f"not a valid file name (for {what})", where=where, key=key) from None
    except OSError as exc:  # a symlink loop, a name too long, a file used as a folder
        raise InputError(
            f"cannot write {what} here: {exc.strerror}", where=where, key=key
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"is a folder (expected a file name for {what})", where=where, key=key)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            f"not a regular file (devices and FIFOs are not written to; expected a file name "
            f"for {what})",
            where=where,
            key=key,
        )
    if not force and not (made_here(path) if mine is None else mine):
        raise InputError(
            f"exists and was not written by designer: not replaced by {what} ({FORCE_HINT})",
            where=where,
            key=key,
        )
    return Path(path)


@contextlib.contextmanager
def replacing(path: str | Path, what: str) -> Iterator[Path]:
    """A temporary file beside `path` (same suffix) that replaces `path` when the block ends
    without an error; removed otherwise. OS errors are InputErrors naming `path`."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write {what}: {exc.strerror or exc}", where=str(path)) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_text(path: str | Path, text: str, what: str, *, force: bool = False) -> Path:
    """`text` written to `path` through `check` and `replacing`."""
    path = check(path, what, force=force)
    with replacing(path, what) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def check_figure(
    path: str | Path, formats: tuple[str, ...], *, force: bool = False, key: str = "--plot"
) -> Path:
    """`check` for a figure whose extension must be one of `formats` ('.png', …)."""
    suffix = Path(path).suffix.lower()
    if suffix not in formats:
        raise InputError(
            f"expected a {' or '.join(formats)} file name, got {excerpt(Path(path).name)}",
            where=str(path),
            key=key,
        )
    return check(path, "a plot", force=force)


def savefig(fig: Any, path: str | Path, what: str, *, force: bool = False, **kwargs: Any) -> Path:
    """A matplotlib figure saved to `path` through `check` and `replacing`, stamped with MARK
    (PNG Software, SVG and PDF Creator)."""
    path = check(path, what, force=force)
    fmt = path.suffix.lower().lstrip(".")
    key = "Software" if fmt == "png" else "Creator"
    with replacing(path, what) as tmp:
        fig.savefig(tmp, format=fmt, metadata={key: STAMP}, **kwargs)
    return path
