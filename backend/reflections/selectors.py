"""Reflection reads: my assignments, the peer feed, one reflection, the featured wall, grading queue."""

from __future__ import annotations

import json
from typing import Any, Literal

from backend.lib.errors import NotFound
from backend.lib.policy import ROLE_HR_ADMIN, Actor, actor_require
from backend.org.schemas import Page, Ref
from backend.reflections.access import (
    PUBLISHED_STATES,
    STATE_DRAFT,
    STATE_GRADED,
    STATE_SUBMITTED,
    VISIBILITY_DEPARTMENT,
    VISIBILITY_ORGANISATION,
    comment_delete_allowed,
    employee_require,
    is_grader,
    see_check,
)
from backend.reflections.facts import submission_facts
from backend.reflections.schemas import AssignmentOut, CommentOut, ReflectionOut
from backend.reflections.tables import (
    Assignment,
    ReflectionComment,
    ReflectionLike,
    Submission,
    TrainingCourse,
    TrainingParticipant,
)

PAGE_SIZE = 20
EXCERPT_LENGTH = 280
Scope = Literal["department", "organisation"]
Sort = Literal["newest", "likes"]


def json_ids(value: Any) -> list[int]:
    """A JSON id list as stored (text on both engines) or already decoded."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return [int(item) for item in value or []]


def _assignment_state(submission: dict[str, Any] | None) -> str:
    if submission is None:
        return "assigned"
    state = str(submission["state"])
    if state == STATE_DRAFT:
        return "draft" if submission["body"] or json_ids(submission["photo_ids"]) else "assigned"
    if state == STATE_SUBMITTED and submission["late"]:
        return "late"
    return state


async def assignments_mine(*, actor: Actor | None, assignment_id: int | None = None) -> list[AssignmentOut]:
    """My assignments with their state, the soonest due first; finished ones last."""
    _actor, employee_id = employee_require(actor)
    trainings = TrainingParticipant.select(TrainingParticipant.training).where(
        TrainingParticipant.employee == employee_id
    )
    condition: Any = Assignment.training.is_in(trainings)
    if assignment_id is not None:
        condition = condition & (Assignment.id == assignment_id)
    rows = await Assignment.select(
        *Assignment.all_columns(), Assignment.training.title.as_alias("training_title")
    ).where(condition)
    submissions = {
        row["assignment"]: row
        for row in await Submission.select().where(
            (Submission.employee == employee_id)
            & Submission.assignment.is_in([row["id"] for row in rows] or [0])
        )
    }
    courses = await training_courses_visible(actor, {row["training"] for row in rows})
    out = []
    for row in rows:
        submission = submissions.get(row["id"])
        state = _assignment_state(submission)
        out.append(
            AssignmentOut(
                id=row["id"],
                training=Ref(id=row["training"], name=row["training_title"]),
                prompt=row["prompt"],
                due_at=(submission or {}).get("due_at") or row["due_at"],
                min_length=row["min_length"],
                max_photos=row["max_photos"],
                visibility=row["visibility"],
                state=state,
                submission_id=submission["id"] if submission else None,
                body=submission["body"] if submission else "",
                photo_ids=json_ids(submission["photo_ids"]) if submission else [],
                grade=submission["grade"] if submission else None,
                feedback=submission["feedback"] if submission else "",
                courses=courses.get(row["training"], []),
            )
        )
    finished = {"submitted", "late", STATE_GRADED}
    out.sort(key=lambda item: (item.state in finished, item.due_at))
    return out


async def training_courses_visible(actor: Actor | None, training_ids: set[int]) -> dict[int, list[Ref]]:
    """The micro-courses linked to these trainings that the actor may watch, in the training's order."""
    from backend.courses.access import STATUS_PUBLISHED, can_see_course
    from backend.courses.facts import department_paths, facts_from_row, json_ids, viewer_for
    from backend.courses.tables import Course

    if not training_ids:
        return {}
    links = (
        await TrainingCourse.select(
            TrainingCourse.training, TrainingCourse.course, TrainingCourse.course.title.as_alias("title")
        )
        .where(TrainingCourse.training.is_in(list(training_ids)))
        .order_by(TrainingCourse.sort)
    )
    if not links:
        return {}
    viewer = await viewer_for(actor)
    course_rows = await Course.select(
        Course.id,
        Course.author,
        Course.status,
        Course.restricted,
        Course.audience_department_ids,
        Course.audience_position_ids,
    ).where(Course.id.is_in(list({link["course"] for link in links})) & (Course.status == STATUS_PUBLISHED))
    visible = set()
    for course in course_rows:
        paths = (
            await department_paths(json_ids(course["audience_department_ids"]))
            if course["restricted"]
            else ()
        )
        if can_see_course(viewer, facts_from_row(course, paths)):
            visible.add(course["id"])
    out: dict[int, list[Ref]] = {}
    for link in links:
        if link["course"] in visible:
            out.setdefault(link["training"], []).append(Ref(id=link["course"], name=link["title"]))
    return out


