"""The layout is the architecture: each stage of designer/ imports only the stages below it,
and no module imports itself back through others (every import counts, also those inside a
function, which still tie the modules together).

    designer.model ← designer.calibration ← designer.optimize ← designer.studies
        ← designer.interface
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("model", "calibration", "optimize", "studies", "interface")


def modules() -> dict[str, Path]:
    """Every module of designer/ by its dotted name (a package by its own name)."""
    out = {}
    for path in sorted((ROOT / "designer").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The designer modules that module `name` imports, anywhere in it: `from P import X` is
    P.X where that is a module, else P. `from designer import __version__` (the root's one
    constant, which every stage may stamp on its outputs) is left out."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for a in node.names:
                if base == "designer" and a.name == "__version__":
                    continue
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base)
    return {m for m in out if m.split(".")[0] == "designer" and m != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def stage(module: str) -> int:
    """0 (model) … 4 (interface); the root package `designer` (the public face) is above all."""
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 else len(STAGES)


def test_every_module_is_in_a_stage():
    loose = [m for m in modules() if m != "designer" and m.split(".")[1] not in STAGES]
    assert loose == []


def test_no_stage_imports_a_higher_one():
    upward = sorted(
        f"{a} imports {b}" for a, deps in graph().items() for b in deps if stage(b) > stage(a)
    )
    assert upward == []


def test_the_check_sees_an_upward_import():
    """The test above would pass vacuously if the imports were not found."""
    g = graph()
    assert "designer.model.catalog" in g["designer.calibration.evaluate"]
    assert "designer.optimize.synthesize" in g["designer.interface.cli"]  # inside a function
    assert stage("designer.interface.cli") > stage("designer.model.catalog")


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(g):
        if start in index:
            continue
        work = [(start, iter(sorted(g[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next((w for w in it if w in g), None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(g[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_no_module_import_cycle():
    assert cycles(graph()) == []


def test_the_cycle_check_finds_a_cycle():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == [["a", "b", "c"]]
