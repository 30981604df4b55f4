"""The application factory: create_app(settings) -> ASGI app. Nothing runs at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin

from backend.accounts.routes import AuthController, FormAuthController
from backend.courses.attachment_routes import AttachmentController
from backend.courses.feedback_routes import FeedbackController
from backend.courses.media_routes import MediaController
from backend.courses.progress_routes import ProgressController
from backend.courses.routes import CourseController
from backend.courses.upload_routes import UploadController
from backend.lib.db import engine_bind, engine_close, engine_create, engine_open
from backend.lib.errors import AppError
from backend.lib.http import error_response, provide_actor
from backend.lib.queue import queue_pool
from backend.lib.runtime import Runtime, runtime_bind, runtime_peek
from backend.lib.storage import storage_client, storage_ensure_bucket
from backend.notifications.channels import ChannelController
from backend.notifications.push_routes import PushController
from backend.notifications.reminder_routes import ReminderController
from backend.notifications.routes import NotificationController
from backend.org.routes import OrgController
from backend.points.export_routes import PointsExportController
from backend.points.routes import PointsController
from backend.reflections.routes import ArchiveController, ReflectionController, TrainingController
from backend.settings import Settings
from backend.system.routes import healthz
from backend.ui_gate import UIGate
from pwa.routes import pwa_route_handlers, template_config

logger = logging.getLogger("learnloop")


@contextlib.asynccontextmanager
async def _services(app: Litestar) -> AsyncIterator[None]:
    """Open the database, queue and storage for the app's lifetime; run the embedded worker if asked."""
    settings: Settings = app.state.settings
    async with contextlib.AsyncExitStack() as cleanup:
        # Whatever opened is closed again, also when a later service fails to start.
        engine = engine_create(settings)
        cleanup.push_async_callback(engine_close, engine)
        await engine_open(engine, settings)
        engine_bind(engine)
        app.state.engine = engine
        app.state.queue = await queue_pool(settings.redis.url)
        cleanup.push_async_callback(app.state.queue.aclose)
        app.state.storage = storage_client(settings.storage)
        await storage_ensure_bucket(app.state.storage, settings.storage.bucket)
        cleanup.callback(runtime_bind, runtime_peek())
        runtime_bind(Runtime(settings=settings, storage=app.state.storage, queue=app.state.queue))
        if settings.worker.embedded:
            from backend.worker import worker_create

            worker = worker_create(settings, redis_pool=app.state.queue)
            worker_task = asyncio.create_task(worker.async_run())
            cleanup.push_async_callback(_task_stop, worker_task)
        yield


async def _task_stop(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def create_litestar(settings: Settings) -> Litestar:
    """The Litestar app alone (JSON API, page shell, PWA files); tests drive it directly."""
    api = Router(
        path="/",
        route_handlers=[
            AuthController,
            OrgController,
            TrainingController,
            ReflectionController,
            ArchiveController,
            CourseController,
            ProgressController,
            FeedbackController,
            AttachmentController,
            UploadController,
            MediaController,
            PointsController,
            PointsExportController,
            NotificationController,
            PushController,
            ChannelController,
            ReminderController,
        ],
    )
    return Litestar(
        route_handlers=[api, FormAuthController, healthz, *pwa_route_handlers()],
        dependencies={"actor": Provide(provide_actor)},
        exception_handlers={
            AppError: error_response,
            HTTPException: error_response,
            Exception: error_response,
        },
        lifespan=[_services],
        template_config=template_config(),
        request_max_body_size=settings.server.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Learnloop API",
            version="1",
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
        ),
        state=State({"settings": settings}),
        debug=False,
        # Logging is configured by the process (backend.cli): Litestar's default config starts a
        # non-daemon QueueListener thread per app that nothing stops, which keeps processes alive.
        logging_config=None,
    )


def create_app(settings: Settings) -> Any:
    """The full ASGI app: the UI gate, then ReactPy's middleware, then Litestar."""
    from reactpy.executors.asgi.middleware import ReactPyMiddleware

    litestar_app = create_litestar(settings)
    # Serial rendering: ReactPy 2.0.0b13's parallel renderer hands back finished renders in arbitrary
    # order (asyncio.wait + set.pop), so an older state of a component can overwrite a newer one.
    ui = ReactPyMiddleware(litestar_app, ["pwa.app.root"], async_rendering=False)  # type: ignore[arg-type]
    return UIGate(ui, settings)
