"""Appraisal exports (HR, auditors) and the organisation's points settings.

One row per active person for a year: points earned, per category, the annual target, attainment,
the person's percentile in the organisation, the training score that goes into the performance
appraisal (attainment % x PointSettings.appraisal_weight / 100) and whether they are in the top 20 %.

Percentile: the share of the organisation's active people who earned at most as many points, in
percent (floor), so the top earners have 100. Top 20 %: people with points of whom fewer than 20 % of
the organisation earned more (ties at the border are all in).

Everything is computed from a handful of aggregate queries, whatever the number of people; the files
are built in a thread (openpyxl needs ~10 µs of CPU per cell: 50,000 people take 10-20 s as XLSX,
well under a second as CSV).
"""

from __future__ import annotations

import asyncio
import bisect
import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from piccolo.query.functions.aggregate import Sum

from backend.lib.db import write_transaction
from backend.lib.errors import ValidationFailed
from backend.lib.i18n import DEFAULT_LOCALE, locale_normalize, translate
from backend.lib.policy import Actor
from backend.lib.schema import Schema
from backend.org.tables import EMPLOYEE_ACTIVE, Employee
from backend.points.access import points_admin_check, rules_read_check
from backend.points.facts import org_today, org_zone, utc_now
from backend.points.rules import CATEGORIES, CATEGORY_REDEMPTION, Person, progress_compute, year_bounds
from backend.points.selectors import plan_for, year_plans
from backend.points.selectors import year_check as year_bounded
from backend.points.tables import LedgerEntry, PointSettings

WEIGHT_DEFAULT = 10
WEIGHT_MAX = 100
TOP_SHARE_PERCENT = 20
# A text cell starting with one of these is a formula to Excel: written as plain text instead.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class AppraisalRow(Schema):
    employee_id: int
    employee_no: str
    name: str
    department: str | None
    position: str | None
    level: str | None
    earned: int  # points earned in the year (spending does not lower it)
    by_category: dict[str, int]  # every category, 0 when none
    target: int | None
    counted: int  # points counting toward the target (per category capped at its share of a mix)
    attainment_percent: int | None  # 0..100, floor; None without a target
    percentile: int  # 0..100 in the organisation, 100 = top
    training_score: float | None  # attainment % x weight / 100; None without a target
    top20: bool


class PointSettingsOut(Schema):
    appraisal_weight: int
    preset: str


class PointSettingsIn(Schema):
    appraisal_weight: Annotated[int, msgspec.Meta(ge=-(10**9), le=10**9)]  # checked by the service


def export_read_check(actor: Actor | None) -> Actor:
    """Appraisal exports and settings are read by HR administrators and auditors."""
    return rules_read_check(actor)


def year_check(year: int | None) -> int:
    """The year asked for (2000..2100), this year by default."""
    return org_today().year if year is None else year_bounded(year)


# --- settings -----------------------------------------------------------------------------------


async def _settings_row() -> dict[str, Any] | None:
    row = await PointSettings.select().order_by(PointSettings.id).first()
    return dict(row) if row else None


async def appraisal_weight() -> int:
    row = await _settings_row()
    return int(row["appraisal_weight"]) if row else WEIGHT_DEFAULT


async def points_settings_get(*, actor: Actor | None) -> PointSettingsOut:
    """The organisation's points settings (HR, auditors)."""
    export_read_check(actor)
    row = await _settings_row()
    if row is None:
        return PointSettingsOut(appraisal_weight=WEIGHT_DEFAULT, preset="")
    return PointSettingsOut(appraisal_weight=int(row["appraisal_weight"]), preset=str(row["preset"]))


async def points_settings_set(*, actor: Actor | None, appraisal_weight: int) -> PointSettingsOut:
    """Set the training component of the performance score, 0..100 percent (HR)."""
    actor = points_admin_check(actor)
    if not 0 <= appraisal_weight <= WEIGHT_MAX:
        raise ValidationFailed(
            "error.points_exports_weight_range", field="appraisal_weight", min=0, max=WEIGHT_MAX
        )
    async with write_transaction(PointSettings):
        row = await PointSettings.select(PointSettings.id).order_by(PointSettings.id).first()
        if row is None:
            await PointSettings.insert(
                PointSettings(appraisal_weight=appraisal_weight, updated_by=actor.employee_id)
            )
        else:
            await PointSettings.update(
                {
                    PointSettings.appraisal_weight: appraisal_weight,
                    PointSettings.updated_by: actor.employee_id,
                    PointSettings.updated_at: utc_now(),
                }
            ).where(PointSettings.id == row["id"])
    return await points_settings_get(actor=actor)


