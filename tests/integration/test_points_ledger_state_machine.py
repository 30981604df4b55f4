"""A hypothesis state machine over the points ledger, on real SQLite and PostgreSQL.

Steps: award, retry with the same source key, concurrent duplicates, reverse, reverse again,
redeem (also several at once), approve, reject, decide again.
Invariants: the balance equals the sum of the person's entries and the model's expectation; no
source key is written twice; reversing or deciding twice changes nothing; a redemption succeeds
exactly when the balance covers it, so redemptions never take a balance below zero; spending does
not lower the yearly total.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from backend.lib.db import engine_bind, engine_close, engine_create, engine_open
from backend.lib.errors import Conflict
from backend.lib.policy import ROLE_EMPLOYEE, ROLE_HR_ADMIN, Actor
from backend.org.tables import Department, Employee
from backend.points.facts import org_zone
from backend.points.ledger import balance, ledger_award, ledger_reverse, year_total
from backend.points.redemptions import redemption_decide, redemption_request
from backend.points.rulebook import RuleTerms, rule_insert
from backend.points.rules import Scope
from backend.points.tables import LedgerEntry, Reward
from backend.settings import Settings

KIND = "state_machine_task"
POINTS = 7
COST = 10
HR = Actor(
    account_id=0, username="hr", employee_id=None, department_id=None, roles=frozenset({ROLE_HR_ADMIN})
)
KEYS = st.integers(min_value=0, max_value=5)
PEOPLE = st.integers(min_value=0, max_value=1)


class LedgerMachine(RuleBasedStateMachine):
    run: ClassVar[Callable[[Coroutine[Any, Any, Any]], Any]]
    department_id: ClassVar[int]
    reward_id: ClassVar[int]

    def __init__(self) -> None:
        super().__init__()
        self.prefix = uuid.uuid4().hex[:10]
        self.people = [self.run(self._employee(n)) for n in range(2)]
        self.awarded: dict[str, int] = {}  # source key -> employee
        self.reversed: set[str] = set()
        self.redemptions: dict[int, tuple[int, str]] = {}  # id -> (employee, state)
        self.at = dt.datetime.now(dt.UTC)

    async def _employee(self, n: int) -> int:
        rows = await Employee.insert(
            Employee(employee_no=f"sm-{self.prefix}-{n}", name=f"状态机{n}", department=self.department_id)
        ).returning(Employee.id)
        return int(rows[0]["id"])

    def _key(self, n: int) -> str:
        return f"sm:{self.prefix}:{n}"

    async def _award(self, employee_id: int, key: str) -> int | None:
        return await ledger_award(employee_id=employee_id, kind=KIND, source_key=key, occurred_at=self.at)

    @rule(person=PEOPLE, n=KEYS)
    def award(self, person: int, n: int) -> None:
        key = self._key(n)
        entry = self.run(self._award(self.people[person], key))
        assert (entry is not None) == (key not in self.awarded)
        self.awarded.setdefault(key, self.people[person])

    @precondition(lambda self: bool(self.awarded))
    @rule(data=st.data(), person=PEOPLE)
    def retry_same_key(self, data: st.DataObject, person: int) -> None:
        key = data.draw(st.sampled_from(sorted(self.awarded)))
        assert self.run(self._award(self.people[person], key)) is None

    @rule(person=PEOPLE, n=KEYS, copies=st.integers(min_value=2, max_value=4))
    def concurrent_duplicates(self, person: int, n: int, copies: int) -> None:
        key = self._key(n)

        async def race() -> list[int | None]:
            return list(await asyncio.gather(*(self._award(self.people[person], key) for _ in range(copies))))

        written = sum(entry is not None for entry in self.run(race()))
        assert written == (0 if key in self.awarded else 1)
        self.awarded.setdefault(key, self.people[person])

    @precondition(lambda self: bool(self.awarded))
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.awarded)))
        reversal = self.run(ledger_reverse(source_key=key, reason="状态机冲销", actor_id=None))
        assert (reversal is not None) == (key not in self.reversed)
        self.reversed.add(key)

    @precondition(lambda self: bool(self.reversed))
    @rule(data=st.data())
    def reverse_again(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.reversed)))
        before = [self.run(balance(person)) for person in self.people]
        assert self.run(ledger_reverse(source_key=key, reason="再次冲销", actor_id=None)) is None
        assert [self.run(balance(person)) for person in self.people] == before

    def _earned(self, person: int) -> int:
        return POINTS * sum(
            1 for key, owner in self.awarded.items() if owner == person and key not in self.reversed
        )

    def _expected(self, person: int) -> int:
        held = COST * sum(
            1 for owner, state in self.redemptions.values() if owner == person and state != "rejected"
        )
        return self._earned(person) - held

    def _actor(self, person: int) -> Actor:
        return Actor(
            account_id=0,
            username=f"p{person}",
            employee_id=person,
            department_id=self.department_id,
            roles=frozenset({ROLE_EMPLOYEE}),
        )

    @rule(person=PEOPLE, copies=st.integers(min_value=1, max_value=3))
    def redeem(self, person: int, copies: int) -> None:
        employee = self.people[person]
        before = self._expected(employee)

        async def race() -> list[Any]:
            requests = (
                redemption_request(actor=self._actor(employee), reward_id=self.reward_id)
                for _ in range(copies)
            )
            return list(await asyncio.gather(*requests, return_exceptions=True))

        results = self.run(race())
        made = [result for result in results if isinstance(result, int)]
        refused = [result for result in results if not isinstance(result, int)]
        assert len(made) == min(copies, max(before, 0) // COST)
        assert all(
            isinstance(error, Conflict) and error.key == "error.points_balance_insufficient"
            for error in refused
        )
        for redemption_id in made:
            self.redemptions[redemption_id] = (employee, "pending")
        after = self.run(balance(employee))
        assert after == before - COST * len(made)
        assert after >= 0 or not made  # a redemption never takes a balance below zero

    def _pick(self, data: st.DataObject, *, pending: bool) -> int:
        ids = sorted(i for i, (_owner, state) in self.redemptions.items() if (state == "pending") == pending)
        return data.draw(st.sampled_from(ids))

    @precondition(lambda self: any(state == "pending" for _owner, state in self.redemptions.values()))
    @rule(data=st.data(), approve=st.booleans())
    def decide(self, data: st.DataObject, approve: bool) -> None:
        redemption_id = self._pick(data, pending=True)
        self.run(redemption_decide(actor=HR, redemption_id=redemption_id, approve=approve))
        owner, _state = self.redemptions[redemption_id]
        self.redemptions[redemption_id] = (owner, "approved" if approve else "rejected")

    @precondition(lambda self: any(state != "pending" for _owner, state in self.redemptions.values()))
    @rule(data=st.data(), approve=st.booleans())
    def decide_again(self, data: st.DataObject, approve: bool) -> None:
        redemption_id = self._pick(data, pending=False)
        before = [self.run(balance(person)) for person in self.people]
        try:
            self.run(redemption_decide(actor=HR, redemption_id=redemption_id, approve=approve))
            raise AssertionError("a decided redemption was decided again")
        except Conflict:
            pass
        assert [self.run(balance(person)) for person in self.people] == before

    @invariant()
    def balance_is_the_sum_of_entries(self) -> None:
        for person in self.people:
            rows = self.run(LedgerEntry.select(LedgerEntry.points).where(LedgerEntry.employee == person))
            assert self.run(balance(person)) == sum(row["points"] for row in rows) == self._expected(person)
            assert self.run(year_total(person, self.at.astimezone(org_zone()).year)) == self._earned(person)

    @invariant()
    def no_source_key_twice(self) -> None:
        rows = self.run(
            LedgerEntry.select(LedgerEntry.source_key).where(LedgerEntry.employee.is_in(self.people))
        )
        keys = [row["source_key"] for row in rows]
        releases = sum(1 for _owner, state in self.redemptions.values() if state == "rejected")
        assert (
            len(keys)
            == len(set(keys))
            == len(self.awarded) + len(self.reversed) + len(self.redemptions) + releases
        )


async def _setup() -> tuple[int, int]:
    rows = await Department.insert(Department(name="状态机部")).returning(Department.id)
    department_id = int(rows[0]["id"])
    await Department.update({Department.path: f"/{department_id}/"}).where(Department.id == department_id)
    await rule_insert(
        actor_id=None,
        kind=KIND,
        scope=Scope(),
        terms=RuleTerms(points=POINTS, category="other", effective_from=dt.date(2000, 1, 1)),
    )
    rows = await Reward.insert(Reward(name="状态机奖励", cost=COST)).returning(Reward.id)
    return department_id, int(rows[0]["id"])


def test_the_ledger_state_machine(settings: Settings, backend_name: str) -> None:
    """On SQLite and PostgreSQL (`backend_name`). Runs on its own event loop: hypothesis drives the machine synchronously, step by step."""
    loop = asyncio.new_event_loop()
    engine = engine_create(settings)
    previous = Employee._meta.db
    try:
        loop.run_until_complete(engine_open(engine, settings))
        engine_bind(engine)
        LedgerMachine.department_id, LedgerMachine.reward_id = loop.run_until_complete(_setup())
        LedgerMachine.run = loop.run_until_complete
        run_state_machine_as_test(
            LedgerMachine,
            settings=hypothesis_settings(
                max_examples=25,
                stateful_step_count=15,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            ),
        )
    finally:
        loop.run_until_complete(engine_close(engine))
        loop.close()
        engine_bind(previous)
