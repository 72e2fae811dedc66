"""What-if sweeps: a grid or list of changes to a problem, every point one solve.

A study file (TOML) names a problem (relative to the study file) and the values to sweep;
`[grid]` takes the cross product, `[list]` zips equally long lists (both together: every grid
point with every list row); `[options]` may set `time_limit` (seconds per point) and `workers`:

    problem = "../problems/llama3-405b-1000utps-128k-32users-capex.toml"
    [grid]
    "sla.tokens_per_s_per_user" = [250, 500, 1000, 2000]
    "chips.*.memory_bandwidth" = ["x1", "x2", "x4"]      # wildcards and factors work here too

Results are appended to the output file as soon as each is known (CSV, or Parquet when the
name ends in .parquet: a `.partial.csv` journal beside it until the sweep ends); a re-run skips
the points already in the file (keyed by their swept values, column `key`); a failing point is
recorded with its `error` and the others go on. Points run in a local process pool by default,
or on a Dask cluster (`scheduler="tcp://host:8786"`, or a `distributed.Client`).

    >>> frame = sweep("study.toml", out="results.csv", workers=2)      # doctest: +SKIP
    >>> frame[["sla.tokens_per_s_per_user", "status", "objective"]]  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import importlib
import itertools
import json
import math
import os
import re
import signal
import socket
import struct
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designer.model import outputs
from designer.model.errors import InputError, closest, excerpt
from designer.model.files import MAX_CSV_BYTES, read_text, read_toml
from designer.optimize.problem import Problem, apply_sets, is_catalog_path, load_problem
from designer.studies.progress import progress_bar
from designer.studies.rows import solve_row

if TYPE_CHECKING:
    import pandas as pd  # a frame is made when asked for (Swept.frame): 0.3 s to load

STUDY_KEYS = ("problem", "grid", "list", "options")
OPTION_KEYS = ("time_limit", "workers")


def point_key(point: dict[str, Any]) -> str:
    """The canonical text of a point's swept values: what a re-run matches finished points by."""
    return json.dumps(point, sort_keys=True, separators=(",", ":"), default=str)


UNNAMED = "<study>"  # the name of a study built in Python, not read from a file


@dataclass
class Study:
    """A problem and the points to solve it at (each a dict of dotted-path changes)."""

    problem: Problem
    points: list[dict[str, Any]]
    time_limit: float = 60.0
    workers: int | None = None
    where: str = UNNAMED
    swept: list[str] = field(default_factory=list)

    @classmethod
    def from_grid(
        cls,
        problem: Problem,
        grid: dict[str, list] | None = None,
        zipped: dict[str, list] | None = None,
        **options: Any,
    ) -> Study:
        """The cross product of `grid` with the zipped rows of `zipped`.

        Example: `Study.from_grid(p, {"chips.*.memory_bandwidth": ["x1", "x2"]})`."""
        where = options.pop("where", UNNAMED)
        points = _points(grid or {}, zipped or {}, where)
        swept = [*(grid or {}), *(zipped or {})]
        _check_paths(problem, swept, where)
        return cls(problem, points, where=where, swept=swept, **options)

    @classmethod
    def load(cls, path: str | Path) -> Study:
        """Read a study TOML file (see the module docstring)."""
        path = Path(path)
        where = str(path)
        raw = read_toml(path, "a study TOML")
        for key in raw:
            if key not in STUDY_KEYS:
                raise InputError(f"unknown key{closest(key, STUDY_KEYS)}", where=where, key=key)
        if not isinstance(raw.get("problem"), str):
            raise InputError(
                "expected the problem file's path (a string)", where=where, key="problem"
            )
        options = raw.get("options", {})
        if not isinstance(options, dict):
            raise InputError("expected a table of options", where=where, key="options")
        for key in options:
            if key not in OPTION_KEYS:
                raise InputError(
                    f"unknown option{closest(key, OPTION_KEYS)}", where=where, key=f"options.{key}"
                )
        _check_options(options, where)
        for section in ("grid", "list"):
            if not isinstance(raw.get(section, {}), dict):
                raise InputError("expected a table of path = [values]", where=where, key=section)
        if not raw.get("grid") and not raw.get("list"):
            raise InputError("expected a [grid] or [list] table of values to sweep", where=where)
        try:
            problem = load_problem(path.parent / raw["problem"])
        except ValueError:  # a NUL character in the path
            raise InputError("not a valid file name", where=where, key="problem") from None
        return cls.from_grid(problem, raw.get("grid"), raw.get("list"), where=where, **options)


