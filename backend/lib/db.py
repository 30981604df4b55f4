"""Database engines: SQLite for the embedded default, PostgreSQL in production.

Piccolo's stock SQLite engine opens a new connection for every query outside a transaction
(STACK-NOTES: ~7x slower for a primary-key read). `PersistentSQLiteEngine` keeps one open
connection for those queries; transactions still get their own connection, so they never
interleave with other requests' statements.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import aiosqlite
from piccolo.columns.combination import Where
from piccolo.columns.operators.comparison import ComparisonOperator
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, dict_factory

from backend.settings import Settings

os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")

SQLITE_BUSY_TIMEOUT_SECONDS = 30


class PersistentSQLiteEngine(SQLiteEngine):
    """SQLite engine that reuses one connection for statements outside a transaction."""

    __slots__ = ("_closed", "_shared", "_shared_lock")

    def __init__(self, path: str, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", SQLITE_BUSY_TIMEOUT_SECONDS)
        super().__init__(path=path, **kwargs)
        self._shared: aiosqlite.Connection | None = None
        # Concurrent first queries must not each open (and one of them leak) a connection: an
        # unclosed aiosqlite connection keeps a non-daemon thread alive and the process never exits.
        self._shared_lock = asyncio.Lock()
        self._closed = False

    async def get_connection(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    async def _shared_connection(self) -> aiosqlite.Connection:
        if self._shared is not None:
            return self._shared
        async with self._shared_lock:
            if self._closed:
                # Reopening would leak the connection (and its thread) past the app's shutdown.
                raise RuntimeError("the database engine was closed; bind the running app's engine")
            if self._shared is None:
                connection = await self.get_connection()
                await connection.execute("PRAGMA journal_mode = WAL")
                self._shared = connection
            return self._shared

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        connection = await self._shared_connection()
        # One hop to aiosqlite's thread (execute + fetch + close together), not three.
        return await connection.execute_fetchall(query, args or [])

    async def close(self) -> None:
        async with self._shared_lock:
            self._closed = True
            if self._shared is not None:
                await self._shared.close()
                self._shared = None


def engine_create(settings: Settings) -> Engine:
    """The engine for the configured database (SQLite file in the data dir when none is set)."""
    url = settings.database.url
    if not url:
        return PersistentSQLiteEngine(path=str(settings.sqlite_path))
    parsed = urlparse(url)
    if parsed.scheme in ("postgresql", "postgres"):
        return PostgresEngine(
            config={
                "host": parsed.hostname or "127.0.0.1",
                "port": parsed.port or 5432,
                "user": unquote(parsed.username or "postgres"),
                "password": unquote(parsed.password or ""),
                "database": parsed.path.lstrip("/") or "learnloop",
            },
        )
    if parsed.scheme == "sqlite":
        return PersistentSQLiteEngine(path=str(Path(parsed.path)))
    raise ValueError(f"unsupported database url scheme {parsed.scheme!r} (use postgresql:// or sqlite://)")


async def engine_open(engine: Engine, settings: Settings) -> None:
    if isinstance(engine, SQLiteEngine):
        Path(engine.path).parent.mkdir(parents=True, exist_ok=True)
    elif isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=settings.database.pool_max)


async def engine_close(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    elif isinstance(engine, PersistentSQLiteEngine):
        await engine.close()


def engine_bind(engine: Engine) -> None:
    """Point every table of every Learnloop app, and Piccolo's migration machinery, at `engine`."""
    from piccolo.apps.migrations.tables import Migration
    from piccolo.conf.apps import Finder

    from backend import piccolo_conf

    piccolo_conf.DB = engine
    for table in Finder().get_table_classes():
        table._meta.db = engine
    Migration._meta.db = engine


async def database_ping(engine: Engine) -> None:
    await engine.run_querystring(_select_one())


def _select_one() -> Any:
    from piccolo.querystring import QueryString

    return QueryString("SELECT 1")


__all__ = [
    "PersistentSQLiteEngine",
    "database_ping",
    "engine_bind",
    "engine_close",
    "engine_create",
    "engine_open",
]


