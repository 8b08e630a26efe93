"""The modules of pipeline/ and spiders/ import one another without cycles.

Every import counts: at the top, inside a function, and under ``if TYPE_CHECKING:``. A cycle
hidden in type hints or in a late import is still two modules that cannot be understood (or
moved) one without the other, so the data flow the tree shows would not be the real one.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "spiders")
# The stages a crawl drives; each is usable alone (reindex, the query commands, benchmarks).
STAGES = ("pipeline.extract", "pipeline.dedup", "pipeline.warc", "pipeline.index", "pipeline.db")
CRAWL_ONLY = ("pipeline.crawl", "spiders", "scrapy", "twisted", "scrapy_redis")


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that ``name`` imports anywhere in its source."""
    return {
        module
        for module in imported_names(name, path, modules)
        if module in modules and module != name
    }


def imported_names(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module name that ``name`` imports anywhere in its source, ours or not."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # "from pipeline.db import queries" imports the module pipeline.db.queries.
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return found


def import_cycles(modules: dict[str, Path]) -> list[list[str]]:
    """Groups of modules that import one another, directly or through others (Tarjan)."""
    graph = {name: sorted(imported_modules(name, path, modules)) for name, path in modules.items()}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    for start in graph:
        if start in order:
            continue
        # Iterative depth-first search: (module, index of the next import to follow).
        work = [(start, 0)]
        while work:
            module, next_edge = work.pop()
            if next_edge == 0:
                order[module] = low[module] = len(order)
                stack.append(module)
                on_stack.add(module)
            edges = graph[module]
            if next_edge < len(edges):
                work.append((module, next_edge + 1))
                target = edges[next_edge]
                if target not in order:
                    work.append((target, 0))
                elif target in on_stack:
                    low[module] = min(low[module], order[target])
                continue
            if low[module] == order[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    cycles.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
    return cycles


def within(name: str, packages: tuple[str, ...]) -> bool:
    """Whether module ``name`` is one of ``packages`` or inside one (not merely named alike)."""
    return any(name == package or name.startswith(package + ".") for package in packages)


def test_pipeline_and_spiders_have_no_import_cycles() -> None:
    modules = module_files(ROOT, PACKAGES)
    assert "pipeline.items" in modules and "spiders.urls" in modules
    assert import_cycles(modules) == []


def test_the_stages_never_import_the_crawl_or_scrapy() -> None:
    modules = module_files(ROOT, PACKAGES)
    stages = [name for name in modules if within(name, STAGES)]
    assert "pipeline.index.storing" in stages and "pipeline.extract.text" in stages
    wrong = {
        name: sorted(
            module
            for module in imported_names(name, modules[name], modules)
            if within(module, CRAWL_ONLY)
        )
        for name in stages
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def test_cycles_hidden_in_type_hints_and_late_imports_are_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "items.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub.deciding import D\n"
    )
    (package / "sub" / "deciding.py").write_text("from pkg.sub import storing\n")
    (package / "sub" / "storing.py").write_text("def f():\n    from ..items import Item\n")
    (package / "alone.py").write_text("import pkg.items\n")
    modules = module_files(tmp_path, ("pkg",))
    assert import_cycles(modules) == [["pkg.items", "pkg.sub.deciding", "pkg.sub.storing"]]
    (package / "sub" / "storing.py").write_text("def f():\n    return 1\n")
    assert import_cycles(modules) == []
