"""The transactional outbox: events written in the same transaction as the change they describe."""

from piccolo.columns import JSON, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OutboxEvent(Table):
    id = Serial(primary_key=True)
    # "submission.submitted", "submission.graded", "reflection.liked", "reflection.commented", ...
    kind = Varchar(length=40, index=True)
    payload = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    # Set once every handler has run; the sweep re-enqueues rows still null (a crash after commit).
    handled_at = Timestamptz(null=True, default=None, index=True)
    attempts = Integer(default=0)
