"""The reflections archive for HR, auditors and managers: search archived versions, download PDFs or a ZIP."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from reactpy import component, event, html, use_ref, use_state

from backend.lib.errors import AppError, PermissionDenied, ValidationFailed
from backend.lib.policy import actor_require
from backend.org.schemas import EmployeeOut, Page
from backend.org.selectors import department_list, employee_list
from backend.reflections.archive import ZIP_MAX_ENTRIES, ArchiveFilter, archive_search
from backend.reflections.schemas import ArchiveEntryOut
from backend.reflections.training_selectors import archive_training_options
from pwa.components.admin_widgets import NoPermission, department_options, no_errors, parse_id, use_loaded
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, Pager, error_text, event_value, field_block
from pwa.context import UIContext, use_app
from pwa.pages.grading import local_time

CANDIDATES_MAX = 10
FILTER_KEYS = ("employee_id", "department_id", "training_id", "date_from", "date_to")


def _shell(ctx: UIContext, title: str, *children: Any) -> Any:
    return AppShell(ctx=ctx, active="admin/archive", title=title, children=html.div(*children))


def _no_filters() -> dict[str, str]:
    return {key: "" for key in (*FILTER_KEYS, "person")}


def _no_candidates() -> list[EmployeeOut]:
    return []


def _day(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("radmin.form.date_invalid", field=field) from None


def zip_href(applied: dict[str, str]) -> str:
    query = urlencode({key: applied[key] for key in FILTER_KEYS if applied.get(key)})
    return "/api/v1/archive.zip" + (f"?{query}" if query else "")


def pdf_href(entry: ArchiveEntryOut) -> str:
    return f"/api/v1/submissions/{entry.submission_id}/archive.pdf?version_id={entry.id}"


@component
def ArchivePage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    typed, set_typed = use_state(_no_filters)
    # What the fields hold right now: a submit can arrive before the render that follows a change,
    # so handlers read this, not the `typed` of the render they were made in.
    latest = use_ref(typed)
    applied, set_applied = use_state(_no_filters)
    candidates, set_candidates = use_state(_no_candidates)
    errors, set_errors = use_state(no_errors)
    page, set_page = use_state(1)

    async def search() -> Page[ArchiveEntryOut]:
        filters = ArchiveFilter(
            employee_id=parse_id(applied["employee_id"]),
            department_id=parse_id(applied["department_id"]),
            training_id=parse_id(applied["training_id"]),
            date_from=_day(applied["date_from"], "date_from"),
            date_to=_day(applied["date_to"], "date_to"),
        )
        return await archive_search(actor=actor, filters=filters, page=page)

    key = "|".join(applied[name] for name in FILTER_KEYS)
    result = use_loaded(search, [actor.account_id, key, page])
    departments = use_loaded(lambda: department_list(actor=actor), [actor.account_id])
    trainings = use_loaded(lambda: archive_training_options(actor=actor), [actor.account_id])
    title = ctx.t("nav.archive")
    if isinstance(result, PermissionDenied):
        return _shell(ctx, title, PageHeader(title=title), NoPermission())

    def change(name: str) -> Any:
        def handler(event_data: dict[str, Any]) -> None:
            value = event_value(event_data)
            latest.current = {**latest.current, name: value}
            set_typed(latest.current)

        return handler

    def apply(filters: dict[str, str]) -> None:
        set_applied(filters)
        set_candidates([])
        set_page(1)

    @event(prevent_default=True)
    async def submit(_event: dict[str, Any]) -> None:
        typed = latest.current
        found: dict[str, str] = {}
        for name in ("date_from", "date_to"):
            try:
                _day(typed[name], name)
            except AppError as exc:
                found[name] = error_text(ctx, exc)
        if typed["date_from"] and typed["date_to"] and not found and typed["date_to"] < typed["date_from"]:
            found["date_to"] = ctx.t("error.dates_order")
        filters = {**typed, "employee_id": ""}
        person = typed["person"].strip()
        if person and not found:
            try:
                people = await employee_list(actor=actor, q=person, page_size=CANDIDATES_MAX)
            except AppError as exc:
                found["person"] = error_text(ctx, exc)
            else:
                exact = [p for p in people.items if person in (p.employee_no, p.name)]
                chosen = exact if len(exact) == 1 else people.items
                if not chosen:
                    found["person"] = ctx.t("radmin.archive.person_none", person=person)
                elif len(chosen) > 1:
                    set_errors({"person": ctx.t("radmin.archive.person_many", count=people.total)})
                    set_candidates(list(chosen))
                    return
                else:
                    filters["employee_id"] = str(chosen[0].id)
        set_errors(found)
        if not found:
            apply(filters)

    def pick(person: EmployeeOut) -> Any:
        def handler(_event: dict[str, Any]) -> None:
            latest.current = {**latest.current, "person": person.employee_no}
            set_typed(latest.current)
            set_errors({})
            apply({**latest.current, "employee_id": str(person.id)})

        return handler

    def clear(_event: dict[str, Any]) -> None:
        latest.current = _no_filters()
        set_typed(latest.current)
        set_errors({})
        apply(_no_filters())

    def text_input(name: str, *, kind: str = "text", hint: str = "", **extra: Any) -> Any:
        field_id = f"archive-{name.replace('_', '-')}"
        return field_block(
            field_id=field_id,
            label=ctx.t(f"radmin.archive.{name}"),
            hint=hint,
            error=errors.get(name, ""),
            control=html.input(
                {
                    "id": field_id,
                    "type": kind,
                    "className": "input",
                    "value": typed[name],
                    "onChange": change(name),
                    **extra,
                }
            ),
        )

    def select_input(name: str, label: str, options: list[Any], everything: str) -> Any:
        field_id = f"archive-{name.replace('_', '-')}"
        return field_block(
            field_id=field_id,
            label=label,
            control=html.select(
                {"id": field_id, "className": "input", "value": typed[name], "onChange": change(name)},
                html.option({"key": "all", "value": ""}, everything),
                *options,
            ),
        )

    training_options = [
        html.option({"key": str(t.id), "value": str(t.id)}, t.name)
        for t in (trainings if isinstance(trainings, list) else [])
    ]
    filters = html.form(
        {
            "className": "card",
            "role": "search",
            "aria-label": ctx.t("radmin.archive.filters"),
            "onSubmit": submit,
            "noValidate": True,
        },
        text_input("person", hint=ctx.t("radmin.archive.person_hint"), maxLength=50, autoComplete="off"),
        _candidates(ctx, candidates, pick) if candidates else "",
        select_input(
            "department_id",
            ctx.t("admin.department"),
            department_options(departments if isinstance(departments, list) else []),
            ctx.t("admin.employees.all_departments"),
        ),
        select_input(
            "training_id",
            ctx.t("radmin.archive.training"),
            training_options,
            ctx.t("radmin.archive.all_trainings"),
        ),
        text_input("date_from", kind="date"),
        text_input("date_to", kind="date"),
        html.div(
            {"className": "toolbar"},
            html.button({"type": "submit", "className": "btn btn-primary"}, ctx.t("common.search")),
            html.button(
                {"type": "button", "className": "btn", "onClick": clear}, ctx.t("radmin.archive.clear")
            ),
        ),
    )
    return _shell(
        ctx,
        title,
        PageHeader(title=title),
        html.p({"className": "muted"}, ctx.t("radmin.archive.intro")),
        filters,
        _results(ctx, result, applied, on_page=set_page),
    )


def _candidates(ctx: UIContext, people: list[EmployeeOut], pick: Any) -> Any:
    return html.div(
        {"className": "list", "role": "group", "aria-label": ctx.t("radmin.archive.choose_person")},
        *[
            html.button(
                {"key": str(person.id), "type": "button", "className": "list-cell", "onClick": pick(person)},
                html.span(
                    {"className": "list-cell-main"},
                    html.span({"className": "list-cell-title"}, person.name),
                    html.span(
                        {"className": "list-cell-sub"}, f"{person.employee_no} · {person.department.name}"
                    ),
                ),
            )
            for person in people
        ],
    )


def _results(
    ctx: UIContext, result: Page[ArchiveEntryOut] | AppError | None, applied: dict[str, str], *, on_page: Any
) -> Any:
    if result is None:
        return Loading(label=ctx.t("app.loading"))
    if isinstance(result, AppError):
        return FormError(message=error_text(ctx, result))
    if not result.items:
        return EmptyState(
            icon="🗂", title=ctx.t("radmin.archive.none_title"), text=ctx.t("radmin.archive.none_text")
        )
    too_many = result.total > ZIP_MAX_ENTRIES
    download_all = (
        html.p(
            {"className": "field-hint", "role": "note"},
            ctx.t("radmin.archive.zip_too_many", total=result.total, max=ZIP_MAX_ENTRIES),
        )
        if too_many
        else html.a(
            {"className": "btn btn-block", "href": zip_href(applied), "download": ""},
            ctx.t("radmin.archive.download_all"),
        )
    )
    return html.section(
        {"aria-label": ctx.t("radmin.archive.results")},
        html.p(
            {"className": "muted", "aria-live": "polite"}, ctx.t("radmin.archive.total", total=result.total)
        ),
        download_all,
        html.div({"className": "list"}, *[_entry(ctx, entry) for entry in result.items]),
        Pager(ctx=ctx, page=result.page, pages=result.pages, total=result.total, on_page=on_page)
        if result.pages > 1
        else "",
    )


def _entry(ctx: UIContext, entry: ArchiveEntryOut) -> Any:
    facts = [
        ctx.t("radmin.archive.version", version=entry.version),
        ctx.t(f"radmin.archive.kind_{entry.kind}"),
    ]
    if entry.grade:
        facts.append(ctx.t(f"reflections.grade_{entry.grade}"))
    facts.append(local_time(ctx, entry.created_at))
    return html.article(
        {"key": str(entry.id), "className": "list-cell"},
        html.div(
            {"className": "list-cell-main"},
            html.span({"className": "list-cell-title"}, entry.author.name),
            html.span(
                {"className": "list-cell-sub"},
                " · ".join(part for part in (entry.department, entry.training.name) if part),
            ),
            html.span({"className": "list-cell-sub"}, " · ".join(facts)),
        ),
        html.div(
            {"className": "list-cell-extra"},
            html.a(
                {
                    "className": "btn",
                    "href": pdf_href(entry),
                    "download": "",
                    "aria-label": ctx.t(
                        "radmin.archive.download_one",
                        author=entry.author.name,
                        version=entry.version,
                        kind=ctx.t(f"radmin.archive.kind_{entry.kind}"),
                    ),
                },
                "PDF",
            ),
        ),
    )
