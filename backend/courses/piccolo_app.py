from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.courses.tables import (
    Course,
    CourseAttachment,
    CourseComment,
    CourseRating,
    CourseVersion,
    CourseView,
    Upload,
    UploadPart,
    WatchProgress,
)

APP_CONFIG = AppConfig(
    app_name="courses",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Course,
        CourseVersion,
        CourseAttachment,
        Upload,
        UploadPart,
        WatchProgress,
        CourseView,
        CourseRating,
        CourseComment,
    ],
    migration_dependencies=["backend.org.piccolo_app"],
    commands=[],
)
