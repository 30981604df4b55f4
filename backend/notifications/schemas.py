"""API structs of notifications."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from backend.lib.schema import Schema

Clock = Annotated[str, msgspec.Meta(min_length=3, max_length=5)]


class NotificationOut(Schema):
    id: int
    kind: str
    title: str  # in the reader's language
    body: str
    url: str  # a path inside the app ("" = none); /api/v1/notifications/{id}/open marks read and goes there
    created_at: dt.datetime
    updated_at: dt.datetime  # later than created_at when a batch (likes, comments) grew
    read: bool
    read_at: dt.datetime | None


class UnreadOut(Schema):
    unread: int


class ReadAllOut(Schema):
    marked: int


class PreferenceIn(Schema):
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    channel: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    enabled: bool


class PreferenceOut(Schema):
    kind: str
    channel: str
    enabled: bool
    available: bool  # the organisation has enabled the channel


class NotificationSettingsIn(Schema):
    quiet_start: Clock  # "22:00"; equal start and end = no quiet hours
    quiet_end: Clock


class NotificationSettingsOut(Schema):
    quiet_start: str
    quiet_end: str
    timezone: str
    channels: list[str]  # enabled channels outside the app
