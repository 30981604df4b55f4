from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.reflections.tables import (
    Assignment,
    Photo,
    ReflectionComment,
    ReflectionLike,
    Submission,
    SubmissionRequest,
    SubmissionVersion,
    Training,
    TrainingCourse,
    TrainingParticipant,
)

APP_CONFIG = AppConfig(
    app_name="reflections",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Training,
        TrainingParticipant,
        TrainingCourse,
        Assignment,
        Photo,
        Submission,
        SubmissionVersion,
        SubmissionRequest,
        ReflectionLike,
        ReflectionComment,
    ],
    migration_dependencies=["backend.org.piccolo_app", "backend.courses.piccolo_app"],
    commands=[],
)
