"""The push benchmark's worker: the app's arq worker as `learnloop worker` builds it, in a subprocess;
with `record`, push jobs and a no-op job push their start time to Redis first (for job start latency).
Also how the benchmark starts and stops its subprocesses."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

from backend.settings import Settings
from benchmarks._common import ROOT, _die_with_parent

STARTS_KEY = "bench:push:starts"
NOOP_JOB = "bench_noop"


def _worker_run(settings_file: str, record: bool) -> None:
    """`python -m benchmarks._push_worker FILE [record]`: the app's worker; with `record`, push
    jobs and a no-op job push their start time to Redis first."""
    from arq import func

    from backend.notifications.push_jobs import JOB_NAME
    from backend.worker import worker_create

    settings = msgspec.json.decode(Path(settings_file).read_bytes(), type=Settings)

    async def noop(ctx: dict[str, Any]) -> None:
        await ctx["redis"].rpush(STARTS_KEY, f"{ctx['job_id']} {time.time()}")

    async def run() -> None:
        worker = worker_create(settings, own_database=True)  # arq binds the running loop
        if record:
            pushed = worker.functions[JOB_NAME]

            async def push_recorded(ctx: dict[str, Any], *args: Any) -> Any:
                started = time.time()
                await ctx["redis"].rpush(STARTS_KEY, f"{ctx['job_id']} {started}")
                return await pushed.coroutine(ctx, *args)

            worker.functions[JOB_NAME] = dataclasses.replace(pushed, coroutine=push_recorded)
            worker.functions[NOOP_JOB] = func(noop, name=NOOP_JOB, keep_result=0)
        try:
            await worker.async_run()
        finally:
            await worker.close()

    asyncio.run(run())


def process_spawn(args: list[str], log: Path, *, stdout_pipe: bool = False) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout_pipe else out,
            stderr=out,
            preexec_fn=_die_with_parent,
        )


def process_stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    _worker_run(sys.argv[1], record=sys.argv[2:3] == ["record"])
