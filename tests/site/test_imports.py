"""devtools 的模块之间没有循环导入，每个模块都能在全新的解释器里单独导入。"""

from __future__ import annotations

import ast
import subprocess
import sys

from devtools.paths import ROOT

DEVTOOLS = ROOT / "devtools"


def _modules() -> dict[str, ast.Module]:
    return {
        p.stem: ast.parse(p.read_text(encoding="utf-8"))
        for p in sorted(DEVTOOLS.glob("*.py"))
        if p.stem != "__init__"
    }


def _imports(tree: ast.Module, names: set[str]) -> set[str]:
    """模块导入的 devtools 模块，包括函数里延迟导入的。"""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "devtools" and len(parts) > 1:
                    found.add(parts[1])
        elif isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] != "devtools":
                continue
            if len(parts) > 1:
                found.add(parts[1])
            else:  # from devtools import x
                found |= {a.name for a in node.names if a.name in names}
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "active"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "active":
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_no_import_cycles_between_devtools_modules():
    modules = _modules()
    graph = {
        name: _imports(tree, set(modules)) for name, tree in modules.items()
    }
    cycles = _cycles(graph)
    assert not cycles, "devtools 里有循环导入：\n" + "\n".join(
        " → ".join(c) for c in cycles
    )


def test_cycle_finder_finds_a_lazy_cycle():
    a = ast.parse("def f():\n    from devtools.b import x\n")
    b = ast.parse("from devtools import a\n")
    graph = {"a": _imports(a, {"a", "b"}), "b": _imports(b, {"a", "b"})}
    assert _cycles(graph) == [["a", "b", "a"]]


def test_every_module_imports_alone_in_a_fresh_interpreter():
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", f"import devtools.{name}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in _modules()
    }
    failed = {}
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=120)
        if proc.returncode:
            failed[name] = out.strip().splitlines()[-1:]
    assert not failed, f"单独导入失败：{failed}"