# --- rows ---------------------------------------------------------------------------------------


def percentiles(totals: Sequence[int]) -> list[int]:
    """Each total's percentile among `totals`: the share at or below it (floor), 100 = top."""
    ordered = sorted(totals)
    people = len(ordered)
    return [bisect.bisect_right(ordered, total) * 100 // people for total in totals]


def in_top_share(total: int, ordered: Sequence[int], share_percent: int = TOP_SHARE_PERCENT) -> bool:
    """Earned something, and fewer than `share_percent` % of the people earned more."""
    above = len(ordered) - bisect.bisect_right(ordered, total)
    return total > 0 and above * 100 < share_percent * len(ordered)


async def _people() -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in await Employee.select(
            Employee.id,
            Employee.employee_no,
            Employee.name,
            Employee.department,
            Employee.department.name.as_alias("department_name"),
            Employee.department.path.as_alias("department_path"),
            Employee.position,
            Employee.position.name.as_alias("position_name"),
            Employee.level,
            Employee.level.name.as_alias("level_name"),
        )
        .where(Employee.status == EMPLOYEE_ACTIVE)
        .order_by(Employee.employee_no)
    ]


async def _earned_by_category(year: int) -> dict[int, dict[str, int]]:
    """Points earned in the year per person and category (earning entries only, reversals included)."""
    start, end = year_bounds(year, org_zone())
    rows = (
        await LedgerEntry.select(
            LedgerEntry.employee, LedgerEntry.category, Sum(LedgerEntry.points).as_alias("total")
        )
        .where(
            (LedgerEntry.category != CATEGORY_REDEMPTION)
            & (LedgerEntry.occurred_at >= start)
            & (LedgerEntry.occurred_at < end)
        )
        .group_by(LedgerEntry.employee, LedgerEntry.category)
    )
    earned: dict[int, dict[str, int]] = {}
    for row in rows:
        per_person = earned.setdefault(int(row["employee"]), dict.fromkeys(CATEGORIES, 0))
        per_person[row["category"]] = per_person.get(row["category"], 0) + int(row["total"] or 0)
    return earned


async def appraisal_rows(*, actor: Actor | None, year: int | None = None) -> list[AppraisalRow]:
    """The appraisal table of a year (HR, auditors): one row per active person, by employee number."""
    export_read_check(actor)
    year = year_check(year)
    people = await _people()
    earned = await _earned_by_category(year)
    plans = await year_plans(year)
    weight = await appraisal_weight()
    empty = dict.fromkeys(CATEGORIES, 0)
    totals = [sum(earned.get(int(person["id"]), empty).values()) for person in people]
    ordered = sorted(totals)
    ranks = percentiles(totals) if people else []
    rows = []
    for person, total, percentile in zip(people, totals, ranks, strict=True):
        by_category = earned.get(int(person["id"]), dict(empty))
        plan = plan_for(
            plans,
            Person(
                employee_id=int(person["id"]),
                department_id=person["department"],
                department_path=person["department_path"] or "",
                position_id=person["position"],
                level_id=person["level"],
            ),
        )
        # The arithmetic of target_progress: with a mix, each category counts up to its share.
        progress = progress_compute(plan.total if plan else None, plan.needs if plan else {}, by_category)
        percent = progress.attainment_percent if plan else None
        rows.append(
            AppraisalRow(
                employee_id=int(person["id"]),
                employee_no=person["employee_no"],
                name=person["name"],
                department=person["department_name"],
                position=person["position_name"],
                level=person["level_name"],
                earned=total,
                by_category=by_category,
                target=progress.target,
                counted=progress.earned,
                attainment_percent=percent,
                percentile=percentile,
                training_score=round(percent * weight / 100, 2) if percent is not None else None,
                top20=in_top_share(total, ordered),
            )
        )
    return rows


# --- files --------------------------------------------------------------------------------------


def _locale(actor: Actor, locale: str | None) -> str:
    return locale_normalize(locale) or locale_normalize(actor.locale) or DEFAULT_LOCALE


