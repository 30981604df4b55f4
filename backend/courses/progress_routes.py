"""Watch progress (watched intervals) and the trainer's analytics."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from backend.courses.analytics import CourseStats, course_stats
from backend.courses.progress import progress_record
from backend.courses.routes import ids_guard
from backend.courses.schemas import Id
from backend.lib.http import ActorDep
from backend.lib.schema import Schema


class ProgressIn(Schema):
    """What the player played since its last report. Values are checked against the video's duration:
    a pair that is not two finite numbers (JSON null, which is what NaN becomes) is refused with 422."""

    intervals: list[list[float | None]]  # [[start, end], ...] seconds, at most 200
    position: float | None  # where playback stands, for resuming
    # The version being played, when the player still shows an older video; else the current one.
    version_id: Id | None = None


class ProgressOut(Schema):
    watched_ratio: float
    completed: bool


class ProgressController(Controller):
    path = "/api/v1/courses"
    tags = ("courses",)
    guards = (ids_guard,)

    @post(
        "/{course_id:int}/progress",
        status_code=HTTP_200_OK,
        summary="Report watched intervals; distinct seconds count, completed at 90 %",
    )
    async def progress(
        self, actor: ActorDep, course_id: FromPath[int], data: JSONBody[ProgressIn]
    ) -> ProgressOut:
        result = await progress_record(
            actor=actor,
            course_id=course_id,
            intervals=data.intervals,
            position=data.position,
            version_id=data.version_id,
        )
        return ProgressOut(watched_ratio=result["watched_ratio"], completed=result["completed"])

    @get("/{course_id:int}/stats", summary="The trainer centre: views, completion, audience, segment chart")
    async def stats(self, actor: ActorDep, course_id: FromPath[int]) -> CourseStats:
        return await course_stats(actor=actor, course_id=course_id)
