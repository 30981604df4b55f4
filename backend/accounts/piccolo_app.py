from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.accounts.tables import Account, AccountRole, LoginFailure, Session

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Account, AccountRole, Session, LoginFailure],
    migration_dependencies=["backend.org.piccolo_app"],
    commands=[],
)
