"""HTTP routes of the PWA: the page shell for every app URL, the service worker, manifest and static files."""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import msgspec
from litestar import MediaType, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from backend.lib.errors import NotFound
from backend.lib.http import actor_from_connection, app_settings, request_locale
from backend.lib.i18n import catalog, translate
from backend.reflections.selectors import assignment_mine

PWA_DIR = Path(__file__).resolve().parent
STATIC_DIR = PWA_DIR / "static"
TEMPLATES_DIR = PWA_DIR / "templates"
THEME_COLOR = "#1677ff"
# Paths the shell never answers: they belong to the API, files or ReactPy.
_NOT_PAGES = ("api/", "static/", "media/", "reactpy/", "schema", "auth/")
# What the writer's script needs to say, rendered into the page in the user's language.
_WRITER_PREFIX = "writer."


def _engine_with_reactpy(engine: JinjaTemplateEngine) -> None:
    from reactpy.templatetags import ReactPyJinja

    engine.engine.add_extension(ReactPyJinja)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=_engine_with_reactpy
    )


@cache
def assets_version() -> str:
    """Changes whenever a static file changes: names the service worker's caches and busts URLs."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file() and path.suffix != ".py":
            digest.update(path.relative_to(STATIC_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def shell_context(locale: str) -> dict[str, Any]:
    messages = catalog(locale)
    return {
        "lang": locale,
        "t": lambda key, **params: translate(locale, key, **params),
        "version": assets_version(),
        "theme_color": THEME_COLOR,
        "title": messages.get("app.name", "Learnloop"),
    }


@get(["/", "/{path:path}"], include_in_schema=False, media_type=MediaType.HTML)
async def page_shell(request: Request[Any, Any, Any], path: FromPath[str] = "") -> Template:
    """Every app URL serves the same small shell; the ReactPy router draws the page."""
    if path.lstrip("/").startswith(_NOT_PAGES):
        raise NotFoundException()
    actor = await actor_from_connection(request)
    return Template(
        template_name="shell.html",
        context=shell_context(request_locale(request, actor)),
        headers={"Cache-Control": "no-cache"},
    )


def _writer_messages(locale: str) -> dict[str, str]:
    """Every writer.* message (zh-CN has them all), unformatted: the script fills in {n}, {min}..."""
    return {
        key.removeprefix(_WRITER_PREFIX): catalog(locale).get(key) or value
        for key, value in catalog("zh-CN").items()
        if key.startswith(_WRITER_PREFIX)
    }


@get("/write/{assignment_id:int}", include_in_schema=False, media_type=MediaType.HTML)
async def writer_page(request: Request[Any, Any, Any], assignment_id: FromPath[int]) -> Template | Redirect:
    """The reflection writer: plain HTML plus write.js, so the service worker can serve it offline."""
    actor = await actor_from_connection(request)
    if actor is None:
        return Redirect(f"/login?next={quote(request.url.path, safe='/')}", status_code=303)
    locale = request_locale(request, actor)
    context = shell_context(locale)
    headers = {"Cache-Control": "no-cache, private", "Vary": "Cookie, Accept-Language"}
    try:
        assignment = await assignment_mine(actor=actor, assignment_id=assignment_id)
    except NotFound:
        context.update(found=False, title=translate(locale, "writer.not_found_title"))
        return Template(template_name="write.html", context=context, status_code=404, headers=headers)
    zone = ZoneInfo(app_settings(request).i18n.timezone)
    due_at = assignment.due_at if assignment.due_at.tzinfo else assignment.due_at.replace(tzinfo=dt.UTC)
    data = {
        "assignment": msgspec.to_builtins(assignment),
        # Drafts and queued submissions on the phone carry their writer: on a shared phone another
        # person's queue is neither shown to them nor ever sent under their session.
        "owner": actor.employee_id,
        "locale": locale,
        "messages": _writer_messages(locale),
        "overdue": due_at < dt.datetime.now(dt.UTC),
    }
    context.update(
        found=True,
        title=f"{translate(locale, 'writer.page_title')} · {assignment.training.name}",
        assignment=assignment,
        due_text=due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        data=data,
    )
    return Template(template_name="write.html", context=context, headers=headers)


@get("/sw.js", include_in_schema=False)
async def service_worker() -> Response[bytes]:
    body = (
        (STATIC_DIR / "sw.js").read_text(encoding="utf-8").replace("__LEARNLOOP_VERSION__", assets_version())
    )
    return Response(
        body.encode(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@get("/offline.html", include_in_schema=False)
async def offline_page() -> Response[bytes]:
    return Response((STATIC_DIR / "offline.html").read_bytes(), media_type=MediaType.HTML)


@get("/manifest.webmanifest", include_in_schema=False)
async def manifest(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    locale = request_locale(request, await actor_from_connection(request))
    body = {
        "id": "/",
        "name": translate(locale, "app.name"),
        "short_name": translate(locale, "app.short_name"),
        "description": translate(locale, "app.description"),
        "lang": locale,
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOR,
        "background_color": "#ffffff",
        "icons": [
            {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {
                "src": "/static/icons/icon-maskable-512.png",
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    return Response(body, media_type="application/manifest+json", headers={"Vary": "Accept-Language, Cookie"})


def pwa_route_handlers() -> list[Any]:
    static = create_static_files_router(
        path="/static", directories=[STATIC_DIR], include_in_schema=False, cache_control=None
    )
    from pwa.studio_routes import studio_route_handlers
    from pwa.watch_routes import watch_route_handlers

    return [
        page_shell,
        writer_page,
        service_worker,
        offline_page,
        manifest,
        static,
        *studio_route_handlers(),
        *watch_route_handlers(),
    ]
