"""The database layer on SQLite and PostgreSQL: the fast primary-key read and the persistent SQLite engine."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backend.lib.db import row_by_id
from backend.org.tables import Department, Employee

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


async def test_row_by_id_returns_what_select_returns() -> None:
    for row in await Employee.select(Employee.id).limit(5):
        assert (
            await row_by_id(Employee, row["id"])
            == await Employee.select().where(Employee.id == row["id"]).first()
        )
    first = await Department.select().first()
    assert await row_by_id(Department, first["id"]) == first
    assert await row_by_id(Employee, 10**9) is None


async def test_concurrent_reads_and_a_transaction_do_not_interleave(db: Any) -> None:
    """Statements outside a transaction share one SQLite connection; a transaction has its own."""
    names = [row["name"] for row in await Employee.select(Employee.name).limit(20)]

    async def renamed_then_rolled_back() -> None:
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await Employee.update({Employee.name: "临时"}).where(Employee.id.is_not_null())
                await asyncio.sleep(0.05)
                raise RuntimeError("roll back")

    async def read() -> list[str]:
        return [row["name"] for row in await Employee.select(Employee.name).limit(20)]

    results = await asyncio.gather(renamed_then_rolled_back(), *(read() for _ in range(20)))
    assert all(result == names for result in results[1:])
    assert await read() == names
