"""The rectification workflow: opening cases and moving them through their states.

Opening a case (from an inspection, ``POST /v1/cases`` or an import) goes
through :func:`open_case`. When the responsible unit is known and deadline
rules are at hand, the case is dispatched at once. **The clock starts when the
server dispatches** (``dispatched_at`` = the moment the case is opened, never
earlier than ``reported_at``): a phone that syncs a day late must not eat the
unit's time, and 派遣 is where the clock starts in the digital urban-management
loop.

Every change appends an immutable :class:`CaseEvent`; events are ordered by
``at``, which strictly increases within a case.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inspections.cases import repository
from inspections.cases.context import RegistryLookup
from inspections.cases.schemas import CaseAction, CaseCreate, CaseRead
from inspections.photos.service import link_photos, unseen_photos
from shared import clock
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, Unprocessable
from shared.models import Case, CaseEvent
from shared.schemas import RequestModel
from shared.workdays import DeadlineRules

_TICK = timedelta(microseconds=1)
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class CaseDraft:
    """Everything needed to open a case, whoever opens it (ingest, POST /v1/cases, import)."""

    id: uuid.UUID
    source: str
    description: str
    severity: str
    reported_at: datetime
    reporter_id: uuid.UUID | None
    sample_point_id: uuid.UUID | None = None
    inspection_id: uuid.UUID | None = None
    item_code: str | None = None
    category_id: uuid.UUID | None = None
    point_type_id: uuid.UUID | None = None
    division_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    photo_ids: tuple[uuid.UUID, ...] = ()


def utcnow() -> datetime:
    return clock.now()


def add_event(
    session: AsyncSession,
    case: Case,
    *,
    at: datetime,
    actor_id: uuid.UUID | None,
    action: str,
    from_status: str | None,
    note: str | None = None,
    photo_ids: list[uuid.UUID] | tuple[uuid.UUID, ...] = (),
) -> CaseEvent:
    """Append one immutable event recording the case as it is *after* the action."""
    event = CaseEvent(
        region_id=case.region_id,
        id=uuid.uuid4(),
        case_id=case.id,
        at=at,
        actor_id=actor_id,
        action=action,
        from_status=from_status,
        to_status=case.status,
        note=note,
        photo_ids=list(photo_ids),
        unit_id=case.unit_id,
        due_at=case.due_at,
    )
    session.add(event)
    return event


@dataclass
class CasePlan:
    """The rows opening one case writes: the ``cases`` row and its events, as column dicts."""

    case: dict[str, Any]
    events: list[dict[str, Any]]


def plan_case(
    *,
    region_id: uuid.UUID,
    draft: CaseDraft,
    deadlines: DeadlineRules | None,
    now: datetime | None = None,
) -> CasePlan:
    """The rows of :func:`open_case` without a session: ``reported`` with a ``report``
    event, then — with ``draft.unit_id`` and ``deadlines`` — ``assigned`` with a
    ``dispatch`` event by the system (``actor_id`` None) and ``due_at`` counted from
    the dispatch. Ingest writes these rows itself, in bulk."""
    now = now or utcnow()
    reported_at = draft.reported_at.astimezone(UTC)
    photo_ids = list(dict.fromkeys(draft.photo_ids))
    case: dict[str, Any] = {
        "region_id": region_id,
        "id": draft.id,
        "sample_point_id": draft.sample_point_id,
        "inspection_id": draft.inspection_id,
        "item_code": draft.item_code,
        "source": draft.source,
        "category_id": draft.category_id,
        "point_type_id": draft.point_type_id,
        "division_id": draft.division_id,
        "description": draft.description,
        "severity": draft.severity,
        "lat": draft.lat,
        "lon": draft.lon,
        "address": draft.address,
        "unit_id": None,
        "reporter_id": draft.reporter_id,
        "status": "reported",
        "due_at": None,
        "reported_at": reported_at,
        "dispatched_at": None,
        "rework_count": 0,
        "extension_count": 0,
        "return_count": 0,
        "photo_ids": photo_ids,
    }
    events = [
        {
            "region_id": region_id,
            "id": uuid.uuid4(),
            "case_id": draft.id,
            "at": reported_at,
            "actor_id": draft.reporter_id,
            "action": "report",
            "from_status": None,
            "to_status": "reported",
            "note": None,
            "photo_ids": list(photo_ids),
            "unit_id": None,
            "due_at": None,
        }
    ]
    if draft.unit_id is not None and deadlines is not None:
        dispatched_at = max(now, reported_at + _TICK)
        due_at = deadlines.due_at(draft.severity, dispatched_at)
        case.update(
            status="assigned", unit_id=draft.unit_id, dispatched_at=dispatched_at, due_at=due_at
        )
        events.append(
            {
                "region_id": region_id,
                "id": uuid.uuid4(),
                "case_id": draft.id,
                "at": dispatched_at,
                "actor_id": None,
                "action": "dispatch",
                "from_status": "reported",
                "to_status": "assigned",
                "note": None,
                "photo_ids": [],
                "unit_id": draft.unit_id,
                "due_at": due_at,
            }
        )
    return CasePlan(case=case, events=events)


async def open_case(
    session: AsyncSession,
    *,
    region_id: uuid.UUID,
    draft: CaseDraft,
    deadlines: DeadlineRules | None,
    dispatcher_id: uuid.UUID | None = None,
    now: datetime | None = None,
    refresh: bool = True,
) -> Case:
    """Add a case (``reported``, with a ``report`` event) and dispatch it at once when
    ``draft.unit_id`` and ``deadlines`` are given (``assigned``, ``dispatch`` event,
    ``due_at`` from the policy and calendar counted from the dispatch time).

    Without deadline rules the case stays ``reported`` (and invisible to the unit)
    for an admin to dispatch. ``dispatcher_id`` is the actor of the automatic dispatch (``None`` = the system,
    e.g. ingest). Links the report photos to the case. Flushes; never commits.

    ``refresh=False`` (ingest opening several cases at once) leaves the flush to the
    caller and skips reloading the server defaults: the rows go out in one batch.
    """
    plan = plan_case(region_id=region_id, draft=draft, deadlines=deadlines, now=now)
    for event in plan.events:
        if event["action"] == "dispatch":
            event["actor_id"] = dispatcher_id
    case = Case(**plan.case)
    session.add(case)
    session.add_all([CaseEvent(**event) for event in plan.events])
    if refresh:
        await session.flush()
    await link_photos(
        session, region_id=region_id, photo_ids=case.photo_ids, owner_kind="case", owner_id=case.id
    )
    if refresh:
        await session.refresh(case)
    return case


PLANNED_CASE_COLUMNS = tuple(
    "region_id id sample_point_id inspection_id item_code source category_id point_type_id "
    "division_id description severity lat lon address unit_id reporter_id status due_at "
    "reported_at dispatched_at rework_count extension_count return_count photo_ids".split()
)
PLANNED_EVENT_COLUMNS = tuple(
    "region_id id case_id at actor_id action from_status to_status note photo_ids unit_id "
    "due_at".split()
)


async def next_event_time(
    session: AsyncSession, case: Case, now: datetime | None = None
) -> datetime:
    """``now``, but strictly after the case's latest event (a phone's clock may run ahead)."""
    now = now or utcnow()
    last = await session.scalar(
        select(func.max(CaseEvent.at)).where(
            CaseEvent.region_id == case.region_id, CaseEvent.case_id == case.id
        )
    )
    return max(now, last + _TICK) if last is not None else now


# ---------------------------------------------------------------- reading


def is_overdue(case: Case, now: datetime | None = None) -> bool:
    """A case is overdue while it is assigned past its deadline (SPEC §6.3)."""
    return case.status == "assigned" and case.due_at is not None and (now or utcnow()) > case.due_at


def case_read(case: Case, now: datetime | None = None) -> CaseRead:
    return CaseRead.model_validate(
        {
            **{name: getattr(case, name) for name in _CASE_COLUMNS},
            "location": (
                {"lat": case.lat, "lon": case.lon}
                if case.lat is not None and case.lon is not None
                else None
            ),
            "overdue": is_overdue(case, now),
            "extension_requested": case.extension_requested_at is not None,
            "photo_ids": list(case.photo_ids or []),
            "duplicate_candidates": list(case.duplicate_candidates or []),
        }
    )


_CASE_COLUMNS = [
    name
    for name in CaseRead.model_fields
    if name
    not in {"location", "overdue", "extension_requested", "photo_ids", "duplicate_candidates"}
]


# ---------------------------------------------------------------- creating


def body_hash(body: RequestModel) -> str:
    """A stable digest of a request body as sent (idempotent retries compare it)."""
    raw = json.dumps(body.model_dump(mode="json", exclude_unset=True), sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


async def _unseen_photo_errors(
    session: AsyncSession, principal: Principal, photo_ids: list[uuid.UUID], loc: list[str]
) -> list[dict[str, Any]]:
    """A case may cite only photos its author uploaded or may already see (no borrowing
    another unit's evidence by its id)."""
    unseen = set(await unseen_photos(session, principal=principal, photo_ids=photo_ids))
    return [
        {
            "loc": [*loc, str(i)],
            "msg": f"photo {photo_id} was never uploaded (PUT /v1/photos/{{id}}) or is not "
            "yours to cite",
        }
        for i, photo_id in enumerate(photo_ids)
        if photo_id in unseen
    ]


async def create_case(
    session: AsyncSession,
    *,
    principal: Principal,
    body: CaseCreate,
    registry: RegistryLookup,
) -> tuple[Case, bool]:
    """Open a case by hand; ``(case, created)``. Same id and body again → the stored case."""
    region_id = principal.region_id
    digest = body_hash(body)
    existing = await repository.get_case(session, region_id, body.id)
    if existing is not None:
        if existing.body_hash == digest:
            return existing, False
        raise Conflict(
            f"A case with id {body.id} already exists with other content; "
            "use a new id for a new case."
        )

    now = utcnow()
    errors = await _unseen_photo_errors(session, principal, body.photo_ids, ["body", "photo_ids"])
    if body.reported_at is not None and body.reported_at > now + CLOCK_SKEW:
        errors.append({"loc": ["body", "reported_at"], "msg": "is in the future"})
    if body.category_id and not await repository.category_exists(
        session, region_id, body.category_id
    ):
        errors.append({"loc": ["body", "category_id"], "msg": "no such category in this region"})
    if body.division_id and not await repository.division_exists(
        session, region_id, body.division_id
    ):
        errors.append({"loc": ["body", "division_id"], "msg": "no such division in this region"})
    if body.unit_id and not await repository.unit_exists(session, region_id, body.unit_id):
        errors.append({"loc": ["body", "unit_id"], "msg": "no such unit in this region"})

    point: dict[str, Any] = {}
    point_type: dict[str, Any] = {}
    context: dict[str, Any] | None = None
    if body.sample_point_id is not None:
        context = await registry.sample_point(region_id, body.sample_point_id)
        point = (context or {}).get("sample_point") or {}
        point_type = (context or {}).get("point_type") or {}
        if context is None:
            errors.append(
                {"loc": ["body", "sample_point_id"], "msg": "no such sample point in this region"}
            )
        elif point.get("status", "active") != "active":
            errors.append(
                {"loc": ["body", "sample_point_id"], "msg": "the sample point is retired"}
            )
    if errors:
        raise Unprocessable("The case is not valid; see errors.", errors=errors)

    unit_id = body.unit_id or _uuid(point.get("unit_id"))
    rules: DeadlineRules | None = None
    if unit_id is not None:
        if context is not None and context.get("deadline_policy") is not None:
            rules = DeadlineRules.from_context(context)
        else:
            rules = await registry.deadline_rules(region_id)
            rules = rules.with_overrides(point_type.get("deadline_policy"))
    location = body.location
    draft = CaseDraft(
        id=body.id,
        source=body.source,
        description=body.description,
        severity=body.severity,
        reported_at=body.reported_at or now,
        reporter_id=principal.person_id,
        sample_point_id=body.sample_point_id,
        category_id=body.category_id or _uuid(point_type.get("category_id")),
        point_type_id=_uuid(point.get("point_type_id")),
        division_id=body.division_id or _uuid(point.get("division_id")),
        unit_id=unit_id,
        lat=location.lat if location else point.get("lat"),
        lon=location.lon if location else point.get("lon"),
        address=body.address or point.get("address") or None,
        photo_ids=tuple(body.photo_ids),
    )
    case = await open_case(
        session,
        region_id=region_id,
        draft=draft,
        deadlines=rules,
        dispatcher_id=principal.person_id,
        now=now,
    )
    case.body_hash = digest
    await session.flush()
    await session.refresh(case)
    return case, True


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


# ---------------------------------------------------------------- acting

ADMIN: frozenset[str] = frozenset({"admin"})
UNIT: frozenset[str] = frozenset({"unit"})
CHECKERS: frozenset[str] = frozenset({"inspector", "admin"})

# (from status, action) → (roles that may do it, status after it): SPEC §6.3, exactly.
TRANSITIONS: dict[tuple[str, str], tuple[frozenset[str], str]] = {
    ("reported", "dispatch"): (ADMIN, "assigned"),
    ("returned", "dispatch"): (ADMIN, "assigned"),
    ("reported", "cancel"): (ADMIN, "cancelled"),
    ("returned", "cancel"): (ADMIN, "cancelled"),
    ("reported", "mark_duplicate"): (ADMIN, "cancelled"),
    ("assigned", "mark_duplicate"): (ADMIN, "cancelled"),
    ("returned", "mark_duplicate"): (ADMIN, "cancelled"),
    ("assigned", "return"): (UNIT, "returned"),
    ("assigned", "request_extension"): (UNIT, "assigned"),
    ("assigned", "extend"): (ADMIN, "assigned"),
    ("assigned", "rectify"): (UNIT, "rectified"),
    ("rectified", "verify"): (CHECKERS, "closed"),
    ("rectified", "reject"): (CHECKERS, "assigned"),
    ("assigned", "park"): (ADMIN, "parked"),
    ("parked", "resume"): (ADMIN, "assigned"),
}
ACTION_ROLES: dict[str, frozenset[str]] = {}
for (_status, _action), (_roles, _to) in TRANSITIONS.items():
    ACTION_ROLES[_action] = ACTION_ROLES.get(_action, frozenset()) | _roles

# Actions that must say why (SPEC: "return with a reason", "rectify: note required").
NOTE_REQUIRED = frozenset({"cancel", "return", "request_extension", "rectify", "reject", "park"})
FIELD_USED_BY = {
    "unit_id": frozenset({"dispatch"}),
    "due_at": frozenset({"dispatch", "resume", "extend", "request_extension"}),
    "duplicate_of": frozenset({"mark_duplicate"}),
}


def allowed_actions(status: str, role: str) -> list[str]:
    """The actions ``role`` may take on a case in ``status``, in SPEC order."""
    return [
        action
        for (frm, action), (roles, _) in TRANSITIONS.items()
        if frm == status and role in roles
    ]


async def apply_action(
    session: AsyncSession,
    *,
    principal: Principal,
    case: Case,
    body: CaseAction,
    registry: RegistryLookup,
) -> Case:
    """Run one workflow step: check role, state and input, change the case, append an event."""
    action, role = body.action, principal.role
    allowed = allowed_actions(case.status, role)
    if role not in ACTION_ROLES[action]:
        raise Forbidden(
            f"The role '{role}' may not {action} a case "
            f"(allowed: {', '.join(sorted(ACTION_ROLES[action]))}).",
            extra={"allowed_actions": allowed},
        )
    transition = TRANSITIONS.get((case.status, action))
    if transition is None:
        raise Conflict(
            f"A {case.status} case cannot be {action!r}ed; allowed now: "
            f"{', '.join(allowed) or 'nothing'}.",
            extra={"allowed_actions": allowed, "case_status": case.status},
        )
    _, to_status = transition

    region_id = case.region_id
    now = await next_event_time(session, case)
    errors: list[dict[str, Any]] = []
    for field, actions in FIELD_USED_BY.items():
        if getattr(body, field) is not None and action not in actions:
            errors.append({"loc": ["body", field], "msg": f"not used by {action}"})
    if action in NOTE_REQUIRED and not body.note:
        errors.append({"loc": ["body", "note"], "msg": f"{action} requires a note"})
    errors += await _unseen_photo_errors(session, principal, body.photo_ids, ["body", "photo_ids"])
    if action == "rectify" and not body.photo_ids:
        errors.append(
            {"loc": ["body", "photo_ids"], "msg": "rectify requires at least one after-photo"}
        )
    if action == "dispatch":
        if body.unit_id is None:
            errors.append({"loc": ["body", "unit_id"], "msg": "dispatch requires a unit_id"})
        elif not await repository.unit_exists(session, region_id, body.unit_id):
            errors.append({"loc": ["body", "unit_id"], "msg": "no such unit in this region"})
    if action in ("dispatch", "resume") and body.due_at is not None and body.due_at <= now:
        errors.append({"loc": ["body", "due_at"], "msg": "must be in the future"})
    if action == "extend" and body.due_at is None:
        errors.append({"loc": ["body", "due_at"], "msg": "extend requires the new due_at"})
    if action in ("extend", "request_extension") and body.due_at is not None:
        if case.due_at is not None and body.due_at <= case.due_at:
            errors.append(
                {"loc": ["body", "due_at"], "msg": "must be later than the current due_at"}
            )
    if action == "mark_duplicate":
        errors += await _duplicate_errors(session, case, body.duplicate_of)
    if errors:
        raise Unprocessable(f"The {action} action is not valid; see errors.", errors=errors)

    from_status = case.status
    if action in ("dispatch", "resume"):
        due_at = body.due_at
        if due_at is None:
            rules = await registry.deadline_rules(region_id)
            policy = await repository.point_type_policy(session, region_id, case.point_type_id)
            due_at = rules.with_overrides(policy).due_at(case.severity, now)
        case.due_at = due_at.astimezone(UTC)
        if action == "dispatch":
            case.unit_id = body.unit_id
            case.dispatched_at = now
        else:
            case.parked_at = None
    elif action == "mark_duplicate":
        case.duplicate_of = body.duplicate_of
    elif action == "return":
        case.return_count += 1
    elif action == "request_extension":
        case.extension_requested_at = now
        case.extension_requested_due_at = body.due_at.astimezone(UTC) if body.due_at else None
    elif action == "extend":
        assert body.due_at is not None
        case.due_at = body.due_at.astimezone(UTC)
        case.extension_count += 1
    elif action == "rectify":
        case.rectified_at = case.rectified_at or now
        case.last_rectified_at = now
    elif action == "verify":
        case.closed_at = now
        case.closed_on_time = (
            case.last_rectified_at is not None
            and case.due_at is not None
            and case.last_rectified_at <= case.due_at
        )
    elif action == "reject":
        case.rework_count += 1
    elif action == "park":
        case.parked_at = now
    case.status = to_status
    if action == "extend" or (from_status == "assigned" and to_status != "assigned"):
        # A pending request is answered by an extension, or moot once the case moves on.
        case.extension_requested_at = None
        case.extension_requested_due_at = None

    event = add_event(
        session,
        case,
        at=now,
        actor_id=principal.person_id,
        action=action,
        from_status=from_status,
        note=body.note,
        photo_ids=body.photo_ids,
    )
    await session.flush()
    # Action photos are readable by whoever sees the case; the event link keeps provenance.
    await link_photos(
        session, region_id=region_id, photo_ids=body.photo_ids, owner_kind="case", owner_id=case.id
    )
    await link_photos(
        session,
        region_id=region_id,
        photo_ids=body.photo_ids,
        owner_kind="case_event",
        owner_id=event.id,
    )
    await session.refresh(case)
    return case


async def _duplicate_errors(
    session: AsyncSession, case: Case, duplicate_of: uuid.UUID | None
) -> list[dict[str, Any]]:
    loc = ["body", "duplicate_of"]
    if duplicate_of is None:
        return [{"loc": loc, "msg": "mark_duplicate requires duplicate_of (the surviving case)"}]
    if duplicate_of == case.id:
        return [{"loc": loc, "msg": "a case cannot duplicate itself"}]
    survivor = await repository.get_case(session, case.region_id, duplicate_of)
    if survivor is None:
        return [{"loc": loc, "msg": "no such case in this region"}]
    if survivor.status == "cancelled":
        return [{"loc": loc, "msg": "the surviving case is cancelled"}]
    return []
