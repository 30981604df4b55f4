"""Points API: my points, ledger, progress and standings; targets, rules, presets, manual awards,
reversals, the reward catalogue and redemptions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.lib.http import ActorDep, request_locale
from backend.org.schemas import Page
from backend.points.awards import award_manual, entry_reverse
from backend.points.bulk_awards import AwardBulkIn, AwardBulkOut, award_manual_bulk
from backend.points.catalogue import redemptions_for_decision, redemptions_mine, reward_list, reward_update
from backend.points.ledger import STATUS_AWARDED, STATUS_PARTIAL
from backend.points.presets import preset_apply
from backend.points.redemptions import (
    redemption_decide,
    redemption_fulfil,
    redemption_request,
    reward_create,
)
from backend.points.rulebook import RuleTerms, rule_create, rule_get, rule_list, rule_version_create
from backend.points.schemas import (
    AwardIn,
    AwardOut,
    CreatedOut,
    DecisionIn,
    DepartmentRateOut,
    LeaderboardOut,
    LedgerEntryOut,
    PointsMeOut,
    PresetApplyIn,
    PresetOut,
    PrivacyIn,
    PrivacyOut,
    RedemptionOut,
    ReverseIn,
    ReverseOut,
    RewardIn,
    RewardOut,
    RewardUpdateIn,
    RuleIn,
    RuleOut,
    RuleVersionIn,
    TargetIn,
    TargetOut,
    TargetProgressOut,
    TeamMemberOut,
)
from backend.points.selectors import ledger_page, points_me
from backend.points.standings import BOARD_DEPARTMENT, department_rates, leaderboard, privacy_get, privacy_set
from backend.points.targets import target_delete, target_list, target_progress, target_set, team_progress

PageNo = Annotated[int, QueryParameter(ge=1, le=10_000)]
YearQuery = Annotated[int | None, QueryParameter(ge=2000, le=2100)]
IdQuery = Annotated[int | None, QueryParameter(ge=1, le=2**53)]


class PointsController(Controller):
    path = "/api/v1/points"
    tags = ("points",)

    @get("/me", summary="My points: balance, this year's total, target, categories, rank in my department")
    async def me(self, actor: ActorDep) -> PointsMeOut:
        return await points_me(actor=actor)

    @get("/ledger", summary="My ledger entries, newest first")
    async def ledger(self, actor: ActorDep, page: PageNo = 1) -> Page[LedgerEntryOut]:
        return await ledger_page(actor=actor, page=page)

    @get("/rules", summary="The rule book (HR, auditors); `history` includes replaced versions")
    async def rules(
        self, actor: ActorDep, history: Annotated[bool, QueryParameter()] = False
    ) -> list[RuleOut]:
        return await rule_list(actor=actor, history=history)

    @post("/rules", summary="Create a rule (HR); an equally specific overlapping rule is refused (422)")
    async def rule_new(self, actor: ActorDep, data: JSONBody[RuleIn]) -> RuleOut:
        rule_id = await rule_create(
            actor=actor,
            kind=data.kind,
            terms=RuleTerms(
                points=data.points,
                category=data.category,
                cap_day=data.cap_day,
                cap_month=data.cap_month,
                cap_year=data.cap_year,
                cooldown_minutes=data.cooldown_minutes,
                effective_from=data.effective_from,
                effective_to=data.effective_to,
                note=data.note,
            ),
            department_id=data.department_id,
            position_id=data.position_id,
            level_id=data.level_id,
        )
        return await rule_get(rule_id)

    @post("/rules/{rule_id:int}/versions", summary="Change a rule (HR): a new version from a date")
    async def rule_version(
        self, actor: ActorDep, rule_id: FromPath[int], data: JSONBody[RuleVersionIn]
    ) -> RuleOut:
        new_id = await rule_version_create(
            actor=actor,
            rule_id=rule_id,
            terms=RuleTerms(
                points=data.points,
                category=data.category,
                cap_day=data.cap_day,
                cap_month=data.cap_month,
                cap_year=data.cap_year,
                cooldown_minutes=data.cooldown_minutes,
                effective_from=data.effective_from,
                effective_to=data.effective_to,
                active=data.active,
                note=data.note,
            ),
        )
        return await rule_get(new_id)

    @post(
        "/presets/{name:str}/apply",
        status_code=HTTP_200_OK,
        summary="Apply a preset (HR): credit (学分制) or engagement (激励积分)",
    )
    async def preset(
        self, actor: ActorDep, name: FromPath[str], data: JSONBody[PresetApplyIn | None] = None
    ) -> PresetOut:
        body = data or PresetApplyIn()
        return await preset_apply(
            actor=actor, name=name, target_level_ids=body.target_level_ids, year=body.year
        )

    @post("/awards", summary="Award an activity by hand (HR); the same request twice awards once")
    async def award(self, actor: ActorDep, data: JSONBody[AwardIn]) -> Response[AwardOut]:
        result = await award_manual(
            actor=actor,
            employee_id=data.employee_id,
            kind=data.kind,
            occurred_on=data.occurred_on,
            note=data.note,
            source_key=data.source_key,
        )
        created = result.status in (STATUS_AWARDED, STATUS_PARTIAL)
        return Response(result, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @post(
        "/awards/bulk",
        summary="Award one activity to up to 1,000 people by hand (HR), e.g. a workshop's attendees",
    )
    async def award_bulk(self, actor: ActorDep, data: JSONBody[AwardBulkIn]) -> Response[AwardBulkOut]:
        result = await award_manual_bulk(
            actor=actor,
            employee_ids=data.employee_ids,
            kind=data.kind,
            occurred_on=data.occurred_on,
            note=data.note,
        )
        return Response(result, status_code=HTTP_201_CREATED if result.awarded else HTTP_200_OK)

    @post(
        "/entries/{entry_id:int}/reverse",
        status_code=HTTP_200_OK,
        summary="Reverse an entry (HR) with a compensating entry, once",
    )
    async def reverse(
        self, actor: ActorDep, entry_id: FromPath[int], data: JSONBody[ReverseIn]
    ) -> ReverseOut:
        return await entry_reverse(actor=actor, entry_id=entry_id, reason=data.reason)

    @post("/rewards", summary="Add a reward to the catalogue (HR)")
    async def reward_new(self, actor: ActorDep, data: JSONBody[RewardIn]) -> CreatedOut:
        reward_id = await reward_create(
            actor=actor,
            name=data.name,
            cost=data.cost,
            description=data.description,
            stock=data.stock,
            eligible_level_ids=data.eligible_level_ids,
            eligible_department_ids=data.eligible_department_ids,
            per_person_limit=data.per_person_limit,
        )
        return CreatedOut(id=reward_id)

    @post("/rewards/{reward_id:int}/redeem", summary="Redeem a reward: the points are held until decided")
    async def redeem(self, actor: ActorDep, reward_id: FromPath[int]) -> CreatedOut:
        return CreatedOut(id=await redemption_request(actor=actor, reward_id=reward_id))

    @post(
        "/redemptions/{redemption_id:int}/approve",
        status_code=HTTP_204_NO_CONTENT,
        summary="Approve a redemption (HR or the requester's manager, never the requester)",
    )
    async def approve(
        self, actor: ActorDep, redemption_id: FromPath[int], data: JSONBody[DecisionIn | None] = None
    ) -> None:
        note = data.note if data else ""
        await redemption_decide(actor=actor, redemption_id=redemption_id, approve=True, note=note)

    @post(
        "/redemptions/{redemption_id:int}/reject",
        status_code=HTTP_204_NO_CONTENT,
        summary="Reject a redemption: its held points are released",
    )
    async def reject(
        self, actor: ActorDep, redemption_id: FromPath[int], data: JSONBody[DecisionIn | None] = None
    ) -> None:
        note = data.note if data else ""
        await redemption_decide(actor=actor, redemption_id=redemption_id, approve=False, note=note)

    @post(
        "/redemptions/{redemption_id:int}/fulfil",
        status_code=HTTP_204_NO_CONTENT,
        summary="Record that an approved reward was handed over (HR)",
    )
    async def fulfil(self, actor: ActorDep, redemption_id: FromPath[int]) -> None:
        await redemption_fulfil(actor=actor, redemption_id=redemption_id)

    @get("/targets", summary="Annual targets (HR, auditors), newest year first; `year` for one year")
    async def targets(self, actor: ActorDep, year: YearQuery = None) -> list[TargetOut]:
        return await target_list(actor=actor, year=year)

    @post("/targets", summary="Set the target of a year and scope (HR); the same scope again replaces it")
    async def target_new(self, actor: ActorDep, data: JSONBody[TargetIn]) -> CreatedOut:
        target_id = await target_set(
            actor=actor,
            year=data.year,
            total=data.total,
            mix=dict(data.mix),
            department_id=data.department_id,
            position_id=data.position_id,
            level_id=data.level_id,
        )
        return CreatedOut(id=target_id)

    @delete("/targets/{target_id:int}", summary="Remove a target (HR)")
    async def target_remove(self, actor: ActorDep, target_id: FromPath[int]) -> None:
        await target_delete(actor=actor, target_id=target_id)

    @get(
        "/progress", summary="Progress toward the year's target: mine, or a person's (HR, auditors, managers)"
    )
    async def progress(
        self, actor: ActorDep, employee_id: IdQuery = None, year: YearQuery = None
    ) -> TargetProgressOut:
        return await target_progress(actor=actor, employee_id=employee_id, year=year)

    @get("/team", summary="My team's progress, most behind first (managers: their subtrees; HR: everyone)")
    async def team(
        self,
        actor: ActorDep,
        year: YearQuery = None,
        department_id: IdQuery = None,
        behind_only: Annotated[bool, QueryParameter()] = False,
        page: PageNo = 1,
    ) -> Page[TeamMemberOut]:
        return await team_progress(
            actor=actor, year=year, department_id=department_id, behind_only=behind_only, page=page
        )

    @get("/leaderboard", summary="The department (mine) or organisation leaderboard of the year")
    async def standings(
        self,
        request: Request[Any, Any, Any],
        actor: ActorDep,
        board: Annotated[str, QueryParameter(max_length=20)] = BOARD_DEPARTMENT,
        year: YearQuery = None,
        page: PageNo = 1,
    ) -> LeaderboardOut:
        return await leaderboard(
            actor=actor, board=board, year=year, page=page, locale=request_locale(request, actor)
        )

    @get("/departments", summary="Target completion rates of the top-level departments")
    async def departments(self, actor: ActorDep, year: YearQuery = None) -> list[DepartmentRateOut]:
        return await department_rates(actor=actor, year=year)

    @get("/privacy", summary="Whether I show as 匿名 (anonymous) on leaderboards")
    async def privacy(self, actor: ActorDep) -> PrivacyOut:
        return PrivacyOut(anonymous=await privacy_get(actor=actor))

    @put("/privacy", summary="Show me as 匿名 (anonymous) on leaderboards, or by name")
    async def privacy_change(self, actor: ActorDep, data: JSONBody[PrivacyIn]) -> PrivacyOut:
        await privacy_set(actor=actor, anonymous=data.anonymous)
        return PrivacyOut(anonymous=data.anonymous)

    @get("/rewards", summary="The reward catalogue with stock left, my count and eligibility")
    async def rewards(
        self, actor: ActorDep, include_inactive: Annotated[bool, QueryParameter()] = False
    ) -> list[RewardOut]:
        return await reward_list(actor=actor, include_inactive=include_inactive)

    @patch(
        "/rewards/{reward_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Change a reward (HR); active=false takes it out of the catalogue",
    )
    async def reward_change(
        self, actor: ActorDep, reward_id: FromPath[int], data: JSONBody[RewardUpdateIn]
    ) -> None:
        await reward_update(
            actor=actor,
            reward_id=reward_id,
            name=data.name,
            cost=data.cost,
            description=data.description,
            stock=data.stock,
            eligible_level_ids=data.eligible_level_ids,
            eligible_department_ids=data.eligible_department_ids,
            per_person_limit=data.per_person_limit,
            active=data.active,
        )

    @get("/redemptions", summary="My redemptions, newest first")
    async def redemptions(self, actor: ActorDep, page: PageNo = 1) -> Page[RedemptionOut]:
        return await redemptions_mine(actor=actor, page=page)

    @get(
        "/redemptions/decisions",
        summary="Redemptions to decide (default state=pending; repeat `state` for more), oldest first",
    )
    async def decisions(
        self,
        actor: ActorDep,
        states: Annotated[list[str] | None, QueryParameter(name="state", max_items=4)] = None,
        page: PageNo = 1,
    ) -> Page[RedemptionOut]:
        return await redemptions_for_decision(
            actor=actor, states=tuple(states) if states else ("pending",), page=page
        )