MAX_POINTS = 100_000  # points of one study (at ~100 points/s: about 17 minutes)
MAX_WORKERS = 1024  # processes of a local pool
MAX_TIME_LIMIT = 1e6  # seconds per point


def _check_workers(workers: Any, where: str | None, key: str) -> None:
    if workers is not None and not (
        isinstance(workers, int) and not isinstance(workers, bool) and 1 <= workers <= MAX_WORKERS
    ):
        raise InputError(
            f"expected a number of processes from 1 to {MAX_WORKERS}, got {excerpt(workers)}",
            where=where,
            key=key,
        )


def _check_options(options: dict[str, Any], where: str) -> None:
    limit = options.get("time_limit")
    _check_workers(options.get("workers"), where, "options.workers")
    if limit is not None and not (
        isinstance(limit, (int, float))
        and not isinstance(limit, bool)
        and 0 < limit <= MAX_TIME_LIMIT
    ):
        raise InputError(
            f"expected seconds in (0, {MAX_TIME_LIMIT:g}], got {excerpt(limit)}",
            where=where,
            key="options.time_limit",
        )


def _points(grid: dict[str, list], zipped: dict[str, list], where: str) -> list[dict[str, Any]]:
    for section, table in (("grid", grid), ("list", zipped)):
        for path, values in table.items():
            if isinstance(values, dict):  # [grid] sla.x = [...] is the table sla
                raise InputError(
                    f'expected a list of values, got a table: quote a dotted path ("{path}.'
                    f'{next(iter(values), "KEY")}" = [...])',
                    where=where,
                    key=f"{section}.{path}",
                )
            if not isinstance(values, list) or not values:
                raise InputError(
                    f"expected a non-empty list of values, got {excerpt(values)}",
                    where=where,
                    key=f"{section}.{path}",
                )
            for v in values:  # no point can use these: the study itself is wrong
                if isinstance(v, float) and not math.isfinite(v):
                    raise InputError(
                        f"expected finite values, got {v!r}", where=where, key=f"{section}.{path}"
                    )
            keys = [_same(v) for v in values]
            if section == "grid" and len(set(keys)) < len(keys):
                twice = next(v for v, k in zip(values, keys, strict=True) if keys.count(k) > 1)
                raise InputError(
                    f"{twice!r} is listed twice: each point is solved once",
                    where=where,
                    key=f"{section}.{path}",
                )
    for path in set(grid) & set(zipped):
        raise InputError("swept in both [grid] and [list]", where=where, key=path)
    lengths = {len(v) for v in zipped.values()}
    if len(lengths) > 1:
        raise InputError(
            f"the [list] values must be equally long (got lengths {sorted(lengths)})",
            where=where,
            key="list",
        )
    count = math.prod(len(v) for v in grid.values()) * max(lengths or {1})
    if count > MAX_POINTS:
        raise InputError(
            f"{count:,} points: a study has at most {MAX_POINTS:,} (split it into several)",
            where=where,
        )
    rows = [dict(zip(zipped, values, strict=True)) for values in zip(*zipped.values(), strict=True)]
    if len({tuple(_same(v) for v in r.values()) for r in rows}) < len(rows):
        raise InputError("a [list] row is listed twice: each point is solved once", where=where)
    combos = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    return [{**g, **r} for g in combos for r in (rows or [{}])]


