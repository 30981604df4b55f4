"""Object storage through the S3 API: the embedded rclone server or MinIO, one code path."""

from __future__ import annotations

import asyncio

from minio import Minio

from backend.settings import StorageSettings


def storage_client(settings: StorageSettings) -> Minio:
    # region= skips the bucket-location lookup (STACK-NOTES).
    return Minio(
        settings.endpoint,
        access_key=settings.access_key,
        secret_key=settings.secret_key,
        secure=settings.secure,
        region=settings.region,
    )


async def storage_ensure_bucket(client: Minio, bucket: str) -> None:
    """Create the bucket when missing. The SDK is synchronous: network calls run in a thread."""
    if not await asyncio.to_thread(client.bucket_exists, bucket):
        await asyncio.to_thread(client.make_bucket, bucket)


async def storage_ping(client: Minio, bucket: str) -> None:
    if not await asyncio.to_thread(client.bucket_exists, bucket):
        raise RuntimeError(f"bucket {bucket} is missing")


async def storage_put(key: str, data: bytes, *, content_type: str) -> None:
    """Store `data` under `key` in the bound runtime's bucket (keys are always made by the server)."""
    import io

    from backend.lib.runtime import runtime_get

    runtime = runtime_get()
    await asyncio.to_thread(
        runtime.storage.put_object,
        runtime.settings.storage.bucket,
        key,
        io.BytesIO(data),
        len(data),
        content_type=content_type,
    )


async def storage_get(key: str) -> bytes:
    from backend.lib.runtime import runtime_get

    runtime = runtime_get()

    def read() -> bytes:
        response = runtime.storage.get_object(runtime.settings.storage.bucket, key)
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()

    return await asyncio.to_thread(read)
