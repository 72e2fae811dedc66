"""What the bad-input tests share: run the command line and read its error, and the contract of
an error (exit 2, one line, saying what it must)."""

from __future__ import annotations

from designer.interface.cli import main


def err(capsys, argv) -> tuple[int, str]:
    """`designer ARGV`'s exit code and what it wrote on stderr."""
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def one_line(code: int, text: str, *says: str) -> None:
    """Bad input: exit 2 and one line holding each of `says`."""
    assert code == 2, text
    assert len(text.strip().splitlines()) == 1, text
    for s in says:
        assert s in text, text
