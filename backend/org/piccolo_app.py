from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.org.tables import Department, Employee, JobLevel, Position

APP_CONFIG = AppConfig(
    app_name="org",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Department, Position, JobLevel, Employee],
    migration_dependencies=[],
    commands=[],
)
