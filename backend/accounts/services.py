"""Account writes: sign-in with throttling, server-side sessions, password changes."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass

from backend.accounts.passwords import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    password_hash,
    password_verify,
)
from backend.accounts.selectors import actor_for_account, actor_from_person_row, session_person_row
from backend.accounts.tables import Account, LoginFailure, Session
from backend.lib.errors import NotAuthenticated, Throttled, ValidationFailed
from backend.lib.policy import Actor, actor_require
from backend.org.tables import EMPLOYEE_ACTIVE, Employee
from backend.settings import AuthSettings

SESSION_TOUCH_INTERVAL = dt.timedelta(minutes=1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignIn:
    token: str
    actor: Actor


async def _failures_recent(key: str, since: dt.datetime) -> int:
    return await LoginFailure.count().where((LoginFailure.key == key) & (LoginFailure.created_at > since))


async def _account_by_login(login: str) -> Account | None:
    """A login is the account name or the employee number (工号)."""
    account = await Account.objects().where(Account.username == login).first()
    if account is not None:
        return account
    employee = await Employee.select(Employee.id).where(Employee.employee_no == login).first()
    if employee is None:
        return None
    return await Account.objects().where(Account.employee == employee["id"]).first()


async def session_login(
    *, login: str, password: str, address: str, user_agent: str, auth: AuthSettings
) -> SignIn:
    """Check a name/employee number and password, then open a new session.

    Wrong name and wrong password give the same error. Repeated failures per account and per
    address are refused with 429 before the password is even checked.
    """
    login = login.strip()[:64]
    since = _now() - dt.timedelta(seconds=auth.failure_window_seconds)
    account_key, address_key = f"account:{login.lower()}", f"address:{address}"
    if (
        await _failures_recent(account_key, since) >= auth.max_failures_per_account
        or await _failures_recent(address_key, since) >= auth.max_failures_per_address
    ):
        raise Throttled("error.login_throttled", retry_after=auth.failure_window_seconds)

    account = await _account_by_login(login) if login else None
    # Hashing runs in a thread: argon2 takes tens of milliseconds of CPU.
    valid = await asyncio.to_thread(password_verify, account.password_hash if account else None, password)
    active = account is not None and account.is_active and await _employee_active(account)
    if not (valid and active and account is not None):
        await LoginFailure.insert(LoginFailure(key=account_key), LoginFailure(key=address_key))
        raise NotAuthenticated("error.login_invalid")

    await LoginFailure.delete().where(LoginFailure.key == account_key)
    token = secrets.token_urlsafe(32)
    session = Session(
        token_hash=token_hash(token),
        account=account.id,
        address=address[:64],
        user_agent=user_agent[:255],
    )
    await session.save()
    actor = await actor_for_account(account.id, session_id=session.id)
    assert actor is not None
    return SignIn(token=token, actor=actor)


async def _employee_active(account: Account) -> bool:
    if account.employee is None:
        return True
    status = await Employee.select(Employee.status).where(Employee.id == account.employee).first()
    return status is not None and status["status"] == EMPLOYEE_ACTIVE


# Resolved sessions are kept this long per process, so a page's many requests do not each read the
# session. Writes in this process that change who someone is or may do clear it at once (see
# sessions_cache_clear); another replica's writes take effect here within this many seconds.
SESSION_CACHE_SECONDS = 5.0
SESSION_CACHE_MAX = 10_000
_session_cache: dict[str, tuple[float, Actor]] = {}


def sessions_cache_clear() -> None:
    """Forget every resolved session: call after changing accounts, roles, people or departments."""
    _session_cache.clear()


async def session_resolve(token: str | None, *, auth: AuthSettings) -> Actor | None:
    """The actor behind a session cookie, or None when it is unknown, idle too long or too old."""
    if not token or len(token) > 128:
        return None
    key = token_hash(token)
    cached = _session_cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    row = await session_person_row(key)
    if row is None:
        return None
    now = _now()
    idle_limit = dt.timedelta(minutes=auth.session_idle_minutes)
    absolute_limit = dt.timedelta(minutes=auth.session_absolute_minutes)
    if now - row["last_seen_at"] > idle_limit or now - row["created_at"] > absolute_limit:
        await Session.delete().where(Session.id == row["session_id"])
        return None
    actor = await actor_from_person_row(row, session_id=row["session_id"])
    if actor is None:
        await Session.delete().where(Session.id == row["session_id"])
        return None
    if now - row["last_seen_at"] > SESSION_TOUCH_INTERVAL:
        await Session.update({Session.last_seen_at: now}).where(Session.id == row["session_id"])
    if len(_session_cache) >= SESSION_CACHE_MAX:
        _session_cache.clear()
    _session_cache[key] = (time.monotonic() + SESSION_CACHE_SECONDS, actor)
    return actor


async def session_logout(token: str | None) -> None:
    if token:
        _session_cache.pop(token_hash(token), None)
        await Session.delete().where(Session.token_hash == token_hash(token))


async def sessions_end_for_account(account_id: int) -> None:
    await Session.delete().where(Session.account == account_id)
    sessions_cache_clear()


def password_check_rules(password: str, *, field: str = "new_password") -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationFailed("error.password_too_short", field=field, min=PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        raise ValidationFailed("error.password_too_long", field=field, max=PASSWORD_MAX_LENGTH)


async def password_change(*, actor: Actor | None, current_password: str, new_password: str) -> None:
    """Change one's own password; every other session of the account is ended."""
    actor = actor_require(actor)
    account = await Account.objects().where(Account.id == actor.account_id).first()
    if account is None:
        raise NotAuthenticated()
    if not await asyncio.to_thread(password_verify, account.password_hash, current_password):
        raise ValidationFailed("error.password_wrong", field="current_password")
    password_check_rules(new_password)
    new_hash = await asyncio.to_thread(password_hash, new_password)
    await Account.update({Account.password_hash: new_hash, Account.password_changed_at: _now()}).where(
        Account.id == account.id
    )
    keep = Session.id != actor.session_id if actor.session_id else Session.id.is_not_null()
    await Session.delete().where((Session.account == account.id) & keep)
    sessions_cache_clear()


async def login_failures_prune(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> None:
    await LoginFailure.delete().where(LoginFailure.created_at < _now() - older_than)


async def sessions_expired_delete(*, auth: AuthSettings) -> int:
    now = _now()
    idle_cutoff = now - dt.timedelta(minutes=auth.session_idle_minutes)
    absolute_cutoff = now - dt.timedelta(minutes=auth.session_absolute_minutes)
    expired = (Session.last_seen_at < idle_cutoff) | (Session.created_at < absolute_cutoff)
    count = await Session.count().where(expired)
    await Session.delete().where(expired)
    return int(count)
