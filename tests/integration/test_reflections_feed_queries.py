"""The reflections feed reads a page in the same number of SQL statements whatever its rows (SQLite, PostgreSQL).

Statements are recorded on the wire by the benchmark's recorder (benchmarks.bench_reflections_feed): a fresh
engine on the test's database with asyncpg's query logger on each pooled connection, or sqlite3's trace
callback on the persistent engine's shared connection, bound to the tables for the block only.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from backend.accounts.selectors import actor_for_account
from backend.accounts.tables import Account
from backend.lib.policy import ROLE_EMPLOYEE, Actor
from backend.org.tables import Employee
from backend.reflections.peer import reflection_like
from backend.reflections.selectors import PAGE_SIZE, reflection_feed
from backend.reflections.services import submission_submit
from backend.reflections.trainings import ParticipantFilter, assignment_create, training_create
from backend.settings import Settings
from benchmarks.bench_reflections_feed import feed_statements, queries, statements_recorded
from tests.conftest import AppClient, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

MOST_STATEMENTS = 3  # the rows, the total, my likes among the rows


async def _account_actor(username: str) -> Actor:
    account = await Account.select(Account.id).where(Account.username == username).first()
    assert account is not None
    actor = await actor_for_account(int(account["id"]))
    assert actor is not None
    return actor


async def _twenty_one_visible(zhang: Actor) -> list[int]:
    """Organisation-wide reflections until zhang's organisation feed holds 21: a page of 20, a page of 1."""
    existing = (await reflection_feed(actor=zhang, scope="organisation")).total
    assert existing < PAGE_SIZE
    wanted = PAGE_SIZE + 1 - existing
    hr = await _account_actor("hr")
    people = (
        await Employee.select(Employee.id, Employee.department)
        .where(Employee.id != (zhang.employee_id or 0))
        .order_by(Employee.id)
        .limit(wanted)
    )
    training = await training_create(
        actor=hr,
        title="安全生产规范",
        kind="course",
        starts_on=dt.date.today(),
        ends_on=None,
        participants=ParticipantFilter(employee_ids=tuple(int(row["id"]) for row in people)),
    )
    assignment = await assignment_create(
        actor=hr,
        training_id=training,
        prompt="这次培训中你最想在班组推广的一条规范是什么？",
        due_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=7),
        min_length=0,
        max_photos=0,
        visibility="organisation",
    )
    submitted = []
    for row in people:
        author = Actor(
            account_id=0,
            username="",
            employee_id=int(row["id"]),
            department_id=int(row["department"]),
            roles=frozenset({ROLE_EMPLOYEE}),
        )
        result = await submission_submit(
            actor=author,
            assignment_id=assignment,
            body="开工前先检查防护用品，发现隐患当场上报，不带着问题干活。" * 4,
            photo_ids=[],
            idempotency_key=uuid.uuid4().hex,
        )
        submitted.append(result.submission_id)
    return submitted


async def test_a_page_of_twenty_rows_and_a_page_of_one_take_the_same_statements(settings: Settings) -> None:
    zhang = await _account_actor("zhang")
    submitted = await _twenty_one_visible(zhang)
    liked = set(submitted[::4])
    for submission_id in liked:
        await reflection_like(actor=zhang, submission_id=submission_id)

    async with statements_recorded(settings) as recorder:
        full, full_statements = await recorder.of(reflection_feed(actor=zhang, scope="organisation", page=1))
        last, last_statements = await recorder.of(reflection_feed(actor=zhang, scope="organisation", page=2))

    assert full.total == last.total == PAGE_SIZE + 1
    assert (len(full.items), len(last.items)) == (PAGE_SIZE, 1)
    assert liked <= {item.id for item in full.items + last.items if item.liked_by_me}
    assert len(full_statements) == len(last_statements)
    assert len(queries(full_statements)) == len(queries(last_statements)) <= MOST_STATEMENTS, [
        statement.sql for statement in full_statements
    ]


async def test_the_endpoint_reads_each_page_in_the_same_statements(
    client: AppClient, settings: Settings
) -> None:
    zhang = await _account_actor("zhang")
    await _twenty_one_visible(zhang)
    await login(client, "zhang")
    assert (await client.get("/api/v1/reflections", params={"scope": "organisation"})).status_code == 200

    counts = []
    async with statements_recorded(settings) as recorder:
        for page in (1, 2):
            response, statements = await recorder.of(
                client.get("/api/v1/reflections", params={"scope": "organisation", "page": page})
            )
            assert response.status_code == 200, response.text
            counts.append((len(response.json()["items"]), len(feed_statements(statements))))

    assert counts[0][0] == PAGE_SIZE and counts[1][0] == 1
    assert counts[0][1] == counts[1][1] <= MOST_STATEMENTS
