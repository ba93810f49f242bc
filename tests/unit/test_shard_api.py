"""One way to reach a shard: the production code has no benchmark-only operation, sends no method
name as a string, and touches Ray's API in one module only (read from the source, by ``ast``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("actors", "relay", "fanout", "ring", "http_api", "storage", "rayguild")
RAY_MODULE = Path("actors/cluster.py")
BENCH_ONLY = re.compile(r"^_*[Bb]ench|[Ss]ynthetic")  # bench_x, BenchHost, add_synthetic, AddSynthetic
SENDS = {"call", "send", "notify", "remote", "send_sync"}


def sources() -> list[tuple[Path, ast.Module]]:
    files = sorted(p for package in PRODUCTION for p in (ROOT / package).rglob("*.py"))
    return [(p.relative_to(ROOT), ast.parse(p.read_text(), str(p))) for p in files]


def occurrences(path: Path, tree: ast.Module) -> list[str]:
    """Every bench-only name, string-dispatched call and Ray import outside ``RAY_MODULE``."""
    found: list[str] = []
    for node in ast.walk(tree):
        line = f"{path}:{getattr(node, 'lineno', 0)}"
        match node:
            case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name) | ast.ClassDef(name=name):
                if BENCH_ONLY.search(name):
                    found.append(f"{line} bench-only {name}")
            case ast.arg(arg=name) if BENCH_ONLY.search(name):
                found.append(f"{line} bench-only parameter {name}")
            case ast.Call(func=ast.Attribute(attr=attr), args=[ast.Constant(value=str()), *_]) if (
                attr in SENDS
            ):
                found.append(f"{line} string-dispatched .{attr}")
            case ast.Call(func=ast.Call(func=ast.Name(id="getattr"), args=[_, name, *_])) if not isinstance(
                name, ast.Constant
            ):
                found.append(f"{line} getattr dispatch {ast.unparse(node)}")
            case ast.Import(names=names) if path != RAY_MODULE:
                found += [f"{line} imports {a.name}" for a in names if a.name.split(".")[0] == "ray"]
            case ast.ImportFrom(module=str(module), level=0) if path != RAY_MODULE:
                if module.split(".")[0] == "ray":
                    found.append(f"{line} imports from {module}")
    return found


def test_the_check_sees_what_it_looks_for() -> None:
    """The scanner itself: each kind of occurrence in a snippet is reported, once."""
    snippet = ast.parse(
        "import ray\nfrom ray.util import state\nclass BenchHost: ...\ndef add_synthetic(n): ...\n"
        "ref.call('move', 1)\ndef start(bench=False): ...\ngetattr(self, cmd)(1)\nref.send(Move(1))\n"
        "def marks(): ...\nclass AddSynthetic: ...\n"
    )
    found = occurrences(Path("actors/x.py"), snippet)
    assert sorted(int(line.split(" ")[0].split(":")[1]) for line in found) == [1, 2, 3, 4, 5, 6, 7, 10]
    assert occurrences(RAY_MODULE, ast.parse("import ray")) == []


def test_production_code_has_no_bench_only_path_no_string_dispatch_and_one_ray_module() -> None:
    files = sources()
    assert len(files) > 100, "the production sources were not found"
    assert [o for path, tree in files for o in occurrences(path, tree)] == []
