"""The one gate for every file the tool reads: problem, study, catalog and profile TOML,
Hugging Face config.json and measurement CSV.

Every input file is read the same way: a regular file only (never a folder, FIFO, device or a
symlink loop), at most `MAX_BYTES` (`MAX_CSV_BYTES` for a CSV), UTF-8 text (a byte-order mark is
accepted and dropped), tables nested at most `MAX_DEPTH` deep, a CSV at most `MAX_ROWS` rows of
exactly its header's fields. Anything else is an `InputError` naming the file, raised at once (a
FIFO or `/dev/zero` is never waited on or read to its end).

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "p.toml"
>>> _ = p.write_text('[sla]\\ntokens_per_s_per_user = 50\\n')
>>> read_toml(p, "a problem TOML")
{'sla': {'tokens_per_s_per_user': 50}}
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from designer.model.errors import InputError, excerpt

MAX_BYTES = 1 << 20  # 1 MiB: the largest Hugging Face config.json is a few kB
MAX_DEPTH = 32  # tables and lists inside each other
MAX_CSV_BYTES = 64 << 20  # 64 MiB: the shipped 438 measurements take 0.4 MiB
MAX_ROWS = 100_000  # rows of a CSV


def _size(n: int) -> str:
    return f"{n >> 20} MiB"


def read_text(path: str | Path, what: str, max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file of at most `max_bytes`; `what` names the expected file."""
    where = str(path)
    try:
        # O_NONBLOCK: opening a FIFO without a writer must not wait for one.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise InputError(f"no such file (expected {what})", where=where) from None
    except IsADirectoryError:
        raise InputError(f"is a folder (expected {what})", where=where) from None
    except OSError as exc:  # symlink loops, permissions, names too long
        raise InputError(f"cannot open: {exc.strerror} (expected {what})", where=where) from None
    except ValueError:  # a NUL character in the path
        raise InputError(f"not a valid file name (expected {what})", where=where) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"is a folder (expected {what})", where=where)
        if not stat.S_ISREG(mode):
            raise InputError(f"not a regular file (expected {what})", where=where)
        chunks = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(max_bytes + 1 - size, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror} (expected {what})", where=where) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise InputError(f"larger than {_size(max_bytes)} (expected {what})", where=where)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text at byte {exc.start} (expected {what} saved as UTF-8)", where=where
        ) from None
    return text.removeprefix("\ufeff")


def depth(value: Any) -> int:
    """How deep tables and lists nest in `value` (0 for a scalar), without recursion."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, d + 1)
            if d + 1 <= MAX_DEPTH:
                stack.extend((v, d + 1) for v in node)
    return deepest


def _check_depth(value: Any, where: str) -> Any:
    if depth(value) > MAX_DEPTH:
        raise InputError(f"nested more than {MAX_DEPTH} levels deep", where=where)
    return value


# A line that is only a key (or a table header): tomllib takes time quadratic in the number of
# its dots, so keys deeper than MAX_DEPTH are refused before it reads them.
_KEY = re.compile(r"[\s\[]*[\w\-.\s\"']*[\s\]]*")


def _deep_key(text: str) -> bool:
    for line in text.splitlines():
        head = line.split("=", 1)[0]
        if head.count(".") > MAX_DEPTH and _KEY.fullmatch(head):
            return True
    return False


def read_toml(path: str | Path, what: str = "a TOML file") -> dict:
    """A TOML file read as described in the module docstring."""
    text = read_text(path, what)
    if _deep_key(text):
        raise InputError(f"nested more than {MAX_DEPTH} levels deep", where=str(path))
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML: {exc}", where=str(path)) from None
    except RecursionError:
        raise InputError(f"nested more than {MAX_DEPTH} levels deep", where=str(path)) from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise InputError(f"malformed TOML: {exc}", where=str(path)) from None
    return _check_depth(raw, str(path))


def read_json(path: str | Path, what: str = "a JSON file") -> Any:
    """A JSON file read as described in the module docstring; NaN and Infinity are rejected."""
    text = read_text(path, what)

    def constant(name: str) -> None:
        raise ValueError(f"{name} is not a JSON number")

    try:
        raw = json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", where=str(path)
        ) from None
    except ValueError as exc:  # NaN/Infinity, or an integer of more than 4300 digits
        raise InputError(f"malformed JSON: {exc}", where=str(path)) from None
    except RecursionError:
        raise InputError(f"nested more than {MAX_DEPTH} levels deep", where=str(path)) from None
    return _check_depth(raw, str(path))


def _delimiter(text: str) -> str:
    """A comma, unless the header line has none and separates its fields with semicolons or tabs
    (a spreadsheet's export in locales whose decimal mark is a comma).

    >>> _delimiter("id;ms\\nr1;7"), _delimiter("id,ms"), _delimiter("id\\tms")
    (';', ',', '\\t')
    """
    header = re.search(r"[^\r\n]*\S[^\r\n]*", text)  # the first line not blank
    first = header.group(0) if header else ""
    if "," in first:
        return ","
    return next((d for d in (";", "\t") if d in first), ",")


def read_csv(
    path: str | Path,
    what: str = "a CSV file",
    max_rows: int | None = None,
    *,
    header_only: bool = False,
    ragged: list[tuple[int, dict[str, str], InputError]] | None = None,
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the rows (`(line number, {column: text})`) of a CSV file read through
    `read_text`; every row has exactly the header's fields (else an error, or, when `ragged` is
    given, the row is appended to it as (line, the fields it has by column, the error)), blank
    lines are skipped; fields are separated by commas, or by the semicolons or tabs of a header
    without commas (`_delimiter`). With `header_only` the rows are not parsed (and none is
    returned).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.csv"
    >>> _ = p.write_bytes(b"\\xef\\xbb\\xbfid,ms\\nr1,7\\n")
    >>> read_csv(p)
    (['id', 'ms'], [(2, {'id': 'r1', 'ms': '7'})])
    """
    where = str(path)
    max_rows = MAX_ROWS if max_rows is None else max_rows
    text = read_text(path, what, MAX_CSV_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] = []
    try:
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            if not header:
                header = [f.strip() for f in fields]
                twice = sorted({h for h in header if h and header.count(h) > 1})
                if twice:  # the later one would silently win
                    raise InputError(
                        f"column {excerpt(twice[0])} appears {header.count(twice[0])} times in "
                        f"the header (expected {what}, each column once)",
                        where=f"{where}:{reader.line_num}",
                        key=twice[0],
                    )
                if header_only:
                    break
                continue
            line = reader.line_num
            if len(fields) != len(header):
                exc = InputError(
                    f"{len(fields)} fields where the header has {len(header)} "
                    f"(expected {what}, one row per line)",
                    where=f"{where}:{line}",
                )
                if ragged is None:
                    raise exc
                ragged.append((line, dict(zip(header, fields, strict=False)), exc))
                continue
            if len(rows) == max_rows:
                raise InputError(f"more than {max_rows:,} rows (expected {what})", where=where)
            rows.append((line, dict(zip(header, fields, strict=True))))
    except csv.Error as exc:
        raise InputError(
            f"malformed CSV at line {reader.line_num}: {exc} (expected {what})", where=where
        ) from None
    return header, rows
