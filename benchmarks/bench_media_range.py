"""Range read of the first MiB of a 64 MiB course video through /media vs straight from the S3 server.

The app runs as `learnloop demo` runs it (embedded Redis and the embedded S3 server, demo data, one
uvicorn process). A published course gets a ready version whose video is a 64 MiB object. Signed in
as the demo user zhang, one keep-alive client asks /media for `Range: bytes=0-1048575` (206, the
permission check, then the app streams the range from S3 in 256 KiB chunks); the same process reads
the same MiB straight from the S3 server with the minio SDK (get_object offset/length), as the app
itself does. Requests alternate round by round (A B B A ...); the figures are per request.
For reference, the same MiB fetched from S3 with the HTTP client used for /media (httpx, a presigned
URL) shows what part of the gap is the client library.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from backend.settings import Settings
from benchmarks._common import (
    SESSION_COOKIE,
    Result,
    Server,
    bench_settings,
    cpu_seconds,
    embedded,
    prepare,
    say,
    sign_in,
    temp_dir,
)

NAME = "media_range"
OBJECT_BYTES = 64 * 1024 * 1024
RANGE_BYTES = 1024 * 1024
WARMUP = 10
ROUNDS = 8
PER_ROUND = 25  # requests per method per round


async def _course_with_big_video(settings: Settings, content: bytes) -> tuple[int, int]:
    """A published course of `trainer` whose current, ready version is the 64 MiB object."""
    from backend.accounts.tables import Account
    from backend.courses.tables import Course, CourseVersion
    from backend.courses.urls import version_video_key
    from backend.lib.db import engine_bind, engine_close, engine_create, engine_open
    from backend.lib.storage import storage_client

    engine = engine_create(settings)
    await engine_open(engine, settings)
    engine_bind(engine)
    try:
        author = await Account.select(Account.employee).where(Account.username == "trainer").first()
        assert author is not None
        rows = await Course.insert(
            Course(title="大文件读取基准", author=author["employee"], status="published")
        ).returning(Course.id)
        course_id = int(rows[0]["id"])
        key = version_video_key(course_id, 1)
        client = storage_client(settings.storage)
        await asyncio.to_thread(
            client.put_object,
            settings.storage.bucket,
            key,
            io.BytesIO(content),
            len(content),
            content_type="video/mp4",
            part_size=16 * 1024 * 1024,
        )
        rows = await CourseVersion.insert(
            CourseVersion(
                course=course_id, number=1, state="ready", video_key=key, duration=600.0, size=len(content)
            )
        ).returning(CourseVersion.id)
        version_id = int(rows[0]["id"])
        await Course.update({Course.current_version_id: version_id}).where(Course.id == course_id)
        return course_id, version_id
    finally:
        await engine_close(engine)


def _timed(fetch: Callable[[], bytes], count: int) -> list[float]:
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        body = fetch()
        seconds.append(time.perf_counter() - started)
        if len(body) != RANGE_BYTES:
            raise RuntimeError(f"read {len(body)} bytes instead of {RANGE_BYTES}")
    return seconds


def _describe(label: str, seconds: list[float], server_cpu: float | None = None) -> str:
    median = statistics.median(seconds)
    mean = statistics.fmean(seconds)
    line = (
        f"  {label}: median {median * 1e3:.2f} ms, mean {mean * 1e3:.2f} ms per MiB "
        f"({RANGE_BYTES / median / 2**20:,.0f} MiB/s at the median; {len(seconds)} reads)"
    )
    if server_cpu is not None:
        line += f"; app CPU {server_cpu / len(seconds) * 1e3:.2f} ms per read"
    return line


def main() -> list[Result]:
    say(
        f"media_range: first MiB of a {OBJECT_BYTES // 2**20} MiB object, {ROUNDS} alternating rounds of "
        f"{PER_ROUND} reads per path, one keep-alive connection each"
    )
    content = os.urandom(OBJECT_BYTES)
    with temp_dir(NAME) as base, embedded(bench_settings(base)) as settings:
        prepare(settings)
        course_id, version_id = asyncio.run(_course_with_big_video(settings, content))
        return _measure(settings, base, course_id, version_id, content[:RANGE_BYTES])


def _measure(
    settings: Settings, base: Path, course_id: int, version_id: int, expected: bytes
) -> list[Result]:
    from backend.courses.urls import version_video_key, video_url
    from backend.lib.storage import storage_client

    storage = storage_client(settings.storage)
    bucket, key = settings.storage.bucket, version_video_key(course_id, 1)
    with Server(settings, base=base, bare_route=False) as server:
        token = sign_in(server.url)
        media = httpx.Client(base_url=server.url, cookies={SESSION_COOKIE: token}, timeout=30)
        direct_http = httpx.Client(timeout=30)
        presigned = storage.presigned_get_object(bucket, key, expires=dt.timedelta(hours=1))
        range_header = {"Range": f"bytes=0-{RANGE_BYTES - 1}"}

        def through_media() -> bytes:
            answer = media.get(video_url(course_id, version_id), headers=range_header)
            if answer.status_code != 206:
                raise RuntimeError(f"/media answered {answer.status_code}: {answer.text[:200]}")
            return answer.content

        def from_s3() -> bytes:
            response = storage.get_object(bucket, key, offset=0, length=RANGE_BYTES)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        def from_s3_httpx() -> bytes:
            return direct_http.get(presigned, headers=range_header).content

        paths = {"media": through_media, "s3": from_s3, "s3_httpx": from_s3_httpx}
        for name, fetch in paths.items():  # the same bytes everywhere; then warm up
            if fetch() != expected:
                raise RuntimeError(f"{name} returned other bytes than the stored object's first MiB")
            _timed(fetch, WARMUP)
        times: dict[str, list[float]] = {name: [] for name in paths}
        media_cpu = 0.0
        for index in range(ROUNDS):
            order = list(paths) if index % 2 == 0 else list(reversed(paths))
            for name in order:
                cpu_before = cpu_seconds(server.pid)
                times[name] += _timed(paths[name], PER_ROUND)
                if name == "media":
                    media_cpu += cpu_seconds(server.pid) - cpu_before
        media.close()
        direct_http.close()

    through, direct, direct_httpx = (statistics.median(times[name]) for name in ("media", "s3", "s3_httpx"))
    say(_describe("through /media (206)", times["media"], media_cpu))
    say(_describe("straight from S3 (minio SDK, offset/length)", times["s3"]))
    say(_describe("straight from S3 (httpx, presigned URL, for reference)", times["s3_httpx"]))
    ratio = direct / through
    say(f"  /media throughput as a share of reading straight from S3 (SDK): {ratio:.2f}x")
    say(f"  /media throughput vs S3 with the same HTTP client (httpx): {direct_httpx / through:.2f}x")
    return [
        Result(NAME, "first MiB through /media (median)", through * 1e3, "ms"),
        Result(NAME, "first MiB straight from S3, SDK (median)", direct * 1e3, "ms"),
        Result(NAME, "first MiB straight from S3, httpx (median)", direct_httpx * 1e3, "ms"),
        Result(NAME, "/media ÷ S3 throughput (SDK)", ratio, "x"),
        Result(NAME, "/media ÷ S3 throughput (httpx)", direct_httpx / through, "x"),
        Result(NAME, "app CPU per /media MiB", media_cpu / len(times["media"]) * 1e3, "ms"),
    ]


if __name__ == "__main__":
    main()
