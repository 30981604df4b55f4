"""Organisation: a department tree, positions, job levels and employees."""

from piccolo.columns import Boolean, Date, ForeignKey, Integer, OnDelete, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Department(Table):
    id = Serial(primary_key=True)
    name = Varchar(length=100)
    parent: ForeignKey["Department"] = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    # Materialised path of ids, e.g. "/1/4/": a subtree is `path LIKE '/1/4/%'`.
    path = Varchar(length=500, index=True, default="")
    sort = Integer(default=0)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Position(Table):
    id = Serial(primary_key=True)
    name = Varchar(length=100, unique=True)


class JobLevel(Table):
    id = Serial(primary_key=True)
    name = Varchar(length=50, unique=True)
    rank = Integer(default=0)


EMPLOYEE_ACTIVE = "active"
EMPLOYEE_DEPARTED = "departed"


class Employee(Table):
    id = Serial(primary_key=True)
    employee_no = Varchar(length=32, unique=True)
    name = Varchar(length=100, index=True)
    department = ForeignKey(Department, on_delete=OnDelete.restrict, index=True)
    position = ForeignKey(Position, null=True, on_delete=OnDelete.set_null)
    level = ForeignKey(JobLevel, null=True, on_delete=OnDelete.set_null)
    manager: ForeignKey["Employee"] = ForeignKey("self", null=True, on_delete=OnDelete.set_null)
    hire_date = Date(null=True, default=None)
    status = Varchar(length=16, default=EMPLOYEE_ACTIVE, index=True)
    # "" = follow the browser; otherwise "zh-CN" or "en".
    locale = Varchar(length=8, default="")
    # "" = no address: e-mail notifications then go to the organisation's mailing list, if any.
    email = Varchar(length=254, default="")
    created_at = Timestamptz(default=TimestamptzNow())