async def assignment_mine(*, actor: Actor | None, assignment_id: int) -> AssignmentOut:
    found = await assignments_mine(actor=actor, assignment_id=assignment_id)
    if not found:
        raise NotFound()
    return found[0]


_LIST_COLUMNS = (
    Submission.id,
    Submission.employee,
    Submission.employee.name.as_alias("author_name"),
    Submission.department.name.as_alias("department_name"),
    Submission.assignment,
    Submission.assignment.prompt.as_alias("prompt"),
    Submission.assignment.training.id.as_alias("training_id"),  # type: ignore[union-attr]
    Submission.assignment.training.title.as_alias("training_title"),  # type: ignore[union-attr]
    Submission.body,
    Submission.photo_ids,
    Submission.state,
    Submission.late,
    Submission.submitted_at,
    Submission.grade,
    Submission.feedback,
    Submission.featured,
    Submission.like_count,
    Submission.comment_count,
)


def _reflection_out(row: dict[str, Any], *, excerpt: bool, liked: bool) -> ReflectionOut:
    body = str(row["body"])
    if excerpt and len(body) > EXCERPT_LENGTH:
        body = body[:EXCERPT_LENGTH].rstrip() + "…"
    return ReflectionOut(
        id=row["id"],
        author=Ref(id=row["employee"], name=row["author_name"]),
        department=row["department_name"] or "",
        training=Ref(id=row["training_id"], name=row["training_title"]),
        assignment_id=row["assignment"],
        prompt=row["prompt"],
        body=body,
        photo_ids=json_ids(row["photo_ids"]),
        state=row["state"],
        late=row["late"],
        submitted_at=row["submitted_at"],
        grade=row["grade"],
        feedback=row["feedback"] if row["state"] in PUBLISHED_STATES else "",
        featured=row["featured"],
        like_count=row["like_count"],
        comment_count=row["comment_count"],
        liked_by_me=liked,
    )


def _peer_condition(actor: Actor, scope: Scope) -> Any:
    """Published reflections a colleague may see in a scope (graders-only ones never appear here).

    "My department" is my own department, plus the subtrees I manage; HR and auditors see every
    department's shared work in the organisation scope.
    """
    visibility = Submission.assignment.visibility
    mine: Any = Submission.department == (actor.department_id or 0)
    for path in actor.managed_paths:
        mine = mine | Submission.department.path.like(f"{path}%")
    published = Submission.state.is_in(list(PUBLISHED_STATES))
    shared = visibility.is_in([VISIBILITY_DEPARTMENT, VISIBILITY_ORGANISATION])
    if scope == "department":
        return published & mine & shared
    if actor.sees_whole_organisation:
        return published & shared
    return published & (
        (visibility == VISIBILITY_ORGANISATION) | ((visibility == VISIBILITY_DEPARTMENT) & mine)
    )


