"""`python -m bench [--quick] [--store S] [--count N] [--workers N] [--processes N]
[name ...]`: run every benchmark module (or the named ones), print one table, write
bench/results.json. Each bench/<name>.py has `async def run(quick: bool) -> list[dict]`; one
that also takes `store`, `count`, `workers` (timers) or `processes` (intake) gets those
options when given. Figures only: nothing here passes or fails on time."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NOT_BENCHES = {"common", "__main__", "floor"}  # floor: a server bench.intake runs
COLUMNS = (
    "bench",
    "target",
    "store",
    "connections",
    "requests",
    "errors",
    "rps",
    "vs_bare",
    "vs_floor",
    "p50_ms",
    "p99_ms",
)


def modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name not in NOT_BENCHES and not m.name.startswith("_")
    )


def table(rows: list[dict[str, Any]]) -> str:
    columns = [c for c in COLUMNS if any(c in r for r in rows)]
    extra = sorted({k for r in rows for k in r} - set(COLUMNS))
    columns += extra
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument(
        "--store",
        choices=["sqlite", "redis", "both"],
        help="the store(s) to measure, for benchmarks that take it (timers; default both)",
    )
    parser.add_argument(
        "--count", type=int, help="how many timers to fire, for benchmarks that take it (timers)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="extra `python -m bot worker` processes, for benchmarks that take it (timers)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        help="also measure `serve --processes N` beside one process, for benchmarks that "
        "take it (intake)",
    )
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {modules()})")
    args = parser.parse_args(argv)
    if args.count is not None and args.count < 1:
        parser.error("--count must be at least 1")
    if args.workers is not None and args.workers < 0:
        parser.error("--workers cannot be negative")
    if args.processes is not None and args.processes < 1:
        parser.error("--processes must be at least 1")
    options = {
        k: v
        for k, v in (
            ("store", args.store),
            ("count", args.count),
            ("workers", args.workers),
            ("processes", args.processes),
        )
        if v is not None
    }
    names = args.names or modules()
    rows: list[dict[str, Any]] = []
    failed = 0
    for name in names:
        print(f"running bench.{name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            takes = inspect.signature(module.run).parameters
            ignored = sorted(set(options) - set(takes))
            if ignored:
                flags = ", ".join(f"--{option}" for option in ignored)
                print(f"bench.{name} takes no {flags}: ignored", file=sys.stderr)
            given = {k: v for k, v in options.items() if k in takes}
            rows += asyncio.run(module.run(args.quick, **given))
        except Exception:
            failed += 1
            traceback.print_exc()
            rows.append({"bench": name, "error": "failed (see above)"})
    # one table per benchmark, each with only the columns its rows fill
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row.get("bench", "?")), []).append(row)
    print("\n\n".join(f"== {name}\n{table(group)}" for name, group in groups.items()))
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": __import__("os").cpu_count(),
        },
        "quick": args.quick,
        "rows": rows,
    }
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten {HERE / 'results.json'}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
