"""Upload of a 1 GiB course video through the API: peak server memory growth and throughput.

The app runs as `learnloop demo` runs it (embedded Redis and S3 server, SQLite, demo data, one uvicorn
process) in a subprocess. Signed in as `trainer`, the client uploads a 1 GiB file to one of trainer's
courses the way the phone does: POST /api/v1/uploads, then PUT each 8 MiB part one at a time on one
keep-alive connection, then POST .../complete. The file is made on the fly (its first bytes a real
MP4 `ftyp` box, the rest padding): the client never holds more than one part. A thread samples the
server's resident set size (/proc/<pid>/status) every few milliseconds throughout.

Before measuring, one small upload (one part, then cancelled) warms the code path up, so one-time
imports and caches are not counted as upload memory. Growth = peak RSS during the 1 GiB upload minus
the RSS just before it. Target: at most 64 MiB (the server holds one 8 MiB part per request).
The database does not matter for memory: this runs on the embedded default (SQLite) only.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx

from backend.settings import Settings
from benchmarks._common import (
    SESSION_COOKIE,
    Result,
    Server,
    bench_settings,
    embedded,
    prepare,
    rss_kib,
    say,
    sign_in,
    temp_dir,
)

NAME = "upload_memory"
UPLOADER = "trainer"
FILE_SIZE = 1024**3
PART_SIZE = 8 * 1024 * 1024
TARGET_GROWTH_MIB = 64
SAMPLE_SECONDS = 0.005
# A real MP4 starts with an `ftyp` box (size, "ftyp", major brand, minor version, compatible brands).
MP4_HEADER = (24).to_bytes(4, "big") + b"ftypmp42" + (0).to_bytes(4, "big") + b"mp42isom"


class RssSampler:
    """Samples a process's RSS in a thread until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, rss_kib(self.pid))
            self.samples += 1
            time.sleep(SAMPLE_SECONDS)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, rss_kib(self.pid))


async def _course_insert(settings: Settings) -> int:
    """A draft course authored by the uploader, written before the server starts."""
    from backend.accounts.tables import Account
    from backend.courses.tables import Course
    from backend.lib.db import engine_bind, engine_close, engine_create, engine_open

    engine = engine_create(settings)
    await engine_open(engine, settings)
    engine_bind(engine)
    try:
        account = await Account.select(Account.employee).where(Account.username == UPLOADER).first()
        if account is None or account["employee"] is None:
            raise RuntimeError(f"the demo has no employee account {UPLOADER!r}")
        rows = await Course.insert(
            Course(title="上传内存基准", author=account["employee"], status="draft")
        ).returning(Course.id)
        return int(rows[0]["id"])
    finally:
        await engine_close(engine)


def _create(client: httpx.Client, course_id: int, size: int) -> dict[str, int | str]:
    response = client.post(
        "/api/v1/uploads",
        json={
            "filename": "benchmark.mp4",
            "size": size,
            "content_type": "video/mp4",
            "purpose": "course_video",
            "course_id": course_id,
        },
    )
    if response.status_code != 201:
        raise RuntimeError(f"creating the upload failed: {response.status_code} {response.text[:300]}")
    return dict(response.json())


