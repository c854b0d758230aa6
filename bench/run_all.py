"""`make bench`: run every benchmark module in bench/ that defines ``main()``, one process each.

Modules are found by reading their source (a top-level ``def main(``), so nothing
is imported here; a helper module that has a ``main()`` but is not a benchmark on
its own opts out with a top-level ``RUN_ALL = False``; each runs as ``python -c "import <module>; <module>.main()"`` with bench/ on
the path, in name order. Exit status: 0 when every benchmark returned 0/None.
Pass module names to run only those: ``python bench/run_all.py registry_near``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
SKIP = {"run_all", "common"}


def has_main(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "RUN_ALL" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and node.value.value is False
        ):
            return False
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "main"
        for node in tree.body
    )


def discover(selected: list[str]) -> list[str]:
    names = [
        path.stem
        for path in sorted(BENCH_DIR.glob("*.py"))
        if path.stem not in SKIP and not path.stem.startswith("_") and has_main(path)
    ]
    if selected:
        unknown = sorted(set(selected) - set(names))
        if unknown:
            raise SystemExit(f"no benchmark named {', '.join(unknown)}; found: {', '.join(names)}")
        names = [n for n in names if n in selected]
    return names


def run(name: str) -> int:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        f"import {name} as bench; status = bench.main(); "
        "raise SystemExit(status if isinstance(status, int) else 0)"
    )
    return subprocess.call([sys.executable, "-c", code, str(BENCH_DIR)], cwd=BENCH_DIR.parent)


def main() -> int:
    names = discover(sys.argv[1:])
    if not names:
        print("no benchmarks found in bench/")
        return 0
    failed = []
    for name in names:
        print(f"\n=== bench/{name}.py ===", flush=True)
        started = time.monotonic()
        status = run(name)
        print(f"=== {name}: exit {status} after {time.monotonic() - started:.0f} s ===", flush=True)
        if status != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    print(f"\nall {len(names)} benchmark(s) finished; results in bench/results/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
