"""Points exports and settings API: the appraisal table as CSV / XLSX, the appraisal weight."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, put
from litestar.params import JSONBody, QueryParameter

from backend.lib.http import ActorDep, request_locale
from backend.points.exports import (
    PointSettingsIn,
    PointSettingsOut,
    appraisal_csv,
    appraisal_xlsx,
    export_file_name,
    points_settings_get,
    points_settings_set,
    year_check,
)
from backend.points.selectors import YEAR_MAX, YEAR_MIN

YearParam = Annotated[int | None, QueryParameter(ge=YEAR_MIN, le=YEAR_MAX)]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(content: bytes, *, media_type: str, names: tuple[str, str]) -> Response[bytes]:
    """A download: an ASCII file name for old clients, the user's language for the others (RFC 6266)."""
    ascii_name, own_name = names
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(own_name, safe='')}",
            "Cache-Control": "no-store",  # people's appraisal data
        },
    )


class PointsExportController(Controller):
    path = "/api/v1/points"
    tags = ("points",)

    @get(
        "/exports/appraisal.csv",
        summary="The appraisal table of a year as CSV, UTF-8 with BOM (HR, auditors)",
        media_type=CSV_MEDIA_TYPE,
    )
    async def appraisal_csv_file(
        self, actor: ActorDep, request: Request[Any, Any, Any], year: YearParam = None
    ) -> Response[bytes]:
        locale = request_locale(request, actor)
        content = await appraisal_csv(actor=actor, year=year, locale=locale)
        return attachment(
            content, media_type=CSV_MEDIA_TYPE, names=export_file_name(locale, year_check(year), "csv")
        )

    @get(
        "/exports/appraisal.xlsx",
        summary="The appraisal table of a year as XLSX, with a sheet of the top 20 % (HR, auditors)",
        media_type=XLSX_MEDIA_TYPE,
    )
    async def appraisal_xlsx_file(
        self, actor: ActorDep, request: Request[Any, Any, Any], year: YearParam = None
    ) -> Response[bytes]:
        locale = request_locale(request, actor)
        content = await appraisal_xlsx(actor=actor, year=year, locale=locale)
        return attachment(
            content, media_type=XLSX_MEDIA_TYPE, names=export_file_name(locale, year_check(year), "xlsx")
        )

    @get("/settings", summary="Points settings: the appraisal weight and the preset applied (HR, auditors)")
    async def settings_get(self, actor: ActorDep) -> PointSettingsOut:
        return await points_settings_get(actor=actor)

    @put("/settings", summary="Set the appraisal weight, 0-100 % of the performance score (HR)")
    async def settings_put(self, actor: ActorDep, data: JSONBody[PointSettingsIn]) -> PointSettingsOut:
        return await points_settings_set(actor=actor, appraisal_weight=data.appraisal_weight)
