"""Report parameters as data: score weights, the inspectors' weekly quota, accountability rules."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from reporting.report_settings.schemas import (
    AccountabilityRulesRead,
    AccountabilityRulesUpdate,
    InspectorQuotaRead,
    InspectorQuotaUpdate,
    ScoreWeightsRead,
    ScoreWeightsUpdate,
)
from reporting.report_settings.service import (
    DEFAULT_VOLUME_BANDS,
    EffectiveSettings,
    load_settings,
    row_for_update,
)
from shared.auth import AdminUser, CurrentUser
from shared.concurrency import check_if_match, set_etag
from shared.db import SessionDep

router = APIRouter(tags=["report settings"])


def _weights(s: EffectiveSettings) -> ScoreWeightsRead:
    w = s.score_weights
    return ScoreWeightsRead(
        closure=w["closure"],
        on_time=w["on_time"],
        rework=w["rework"],
        volume=w["volume"],
        volume_bands=w["volume_bands"],
        min_cases=s.min_cases,
        version=s.version,
        updated_at=s.updated_at,
    )


def _quota(s: EffectiveSettings) -> InspectorQuotaRead:
    return InspectorQuotaRead(**s.inspector_quota, version=s.version, updated_at=s.updated_at)


def _rules(s: EffectiveSettings) -> AccountabilityRulesRead:
    return AccountabilityRulesRead(
        **s.accountability_rules, version=s.version, updated_at=s.updated_at
    )


async def _saved(session, row, response: Response) -> EffectiveSettings:
    await session.flush()
    await session.refresh(row)  # the server set updated_at and version moved on
    region_id = row.region_id
    settings = await load_settings(session, region_id)
    set_etag(response, settings.version)
    return settings


@router.get("/v1/reports/score-weights", response_model=ScoreWeightsRead)
async def get_score_weights(
    principal: CurrentUser, session: SessionDep, response: Response
) -> ScoreWeightsRead:
    """The composite score's weights, volume bands and `min_cases` in force (defaults until an admin sets them; `version` 0 means defaults)."""
    settings = await load_settings(session, principal.region_id)
    set_etag(response, settings.version)
    return _weights(settings)


@router.put("/v1/reports/score-weights", response_model=ScoreWeightsRead)
async def put_score_weights(
    body: ScoreWeightsUpdate,
    principal: AdminUser,
    session: SessionDep,
    request: Request,
    response: Response,
) -> ScoreWeightsRead:
    """Replace the score weights and `min_cases` (admin; `If-Match` optional, stale → 412). Weights are relative: the score is Σ weight·component / Σ weights × 100."""
    row = await row_for_update(session, principal.region_id)
    check_if_match(request, row.version or 0)
    bands = [b.model_dump() for b in body.volume_bands] if body.volume_bands else None
    row.score_weights = {
        "closure": body.closure,
        "on_time": body.on_time,
        "rework": body.rework,
        "volume": body.volume,
        "volume_bands": sorted(
            bands or DEFAULT_VOLUME_BANDS, key=lambda b: b["min_due"], reverse=True
        ),
    }
    row.min_cases = body.min_cases
    return _weights(await _saved(session, row, response))


@router.get("/v1/reports/inspector-quota", response_model=InspectorQuotaRead)
async def get_inspector_quota(
    principal: CurrentUser, session: SessionDep, response: Response
) -> InspectorQuotaRead:
    """The patrol members' weekly quota and how a case is classed as facility (else hygiene)."""
    settings = await load_settings(session, principal.region_id)
    set_etag(response, settings.version)
    return _quota(settings)


@router.put("/v1/reports/inspector-quota", response_model=InspectorQuotaRead)
async def put_inspector_quota(
    body: InspectorQuotaUpdate,
    principal: AdminUser,
    session: SessionDep,
    request: Request,
    response: Response,
) -> InspectorQuotaRead:
    """Replace the weekly quota and the facility classification (admin; `If-Match` optional)."""
    row = await row_for_update(session, principal.region_id)
    check_if_match(request, row.version or 0)
    row.inspector_quota = body.model_dump()
    return _quota(await _saved(session, row, response))


@router.get("/v1/accountability/rules", response_model=AccountabilityRulesRead)
async def get_accountability_rules(
    principal: CurrentUser, session: SessionDep, response: Response
) -> AccountabilityRulesRead:
    """The accountability rules in force: black/red list thresholds and escalations."""
    settings = await load_settings(session, principal.region_id)
    set_etag(response, settings.version)
    return _rules(settings)


@router.put("/v1/accountability/rules", response_model=AccountabilityRulesRead)
async def put_accountability_rules(
    body: AccountabilityRulesUpdate,
    principal: AdminUser,
    session: SessionDep,
    request: Request,
    response: Response,
) -> AccountabilityRulesRead:
    """Replace the accountability rules (admin; `If-Match` optional). Escalations are checked highest `times` first."""
    row = await row_for_update(session, principal.region_id)
    check_if_match(request, row.version or 0)
    data = body.model_dump()
    data["escalations"] = sorted(data["escalations"], key=lambda e: e["times"])
    row.accountability_rules = data
    return _rules(await _saved(session, row, response))