async def _page(
    actor: Actor, condition: Any, order: list[tuple[Any, bool]], page: int
) -> Page[ReflectionOut]:
    """One page in three queries whatever its size: the rows, the total, my likes among them."""
    query = Submission.select(*_LIST_COLUMNS).where(condition)
    for column, ascending in order:
        query = query.order_by(column, ascending=ascending)
    rows = await query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    total = await Submission.count().where(condition)
    liked: set[int] = set()
    if rows and actor.employee_id is not None:
        liked = {
            row["submission"]
            for row in await ReflectionLike.select(ReflectionLike.submission).where(
                (ReflectionLike.employee == actor.employee_id)
                & ReflectionLike.submission.is_in([row["id"] for row in rows])
            )
        }
    return Page.of(
        items=[_reflection_out(row, excerpt=True, liked=row["id"] in liked) for row in rows],
        page=page,
        page_size=PAGE_SIZE,
        total=total,
    )


async def reflection_feed(
    *, actor: Actor | None, scope: Scope = "department", sort: Sort = "newest", page: int = 1
) -> Page[ReflectionOut]:
    actor = actor_require(actor)
    order = [(Submission.submitted_at, False), (Submission.id, False)]
    if sort == "likes":
        order.insert(0, (Submission.like_count, False))
    return await _page(actor, _peer_condition(actor, scope), order, page)


async def featured_list(
    *, actor: Actor | None, scope: Scope = "organisation", page: int = 1
) -> Page[ReflectionOut]:
    """The featured wall: 优秀 reflections a grader put forward."""
    actor = actor_require(actor)
    condition = _peer_condition(actor, scope) & (Submission.featured == True)  # noqa: E712
    return await _page(actor, condition, [(Submission.graded_at, False), (Submission.id, False)], page)


async def reflection_get(*, actor: Actor | None, submission_id: int) -> ReflectionOut:
    """One reflection in full, with its comments (404 when I may not see it)."""
    _row, facts = await submission_facts(submission_id)
    actor = see_check(actor, facts)
    if facts.state == STATE_DRAFT:
        raise NotFound()  # drafts are read through my assignments, not as reflections
    row = await Submission.select(*_LIST_COLUMNS).where(Submission.id == submission_id).first()
    if row is None:
        raise NotFound()
    liked = actor.employee_id is not None and await ReflectionLike.exists().where(
        (ReflectionLike.submission == submission_id) & (ReflectionLike.employee == actor.employee_id)
    )
    out = _reflection_out(row, excerpt=False, liked=bool(liked))
    if actor.employee_id == facts.author_id or is_grader(actor, facts):
        out.feedback = row["feedback"]
    out.can_grade = is_grader(actor, facts) and facts.state in PUBLISHED_STATES
    comments = (
        await ReflectionComment.select(
            *ReflectionComment.all_columns(), ReflectionComment.author.name.as_alias("author_name")
        )
        .where(ReflectionComment.submission == submission_id)
        .order_by(ReflectionComment.id)
        .limit(500)
    )
    out.comments = [
        CommentOut(
            id=comment["id"],
            author=Ref(id=comment["author"], name=comment["author_name"]),
            body=comment["body"],
            created_at=comment["created_at"],
            can_delete=comment_delete_allowed(actor, comment),
        )
        for comment in comments
    ]
    return out


async def grading_queue(
    *, actor: Actor | None, state: Literal["submitted", "graded", "returned"] = "submitted", page: int = 1
) -> Page[ReflectionOut]:
    """Reflections I grade: HR all; a trainer those of their trainings; a manager their subtree."""
    actor = actor_require(actor)
    condition: Any = (Submission.state == state) & (Submission.employee != (actor.employee_id or 0))
    if not actor.has(ROLE_HR_ADMIN):
        mine: Any = Submission.assignment.training.created_by == (actor.employee_id or 0)  # type: ignore[union-attr]
        for path in actor.managed_paths:
            mine = mine | Submission.department.path.like(f"{path}%")
        condition = condition & mine
    return await _page(actor, condition, [(Submission.submitted_at, True), (Submission.id, True)], page)
