"""Points API: my points and ledger; HR's rules, presets, manual awards and reversals."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.lib.http import ActorDep
from backend.org.schemas import Page
from backend.points.awards import award_manual, entry_reverse
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
    LedgerEntryOut,
    PointsMeOut,
    PresetApplyIn,
    PresetOut,
    ReverseIn,
    ReverseOut,
    RewardIn,
    RuleIn,
    RuleOut,
    RuleVersionIn,
)
from backend.points.selectors import ledger_page, points_me

PageNo = Annotated[int, QueryParameter(ge=1, le=10_000)]


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
