from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T17:49:28:058016"
VERSION = "1.38.0"
DESCRIPTION = "Employee e-mail address"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="org", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Employee",
        tablename="employee",
        column_name="email",
        db_column_name="email",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 254,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
