"""Password hashing with argon2id."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("learnloop-no-such-account")

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128


def password_hash(password: str) -> str:
    return _hasher.hash(password)


def password_verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
