"""Run the benchmarks: `python -m benchmarks.run [names...]` (`make bench` runs them all).

Names: sqlite_engine, api_me, reactpy_sessions, reflections_feed, points, upload_memory, media_range,
transcode, push (default: all, in that order). Prints each benchmark's figures as it goes and a summary
table at the end. Exits 1 when a benchmark could not run; a missed target is reported, not an error
(timing never fails a build).
"""

from __future__ import annotations

import datetime as dt
import importlib
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from benchmarks._common import Result, machine, say

BENCHMARKS = (
    "sqlite_engine",
    "api_me",
    "reactpy_sessions",
    "reflections_feed",
    "points",
    "upload_memory",
    "media_range",
    "transcode",
    "push",
)


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _verdict(result: Result) -> str:
    if result.met is None:
        return ""
    return "met" if result.met else "MISSED"


def main(argv: Sequence[str] | None = None) -> int:
    names = list(argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        say(f"unknown benchmark(s): {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})")
        return 2
    say(f"Learnloop benchmarks, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    say(f"machine: {machine()}; load average before: {_load_average()}")
    results: list[Result] = []
    failed: list[str] = []
    for name in names:
        say()
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
            results += module.main()
        except Exception:
            failed.append(name)
            say(f"{name}: FAILED\n{traceback.format_exc()}")
        say(f"  ({name} took {time.perf_counter() - started:.0f} s)")
    say()
    say(f"load average after: {_load_average()}")
    say()
    rows = [["benchmark", "measure", "measured", "target", "verdict"]]
    rows += [[r.bench, r.metric, r.shown(), r.target, _verdict(r)] for r in results]
    rows += [[name, "(could not run)", "", "", "ERROR"] for name in failed]
    say(_table(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
