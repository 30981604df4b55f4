"""The migration that gives employees an e-mail address upgrades a database that already has people,
on SQLite and PostgreSQL: everyone starts without an address, and it can be undone."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest
from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.forwards import run_forwards

from backend.org.piccolo_migrations.org_2026_12_06t17_49_28_058016 import ID as EMAIL_MIGRATION
from backend.org.tables import Employee

pytestmark = pytest.mark.usefixtures("backend_name")


async def _columns(engine: Any) -> set[str]:
    if engine.engine_type == "postgres":
        rows = await engine.run_ddl(
            "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'employee'"
        )
    else:
        rows = await engine.run_ddl("PRAGMA table_info(employee)")
    return {str(row["name"]) for row in rows}


async def test_existing_people_start_without_an_address(db: Any, demo: None) -> None:
    people = await Employee.count()
    assert people == 60
    with contextlib.redirect_stdout(io.StringIO()):
        undone = await run_backwards(app_name="org", migration_id=EMAIL_MIGRATION, auto_agree=True)
    try:
        assert undone.success, undone.message
        assert "email" not in await _columns(db)  # the database as it was before
    finally:
        with contextlib.redirect_stdout(io.StringIO()):
            redone = await run_forwards(app_name="org")
    assert redone.success, redone.message
    assert "email" in await _columns(db)
    rows = await Employee.select(Employee.email)
    assert len(rows) == people and {row["email"] for row in rows} == {""}
