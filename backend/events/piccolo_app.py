from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.events.tables import OutboxEvent

APP_CONFIG = AppConfig(
    app_name="events",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[OutboxEvent],
    migration_dependencies=[],
    commands=[],
)
