"""What the Web Push delivery tests share: a World (settings, queue, a worker's ctx, the fake push
service) and the steps they take (an HR message, a delivery's row, time passing for it).

The fixtures `push_service` and `world` that build it live in tests/integration/conftest.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import msgspec
from arq.connections import ArqRedis

from backend.notifications.kinds import KIND_HR_MESSAGE
from backend.notifications.push_jobs import push_send, push_sweep
from backend.notifications.push_subscriptions import PushSubscriptionIn, push_subscription_save
from backend.notifications.services import notify
from backend.notifications.tables import Delivery, PushSubscription
from backend.org.tables import Department, Employee
from backend.settings import Settings
from backend.worker import worker_create
from tests.support.fake_push import FakePushService, Received
from tests.ui.harness import actor_named


@dataclass
class World:
    settings: Settings
    queue: ArqRedis
    ctx: dict[str, Any]  # what a worker's jobs get
    service: FakePushService
    prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])  # endpoints of this test only

    def endpoint_id(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    async def subscribe(self, username: str, name: str, *, locale: str = "") -> int:
        browser = self.service.subscription(self.endpoint_id(name))
        saved = await push_subscription_save(
            actor=await actor_named(username),
            subscription=msgspec.convert(browser, PushSubscriptionIn),
            locale=locale,
        )
        return saved.id

    async def people_with_browsers(self, count: int) -> list[int]:
        """`count` new employees, each with one browser at the fake (endpoint "p<n>"), in the order made."""
        department = await Department.select(Department.id).order_by(Department.id).first()
        assert department is not None
        rows = await Employee.insert(
            *[
                Employee(employee_no=f"{self.prefix}{n:05d}", name=f"员工{n}", department=department["id"])
                for n in range(count)
            ]
        ).returning(Employee.id)
        people = sorted(int(row["id"]) for row in rows)
        subscriptions = []
        for n, person in enumerate(people):
            browser = self.service.subscription(self.endpoint_id(f"p{n}"))
            subscriptions.append(
                PushSubscription(
                    employee=person,
                    endpoint=browser["endpoint"],
                    endpoint_key=hashlib.sha256(browser["endpoint"].encode()).hexdigest(),
                    p256dh=browser["keys"]["p256dh"],
                    auth=browser["keys"]["auth"],
                )
            )
        await PushSubscription.insert(*subscriptions)
        return people

    def received(self, name: str) -> list[Received]:
        return self.service.for_endpoint(self.endpoint_id(name))

    def answer(self, name: str, status: int, headers: dict[str, str] | None = None) -> None:
        self.service.answer(self.endpoint_id(name), status, headers)

    async def worker_run(self, *, sweep: bool = False) -> None:
        """A burst worker running every queued job; with `sweep`, the minute's push sweep first (the
        worker's own start-up run of the cron fires once per process: arq keeps it on the cron job)."""
        if sweep:
            await push_sweep(self.ctx)
        worker = worker_create(self.settings, redis_pool=self.queue, burst=True)
        await worker.main()
        assert worker.jobs_failed == 0


async def employee_of(username: str) -> int:
    actor = await actor_named(username)
    assert actor.employee_id is not None
    return actor.employee_id


async def hr_message(username: str, key: str = "reminder:1") -> int:
    [created] = await notify(
        employee_ids=[await employee_of(username)],
        kind=KIND_HR_MESSAGE,
        title="请提交心得",
        body="大客户关系维护心得本周五截止",
        url="/reflections",
        source=key,
        dedupe_key=key,
    )
    return created


async def delivery_of(notification_id: int) -> dict[str, Any]:
    row = await Delivery.select().where(Delivery.notification == notification_id).first()
    assert row is not None
    return row


async def come_due(*delivery_ids: int) -> None:
    """As if the time they wait for (quiet hours, a backoff, a dead run's lease) had passed."""
    await Delivery.update({Delivery.not_before: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}).where(
        Delivery.id.is_in(list(delivery_ids))
    )


async def push_deliver(ctx: dict[str, Any], delivery_id: int) -> str:
    """One delivery through the batch sender: what became of it ("skipped" when not claimed)."""
    return (await push_send(ctx, [delivery_id])).get(delivery_id, "skipped")


async def queued_jobs(queue: ArqRedis) -> list[str]:
    return sorted(str(job.job_id) for job in await queue.queued_jobs())
