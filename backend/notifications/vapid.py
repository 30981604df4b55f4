"""VAPID keys for Web Push: generated once into the data dir, or taken from the settings."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from webpush import VAPID

PRIVATE_KEY_FILE = "vapid_private.pem"


def b64url_decode(text: str) -> bytes:
    """base64url with or without padding; ValueError when it is not base64url."""
    if not text or any(ch not in _B64URL for ch in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


def application_server_key(private_pem: bytes) -> str:
    """The browser's applicationServerKey: the uncompressed public point, base64url without padding."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the VAPID key must be an EC P-256 private key")
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def vapid_generate(data_dir: Path, *, force: bool = False) -> tuple[Path, str]:
    """Write a new private key unless one exists (or force). Returns (path, applicationServerKey).

    Two processes (or tasks) making the first key at once agree on one: each writes its own temporary
    file and links it into place only if no key is there yet, so nobody's key is replaced under them
    (subscriptions made with a replaced key would stop working)."""
    path = data_dir / PRIVATE_KEY_FILE
    if path.exists() and not force:
        return path, application_server_key(path.read_bytes())
    data_dir.mkdir(parents=True, exist_ok=True)
    private_pem, _public_pem, _public_key = VAPID.generate_keys()
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    temporary.write_bytes(private_pem)
    os.chmod(temporary, 0o600)
    if force:
        temporary.replace(path)
    else:
        try:
            os.link(temporary, path)  # atomic, and refuses to replace a key made meanwhile
        except FileExistsError:
            pass  # another process made the first key: it is the one
        finally:
            temporary.unlink(missing_ok=True)
    return path, application_server_key(path.read_bytes())
