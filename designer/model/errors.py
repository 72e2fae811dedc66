"""Errors that are part of the interface: one line each, with the exit code the CLI returns."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_SOLVER_LIMIT = 4


class DesignerError(Exception):
    """Base class; `exit_code` is what the CLI returns."""

    exit_code = 1


class InputError(DesignerError):
    """Bad input: names the file and key, what was expected, and the closest valid name."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, where: str | None = None, key: str | None = None):
        self.where = where
        self.key = key
        self.message = message
        prefix = ""
        if where and key:
            prefix = f"{where}: {key}: "
        elif where:
            prefix = f"{where}: "
        elif key:
            prefix = f"{key}: "
        super().__init__(prefix + message)


class BadRow(InputError):
    """Bad input in one row of a file of rows (a measurements CSV): the other rows may still
    be read (`designer validate --skip-bad-rows`)."""


MAX_MESSAGE = 600  # characters of an error line


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """An error message on one line of at most `limit` characters."""
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def excerpt(value: object, limit: int = 40) -> str:
    """`repr(value)`, cut to about `limit` characters so that a bad value never floods a message.

    >>> excerpt("x" * 50, limit=10)
    "'xxxxxx…' (50 characters)"
    >>> excerpt(2**200)
    'an integer of 61 digits'
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        digits = len(str(abs(value))) if value.bit_length() < 14000 else "over 4000"
        return f"an integer of {digits} digits"
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails (a huge int, a broken object)
        text = f"<{type(value).__name__}>"
    if len(text) <= limit:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return text[: limit - 3] + "…" + text[0] * (text[0] in "'\"") + size


def in_file(exc: InputError, where: str) -> InputError:
    """`exc` naming the file `where` when it names none yet (the same error otherwise)."""
    if exc.where:
        return exc
    return InputError(exc.message, where=where, key=exc.key)


class InfeasibleError(DesignerError):
    """No design in the space meets the requirements; carries the explanation."""

    exit_code = EXIT_INFEASIBLE


class SolverLimitError(DesignerError):
    """The solver stopped on a limit without any feasible design."""

    exit_code = EXIT_SOLVER_LIMIT


def closest(name: str, valid: Iterable[str]) -> str:
    """' (closest valid name: X)', or the valid names when none is close."""
    valid = sorted(valid)
    prefixed = [v for v in valid if name and v.lower().startswith(name.lower())]
    if prefixed:
        return f" (closest valid name: {prefixed[0]})"
    lowered = {v.lower(): v for v in valid}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.4)
    if match:
        return f" (closest valid name: {lowered[match[0]]})"
    if 0 < len(valid) <= 30:
        return f" (expected one of: {', '.join(valid)})"
    return ""


def unknown(
    kind: str, name: str, valid: Iterable[str], *, where: str | None = None, key: str | None = None
) -> InputError:
    """An InputError for an unknown name (cut to an excerpt when long, so a hostile value never
    floods the one-line message), suggesting the closest valid one."""
    valid = sorted(valid)
    return InputError(
        f"unknown {kind} {excerpt(name, limit=120)}{closest(name, valid)}", where=where, key=key
    )
