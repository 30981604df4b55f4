"""The policy module: scope by role and department subtree."""

from __future__ import annotations

import pytest

from backend.lib.errors import NotAuthenticated, NotFound, PermissionDenied
from backend.lib.policy import (
    Actor,
    can_list_people,
    department_path_visible,
    employee_read_check,
    organisation_write_check,
)


def actor(*roles: str, managed: tuple[str, ...] = (), employee_id: int = 1) -> Actor:
    return Actor(
        account_id=employee_id,
        username="u",
        employee_id=employee_id,
        department_id=2,
        roles=frozenset({"employee", *roles}),
        managed_paths=managed,
    )


def test_manager_sees_exactly_their_subtree() -> None:
    sales_manager = actor("manager", managed=("/1/2/",))
    assert department_path_visible(sales_manager, "/1/2/")
    assert department_path_visible(sales_manager, "/1/2/7/")
    assert not department_path_visible(sales_manager, "/1/3/")
    assert not department_path_visible(sales_manager, "/1/22/")  # a prefix of digits is not a subtree


@pytest.mark.parametrize(
    ("who", "target_path", "visible"),
    [
        (actor("hr_admin"), "/1/9/", True),
        (actor("auditor"), "/1/9/", True),
        (actor("manager", managed=("/1/2/",)), "/1/2/4/", True),
        (actor("manager", managed=("/1/2/",)), "/1/3/", False),
        (actor("trainer"), "/1/2/", False),
        (actor(), "/1/2/", False),
    ],
)
def test_reading_someone_else(who: Actor, target_path: str, visible: bool) -> None:
    if visible:
        employee_read_check(who, employee_id=99, department_path=target_path)
    else:
        with pytest.raises(NotFound):
            employee_read_check(who, employee_id=99, department_path=target_path)


def test_everyone_reads_themselves() -> None:
    employee_read_check(actor(employee_id=5), employee_id=5, department_path="/1/3/")


def test_only_hr_changes_the_organisation() -> None:
    organisation_write_check(actor("hr_admin"))
    for who in (actor("auditor"), actor("manager", managed=("/1/",)), actor("trainer"), actor()):
        with pytest.raises(PermissionDenied):
            organisation_write_check(who)
    with pytest.raises(NotAuthenticated):
        organisation_write_check(None)


def test_who_may_list_people() -> None:
    assert can_list_people(actor("hr_admin")) and can_list_people(actor("auditor"))
    assert can_list_people(actor("manager", managed=("/1/2/",)))
    assert not can_list_people(actor("trainer")) and not can_list_people(actor())


def test_session_cookie_is_found_among_others() -> None:
    from backend.lib.http import session_token_from_cookie_header

    assert session_token_from_cookie_header("a=1; learnloop_session=abc-DEF_1; b=2") == "abc-DEF_1"
    assert session_token_from_cookie_header('learnloop_session="quoted"') == "quoted"
    assert session_token_from_cookie_header("learnloop_sessionx=nope; other=1") is None
    assert session_token_from_cookie_header("learnloop_session=") is None
    assert session_token_from_cookie_header(None) is None
