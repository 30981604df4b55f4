"""Trainings for HR and trainers: the list of trainings I manage, and the form that creates one."""

from __future__ import annotations

from typing import Any

from reactpy import component, html, use_state

from backend.lib.errors import AppError, PermissionDenied
from backend.lib.policy import ROLE_HR_ADMIN, ROLE_TRAINER, actor_require
from backend.org.schemas import Page
from backend.reflections.training_selectors import TrainingOut, participant_choices, training_list
from pwa.components.admin_widgets import NoPermission, use_loaded
from pwa.components.shell import AppShell, PageHeader
from pwa.components.training_form import TrainingForm
from pwa.components.widgets import EmptyState, FormError, Loading, Pager, Toast, error_text
from pwa.context import UIContext, use_app
from pwa.pages.grading import local_time

LIST_HREF = "/admin/trainings"


def _shell(ctx: UIContext, title: str, *children: Any) -> Any:
    return AppShell(ctx=ctx, active="admin/trainings", title=title, children=html.div(*children))


def _dates(ctx: UIContext, training: TrainingOut) -> str:
    start = training.starts_on.isoformat()
    if training.ends_on is None or training.ends_on == training.starts_on:
        return start
    return ctx.t("radmin.trainings.date_range", start=start, end=training.ends_on.isoformat())


@component
def TrainingListPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    page, set_page = use_state(1)
    result = use_loaded(lambda: training_list(actor=actor, page=page), [actor.account_id, page])
    title = ctx.t("nav.trainings")
    if isinstance(result, PermissionDenied):
        return _shell(ctx, title, PageHeader(title=title), NoPermission())
    actions = html.a(
        {"className": "btn btn-primary", "href": f"{LIST_HREF}/new"}, ctx.t("radmin.trainings.new")
    )
    return _shell(
        ctx, title, PageHeader(title=title, actions=actions), _results(ctx, result, on_page=set_page)
    )


def _results(ctx: UIContext, result: Page[TrainingOut] | AppError | None, *, on_page: Any) -> Any:
    if result is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(result, AppError):
        return FormError(message=error_text(ctx, result))
    if not result.items:
        return EmptyState(
            icon="🎓",
            title=ctx.t("radmin.trainings.none_title"),
            text=ctx.t("radmin.trainings.none_text"),
            action=html.a(
                {"className": "btn btn-primary", "href": f"{LIST_HREF}/new"}, ctx.t("radmin.trainings.new")
            ),
        )
    return html.section(
        {"aria-label": ctx.t("radmin.trainings.results")},
        html.p(
            {"className": "muted", "aria-live": "polite"}, ctx.t("radmin.trainings.total", total=result.total)
        ),
        html.div({"className": "list"}, *[_training_cell(ctx, training) for training in result.items]),
        Pager(ctx=ctx, page=result.page, pages=result.pages, total=result.total, on_page=on_page)
        if result.pages > 1
        else "",
    )


def _training_cell(ctx: UIContext, training: TrainingOut) -> Any:
    heading_id = f"training-{training.id}-title"
    return html.article(
        {"key": str(training.id), "className": "list-cell", "aria-labelledby": heading_id},
        html.div(
            {"className": "list-cell-main"},
            html.h2({"id": heading_id, "className": "list-cell-title"}, training.title),
            html.span(
                {"className": "list-cell-sub"},
                " · ".join(
                    (
                        ctx.t(f"radmin.kind_{training.kind}"),
                        _dates(ctx, training),
                        ctx.t("radmin.trainings.participants", count=training.participant_count),
                    )
                ),
            ),
            *[
                html.span(
                    {"key": str(assignment.id), "className": "list-cell-sub"},
                    ctx.t(
                        "radmin.trainings.assignment_line",
                        due=local_time(ctx, assignment.due_at),
                        submitted=assignment.submitted,
                        total=assignment.total,
                    ),
                )
                for assignment in training.assignments
            ],
            ""
            if training.assignments
            else html.span({"className": "list-cell-sub"}, ctx.t("radmin.trainings.no_assignment")),
        ),
    )


@component
def TrainingFormPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    created, set_created = use_state(_nothing_created)
    round_, set_round = use_state(0)
    choices = use_loaded(lambda: participant_choices(actor=actor), [actor.account_id])
    title = ctx.t("radmin.trainings.new")
    back = {"back_href": LIST_HREF, "back_label": ctx.t("radmin.trainings.back")}
    if not actor.has(ROLE_HR_ADMIN, ROLE_TRAINER) or isinstance(choices, PermissionDenied):
        return _shell(ctx, title, PageHeader(title=title), NoPermission())
    if choices is None:
        return _shell(ctx, title, PageHeader(title=title, **back), Loading(label=ctx.t("app.loading")))
    if isinstance(choices, AppError):
        return _shell(
            ctx, title, PageHeader(title=title, **back), FormError(message=error_text(ctx, choices))
        )

    def done(training_id: int, name: str) -> None:
        # A server-rendered page cannot redirect: show the outcome with links onwards.
        set_created({"id": training_id, "name": name})

    def again(_event: dict[str, Any]) -> None:
        set_created(None)
        set_round(lambda value: value + 1)

    body = (
        _created(ctx, created, on_again=again)
        if created
        else TrainingForm(key=f"training-form-{round_}", choices=choices, on_saved=done)
    )
    return _shell(
        ctx,
        title,
        PageHeader(title=title, **back),
        body,
        Toast(message=ctx.t("radmin.trainings.created_toast", name=created["name"]) if created else None),
    )


def _nothing_created() -> dict[str, Any] | None:
    return None


def _created(ctx: UIContext, created: dict[str, Any], *, on_again: Any) -> Any:
    return html.section(
        {"className": "card", "aria-labelledby": "training-created-title"},
        html.h2(
            {"id": "training-created-title"}, ctx.t("radmin.trainings.created_title", name=created["name"])
        ),
        html.p({"className": "muted"}, ctx.t("radmin.trainings.created_text")),
        html.p(
            html.a(
                {"className": "btn btn-primary btn-block", "href": LIST_HREF},
                ctx.t("radmin.trainings.open_list"),
            )
        ),
        html.button(
            {"type": "button", "className": "btn btn-block", "onClick": on_again},
            ctx.t("radmin.trainings.add_another"),
        ),
    )
