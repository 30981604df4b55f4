"""API structs of accounts."""

from __future__ import annotations

from typing import Annotated

import msgspec

from backend.lib.schema import Schema
from backend.org.schemas import EmailText, Ref


class LoginIn(Schema):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class MeOut(Schema):
    id: int | None
    account_id: int
    username: str
    name: str
    employee_no: str | None
    department: Ref | None
    roles: list[str]
    locale: str
    locale_setting: str


class PasswordChangeIn(Schema):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class EmailIn(Schema):
    email: EmailText  # "" removes the address


class EmailOut(Schema):
    email: str  # as stored: trimmed, the domain in lower case


class PreferencesIn(Schema):
    locale: Annotated[str, msgspec.Meta(max_length=8)] = ""
