"""Accounts: sign-in accounts, their roles, server-side sessions and failed sign-ins."""

from piccolo.columns import Boolean, ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.org.tables import Department, Employee


class Account(Table):
    id = Serial(primary_key=True)
    username = Varchar(length=64, unique=True)
    password_hash = Varchar(length=255)
    employee = ForeignKey(Employee, null=True, unique=True, on_delete=OnDelete.cascade)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    password_changed_at = Timestamptz(default=TimestamptzNow())


class AccountRole(Table):
    id = Serial(primary_key=True)
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=20)
    # For managers: the root of the department subtree they manage.
    department = ForeignKey(Department, null=True, on_delete=OnDelete.cascade)


class Session(Table):
    id = Serial(primary_key=True)
    # SHA-256 of the cookie token: a stolen database does not give working cookies.
    token_hash = Varchar(length=64, unique=True)
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    address = Varchar(length=64, default="")
    user_agent = Varchar(length=255, default="")


class LoginFailure(Table):
    id = Serial(primary_key=True)
    # "account:<name>" or "address:<ip>"
    key = Varchar(length=200, index=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
