from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.points.tables import (
    LedgerEntry,
    PointProfile,
    PointRule,
    PointSettings,
    PointTarget,
    PointYearTotal,
    Redemption,
    Reward,
)

APP_CONFIG = AppConfig(
    app_name="points",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        PointRule,
        LedgerEntry,
        PointTarget,
        PointSettings,
        Reward,
        Redemption,
        PointProfile,
        PointYearTotal,
    ],
    migration_dependencies=["backend.org.piccolo_app"],
    commands=[],
)