async def migrations_apply(engine: Engine, *, quiet: bool = True) -> None:
    """Run every app's pending Piccolo migrations against `engine` (idempotent)."""
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import run_forwards

    engine_bind(engine)
    output = io.StringIO()
    with contextlib.redirect_stdout(output) if quiet else contextlib.nullcontext():
        result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"database migration failed: {result.message}\n{output.getvalue()}")


class _LikeEscaped(ComparisonOperator):
    template = "{name} LIKE {value} ESCAPE '!'"


class _ILikeEscaped(ComparisonOperator):
    template = "{name} ILIKE {value} ESCAPE '!'"


def _like_escape(text: str) -> str:
    """`text` as a LIKE pattern that matches itself only: the wildcards % and _ (and the escape
    character `!` of text_contains) are escaped. `!` rather than a backslash: no string literal quirks."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def text_contains(column: Any, needle: str) -> Any:
    """Case-insensitive substring match: ILIKE on PostgreSQL, LIKE on SQLite (already case-insensitive).
    The needle is literal text: a `%` or `_` in it matches that character, not anything."""
    pattern = f"%{_like_escape(needle)}%"
    if column._meta.table._meta.db.engine_type == "postgres":
        return Where(column=column, value=pattern, operator=_ILikeEscaped)
    return Where(column=column, value=pattern, operator=_LikeEscaped)


_ROW_BY_ID_SQL: dict[type[Any], str] = {}


async def row_by_id(table: type[Any], pk: int) -> dict[str, Any] | None:
    """`table.select().where(table.id == pk).first()` with the SQL built once per table.

    Piccolo builds a query's SQL on every call, which costs more than the read itself on SQLite:
    hot primary-key reads use this instead.
    """
    from piccolo.querystring import QueryString

    sql = _ROW_BY_ID_SQL.get(table)
    if sql is None:
        columns = ", ".join(f'"{c._meta.db_column_name}"' for c in table._meta.columns)
        sql = _ROW_BY_ID_SQL[table] = f'SELECT {columns} FROM "{table._meta.tablename}" WHERE "id" = {{}}'  # noqa: S608 - names from the table definition
    rows = await table._meta.db.run_querystring(QueryString(sql, pk))
    return dict(rows[0]) if rows else None


def unique_violation(error: BaseException) -> bool:
    """True for a unique-constraint violation on SQLite or PostgreSQL (a lost race, a retry)."""
    import sqlite3

    import asyncpg

    if isinstance(error, asyncpg.UniqueViolationError):
        return True
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)


async def rows_insert(
    table: type[Any], columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]], tail: str = ""
) -> list[dict[str, Any]]:
    """One INSERT of many rows into `table`, with plain SQL: Piccolo's per-row objects and query
    building cost far more than the statement. `columns` are (name, PostgreSQL type) pairs; `tail` an
    ON CONFLICT and/or RETURNING clause. PostgreSQL takes one array per column (UNNEST: as many
    parameters as columns whatever the number of rows); SQLite a VALUES list. JSON columns take text."""
    from piccolo.querystring import QueryString

    if not rows:
        return []
    name, engine = table._meta.tablename, table._meta.db
    names = ", ".join(column for column, _type in columns)
    if engine.engine_type == "postgres":
        arrays = ", ".join(f"{{}}::{type_}[]" for _column, type_ in columns)
        text = f"INSERT INTO {name} ({names}) SELECT * FROM unnest({arrays}) {tail}"  # noqa: S608 - names from code
        values = [list(column) for column in zip(*rows, strict=True)]
        return list(await engine.run_querystring(QueryString(text, *values)))
    row = "(" + ", ".join("{}" for _ in columns) + ")"
    text = f"INSERT INTO {name} ({names}) VALUES {', '.join(row for _ in rows)} {tail}"  # noqa: S608 - names from code
    return list(
        await engine.run_querystring(QueryString(text, *(value for values in rows for value in values)))
    )


def write_transaction(table: Any = None) -> Any:
    """A transaction that writes. On SQLite it takes the write lock up front (BEGIN IMMEDIATE):
    a deferred transaction that reads first and then writes fails at once with "database is
    locked" when another writer got there in between, instead of waiting its turn."""
    from piccolo.engine.sqlite import TransactionType

    from backend import piccolo_conf

    engine = table._meta.db if table is not None else piccolo_conf.DB
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()
