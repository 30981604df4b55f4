"""Domain errors raised by services; the HTTP layer and the pages render them in the user's language.

Each carries a catalog key (see pwa/locales) and parameters, never a finished sentence.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code = 400
    default_key = "error.bad_request"

    def __init__(self, key: str | None = None, *, field: str | None = None, **params: Any) -> None:
        self.key = key or self.default_key
        self.field = field
        self.params = params
        super().__init__(self.key)


class ValidationFailed(AppError):
    status_code = 422
    default_key = "error.invalid"


class NotAuthenticated(AppError):
    status_code = 401
    default_key = "error.not_authenticated"


class PermissionDenied(AppError):
    status_code = 403
    default_key = "error.forbidden"


class NotFound(AppError):
    """Also what someone gets for data outside their scope: its existence is not revealed."""

    status_code = 404
    default_key = "error.not_found"


class Conflict(AppError):
    status_code = 409
    default_key = "error.conflict"


class Throttled(AppError):
    status_code = 429
    default_key = "error.throttled"

    def __init__(self, key: str | None = None, *, retry_after: int = 60, **params: Any) -> None:
        super().__init__(key, **params)
        self.retry_after = retry_after