def _same(value: Any) -> str:
    """What a swept value is, for telling repeated points apart: 50 and 50.0 are one point."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    return point_key({"v": value})


def _check_paths(problem: Problem, paths: Iterable[str], where: str) -> None:
    """Bad paths fail the whole study before it starts (bad values fail only their points)."""
    for path in paths:
        try:
            if is_catalog_path(path):
                problem.catalog.expand_path(path)
            else:
                apply_sets(problem.raw, {path: 1}, where=None)  # named once, below
        except InputError as exc:
            raise InputError(str(exc), where=where) from None


# ---- running points ------------------------------------------------------------------------
_WORKER_PROBLEM: Problem | None = None


def _init_worker(problem: Problem) -> None:
    global _WORKER_PROBLEM
    _WORKER_PROBLEM = problem
    # Ctrl-C reaches the whole process group: the parent stops the pool, the workers do not
    # each print an interruption of their own; and a worker never outlives its parent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()


def _die_with_parent() -> None:
    """Linux: SIGTERM this process when the process that started it dies (even by SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run_chunk(
    chunk: list[dict[str, Any]],
    time_limit: float,
    problem: Problem | None = None,
    origin: str = "--set",
) -> list[dict[str, Any]]:
    """Solve a few points (in a pool worker, a Dask worker or here); one row each. A bad
    swept value's error names `origin`, the study file."""
    pr = problem if problem is not None else _WORKER_PROBLEM
    assert pr is not None, "worker not initialized"
    return [
        {
            **{k: _cell(v) for k, v in point.items()},
            **solve_row(pr, point, time_limit=time_limit, origin=origin),
            "key": point_key(point),
        }
        for point in chunk
    ]


def _cell(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) else json.dumps(value)


def _chunks(points: list[dict], workers: int) -> list[list[dict]]:
    size = max(1, min(16, len(points) // max(workers * 8, 1)))
    return [points[i : i + size] for i in range(0, len(points), size)]


def _run_local(study: Study, todo: list[dict], workers: int) -> Iterator[list[dict]]:
    """Rows of `todo`, chunk by chunk: here (one worker) or in a process pool. The pool is
    started and every chunk submitted before this returns, so its workers are forked before
    any other thread (a progress bar) starts."""
    if workers <= 1 or len(todo) <= 1:
        return (_run_chunk([point], study.time_limit, study.problem, study.where) for point in todo)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_start_context(),
        initializer=_init_worker,
        initargs=(study.problem,),
    )
    futures = [
        pool.submit(_run_chunk, c, study.time_limit, None, study.where)
        for c in _chunks(todo, workers)
    ]
    return _results(pool, futures)


def _start_context():
    """fork where it is safe — Linux, and this process runs no other Python thread (HiGHS runs
    none with one thread, OpenBLAS guards its own) — so workers start with the solver loaded;
    else forkserver (spawn on Windows), whose server loads the solver once for all workers."""
    methods = get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        importlib.import_module(
            "designer.optimize.solve"
        )  # loaded once here, inherited by the workers
        importlib.import_module("designer.optimize.modeling").load_compiler()
        return get_context("fork")
    if "forkserver" in methods:
        ctx = get_context("forkserver")
        ctx.set_forkserver_preload(["designer.studies.sweep", "designer.optimize.solve"])
        return ctx
    return get_context("spawn")


def _results(pool: ProcessPoolExecutor, futures: list) -> Iterator[list[dict]]:
    try:
        for fut in as_completed(futures):
            yield fut.result()
    except BaseException:  # an interruption (SIGINT, SIGTERM), or the consumer stopped
        _stop(pool)
        raise
    pool.shutdown()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the pool now: queued chunks cancelled, running workers terminated and reaped."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(OSError, ValueError):
            p.terminate()
    for p in procs:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            p.join(timeout=5)


def _run_dask(study: Study, todo: list[dict], scheduler: Any) -> Iterator[list[dict]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise InputError(
            "--scheduler needs dask.distributed: pip install 'designer[dask]'", key="--scheduler"
        ) from None
    client = scheduler if isinstance(scheduler, Client) else _client(scheduler)
    try:
        workers = max(len(client.scheduler_info().get("workers", {})), 1)
        shared = client.scatter(study.problem, broadcast=True)
        futures = [
            client.submit(_run_chunk, c, study.time_limit, shared, study.where, pure=False)
            for c in _chunks(todo, workers)
        ]
        for fut in dask_completed(futures):
            yield fut.result()
    finally:
        if client is not scheduler:
            client.close()


CONNECT_TIMEOUT = 10.0  # seconds to reach a Dask scheduler and find a worker on it
MAX_HANDSHAKE = 1 << 20  # bytes: a Dask handshake is a few hundred


def scheduler_address(text: str) -> tuple[str, int]:
    """(host, port) of 'tcp://host:port' or 'host:port', else an InputError."""
    from urllib.parse import urlsplit

    url = urlsplit(text if "://" in text else f"tcp://{text}")
    try:
        port = url.port
    except ValueError:
        port = None
    if url.scheme != "tcp" or not url.hostname or port is None or port < 1:
        raise InputError(
            f"expected a Dask scheduler address tcp://HOST:PORT, got {excerpt(text)}",
            key="--scheduler",
        )
    return url.hostname, port


def _probe(host: str, port: int, timeout: float = CONNECT_TIMEOUT / 2) -> None:
    """Connect and read the first bytes a Dask scheduler sends (the length of its handshake),
    with a timeout: an address that never answers, or answers with something else, is an
    InputError before a Client would wait on it or allocate what it announces."""
    where = f"tcp://{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            head = b""
            while len(head) < 8:
                more = s.recv(8 - len(head))
                if not more:
                    raise InputError(
                        f"{where} closed the connection (expected a Dask scheduler)",
                        key="--scheduler",
                    )
                head += more
    except TimeoutError:
        raise InputError(
            f"no answer from {where} within {timeout:g} s (expected a Dask scheduler)",
            key="--scheduler",
        ) from None
    except OSError as exc:
        raise InputError(
            f"cannot connect to {where}: {exc.strerror or exc}", key="--scheduler"
        ) from None
    (size,) = struct.unpack("<Q", head)
    if not 0 < size <= MAX_HANDSHAKE:
        raise InputError(
            f"{where} is not a Dask scheduler (it announced a first message of {size:,} bytes)",
            key="--scheduler",
        )


def _client(address: str):
    """A distributed.Client of the scheduler at `address`, reached within CONNECT_TIMEOUT and
    with at least one worker."""
    from distributed import Client

    if address.startswith("inproc://"):  # a cluster in this process (the Python API)
        where = address
    else:
        host, port = scheduler_address(address)
        _probe(host, port)
        where = f"tcp://{host}:{port}"
    try:
        client = Client(where, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot connect to {where}: {exc}", key="--scheduler") from None
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError):
        client.close()
        raise InputError(
            f"the scheduler at {where} has no worker (waited {CONNECT_TIMEOUT:g} s)",
            key="--scheduler",
        ) from None
    return client


# ---- the output file -----------------------------------------------------------------------
_HEADER = re.compile(r"# written by designer \S+: sweep of (.*), problem sha256 ([0-9a-f]+)")


def problem_hash(study: Study) -> str:
    """What a sweep's rows depend on besides their swept values: the problem (its TOML as
    read, every catalog value) and the time limit per point; 16 hex digits of its SHA-256."""
    text = json.dumps(
        {
            "problem": study.problem.raw,
            "catalog": study.problem.catalog.raw,
            "time_limit": study.time_limit,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def header(study: Study) -> str:
    """The first line of a sweep's CSV: who wrote it, for which study and problem."""
    return f"# {outputs.STAMP}: sweep of {Path(study.where).name}, problem sha256 " + problem_hash(
        study
    )


RESULT_SUFFIXES = (".csv", ".parquet")  # what a sweep writes its results as


class _Sink:
    """Rows appended to a CSV file as they arrive (the journal of a Parquet output).

    The file's first line is `header(study)`: an existing file is resumed only when it carries
    the same problem hash, and replaced only with `force`."""

    def __init__(self, out: Path, study: Study, force: bool = False):
        if out.suffix.lower() not in RESULT_SUFFIXES:  # CSV text under .xlsx helps no one
            raise InputError(
                f"expected a {' or '.join(RESULT_SUFFIXES)} file name for a sweep's results, "
                f"got {excerpt(out.name)}",
                where=str(out),
                key="--out",
            )
        self.out = outputs.check(out, "a sweep's results", mine=True)
        self.parquet = out.suffix.lower() == ".parquet"
        self.journal = out.with_name(out.name + ".partial.csv") if self.parquet else out
        if self.parquet:
            outputs.check(self.journal, "a sweep's journal", mine=True)
        self.header = header(study)
        self.rows: list[dict[str, Any]] = []
        self._frame: pd.DataFrame | None = None
        if not force:
            if self.parquet and out.exists():
                self.rows += self._resume(out, self._parquet_header(out))
            if self.journal.exists():
                self.rows += self._resume(self.journal, self._first_line(self.journal))
        self.columns: list[str] = []
        for row in self.rows:
            self.columns += [c for c in row if c not in self.columns]
        self._rewrite()

    def _resume(self, path: Path, found: str) -> list[dict[str, Any]]:
        """The rows of `path` if its header `found` is this study's, else an InputError."""
        m = _HEADER.fullmatch(found.strip())
        if not m:
            raise InputError(
                "exists and is not a sweep written by designer: not replaced "
                f"({outputs.FORCE_HINT})",
                where=str(path),
            )
        mine = _HEADER.fullmatch(self.header)
        named = mine and UNNAMED not in (m.group(1), mine.group(1))  # both read from files
        if named and m.group(1) != mine.group(1):  # another study's rows: not to be merged
            raise InputError(
                f"holds a sweep of {m.group(1)}, not of {mine.group(1)}: its rows are another "
                f"study's ({outputs.FORCE_HINT})",
                where=str(path),
            )
        if m.group(2) != problem_hash_of(self.header):
            raise InputError(
                f"holds a sweep of {m.group(1)} for problem sha256 {m.group(2)}, but this "
                f"study's problem is sha256 {problem_hash_of(self.header)}: the problem, its "
                f"catalog or the time limit changed, so its rows are not this study's "
                f"({outputs.FORCE_HINT})",
                where=str(path),
            )
        if path.suffix.lower() == ".parquet":
            import pandas as pd

            return pd.read_parquet(path).to_dict("records")
        return _read_journal(path)

    @staticmethod
    def _first_line(path: Path) -> str:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.readline(4096)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", where=str(path)) from None

    @staticmethod
    def _parquet_header(path: Path) -> str:
        try:
            import pyarrow.parquet as pq

            meta = pq.read_schema(path).metadata or {}
        except ImportError:
            raise InputError(
                "Parquet output needs pyarrow: pip install 'designer[parquet]'", key="--out"
            ) from None
        except Exception:  # not a Parquet file: pyarrow raises its own error types
            return ""
        return meta.get(b"designer", b"").decode("utf-8", "replace")

    def keys(self) -> set[str]:
        return {str(r.get("key")) for r in self.rows}

    def add(self, rows: list[dict[str, Any]]) -> None:
        rows = [outputs.cells(r) for r in rows]
        self.rows += rows
        new = [c for r in rows for c in r if c not in self.columns]
        if new:
            self.columns += list(dict.fromkeys(new))
            self._rewrite()
            return
        try:
            with open(self.journal, "a", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, self.columns)
                w.writerows(rows)
        except OSError as exc:
            raise InputError(
                f"cannot write a sweep's results: {exc.strerror}", where=str(self.journal)
            ) from None

    def _rewrite(self) -> None:
        with (
            outputs.replacing(self.journal, "a sweep's results") as tmp,
            open(tmp, "w", newline="", encoding="utf-8") as f,
        ):
            f.write(self.header + "\n")
            w = csv.DictWriter(f, self.columns)
            w.writeheader()
            w.writerows(outputs.cells(r) for r in self.rows)

    def finish(self, order: dict[str, int]) -> None:
        """Rows in study order; the Parquet file written (and its journal removed)."""
        self.rows = sorted(self.rows, key=lambda r: order.get(str(r.get("key")), len(order)))
        self.columns = _ordered(self.columns)
        self._rewrite()
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(self.frame(), preserve_index=False)
            meta = {**(table.schema.metadata or {}), b"designer": self.header.encode()}
            with outputs.replacing(self.out, "a sweep's results") as tmp:
                pq.write_table(table.replace_schema_metadata(meta), tmp)
            self.journal.unlink()

    def frame(self) -> pd.DataFrame:
        """The rows as written (read back from the finished journal: CSV's types)."""
        import pandas as pd

        if self._frame is None:
            if not self.rows:
                self._frame = pd.DataFrame(columns=self.columns)
            else:
                self._frame = pd.read_csv(self.journal, skiprows=1, keep_default_na=True)
        return self._frame


def problem_hash_of(line: str) -> str:
    """The problem hash a sweep header names."""
    return line.rsplit(" ", 1)[-1]


_TAIL = ("explanation", "error", "seconds", "key")


def _ordered(columns: Iterable[str]) -> list[str]:
    """Columns in table order: swept values and answers first, then _TAIL."""
    columns = list(dict.fromkeys(columns))
    return [c for c in columns if c not in _TAIL] + [c for c in _TAIL if c in columns]


def _read_journal(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV journal (after its header line); a last line cut short by a kill is
    dropped."""
    text = read_text(path, "a sweep's results", MAX_CSV_BYTES)
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    lines = text.splitlines()[1:]
    if not "".join(lines).strip():
        return []
    try:
        return [dict(r) for r in csv.DictReader(lines) if r.get("key")]
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", where=str(path)) from None


def _workers(workers: int | None) -> int:
    return max(1, workers if workers is not None else (os.cpu_count() or 1))


@dataclass
class Swept:
    """The rows of a sweep in study order (those of `out` resumed included), and how many
    points this run computed and skipped."""

    rows: list[dict[str, Any]]
    computed: int
    skipped: int
    sink: _Sink | None = None

    def statuses(self) -> dict[str, int]:
        """Rows per status (rows without one are not counted)."""
        counts: dict[str, int] = {}
        for r in self.rows:
            if r.get("status") not in (None, ""):
                counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
        return counts

    def frame(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame (as written, when written to `out`); `attrs` hold
        `computed` and `skipped`."""
        if self.sink is not None:
            frame = self.sink.frame()
        else:
            import pandas as pd

            frame = pd.DataFrame(self.rows, columns=_ordered(c for r in self.rows for c in r))
        frame.attrs.update(computed=self.computed, skipped=self.skipped)
        return frame


def sweep(study: Study | str | Path, out: str | Path | None = None, **options: Any) -> pd.DataFrame:
    """Solve every point of `study` (a Study or a study file) and return one row per point.

    `out` (.csv or .parquet) receives each row as soon as it is known; points already in it
    are skipped when it was written for the same problem (its header's hash), an InputError
    otherwise; `force=True` replaces it. `workers` processes run the points (default: the
    study's `workers` option, else the CPU count; 1 runs them here); `scheduler` runs them on a
    Dask cluster instead; `progress=True` shows a bar. (The options of `run`, which returns the
    rows without a DataFrame.)
    The frame's `attrs` hold `computed` and `skipped` counts of this run.
    """
    return run(study, out, **options).frame()


def run(
    study: Study | str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = False,
    force: bool = False,
) -> Swept:
    """`sweep` without the DataFrame (pandas is not loaded unless a Parquet file is written):
    the rows, in study order."""
    if not isinstance(study, Study):
        study = Study.load(study)
    _check_workers(workers, None, "--workers")
    order = {point_key(p): i for i, p in enumerate(study.points)}
    sink = _Sink(Path(out), study, force) if out is not None else None
    done = sink.keys() if sink else set()
    todo = [p for p in study.points if point_key(p) not in done]
    rows: list[dict[str, Any]] = []
    n = _workers(workers if workers is not None else study.workers)
    runs = (
        _run_dask(study, todo, scheduler) if scheduler is not None else _run_local(study, todo, n)
    )
    try:
        with progress_bar(show=progress) as bar:
            task = bar.add_task(
                "sweep", total=len(study.points), completed=len(study.points) - len(todo)
            )
            for chunk in runs:
                if sink:
                    sink.add(chunk)
                rows += chunk
                bar.advance(task, len(chunk))
    finally:
        if hasattr(runs, "close"):
            runs.close()  # an interrupted run stops its pool here
    skipped = len(study.points) - len(todo)
    if sink:
        sink.finish(order)
        return Swept(sink.rows, len(todo), skipped, sink)
    rows.sort(key=lambda r: order[r["key"]])
    return Swept(rows, len(todo), skipped)
