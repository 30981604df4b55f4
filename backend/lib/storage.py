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


# --- multipart uploads (resumable uploads: one part per request, parts assembled by the S3 server) ---
# The minio SDK's multipart calls are private but stable across 7.2.x; these wrappers are the only
# place that touches them.

S3_NO_SUCH_UPLOAD = "NoSuchUpload"
S3_NO_SUCH_KEY = "NoSuchKey"


def _bound_storage() -> tuple[Minio, str]:
    from backend.lib.runtime import runtime_get

    runtime = runtime_get()
    return runtime.storage, runtime.settings.storage.bucket


def storage_error_code(error: BaseException) -> str | None:
    """The S3 error code of an SDK error ("NoSuchUpload", ...), or None for anything else.

    The embedded server labels its XML error bodies text/xml, which the SDK does not parse (it raises
    InvalidResponseError with the body): the code is read from that body.
    """
    import re

    from minio.error import InvalidResponseError, S3Error

    if isinstance(error, S3Error):
        return error.code
    if isinstance(error, InvalidResponseError):
        found = re.search(r"<Code>([A-Za-z0-9.]{1,64})</Code>", str(getattr(error, "_body", "") or ""))
        return found.group(1) if found else None
    return None


async def storage_multipart_create(key: str, *, content_type: str = "application/octet-stream") -> str:
    """Start a multipart upload to `key`; returns the S3 upload id."""
    client, bucket = _bound_storage()
    headers: dict[str, str | list[str] | tuple[str]] = {"Content-Type": content_type}
    return await asyncio.to_thread(client._create_multipart_upload, bucket, key, headers)


async def storage_multipart_part_put(
    key: str, s3_upload_id: str, number: int, data: bytes | bytearray
) -> str:
    """Store part `number` (1-based) of a multipart upload; returns its ETag (without quotes).

    A bytearray is sent as it is (urllib3 takes any bytes-like body): the part is not copied.
    """
    from typing import cast

    client, bucket = _bound_storage()
    body = cast(bytes, data)
    return await asyncio.to_thread(client._upload_part, bucket, key, body, None, s3_upload_id, number)


async def storage_multipart_complete(key: str, s3_upload_id: str, parts: list[tuple[int, str]]) -> None:
    """Assemble the object from (part number, ETag) pairs, in part-number order."""
    from minio.datatypes import Part

    client, bucket = _bound_storage()
    ordered = [Part(number, etag) for number, etag in sorted(parts)]
    await asyncio.to_thread(client._complete_multipart_upload, bucket, key, s3_upload_id, ordered)


async def storage_multipart_abort(key: str, s3_upload_id: str) -> None:
    """Discard a multipart upload and its parts; one already gone (aborted or completed) is fine."""
    client, bucket = _bound_storage()
    try:
        await asyncio.to_thread(client._abort_multipart_upload, bucket, key, s3_upload_id)
    except Exception as error:
        if storage_error_code(error) != S3_NO_SUCH_UPLOAD:
            raise


async def storage_multipart_parts(key: str, s3_upload_id: str) -> list[tuple[int, str, int]]:
    """The parts the S3 server holds for an upload: (number, ETag, size), up to 1,000."""
    client, bucket = _bound_storage()
    result = await asyncio.to_thread(client._list_parts, bucket, key, s3_upload_id)
    return [(part.part_number, part.etag, part.size or 0) for part in result.parts]


async def storage_size(key: str) -> int | None:
    """The size of the object at `key`, or None when there is none."""
    client, bucket = _bound_storage()
    try:
        stat = await asyncio.to_thread(client.stat_object, bucket, key)
    except Exception as error:
        if storage_error_code(error) in (S3_NO_SUCH_KEY, "NoSuchObject", "ResourceNotFound"):
            return None
        raise
    return int(stat.size or 0)


async def storage_delete(key: str) -> None:
    """Remove the object at `key` (no error when it is already gone)."""
    client, bucket = _bound_storage()
    await asyncio.to_thread(client.remove_object, bucket, key)
