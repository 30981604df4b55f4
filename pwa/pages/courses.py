"""The Courses (课程) tab: search, browse by category, courses for my department and position first.

`/courses?q=叉车&category=生产安全&page=2` opens a given view (tags on a course page link here);
from there the search box, category chips and pager change it in place.
"""

from __future__ import annotations

from typing import Any

from reactpy import component, event, html, use_state

from backend.courses.library import QUERY_MAX, CourseCard, course_categories, course_library
from backend.lib.errors import AppError
from backend.lib.policy import ROLE_HR_ADMIN, ROLE_TRAINER, actor_require
from backend.org.schemas import Page
from pwa.components.admin_widgets import use_loaded
from pwa.components.course_widgets import course_cards
from pwa.components.reflection_widgets import query_page, section_heading
from pwa.components.shell import AppShell, PageHeader
from pwa.components.widgets import EmptyState, FormError, Loading, Pager, error_text, event_value
from pwa.context import UIContext, use_app


@component
def CoursesPage() -> Any:
    ctx = use_app()
    actor = actor_require(ctx.actor)
    typed, set_typed = use_state(lambda: ctx.query("q")[:QUERY_MAX])
    query, set_query = use_state(lambda: ctx.query("q")[:QUERY_MAX].strip())
    category, set_category = use_state(lambda: ctx.query("category")[:QUERY_MAX])
    page, set_page = use_state(lambda: query_page(ctx))
    library = use_loaded(
        lambda: course_library(actor=actor, query=query, category=category, page=page),
        [actor.account_id, query, category, page],
    )
    categories = use_loaded(lambda: course_categories(actor=actor), [actor.account_id])

    @event(prevent_default=True)
    def search(_event: dict[str, Any]) -> None:
        set_query(typed.strip())
        set_page(1)

    def clear_search(_event: dict[str, Any]) -> None:
        set_typed("")
        set_query("")
        set_page(1)

    def browse(value: str) -> Any:
        def handler(_event: dict[str, Any]) -> None:
            set_category(value)
            set_page(1)

        return handler

    title = ctx.t("courses.title")
    studio = (
        html.a({"className": "btn", "href": "/studio"}, ctx.t("courses_library.studio_link"))
        if actor.has(ROLE_HR_ADMIN, ROLE_TRAINER)
        else None
    )
    search_form = html.form(
        {
            "className": "cl-search",
            "role": "search",
            "aria-label": ctx.t("courses_library.search_label"),
            "onSubmit": search,
        },
        html.label(
            {"htmlFor": "cl-search-input", "className": "sr-only"}, ctx.t("courses_library.search_label")
        ),
        html.input(
            {
                "id": "cl-search-input",
                "type": "search",
                "className": "input",
                "maxLength": QUERY_MAX,
                "enterKeyHint": "search",
                "placeholder": ctx.t("courses_library.search_placeholder"),
                "value": typed,
                "onChange": lambda e: set_typed(event_value(e)[:QUERY_MAX]),
            }
        ),
        html.button({"type": "submit", "className": "btn btn-primary"}, ctx.t("common.search")),
    )
    return AppShell(
        ctx=ctx,
        active="courses",
        title=title,
        children=html.div(
            PageHeader(title=title, actions=studio),
            search_form,
            _category_chips(ctx, categories, current=category, browse=browse),
            _results(
                ctx, library, query=query, category=category, clear_search=clear_search, on_page=set_page
            ),
        ),
    )


def _category_chips(
    ctx: UIContext, categories: list[tuple[str, int]] | AppError | None, *, current: str, browse: Any
) -> Any:
    if not isinstance(categories, list) or not categories:
        return ""
    options = [("", ctx.t("courses_library.all_categories"))] + [
        (name, ctx.t("courses_library.category_count", name=name, count=count)) for name, count in categories
    ]
    if current and current not in {name for name, _count in categories}:
        options.append((current, current))
    return html.nav(
        {"className": "cl-categories", "aria-label": ctx.t("courses_library.categories_label")},
        *[
            html.button(
                {
                    "key": name or "all",
                    "type": "button",
                    "className": "chip",
                    "aria-pressed": "true" if name == current else "false",
                    "onClick": browse(name),
                },
                text,
            )
            for name, text in options
        ],
    )


def _results(
    ctx: UIContext,
    library: Page[CourseCard] | AppError | None,
    *,
    query: str,
    category: str,
    clear_search: Any,
    on_page: Any,
) -> Any:
    if library is None:
        return Loading(label=ctx.t("courses_library.loading"))
    if isinstance(library, AppError):
        return FormError(message=error_text(ctx, library))
    if not library.items and (query or category):
        return EmptyState(
            icon="🔍",
            title=ctx.t("courses_library.no_results_title"),
            text=ctx.t("courses_library.no_results_text", query=query or category),
            action=html.button(
                {"type": "button", "className": "btn btn-primary", "onClick": clear_search},
                ctx.t("courses_library.clear_search"),
            )
            if query
            else None,
        )
    if not library.items:
        return EmptyState(icon="▶", title=ctx.t("courses.empty_title"), text=ctx.t("courses.empty_text"))
    pager = (
        Pager(ctx=ctx, page=library.page, pages=library.pages, total=library.total, on_page=on_page)
        if library.pages > 1
        else ""
    )
    if query:
        return html.section(
            {"aria-labelledby": "cl-results-title"},
            section_heading("cl-results-title", ctx.t("courses_library.results_title", query=query)),
            html.p(
                {"className": "muted cl-total", "aria-live": "polite"},
                ctx.t("courses_library.total", total=library.total),
            ),
            course_cards(ctx, library.items, label=ctx.t("courses_library.results_title", query=query)),
            pager,
        )
    # Without a search the library lists my courses first: page 1 shows them as their own section.
    mine = [card for card in library.items if card.for_me] if library.page == 1 else []
    rest = [card for card in library.items if not (card.for_me and library.page == 1)]
    return html.div(
        html.section(
            {"aria-labelledby": "cl-for-me-title"},
            section_heading("cl-for-me-title", ctx.t("courses_library.for_me_title")),
            html.p({"className": "muted cl-total"}, ctx.t("courses_library.for_me_text")),
            course_cards(ctx, mine, label=ctx.t("courses_library.for_me_title")),
        )
        if mine
        else "",
        html.section(
            {"aria-labelledby": "cl-all-title"},
            section_heading(
                "cl-all-title",
                ctx.t("courses_library.more_title" if mine else "courses_library.all_title"),
                html.span(
                    {"className": "muted cl-total"}, ctx.t("courses_library.total", total=library.total)
                ),
            ),
            course_cards(ctx, rest, label=ctx.t("courses_library.all_title")),
        )
        if rest
        else "",
        pager,
    )
