"""The root component: resolves who is signed in, picks the language and routes the URL to a page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from reactpy import component, html, use_async_effect, use_connection, use_location, use_state

from backend.accounts.services import session_resolve
from backend.lib.http import raw_header
from backend.lib.i18n import locale_choose, locale_normalize
from backend.lib.policy import Actor
from backend.settings import Settings
from backend.ui_gate import SCOPE_ACTOR, SCOPE_SETTINGS, SCOPE_TOKEN
from pwa.context import AppContext, UIContext
from pwa.pages import (
    admin_archive,
    admin_departments,
    admin_employees,
    admin_trainings,
    course_detail,
    courses,
    featured,
    grading,
    home,
    login,
    me,
    notification_preferences,
    notification_settings,
    notifications,
    points,
    points_admin,
    points_approvals,
    points_catalogue,
    points_leaderboard,
    points_rewards,
    points_targets,
    points_team,
    reflection_detail,
    reflections,
    reminders,
    studio,
    tabs,
    trainer_centre,
)

Route = tuple[re.Pattern[str], Callable[..., Any]]

ROUTES: tuple[Route, ...] = (
    (re.compile(r"^/$"), lambda: home.HomePage()),
    (re.compile(r"^/courses/?$"), lambda: courses.CoursesPage()),
    (
        re.compile(r"^/courses/(?P<course_id>\d{1,12})/?$"),
        lambda course_id: course_detail.CourseDetailPage(course_id=int(course_id)),
    ),
    (re.compile(r"^/studio/?$"), lambda: studio.StudioPage()),
    (re.compile(r"^/studio/new/?$"), lambda: studio.CourseEditPage(course_id=None)),
    (
        re.compile(r"^/studio/courses/(?P<course_id>\d{1,12})/?$"),
        lambda course_id: studio.CourseEditPage(course_id=int(course_id)),
    ),
    (
        re.compile(r"^/studio/courses/(?P<course_id>\d{1,12})/stats/?$"),
        lambda course_id: trainer_centre.CourseStatsPage(course_id=int(course_id)),
    ),
    (re.compile(r"^/reflections/?$"), lambda: reflections.ReflectionsPage()),
    (re.compile(r"^/reflections/featured/?$"), lambda: featured.FeaturedPage()),
    (re.compile(r"^/reflections/grading/?$"), lambda: grading.GradingPage()),
    (
        re.compile(r"^/reflections/(?P<submission_id>\d{1,12})/?$"),
        lambda submission_id: reflection_detail.ReflectionDetailPage(submission_id=int(submission_id)),
    ),
    (re.compile(r"^/admin/trainings/?$"), lambda: admin_trainings.TrainingListPage()),
    (re.compile(r"^/admin/trainings/new/?$"), lambda: admin_trainings.TrainingFormPage()),
    (re.compile(r"^/admin/archive/?$"), lambda: admin_archive.ArchivePage()),
    (re.compile(r"^/points/?$"), lambda: points.PointsPage()),
    (re.compile(r"^/points/rewards/?$"), lambda: points_rewards.RewardsPage()),
    (re.compile(r"^/points/leaderboard/?$"), lambda: points_leaderboard.LeaderboardPage()),
    (re.compile(r"^/points/approvals/?$"), lambda: points_approvals.ApprovalsPage()),
    (re.compile(r"^/points/team/?$"), lambda: points_team.TeamPage()),
    (re.compile(r"^/admin/points/?$"), lambda: points_admin.PointsAdminPage()),
    (re.compile(r"^/admin/points/targets/?$"), lambda: points_targets.TargetsPage()),
    (re.compile(r"^/admin/points/rewards/?$"), lambda: points_catalogue.CataloguePage()),
    (re.compile(r"^/notifications/?$"), lambda: notifications.NotificationsPage()),
    (
        re.compile(r"^/notifications/preferences/?$"),
        lambda: notification_preferences.NotificationPreferencesPage(),
    ),
    (re.compile(r"^/admin/reminders/?$"), lambda: reminders.RemindersPage()),
    (
        re.compile(r"^/admin/notifications/settings/?$"),
        lambda: notification_settings.NotificationSettingsPage(),
    ),
    (re.compile(r"^/me/?$"), lambda: me.MePage()),
    (re.compile(r"^/admin/employees/?$"), lambda: admin_employees.EmployeeListPage()),
    (re.compile(r"^/admin/employees/new/?$"), lambda: admin_employees.EmployeeFormPage(employee_id=None)),
    (
        re.compile(r"^/admin/employees/(?P<employee_id>\d{1,12})/?$"),
        lambda employee_id: admin_employees.EmployeeFormPage(employee_id=int(employee_id)),
    ),
    (re.compile(r"^/admin/departments/?$"), lambda: admin_departments.DepartmentPage()),
)


# Ids in the database are 32-bit: a larger one in an address names nothing (and must not reach a query).
ID_MAX = 2**31 - 1


def page_for(path: str, actor: Actor | None) -> Any:
    if actor is None or path.startswith("/login"):
        return login.LoginPage(next_path="/" if path.startswith("/login") else path)
    for pattern, page in ROUTES:
        match = pattern.match(path)
        if match:
            if any(int(value) > ID_MAX or int(value) < 1 for value in match.groupdict().values()):
                return tabs.NotFoundPage()
            return page(**match.groupdict())
    return tabs.NotFoundPage()


# An open page re-checks its session this often: deactivation or sign-out elsewhere ends it.
SESSION_RECHECK_SECONDS = 60.0


def use_live_actor(scope: dict[str, Any], settings: Settings) -> Actor | None:
    """The actor resolved when the socket opened, dropped as soon as its session stops being valid."""
    actor, set_actor = use_state(scope.get(SCOPE_ACTOR))
    token = scope.get(SCOPE_TOKEN)

    @use_async_effect(dependencies=[token])
    async def _recheck() -> None:
        if not token or actor is None:
            return
        while True:
            await asyncio.sleep(SESSION_RECHECK_SECONDS)
            if await session_resolve(token, auth=settings.auth) is None:
                set_actor(None)
                return

    return actor  # type: ignore[no-any-return]


@component
def root() -> Any:
    connection = use_connection()
    location = use_location()
    scope = connection.scope
    settings: Settings = scope[SCOPE_SETTINGS]
    actor = use_live_actor(scope, settings)
    # The language chosen on the Me page applies at once, without a reload.
    chosen_locale, set_chosen_locale = use_state(None)
    preferred = chosen_locale if chosen_locale is not None else (actor.locale if actor else None)
    locale = locale_choose(preferred, raw_header(scope, b"accept-language"), settings.i18n.default_locale)
    ctx = UIContext(
        actor=actor,
        locale=locale,
        settings=settings,
        path=location.path or "/",
        query_string=location.query_string,
        set_locale=lambda value: set_chosen_locale(locale_normalize(value) or ""),
    )
    return AppContext(
        html.div({"className": "app-frame", "lang": locale}, page_for(ctx.path, actor)), value=ctx
    )
