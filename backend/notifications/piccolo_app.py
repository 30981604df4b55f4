from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.notifications.tables import (
    Delivery,
    DeliveryAttempt,
    Notification,
    NotificationPreference,
    NotificationSettings,
    PushSubscription,
    Reminder,
)

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Notification,
        NotificationPreference,
        Delivery,
        DeliveryAttempt,
        NotificationSettings,
        PushSubscription,
        Reminder,
    ],
    migration_dependencies=["backend.org.piccolo_app"],
    commands=[],
)
