"""Notifications and their deliveries.

A notification belongs to one person. It is stored as a message key and parameters (rendered in the
reader's language when shown) or, for HR messages, as a literal title and body. `dedupe_key` makes
notifying idempotent: the same key never notifies the same person twice, however often an event or
a reminder job runs. Each channel outside the app gets a Delivery row whose unique key makes
duplicate jobs and re-runs send nothing twice; the in-app centre is the notification itself.
"""

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.org.tables import Employee


class Notification(Table):
    id = Serial(primary_key=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.cascade, index=True)
    # points_credited, redemption_decided, submission_graded, reflection_peer, course_new, hr_message, ...
    kind = Varchar(length=40, index=True)
    # A catalog key prefix ("notifications.msg.points_credited": .title and .body); "" = literal text.
    message_key = Varchar(length=100, default="")
    params = JSON(default="{}")
    title = Varchar(length=200, default="")  # literal (HR messages)
    body = Text(default="")  # literal (HR messages)
    url = Varchar(length=500, default="")  # a deep link inside the app ("/reflections/12")
    # What it is about ("submission:12", "reminder:3"): batches and per-reminder statistics group by it.
    source = Varchar(length=100, default="", index=True)
    # "<employee id>:<key>": one notification per person and key.
    dedupe_key = Varchar(length=255, unique=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow())  # a batch's latest addition
    read_at = Timestamptz(null=True, default=None)


class NotificationPreference(Table):
    """A person's choice for one kind on one channel outside the app (the in-app centre is always on).
    No row = enabled."""

    id = Serial(primary_key=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=40)
    channel = Varchar(length=16)  # web_push | wecom | dingtalk | email
    enabled = Boolean(default=True)
    # "<employee id>:<kind>:<channel>": one choice per person, kind and channel.
    unique_key = Varchar(length=120, unique=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class Delivery(Table):
    """One attempt to carry a notification (or a group message) over a channel outside the app."""

    id = Serial(primary_key=True)
    # Null for a group message that belongs to nobody in particular (a WeCom/DingTalk group robot).
    notification = ForeignKey(Notification, null=True, on_delete=OnDelete.cascade, index=True)
    channel = Varchar(length=16, index=True)
    target = Varchar(length=200, default="")  # a push subscription id, an e-mail address, a group ...
    # e.g. "41:web_push:7": a duplicate job or a re-run finds the row and sends nothing twice.
    unique_key = Varchar(length=255, unique=True)
    state = Varchar(length=12, default="pending", index=True)  # pending | sent | failed | skipped
    attempts = Integer(default=0)
    # Not before this moment: quiet hours defer (never drop), Retry-After and backoff move it on.
    not_before = Timestamptz(default=TimestamptzNow(), index=True)
    last_error = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


class DeliveryAttempt(Table):
    """Every try at a delivery and how it went (a Delivery row keeps only its latest state): what each
    browser's push service or each robot answered, for HR's and operators' questions. Append-only."""

    id = Serial(primary_key=True)
    delivery = ForeignKey(Delivery, on_delete=OnDelete.cascade, index=True)
    attempt = Integer()  # 1 for the first try
    outcome = Varchar(length=12)  # sent | skipped | failed | retry
    detail = Varchar(length=500, default="")  # e.g. "#12 gone 410; #13 retry 429", or why it was skipped
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class NotificationSettings(Table):
    """Organisation-wide: quiet hours (organisation time zone) and the channels it enabled. One row."""

    id = Serial(primary_key=True)
    quiet_start = Varchar(length=5, default="22:00")  # HH:MM; equal start and end = no quiet hours
    quiet_end = Varchar(length=5, default="07:30")
    # {"wecom": {"enabled": true, ...credentials}, ...}: each channel's switch and its settings.
    channels = JSON(default="{}")
    updated_by = ForeignKey(Employee, null=True, on_delete=OnDelete.set_null)
    updated_at = Timestamptz(default=TimestamptzNow())


class PushSubscription(Table):
    """A browser's Web Push subscription (one per endpoint; a new owner or new keys replace the old)."""

    id = Serial(primary_key=True)
    employee = ForeignKey(Employee, on_delete=OnDelete.cascade, index=True)
    endpoint = Text()  # the push service URL (up to 2,048 characters)
    # sha256 hex of the endpoint: unique without indexing a long URL.
    endpoint_key = Varchar(length=64, unique=True)
    p256dh = Varchar(length=200)  # the browser's P-256 public key, base64url
    auth = Varchar(length=200)  # the browser's 16-byte auth secret, base64url
    # The language of the browser that subscribed: pushes use it when the person chose none.
    locale = Varchar(length=8, default="")
    expires_at = Timestamptz(null=True, default=None)  # the browser's expirationTime, if it gave one
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)


class Reminder(Table):
    """A message HR (or a manager, for their subtree) sends to a target, now or at `send_at`.

    The target is resolved when it is sent (people who submitted meanwhile are left out); the sender's
    scope at composing time is kept so a scheduled reminder never reaches beyond it. Each recipient's
    notification has the dedupe key "reminder:<id>": a repeated send notifies nobody twice.
    """

    id = Serial(primary_key=True)
    title = Varchar(length=200)
    body = Text(default="")
    url = Varchar(length=500, default="")
    # {"training_id", "not_submitted", "department_id", "position_id", "level_id", "employee_ids"}
    target = JSON(default="{}")
    # The sender's reach: everyone (HR), or the department subtrees they manage (materialised paths).
    whole_organisation = Boolean(default=False)
    scope_paths = JSON(default="[]")
    send_at = Timestamptz(default=TimestamptzNow(), index=True)
    state = Varchar(length=12, default="scheduled", index=True)  # scheduled | sent | cancelled
    recipient_count = Integer(default=0)
    created_by = ForeignKey(Employee, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
