"""Where the examples write: a figure and a short markdown table per study, in docs/figures/."""

from __future__ import annotations

from pathlib import Path

FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"


def figure(name: str) -> Path:
    """docs/figures/<name>.png (the folder is created)."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    return FIGURES / f"{name}.png"


def table(name: str, title: str, header: list[str], rows: list[list], notes: str = "") -> Path:
    """Write docs/figures/<name>.md: a title, a markdown table, notes; print it too."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    text = "\n".join(lines) + "\n" + (f"\n{notes.strip()}\n" if notes else "")
    path = FIGURES / f"{name}.md"
    FIGURES.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(text)
    return path
