"""Piccolo's configuration module.

The real engine is bound at start-up by backend.lib.db.engine_bind (SQLite or PostgreSQL from the
settings). This placeholder only serves the `piccolo` CLI when generating migrations.
"""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine

DB: Engine = SQLiteEngine(path="var/learnloop.sqlite3")

APP_REGISTRY = AppRegistry(
    apps=[
        "backend.org.piccolo_app",
        "backend.accounts.piccolo_app",
        "backend.events.piccolo_app",
        "backend.reflections.piccolo_app",
        "backend.courses.piccolo_app",
        "backend.points.piccolo_app",
        "backend.notifications.piccolo_app",
    ]
)
