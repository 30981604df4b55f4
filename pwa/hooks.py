"""Hooks shared by pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from reactpy import use_async_effect, use_state

T = TypeVar("T")


def use_async_value(load: Callable[[], Awaitable[T]], dependencies: Sequence[Any]) -> T | None:
    """Run `load` when the dependencies change; None until it has answered."""
    value, set_value = use_state(None)

    @use_async_effect(dependencies=list(dependencies))
    async def _load() -> None:
        set_value(await load())

    return value  # type: ignore[no-any-return]