def appraisal_header(locale: str, weight: int) -> list[str]:
    def t(key: str, **params: Any) -> str:
        return translate(locale, f"points_exports.column.{key}", **params)

    return [
        t("employee_no"),
        t("name"),
        t("department"),
        t("position"),
        t("level"),
        t("earned"),
        *(t("category", category=translate(locale, f"points.category.{c}")) for c in CATEGORIES),
        t("target"),
        t("counted"),
        t("attainment"),
        t("percentile"),
        t("training_score", weight=weight),
        t("top20"),
    ]


def appraisal_values(row: AppraisalRow, locale: str) -> list[str | int | float | None]:
    return [
        row.employee_no,
        row.name,
        row.department,
        row.position,
        row.level,
        row.earned,
        *(row.by_category.get(category, 0) for category in CATEGORIES),
        row.target,
        row.counted,
        row.attainment_percent,
        row.percentile,
        row.training_score,
        translate(locale, "points_exports.value.yes") if row.top20 else "",
    ]


def _csv_text(value: str | int | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # shown as text, never run as a formula
    return str(value)


def appraisal_csv_bytes(header: list[str], rows: list[list[str | int | float | None]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_csv_text(value) for value in row] for row in rows)
    # UTF-8 with a byte order mark: Excel then reads Chinese correctly.
    return "\ufeff".encode() + out.getvalue().encode()


def _xlsx_cell(sheet: Any, value: str | int | float | None, *, font: Any = None) -> Any:
    """A plain value, or a cell object for a header (bold) and for text Excel would take as a formula."""
    if font is None and not (isinstance(value, str) and value.startswith(FORMULA_STARTS)):
        return value  # a cell object per value costs ten times as much CPU
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # "=..." would otherwise be stored as a formula
    if font is not None:
        cell.font = font
    return cell


def appraisal_xlsx_bytes(
    sheets: list[tuple[str, list[str], list[list[str | int | float | None]]]],
) -> bytes:
    """A workbook of (sheet name, header, rows); text is always text, never a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title[:31])
        sheet.freeze_panes = "A2"
        for index, name in enumerate(header, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(10, len(name) * 2 + 2)

        sheet.append([_xlsx_cell(sheet, name, font=bold) for name in header])
        for row in rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def appraisal_table(
    *, actor: Actor | None, year: int | None = None, locale: str | None = None
) -> tuple[str, list[str], list[AppraisalRow], list[list[str | int | float | None]]]:
    """(locale, header, rows, cell values) of the appraisal export, header in the actor's language."""
    rows = await appraisal_rows(actor=actor, year=year)
    assert actor is not None  # checked by appraisal_rows
    chosen = _locale(actor, locale)
    header = appraisal_header(chosen, await appraisal_weight())
    return chosen, header, rows, [appraisal_values(row, chosen) for row in rows]


async def appraisal_csv(*, actor: Actor | None, year: int | None = None, locale: str | None = None) -> bytes:
    """The appraisal table as CSV (UTF-8 with BOM), header in the actor's language (HR, auditors)."""
    _locale_used, header, _rows, values = await appraisal_table(actor=actor, year=year, locale=locale)
    return await asyncio.to_thread(appraisal_csv_bytes, header, values)


async def appraisal_xlsx(*, actor: Actor | None, year: int | None = None, locale: str | None = None) -> bytes:
    """The appraisal table as XLSX: the whole organisation, and the top 20 % by points (HR, auditors)."""
    chosen, header, rows, values = await appraisal_table(actor=actor, year=year, locale=locale)
    top = sorted(
        (pair for pair in zip(rows, values, strict=True) if pair[0].top20),
        key=lambda pair: (-pair[0].earned, pair[0].employee_no),
    )
    sheets = [
        (translate(chosen, "points_exports.sheet.appraisal"), header, values),
        (translate(chosen, "points_exports.sheet.top20"), header, [cells for _row, cells in top]),
    ]
    return await asyncio.to_thread(appraisal_xlsx_bytes, sheets)


def export_file_name(locale: str, year: int, extension: str) -> tuple[str, str]:
    """(ASCII file name, the file name in the user's language) of an export."""
    return (
        f"points-appraisal-{year}.{extension}",
        f"{translate(locale, 'points_exports.file_name', year=year)}.{extension}",
    )
