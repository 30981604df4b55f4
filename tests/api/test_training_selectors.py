"""Training reads for the admin pages: who may list trainings, 工号 lists, the archive's training choices."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.lib.errors import PermissionDenied, ValidationFailed
from backend.org.tables import Department, Employee
from backend.reflections.training_selectors import (
    archive_training_options,
    employee_ids_by_numbers,
    employee_numbers_parse,
    participant_choices,
    training_list,
)
from backend.reflections.trainings import ParticipantFilter, assignment_create, training_create
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


async def test_hr_lists_all_trainings_with_counts() -> None:
    hr = await actor_named("hr")
    page = await training_list(actor=hr)
    assert [item.title for item in page.items] == ["代码评审实践", "大客户关系维护"]
    sales = page.items[1]
    assert sales.kind == "workshop" and sales.created_by is not None and sales.created_by.name == "刘芳"
    (assignment,) = sales.assignments
    assert assignment.total == sales.participant_count > 4
    assert assignment.submitted == 4


async def test_a_trainer_lists_only_their_own_trainings() -> None:
    trainer = await actor_named("trainer")
    assert (await training_list(actor=trainer)).items == []
    rnd = await Department.select(Department.id).where(Department.name == "研发部").first()
    assert rnd is not None
    training_id = await training_create(
        actor=trainer,
        title="安全生产",
        kind="course",
        starts_on=dt.date.today(),
        ends_on=None,
        participants=ParticipantFilter(department_ids=(rnd["id"],)),
    )
    await assignment_create(
        actor=trainer,
        training_id=training_id,
        prompt="写一写",
        due_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3),
    )
    page = await training_list(actor=trainer)
    assert [item.title for item in page.items] == ["安全生产"]
    assert page.items[0].assignments[0].submitted == 0
    assert page.total == 1


@pytest.mark.parametrize("username", ["zhang", "manager"])
async def test_others_may_not_list_trainings(username: str) -> None:
    actor = await actor_named(username)
    with pytest.raises(PermissionDenied):
        await training_list(actor=actor)
    with pytest.raises(PermissionDenied):
        await participant_choices(actor=actor)
    with pytest.raises(PermissionDenied):
        await employee_ids_by_numbers(actor=actor, numbers=["E0001"])


async def test_participant_choices_show_the_whole_tree_to_a_trainer() -> None:
    trainer = await actor_named("trainer")
    choices = await participant_choices(actor=trainer)
    names = [department.name for department in choices.departments]
    assert {"销售部", "华东大区", "研发部", "一车间"} <= set(names)
    assert names.index("销售部") < names.index("华东大区")
    east = next(d for d in choices.departments if d.name == "华东大区")
    sales = next(d for d in choices.departments if d.name == "销售部")
    assert east.depth == sales.depth + 1
    assert choices.positions and choices.levels


async def test_employee_numbers_resolve_to_active_people_only() -> None:
    hr = await actor_named("hr")
    assert employee_numbers_parse("E0001, E0002\nE0003、E0001；E0004") == ["E0001", "E0002", "E0003", "E0004"]
    ids = await employee_ids_by_numbers(actor=hr, numbers=["E0005", "E0004"])
    rows = await Employee.select(Employee.id, Employee.employee_no).where(Employee.id.is_in(ids))
    assert {row["employee_no"] for row in rows} == {"E0004", "E0005"}
    with pytest.raises(ValidationFailed) as refused:
        await employee_ids_by_numbers(actor=hr, numbers=["E0004", "NOPE"])
    assert refused.value.key == "radmin.numbers_unknown" and refused.value.params["numbers"] == "NOPE"
    await Employee.update({Employee.status: "departed"}).where(Employee.employee_no == "E0004")
    with pytest.raises(ValidationFailed):
        await employee_ids_by_numbers(actor=hr, numbers=["E0004"])


async def test_archive_training_choices_follow_the_archive_scope() -> None:
    hr = await actor_named("hr")
    assert [t.name for t in await archive_training_options(actor=hr)] == ["代码评审实践", "大客户关系维护"]
    manager = await actor_named("manager")
    assert [t.name for t in await archive_training_options(actor=manager)] == ["大客户关系维护"]
    with pytest.raises(PermissionDenied):
        await archive_training_options(actor=await actor_named("trainer"))
