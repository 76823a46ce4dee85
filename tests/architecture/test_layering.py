"""The package's layering, checked from the code: an import graph built with `ast`.

Layers, bottom to top (a module may import its own layer and the ones below, never above):
config → records → models → data → training → unlearning → evaluation → experiments → reporting → cli.
The package root (`synthrepro/__init__.py`, the public API) loads names lazily and may reach any layer.
Also: no import cycle between modules, no import of the package's own modules inside a function, and the
config layer imports no torch.
"""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "synthrepro"
LAYERS = ["config", "records", "models", "data", "training", "unlearning", "evaluation", "experiments", "reporting",
          "cli"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    if node.level:
        base = base[: len(base) - node.level + 1]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module or ""


def graph():
    """{module: [(imported synthrepro module, line, inside a function?)]}"""
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        mod, is_pkg = module_name(path), path.name == "__init__.py"
        tree = ast.parse(path.read_text())
        funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        inner = {id(n) for f in funcs for n in ast.walk(f)}
        edges = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = resolve(mod, is_pkg, node)
                names = [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                target, names = None, [a.name for a in node.names]
            else:
                continue
            for name in ([target] if target else []) + names:
                if name and name.split(".")[0] == "synthrepro":
                    edges.append((name, node.lineno, id(node) in inner))
        out[mod] = edges
    return out


def known(name: str, modules) -> str | None:
    """The module `name` refers to (a module, or a name inside one)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def layer(mod: str) -> int | None:
    parts = mod.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_subpackage_is_a_layer():
    subs = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    mods = {p.stem for p in PKG.glob("*.py")} - {"__init__", "__main__"}
    assert subs | mods == set(LAYERS), f"add the new part to LAYERS (in order): {sorted(subs | mods - set(LAYERS))}"


def test_imports_go_down_only():
    g = graph()
    bad = []
    for mod, edges in g.items():
        own = layer(mod)
        if own is None:
            continue  # the package root and __main__
        for name, line, _ in edges:
            target = known(name, g)
            if target and layer(target) is not None and layer(target) > own:
                bad.append(f"{mod}:{line} imports {target} (layer {LAYERS[layer(target)]} is above {LAYERS[own]})")
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    g = graph()
    deps = {m: {known(n, g) for n, _, _ in e} - {None, m} for m, e in g.items()}
    # a package's __init__ re-exporting its modules is an edge like any other: a module that imports its own
    # package's __init__ (`from . import x`) closes a cycle through it, and is reported
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(deps.get(m, ())):
            if state.get(d) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(deps):
        if m not in state:
            visit(m)


def test_no_package_imports_inside_functions():
    bad = [f"{mod}:{line} imports {name} inside a function" for mod, edges in graph().items()
           for name, line, inner in edges if inner]
    assert not bad, "\n".join(bad)


def test_config_layer_imports_no_torch():
    for path in (PKG / "config").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in ("torch", "transformers") for n in names), f"{path.name} imports {names}"
