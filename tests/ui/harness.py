"""Render ReactPy pages in-process, as the socket would, and act on them like a user.

`rendered_page` mounts pwa.app.root for a path and an actor; the returned Page holds the current
VDOM model (updates applied) and finds elements by role-ish queries: text, label, id.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from reactpy.config import REACTPY_ASYNC_RENDERING
from reactpy.core.hooks import ConnectionContext
from reactpy.core.layout import Layout
from reactpy.types import Connection, Location

from backend.lib.policy import Actor
from backend.settings import Settings
from backend.ui_gate import SCOPE_ACTOR, SCOPE_SETTINGS, SCOPE_TOKEN
from pwa.app import root

Node = dict[str, Any]
SETTLE_SECONDS = 0.3
HANDLER_TIMEOUT_SECONDS = 30


def _walk(node: Any) -> Iterator[Node]:
    if isinstance(node, dict):
        yield node
        for child in node.get("children", []):
            yield from _walk(child)


def _text(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        return "".join(_text(child) for child in node.get("children", []))
    return ""


class Page:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.model: Node = {}

    def _apply(self, update: dict[str, Any]) -> None:
        path = [part for part in update["path"].split("/") if part]
        if not path:
            self.model = update["model"]
            return
        target: Any = self.model
        for part in path[:-1]:
            target = target[int(part)] if isinstance(target, list) else target[part]
        last = path[-1]
        if isinstance(target, list):
            target[int(last)] = update["model"]
        else:
            target[last] = update["model"]

    async def settle(self, seconds: float = SETTLE_SECONDS) -> Page:
        """Apply renders until the page stops changing (effects that load data have run)."""
        while True:
            try:
                update = await asyncio.wait_for(self.layout.render(), seconds)
            except TimeoutError:
                return self
            self._apply(dict(update))

    # queries -------------------------------------------------------------
    @property
    def text(self) -> str:
        return _text(self.model)

    def all(self, predicate: Callable[[Node], bool]) -> list[Node]:
        return [node for node in _walk(self.model) if predicate(node)]

    def one(self, predicate: Callable[[Node], bool], what: str = "element") -> Node:
        found = self.all(predicate)
        assert len(found) == 1, f"expected one {what}, found {len(found)}"
        return found[0]

    def by_id(self, element_id: str) -> Node:
        return self.one(lambda n: n.get("attributes", {}).get("id") == element_id, f"#{element_id}")

    def by_label(self, label: str) -> Node:
        """The control a <label> names (htmlFor), or an element with that aria-label."""
        labels = self.all(lambda n: n.get("tagName") == "label" and _text(n).strip() == label)
        if labels:
            return self.by_id(labels[0]["attributes"]["htmlFor"])
        return self.one(lambda n: n.get("attributes", {}).get("aria-label") == label, f"[aria-label={label}]")

    def button(self, name: str) -> Node:
        return self.one(
            lambda n: (
                n.get("tagName") == "button"
                and (_text(n).strip() == name or n.get("attributes", {}).get("aria-label") == name)
            ),
            f"button {name!r}",
        )

    def links(self) -> dict[str, str]:
        return {
            _text(n).strip(): n["attributes"]["href"] for n in self.all(lambda n: n.get("tagName") == "a")
        }

    # actions -------------------------------------------------------------
    async def fire(self, node: Node, event: str, data: dict[str, Any] | None = None) -> Page:
        handler = node.get("eventHandlers", {}).get(event)
        assert handler is not None, f"no {event} handler on {node.get('tagName')}"
        # Deliver as the socket does (the handler runs in the layout's own task), with the handler
        # wrapped so the test knows when its work is done; then collect the renders it caused.
        target = handler["target"]
        event_handler = self.layout._event_handlers[target]
        original, done = event_handler.function, asyncio.Event()

        async def signalling(data: Any) -> None:
            try:
                await original(data)
            finally:
                done.set()

        event_handler.function = signalling
        try:
            await self.layout.deliver({"type": "layout-event", "target": target, "data": [data or {}]})
            await asyncio.wait_for(done.wait(), HANDLER_TIMEOUT_SECONDS)
        finally:
            event_handler.function = original
        return await self.settle()

    async def type(self, label: str, value: str) -> Page:
        return await self.fire(self.by_label(label), "onChange", {"target": {"value": value}})

    async def click(self, name: str) -> Page:
        return await self.fire(self.button(name), "onClick")

    async def submit(self, form: Node) -> Page:
        return await self.fire(form, "onSubmit")


@contextlib.asynccontextmanager
async def rendered_page(
    path: str,
    *,
    settings: Settings,
    actor: Actor | None,
    accept_language: str = "zh-CN,zh;q=0.9",
    query_string: str = "",
    session_token: str | None = None,
) -> AsyncIterator[Page]:
    scope = {
        "type": "websocket",
        "headers": [(b"accept-language", accept_language.encode())],
        SCOPE_SETTINGS: settings,
        SCOPE_ACTOR: actor,
        SCOPE_TOKEN: session_token,
    }
    REACTPY_ASYNC_RENDERING.set_current(False)  # as backend.app.create_app configures it
    connection = Connection(
        scope=scope, location=Location(path=path, query_string=query_string), carrier=None
    )
    async with Layout(ConnectionContext(root(), value=connection)) as layout:
        page = Page(layout)
        await page.settle()
        yield page


async def actor_named(username: str) -> Actor:
    from backend.accounts.selectors import actor_for_account
    from backend.accounts.tables import Account

    row = await Account.select(Account.id).where(Account.username == username).first()
    assert row is not None, username
    actor = await actor_for_account(row["id"])
    assert actor is not None
    return actor