def _put(client: httpx.Client, upload_id: str, n: int, data: bytes) -> None:
    response = client.put(
        f"/api/v1/uploads/{upload_id}/parts/{n}",
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    if response.status_code != 200:
        raise RuntimeError(f"part {n} failed: {response.status_code} {response.text[:300]}")


def _warm_up(client: httpx.Client, course_id: int) -> None:
    small = MP4_HEADER + bytes(64 * 1024)
    upload = _create(client, course_id, len(small))
    _put(client, str(upload["id"]), 1, small)
    if client.delete(f"/api/v1/uploads/{upload['id']}").status_code != 204:
        raise RuntimeError("cancelling the warm-up upload failed")


def _upload(client: httpx.Client, course_id: int, pid: int) -> tuple[float, float, float, int, int]:
    """Upload FILE_SIZE bytes in parts. Returns (part seconds, complete seconds, peak, before, samples)."""
    upload = _create(client, course_id, FILE_SIZE)
    upload_id, part_count = str(upload["id"]), int(upload["part_count"])
    if upload["part_size"] != PART_SIZE:
        raise RuntimeError(f"unexpected part size {upload['part_size']}")
    padding = bytes([0x5A]) * PART_SIZE  # parts 2.. share one buffer: one part in the client at a time
    first = MP4_HEADER + padding[len(MP4_HEADER) :]
    before = rss_kib(pid)
    with RssSampler(pid) as sampler:
        started = time.perf_counter()
        for n in range(1, part_count + 1):
            length = min(PART_SIZE, FILE_SIZE - (n - 1) * PART_SIZE)
            data = first if n == 1 else padding
            _put(client, upload_id, n, data if length == PART_SIZE else data[:length])
            if n % 32 == 0:
                say(
                    f"  {n * PART_SIZE / 1024**2:,.0f} MiB sent; server RSS {rss_kib(pid) / 1024:,.1f} MiB "
                    f"(peak so far {sampler.peak_kib / 1024:,.1f} MiB)"
                )
        parts_done = time.perf_counter()
        completed = client.post(f"/api/v1/uploads/{upload_id}/complete")
        complete_seconds = time.perf_counter() - parts_done
    if completed.status_code != 202:
        raise RuntimeError(f"completing failed: {completed.status_code} {completed.text[:300]}")
    return parts_done - started, complete_seconds, sampler.peak_kib, before, sampler.samples


def _run(base: Path, settings: Settings) -> list[Result]:
    prepare(settings)
    course_id = asyncio.run(_course_insert(settings))
    with Server(settings, base=base, bare_route=False) as server:
        token = sign_in(server.url, UPLOADER)
        with httpx.Client(
            base_url=server.url, cookies={SESSION_COOKIE: token}, timeout=httpx.Timeout(120.0)
        ) as client:
            _warm_up(client, course_id)
            idle = rss_kib(server.pid)
            seconds, complete_seconds, peak, before, samples = _upload(client, course_id, server.pid)
    growth_mib = (peak - before) / 1024
    throughput = FILE_SIZE / 1024**2 / seconds
    verdict = "meets" if growth_mib <= TARGET_GROWTH_MIB else "MISSES"
    say(f"  server RSS after warm-up {idle / 1024:,.1f} MiB, just before the upload {before / 1024:,.1f} MiB")
    say(
        f"  peak server RSS during the upload {peak / 1024:,.1f} MiB ({samples:,} samples): growth "
        f"{growth_mib:,.1f} MiB (target <= {TARGET_GROWTH_MIB} MiB: {verdict})"
    )
    say(
        f"  {FILE_SIZE // PART_SIZE} parts of 8 MiB in {seconds:.1f} s: {throughput:,.1f} MiB/s; "
        f"complete (S3 join + version) {complete_seconds:.2f} s"
    )
    return [
        Result(
            NAME,
            "1 GiB upload: peak server RSS growth",
            growth_mib,
            "MiB",
            f"<= {TARGET_GROWTH_MIB} MiB",
            growth_mib <= TARGET_GROWTH_MIB,
        ),
        Result(NAME, "1 GiB upload: throughput (8 MiB parts, one at a time)", throughput, "MiB/s"),
        Result(NAME, "1 GiB upload: complete request", complete_seconds, "s"),
    ]


def main() -> list[Result]:
    say(
        f"upload_memory: {FILE_SIZE // 1024**2:,} MiB through the API in 8 MiB parts as {UPLOADER}, "
        "server RSS sampled throughout (SQLite, embedded S3)"
    )
    with temp_dir(NAME) as base, embedded(bench_settings(base)) as settings:
        return _run(base, settings)


if __name__ == "__main__":
    main()
