"""The shape of the code, for a before/after of a clean-up: repeats, largest files and functions, import graph.

    .venv/bin/python -m bench.code_shape [--rev REV] [--most 40]

Reads the tree at REV (default: the working tree) without `tests/` and `web/`:
- `duplicates --most N` on that tree (pairs of places sharing six or more lines);
- the 15 largest Python files and functions (lines, docstrings included);
- the import graph between our subpackages (`storage.visits -> storage.patients`, via grimp):
  edges, the pairs importing each other (two-way ties) and the most imported modules.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "indexing", "messaging", "storage", "workers", "mappings", "observability")
LEFT_OUT = ("tests/", "web/")


def tree(rev: str | None, into: Path) -> Path:
    """A copy of the tracked files at `rev` (or the working tree) without tests and the web app."""
    command = ["git", "ls-files"] if rev is None else ["git", "ls-tree", "-r", "--name-only", rev]
    files = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    for name in files:
        if name.startswith(LEFT_OUT):
            continue
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if rev is None:
            source = ROOT / name
            if source.is_file():
                shutil.copyfile(source, target)
        else:
            data = subprocess.run(["git", "show", f"{rev}:{name}"], cwd=ROOT, check=True, capture_output=True).stdout
            target.write_bytes(data)
    return into


def largest(root: Path, most: int = 15) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The largest Python files and functions (lines) of our packages, bench and scripts."""
    files: list[tuple[int, str]] = []
    functions: list[tuple[int, str]] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if "/migrations/versions/" in rel:
            continue
        text = path.read_text(encoding="utf-8")
        files.append((len(text.splitlines()), rel))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions.append((node.end_lineno - node.lineno + 1, f"{rel}:{node.lineno} {node.name}"))
    return sorted(files, reverse=True)[:most], sorted(functions, reverse=True)[:most]


def subpackage(module: str) -> str:
    """`storage.visits.repo` -> `storage.visits`; `storage.outbox` -> `storage.outbox`; `api.routers.x` kept."""
    parts = module.split(".")
    return ".".join(parts[:3] if parts[0] == "api" and len(parts) > 2 else parts[:2])


def import_graph(root: Path) -> None:
    """Edges between subpackages, two-way ties and the most imported modules."""
    import grimp

    sys.path.insert(0, str(root))
    try:
        # A tree before a package existed (messaging/) is read without it.
        graph = grimp.build_graph(*(p for p in PACKAGES if (root / p).is_dir()), cache_dir=None)
    finally:
        sys.path.remove(str(root))
        for name in list(sys.modules):
            if name.split(".")[0] in PACKAGES:
                del sys.modules[name]
    modules = sorted(graph.modules)
    module_edges = {(a, b) for a in modules for b in graph.find_modules_directly_imported_by(a)}
    edges = {(subpackage(a), subpackage(b)) for a, b in module_edges if subpackage(a) != subpackage(b)}
    ties = sorted({tuple(sorted(e)) for e in edges if (e[1], e[0]) in edges})
    importers = Counter(b for a, b in module_edges)
    print(f"modules: {len(modules)}; module imports: {len(module_edges)}; subpackage edges: {len(edges)}")
    print(f"two-way ties between subpackages ({len(ties)}):")
    for a, b in ties:
        print(f"  {a} <-> {b}")
    cycles = [
        (a, b) for a, b in module_edges
        if a < b and (b, a) in module_edges
    ]
    print(f"modules importing each other directly ({len(cycles)}):")
    for a, b in sorted(cycles):
        print(f"  {a} <-> {b}")
    print("most imported modules (direct importers):")
    for name, n in importers.most_common(12):
        print(f"  {n:3} {name}")
    print("subpackage edges:")
    by_source: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        by_source.setdefault(a, []).append(b)
    for a, targets in by_source.items():
        print(f"  {a} -> {', '.join(targets)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="a git revision (default: the working tree)")
    parser.add_argument("--most", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = tree(args.rev, Path(tmp))
        print(f"# code shape of {args.rev or 'the working tree'} (without {', '.join(LEFT_OUT)})\n")
        print(f"## duplicates --most {args.most}")
        result = subprocess.run(
            ["duplicates", "--repo", str(root), "--most", str(args.most), "--seconds", "120"],
            capture_output=True, text=True,
        )
        print(result.stdout.replace(str(root) + "/", "").rstrip())
        files, functions = largest(root)
        total = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in root.rglob("*.py"))
        print(f"\n## Python lines (without tests/, web/): {total}")
        print("\n## 15 largest files (lines; migrations left out)")
        for n, name in files:
            print(f"  {n:5} {name}")
        print("\n## 15 largest functions (lines)")
        for n, name in functions:
            print(f"  {n:5} {name}")
        print("\n## import graph (grimp)")
        import_graph(root)


if __name__ == "__main__":
    main()
