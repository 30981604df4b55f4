"""Account jobs: idempotent housekeeping."""

from __future__ import annotations

import datetime as dt
from typing import Any

from backend.accounts.services import login_failures_prune, sessions_expired_delete


async def housekeeping_sessions(ctx: dict[str, Any]) -> dict[str, int]:
    """Delete expired sessions and old sign-in failures; safe to run any number of times."""
    settings = ctx["settings"]
    removed = await sessions_expired_delete(auth=settings.auth)
    await login_failures_prune(older_than=dt.timedelta(days=1))
    return {"sessions_removed": removed}
