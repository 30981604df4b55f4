"""Annual targets on SQLite and PostgreSQL: HR's writes, progress per category with a mix, the most
specific target, team progress (policy: a manager sees only their team, 404 outside; employees 403),
and the team SQL agreeing with the per-person arithmetic."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from backend.lib.errors import NotFound, PermissionDenied, ValidationFailed
from backend.org.tables import EMPLOYEE_ACTIVE, Department, Employee, JobLevel
from backend.points.facts import org_today
from backend.points.ledger import ledger_award
from backend.points.presets import preset_apply
from backend.points.rulebook import RuleTerms, rule_create
from backend.points.rules import year_elapsed_percent
from backend.points.targets import target_delete, target_list, target_progress, target_set, team_progress
from tests.conftest import AppClient, login
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "points_clean")

CREDIT_MIX = {"course": 40, "exam": 30, "sharing": 20, "mentoring": 10}
_kinds = itertools.count(1)


async def grant(employee_id: int, category: str, points: int) -> None:
    """Give a person `points` in `category` this year, through a one-off rule."""
    kind = f"grant_{category}_{next(_kinds)}"
    await rule_create(
        actor=await actor_named("hr"),
        kind=kind,
        terms=RuleTerms(points=points, category=category, effective_from=dt.date(2000, 1, 1)),
    )
    entry = await ledger_award(
        employee_id=employee_id,
        kind=kind,
        source_key=f"{kind}:{employee_id}",
        occurred_at=dt.datetime.now(dt.UTC),
    )
    assert entry is not None


async def employee_id_of(username: str) -> int:
    actor = await actor_named(username)
    assert actor.employee_id is not None
    return actor.employee_id


async def id_of(table: type[Department] | type[JobLevel], name: str) -> int:
    row = await table.select(table.id).where(table.name == name).first()
    assert row is not None
    return int(row["id"])


async def subtree_people(department: str) -> set[int]:
    path = (await Department.select(Department.path).where(Department.name == department).first() or {})[
        "path"
    ]
    rows = await Employee.select(Employee.id).where(
        Employee.department.path.like(f"{path}%") & (Employee.status == EMPLOYEE_ACTIVE)
    )
    return {int(row["id"]) for row in rows}


async def test_hr_sets_replaces_lists_and_deletes_targets() -> None:
    hr, year = await actor_named("hr"), org_today().year
    senior = await id_of(JobLevel, "P3 高级")
    first = await target_set(actor=hr, year=year, total=100, mix=CREDIT_MIX, level_id=senior)
    again = await target_set(actor=hr, year=year, total=120, mix={}, level_id=senior)
    assert again == first  # one target per (year, scope): replaced
    east = await id_of(Department, "华东大区")
    other = await target_set(actor=hr, year=year, total=80, mix={"course": 100}, department_id=east)
    listed = await target_list(actor=hr, year=year)
    assert [(t.id, t.total, t.mix) for t in listed] == [(first, 120, {}), (other, 80, {"course": 100})]
    assert listed[0].level is not None and listed[0].level.name == "P3 高级" and listed[0].department is None
    assert listed[1].department is not None and listed[1].department.name == "华东大区"
    assert await target_list(actor=hr, year=year + 1) == []
    with pytest.raises(PermissionDenied):
        await target_list(actor=await actor_named("zhang"))
    with pytest.raises(PermissionDenied):
        await target_set(actor=await actor_named("manager"), year=year, total=10, mix={})
    await target_delete(actor=hr, target_id=other)
    with pytest.raises(NotFound):
        await target_delete(actor=hr, target_id=other)
    assert [t.id for t in await target_list(actor=hr)] == [first]


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"total": 0}, "error.points_out_of_range"),
        ({"mix": {"course": 50, "exam": 40}}, "error.points_target_mix_sum"),
        ({"mix": {"redemption": 100}}, "error.points_category_invalid"),
        ({"mix": {"course": 120, "exam": -20}}, "error.points_out_of_range"),
        ({"department_id": 999_999}, "error.points_scope_unknown"),
        ({"year": 1999}, "error.points_out_of_range"),
    ],
)
async def test_target_refusals(fields: dict[str, object], key: str) -> None:
    values: dict[str, object] = {"year": org_today().year, "total": 100, "mix": {}, **fields}
    with pytest.raises(ValidationFailed) as refused:
        await target_set(actor=await actor_named("hr"), **values)  # type: ignore[arg-type]
    assert refused.value.key == key


async def test_with_a_mix_each_category_counts_up_to_its_share() -> None:
    hr, year = await actor_named("hr"), org_today().year
    await target_set(
        actor=hr, year=year, total=100, mix=CREDIT_MIX, level_id=await id_of(JobLevel, "P3 高级")
    )
    zhang = await employee_id_of("zhang")
    await grant(zhang, "exam", 40)  # only 30 count: the exam share
    await grant(zhang, "course", 10)
    await grant(zhang, "reflection", 50)  # outside the mix: counts for nothing here
    progress = await target_progress(actor=await actor_named("zhang"))
    assert (progress.year, progress.target, progress.earned) == (year, 100, 40)
    assert (progress.attainment_percent, progress.missing) == (40, 60)
    assert [(c.category, c.earned, c.needed, c.missing) for c in progress.categories] == [
        ("course", 10, 40, 30),
        ("exam", 30, 30, 0),
        ("sharing", 0, 20, 20),
        ("mentoring", 0, 10, 10),
    ]
    assert progress.expected_percent == year_elapsed_percent(year, org_today())
    assert progress.behind == (progress.expected_percent > 40)
    last_year = await target_progress(actor=await actor_named("zhang"), year=year - 1)
    assert (last_year.target, last_year.earned, last_year.expected_percent, last_year.behind) == (
        None,
        0,
        100,
        False,
    )


async def test_the_most_specific_target_applies_and_without_a_mix_every_point_counts() -> None:
    hr, year = await actor_named("hr"), org_today().year
    await target_set(actor=hr, year=year, total=50, mix={})
    await target_set(
        actor=hr,
        year=year,
        total=80,
        mix={"course": 50, "exam": 50},
        department_id=await id_of(Department, "销售部"),
    )
    zhang, wang = await employee_id_of("zhang"), await employee_id_of("wang")
    await grant(wang, "other", 60)
    await grant(zhang, "course", 60)
    wang_progress = await target_progress(actor=await actor_named("wang"))
    assert (wang_progress.target, wang_progress.earned, wang_progress.attainment_percent) == (50, 60, 100)
    assert wang_progress.missing == 0 and not wang_progress.behind
    assert [(c.category, c.earned, c.needed) for c in wang_progress.categories] == [("other", 60, 0)]
    zhang_progress = await target_progress(actor=await actor_named("zhang"))
    assert (zhang_progress.target, zhang_progress.earned, zhang_progress.missing) == (80, 40, 40)


async def test_a_ten_minute_course_earns_one_point_under_the_credit_preset() -> None:
    await preset_apply(actor=await actor_named("hr"), name="credit")
    zhang = await employee_id_of("zhang")
    entry = await ledger_award(
        employee_id=zhang,
        kind="course_completed",
        source_key=f"course_completed:1:{zhang}",
        occurred_at=dt.datetime.now(dt.UTC),
        quantity=10 / 60,
    )
    assert entry is not None
    assert (await target_progress(actor=await actor_named("zhang"))).earned == 1


async def test_someone_elses_progress_is_for_hr_and_their_managers_only() -> None:
    zhang, wang = await employee_id_of("zhang"), await employee_id_of("wang")
    for reader in ("hr", "manager"):
        assert (await target_progress(actor=await actor_named(reader), employee_id=zhang)).target is None
    with pytest.raises(NotFound):
        await target_progress(actor=await actor_named("manager"), employee_id=wang)
    with pytest.raises(NotFound):
        await target_progress(actor=await actor_named("wang"), employee_id=zhang)
    with pytest.raises(NotFound):
        await target_progress(actor=await actor_named("hr"), employee_id=999_999)


async def test_a_manager_sees_only_their_team_most_behind_first() -> None:
    hr, year = await actor_named("hr"), org_today().year
    await target_set(actor=hr, year=year, total=100, mix={"course": 50, "exam": 50})
    zhang = await employee_id_of("zhang")
    await grant(zhang, "course", 70)  # 50 count
    await grant(zhang, "exam", 20)
    manager = await actor_named("manager")
    sales = await subtree_people("销售部")
    members = []
    page = await team_progress(actor=manager)
    while True:
        members += page.items
        if page.page >= page.pages:
            break
        page = await team_progress(actor=manager, page=page.page + 1)
    assert {item.employee.id for item in members} == sales and len(members) == len(sales) == page.total
    attainments = [item.attainment_percent for item in members]
    assert attainments == sorted(attainments) and members[-1].employee.id == zhang  # most behind first
    zhang_row = members[-1]
    assert (zhang_row.earned, zhang_row.attainment_percent, zhang_row.missing) == (70, 70, 30)
    assert [(c.category, c.earned, c.needed, c.missing) for c in zhang_row.categories] == [
        ("course", 50, 50, 0),
        ("exam", 20, 50, 30),
    ]
    with pytest.raises(NotFound):
        await team_progress(actor=manager, department_id=await id_of(Department, "研发部"))
    east = await team_progress(actor=manager, department_id=await id_of(Department, "华东大区"))
    assert {item.employee.id for item in east.items} == await subtree_people("华东大区")
    with pytest.raises(PermissionDenied):
        await team_progress(actor=await actor_named("wang"))
    with pytest.raises(PermissionDenied):
        await team_progress(actor=await actor_named("zhang"))


async def test_behind_only_and_hr_reads_everyone_as_each_person_would() -> None:
    hr, year = await actor_named("hr"), org_today().year
    await target_set(
        actor=hr, year=year, total=60, mix=CREDIT_MIX, department_id=await id_of(Department, "研发部")
    )
    await target_set(actor=hr, year=year - 1, total=10, mix={})
    people = sorted(await subtree_people("研发部"))
    for index, employee_id in enumerate(people[:3]):
        await grant(employee_id, "course", 10 * (index + 1))
        await grant(employee_id, "mentoring", 5)
    await grant(people[0], "exam", 30)
    team = await team_progress(actor=hr, department_id=await id_of(Department, "研发部"))
    assert {item.employee.id for item in team.items} == set(people)
    for item in team.items:
        alone = await target_progress(actor=hr, employee_id=item.employee.id)
        assert (item.target, item.earned, item.attainment_percent, item.missing, item.behind) == (
            alone.target,
            alone.earned,
            alone.attainment_percent,
            alone.missing,
            alone.behind,
        )
        assert item.categories == alone.categories
    behind = await team_progress(actor=hr, department_id=await id_of(Department, "研发部"), behind_only=True)
    assert [item.employee.id for item in behind.items] == [
        item.employee.id for item in team.items if item.behind
    ]
    everyone = await team_progress(actor=hr)
    active = await Employee.count().where(Employee.status == EMPLOYEE_ACTIVE)
    assert (everyone.total, everyone.pages, len(everyone.items)) == (active, -(-active // 20), 20)
    assert all(item.target is not None for item in everyone.items[:1])  # people with a target come first
    past = await team_progress(actor=hr, year=year - 1, page=2)
    # Last year is over and nobody earned anything in it: everyone is behind, by the whole target.
    assert past.page == 2 and all(
        item.behind and (item.target, item.missing) == (10, 10) for item in past.items
    )
    beyond = await team_progress(actor=hr, page=999)
    assert (beyond.items, beyond.total) == ([], active)


async def test_target_routes(client: AppClient) -> None:
    year = org_today().year
    await login(client, "zhang")
    assert (await client.get("/api/v1/points/targets")).status_code == 403
    assert (await client.get("/api/v1/points/team")).status_code == 403
    mine = await client.get("/api/v1/points/progress")
    assert mine.status_code == 200 and mine.json()["target"] is None
    await login(client, "hr")
    created = await client.post(
        "/api/v1/points/targets", json={"year": year, "total": 100, "mix": CREDIT_MIX}
    )
    assert created.status_code == 201, created.text
    bad = await client.post("/api/v1/points/targets", json={"year": year, "total": 100, "mix": {"exam": 10}})
    assert bad.status_code == 422 and "100%" in bad.text
    listed = (await client.get(f"/api/v1/points/targets?year={year}")).json()
    assert [t["id"] for t in listed] == [created.json()["id"]] and listed[0]["mix"] == CREDIT_MIX
    await login(client, "manager")
    team = await client.get("/api/v1/points/team?behind_only=false&page=1")
    assert team.status_code == 200 and team.json()["total"] == len(await subtree_people("销售部"))
    research = await id_of(Department, "研发部")
    assert (await client.get(f"/api/v1/points/team?department_id={research}")).status_code == 404
    wang = await employee_id_of("wang")
    assert (await client.get(f"/api/v1/points/progress?employee_id={wang}")).status_code == 404
    zhang = await employee_id_of("zhang")
    other = await client.get(f"/api/v1/points/progress?employee_id={zhang}&year={year}")
    assert other.status_code == 200 and other.json()["target"] == 100
    await login(client, "hr")
    assert (await client.delete(f"/api/v1/points/targets/{created.json()['id']}")).status_code == 204
    assert (await client.delete(f"/api/v1/points/targets/{created.json()['id']}")).status_code == 404
