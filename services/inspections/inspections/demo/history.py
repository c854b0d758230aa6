"""The demo district's history: about 90 days of woodpecker patrols and the cases they opened.

On first start with ``CW_DEMO`` on, the registry loads 上饶市广丰区 (172 points,
no history). This module then replays three months of work **through this
service's own write paths**, "at" the moments they happen (``shared.clock.travel_to``):

- the two demo inspectors' visits go through :func:`inspections.ingest.service.submit`
  — the registry is asked for each point's context over HTTP as for a phone, the
  visit is scored, and its failed items open cases with deadlines from the
  region's policy and holiday calendar;
- every later step of a case goes through :func:`inspections.cases.service.apply_action`
  by the person who would take it (the unit's liaison rectifies with an
  after-photo uploaded through :func:`inspections.photos.service.store_photo`, an
  inspector verifies or rejects, the admin extends, re-dispatches, parks or cancels).

So the history holds every fate a real district shows — closed on time, late,
reworked then closed, extended, returned and re-dispatched, cancelled, parked,
still open and overdue — and each unit shows its own habits (a few are diligent,
a few are not, so the reports rank and the black list names someone).

Only tables this service owns are written (SPEC §2): the registry's tables are only
read (the region, its accounts, units and points, as ingest and the case
workflow already read them). Everything happens in one transaction under an
advisory lock, so replicas starting together generate it once and the reporting
service (which raises the past months' notices afterwards) sees all of it or
nothing. Deterministic: a fixed seed; only the UUIDs and the dates (the history
ends at the moment of the first start) differ between runs.
"""

from __future__ import annotations

import asyncio
import heapq
import io
import logging
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from PIL import Image, ImageDraw
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from inspections.cases import repository as case_repository
from inspections.cases.context import RegistryLookup
from inspections.cases.schemas import CaseAction
from inspections.cases.service import apply_action
from inspections.ingest.registry import fetch_context
from inspections.ingest.schemas import InspectionCreate
from inspections.ingest.service import submit
from inspections.ingest.validation import deadline_rules
from inspections.photos.service import receive_upload, store_photo
from shared import clock
from shared.auth import Principal
from shared.demo import DEMO_REGION_CODE, DEMO_USERNAME_PREFIX
from shared.models import Case, Inspection, Person, Region, SamplePoint, Unit
from shared.workdays import DeadlineRules

log = logging.getLogger("chuangwei.inspections.demo")

SEED = 20261206
HISTORY_DAYS = 90
# pg_advisory_xact_lock key: "CW" + 2 (the registry's bootstrap uses "CW" + 1).
HISTORY_LOCK_KEY = 0x43570002

# Office hours of a district government in Jiangxi (summer and winter alike).
MORNING = (time(8, 30), time(11, 50))
AFTERNOON = (time(14, 30), time(17, 30))

# What a unit does with a case it is given, by the unit's habits. Weights per fate.
FATES = ("on_time", "late", "rework", "extended", "returned", "cancelled", "parked", "ignored")
HABITS: dict[str, tuple[int, ...]] = {
    #            on_time late rework extended returned cancelled parked ignored
    "diligent": (92, 1, 2, 2, 1, 1, 0, 1),
    "steady": (86, 3, 3, 3, 1, 1, 2, 1),
    "slow": (55, 20, 7, 5, 3, 2, 3, 5),
    "careless": (36, 30, 9, 4, 4, 3, 4, 10),
}
# Every twelfth case takes the next of these fates, whoever its unit: each shows up
# several times in any three months, not only when the dice fall that way.
EVERY_NTH_CASE = 12
ROTATION = ("rework", "returned", "cancelled", "parked", "extended", "ignored")
# Units get these habits in turn after a seeded shuffle: most are steady, about one in
# five is slow or careless (the black list of a real district names a few units a month).
HABIT_CYCLE = (
    *("steady", "diligent", "steady", "slow", "steady", "diligent"),
    *("steady", "careless", "diligent", "steady", "steady"),
)

DEFECT_NOTES = (
    "现场检查发现：{text}，不符合要求。",
    "{text}——未达标，请责任单位限期整改。",
    "暗访发现{text}存在问题，已拍照取证。",
)
RECTIFY_NOTES = (
    "已组织人员整改完毕，附整改后照片。",
    "已清理到位并建立日常巡查台账。",
    "已落实整改，责任人已约谈提醒。",
)
REJECT_NOTES = ("复查发现整改不彻底，请返工。", "现场仍有问题残留，整改不到位。")
VERIFY_NOTES = ("复查合格，予以销号。", "现场核查已整改到位。")
RETURN_NOTES = ("该点位不属于本单位职责范围，请重新派遣。", "经核实属其他部门管辖，申请回退。")
CANCEL_NOTE = "经核实为重复或无效上报，作废。"
PARK_NOTE = "涉及征迁改造，近期无法整改，报请挂账。"
EXTENSION_NOTE = "整改需采购材料并施工，申请延期三个工作日。"


@dataclass(frozen=True)
class Point:
    id: uuid.UUID
    code: str
    unit_id: uuid.UUID
    street: str
    lat: float
    lon: float


@dataclass
class Cast:
    """The demo region and the people who act in its history (read from the registry)."""

    region_id: uuid.UUID
    tz: ZoneInfo
    admin: Principal
    inspectors: list[Principal]
    liaisons: dict[uuid.UUID, Principal]  # unit id → the unit's account
    units: list[uuid.UUID]
    points: list[Point]


@dataclass
class Summary:
    inspections: int = 0
    cases: int = 0
    actions: int = 0
    fates: dict[str, int] = field(default_factory=dict)


Step = Callable[[], Awaitable[None]]


async def demo_region_id(session: AsyncSession, region_code: str) -> uuid.UUID | None:
    return await session.scalar(select(Region.id).where(Region.code == region_code))


async def has_history(session: AsyncSession, region_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(Inspection.id).where(Inspection.region_id == region_id).limit(1)
    )
    return found is not None


async def load_cast(
    session: AsyncSession, region_id: uuid.UUID, username_prefix: str
) -> Cast | None:
    """The region's demo accounts, units and active points; None when an account is missing."""
    region = await session.get(Region, region_id)
    assert region is not None
    people = (
        await session.scalars(
            select(Person).where(
                Person.region_id == region_id,
                Person.active.is_(True),
                Person.username.like(f"{username_prefix}-%"),
            )
        )
    ).all()

    def principal(person: Person) -> Principal:
        return Principal(
            subject_id=person.id,
            region_id=region_id,
            role=person.role,  # type: ignore[arg-type]
            unit_id=person.unit_id,
            username=person.username,
        )

    by_name = {p.username: p for p in people}
    admin = by_name.get(f"{username_prefix}-admin")
    inspectors = [
        by_name[n]
        for n in (f"{username_prefix}-inspector", f"{username_prefix}-inspector2")
        if n in by_name
    ]
    if admin is None or not inspectors:
        return None
    liaisons: dict[uuid.UUID, Principal] = {}
    for person in sorted(people, key=lambda p: p.username):
        if person.role == "unit" and person.unit_id is not None:
            liaisons.setdefault(person.unit_id, principal(person))
    units = list(
        await session.scalars(
            select(Unit.id).where(Unit.region_id == region_id).order_by(Unit.code)
        )
    )
    # A patrol keeps to one street (街道) a day: a point's street is the root of its
    # grid's path in the division tree.
    rows = await session.execute(
        text(
            """
            SELECT sp.id, sp.code, sp.unit_id, sp.lat, sp.lon, street.code AS street
            FROM sample_points sp
            JOIN divisions d ON d.region_id = sp.region_id AND d.id = sp.division_id
            JOIN divisions street ON street.region_id = sp.region_id
             AND street.id = CAST(split_part(d.path, '/', 2) AS uuid)
            WHERE sp.region_id = :rid AND sp.status = 'active'
              AND sp.unit_id IS NOT NULL AND sp.lat IS NOT NULL AND sp.lon IS NOT NULL
            ORDER BY sp.code
            """
        ),
        {"rid": region_id},
    )
    points = [Point(r.id, r.code, r.unit_id, r.street, float(r.lat), float(r.lon)) for r in rows]
    return Cast(
        region_id=region_id,
        tz=ZoneInfo(region.timezone),
        admin=principal(admin),
        inspectors=[principal(p) for p in inspectors],
        liaisons=liaisons,
        units=units,
        points=points,
    )


class History:
    """Replays the history in time order: a queue of steps, each run "at" its moment."""

    def __init__(
        self, session: AsyncSession, app: FastAPI, cast: Cast, *, now: datetime, days: int
    ) -> None:
        self.session = session
        self.app = app
        self.cast = cast
        self.now = now
        self.days = days
        self.rng = random.Random(SEED)
        self.queue: list[tuple[datetime, int, Step]] = []
        self.seq = 0
        self.summary = Summary()
        self.contexts: dict[uuid.UUID, dict[str, Any]] = {}
        self.rules: DeadlineRules | None = None
        self.habits = self._habits()
        self.neglected = self._neglected()
        self.last_visit: dict[uuid.UUID, datetime] = {}

    # -- setting the stage -----------------------------------------------------

    def _habits(self) -> dict[uuid.UUID, str]:
        units = list(self.cast.units)
        self.rng.shuffle(units)
        return {u: HABIT_CYCLE[i % len(HABIT_CYCLE)] for i, u in enumerate(units)}

    def _neglected(self) -> set[uuid.UUID]:
        """About one point in eight nobody visits in the last month: the blind spots."""
        points = sorted(self.cast.points, key=lambda p: p.code)
        return {p.id for p in self.rng.sample(points, k=max(1, len(points) // 8))}

    async def _context(self, point: Point) -> dict[str, Any]:
        ctx = self.contexts.get(point.id)
        if ctx is None:
            ctx = await fetch_context(
                self.app,
                region_id=self.cast.region_id,
                sample_point_id=point.id,
                checklist_version=None,
            )
            if ctx is None or not ctx.get("checklist"):
                raise RuntimeError(f"the registry has no checklist for {point.code}")
            # Ingest asks for the version the visit names; the answer is the same, so it is
            # shared through ingest's context cache instead of being asked for again.
            key = (self.cast.region_id, point.id, ctx["checklist"]["version"])
            self.app.state.context_cache.put(key, ctx)
            self.contexts[point.id] = ctx
        return ctx

    def _local(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.cast.tz).astimezone(UTC)

    def at(self, moment: datetime, step: Step) -> None:
        """Queue ``step`` for ``moment``; steps that would happen after now never do."""
        if moment >= self.now:
            return
        self.seq += 1
        heapq.heappush(self.queue, (moment, self.seq, step))

    def office_time(self, moment: datetime, *, jitter_minutes: int = 40) -> datetime:
        """``moment`` if it falls in office hours, else the next working morning or afternoon."""
        assert self.rules is not None
        local = moment.astimezone(self.cast.tz)
        day, clock_time = local.date(), local.time()
        for _ in range(30):
            if self.rules.is_workday(day):
                for start, end in (MORNING, AFTERNOON):
                    if clock_time < start:
                        offset = timedelta(minutes=self.rng.randint(5, jitter_minutes))
                        return self._local(day, start) + offset
                    if clock_time < end:
                        return local.astimezone(UTC)
            day += timedelta(days=1)
            clock_time = time(0, 0)
        return moment

    def in_time(self, when: datetime, due_at: datetime) -> datetime:
        """``when`` moved into office hours — unless that misses ``due_at``: a unit that means
        to be on time works late instead (加班), shortly before the deadline."""
        moment = self.office_time(when)
        if moment <= due_at:
            return moment
        return max(due_at - timedelta(minutes=self.rng.randint(20, 180)), when)

    # -- the patrols -------------------------------------------------------------

    async def run(self) -> Summary:
        first = await self._context(self.cast.points[0])
        self.plan(deadline_rules(first))
        while self.queue:
            moment, _, step = heapq.heappop(self.queue)
            with clock.travel_to(moment):
                await step()
        return self.summary

    def plan(self, rules: DeadlineRules) -> list[tuple[datetime, str, str]]:
        """Queue every patrol visit of the history, by the region's working calendar; the
        visits as (moment, inspector, point code), in the order they are submitted."""
        self.rules = rules
        today = self.now.astimezone(self.cast.tz).date()
        for offset in range(self.days, -1, -1):
            self._plan_day(today - timedelta(days=offset))
        return [(moment, *step.visit) for moment, _, step in sorted(self.queue)]  # type: ignore[attr-defined]

    def _plan_day(self, day: date) -> None:
        assert self.rules is not None
        streets = sorted({p.street for p in self.cast.points})
        workday = self.rules.is_workday(day)
        for n, inspector in enumerate(self.cast.inspectors):
            if not workday and self.rng.random() > 0.12:  # an occasional weekend sweep (周末突击)
                continue
            if workday and self.rng.random() < 0.06:  # leave, training, meetings
                continue
            # Each inspector has their own streets, and now and then helps in another's.
            own = streets[n % len(self.cast.inspectors) :: len(self.cast.inspectors)]
            street = self.rng.choice(own if own and self.rng.random() < 0.8 else streets)
            visits = self.rng.randint(6, 9) if workday else self.rng.randint(3, 5)
            start = datetime.combine(day, MORNING[0], tzinfo=self.cast.tz) + timedelta(
                minutes=self.rng.randint(5, 35)
            )
            self._plan_round(day, inspector, street, visits, start.astimezone(UTC))

    def _plan_round(
        self, day: date, inspector: Principal, street: str, visits: int, start: datetime
    ) -> None:
        moment = start
        lunch = self._local(day, MORNING[1])
        afternoon = self._local(day, AFTERNOON[0])
        closing = self._local(day, AFTERNOON[1])
        recent_cutoff = self.now - timedelta(days=30)
        for _ in range(visits):
            if lunch <= moment < afternoon:
                moment = afternoon + timedelta(minutes=self.rng.randint(0, 25))
            duration = timedelta(minutes=self.rng.randint(12, 35))
            if moment + duration > closing:
                break
            finished = moment + duration
            choices = [
                p
                for p in self.cast.points
                if p.street == street and not (p.id in self.neglected and finished > recent_cutoff)
            ]
            if not choices:
                break
            # Patrols go where they have not been lately, but not strictly in turn.
            choices.sort(key=lambda p: self.last_visit.get(p.id, datetime.min.replace(tzinfo=UTC)))
            point = self.rng.choice(choices[: max(3, len(choices) // 3)])
            self.last_visit[point.id] = finished
            synced = finished + timedelta(minutes=self.rng.randint(1, 45))
            self.at(synced, self._visit_step(inspector, point, moment, finished))
            moment = finished + timedelta(minutes=self.rng.randint(8, 30))

    def _visit_step(
        self, inspector: Principal, point: Point, started: datetime, finished: datetime
    ) -> Step:
        async def step() -> None:
            await self._visit(inspector, point, started, finished)

        step.visit = (inspector.username, point.code)  # type: ignore[attr-defined]
        return step

    async def _visit(
        self, inspector: Principal, point: Point, started: datetime, finished: datetime
    ) -> None:
        ctx = await self._context(point)
        checklist = ctx["checklist"]
        habit = self.habits.get(point.unit_id, "steady")
        fail_share = {"diligent": 0.04, "steady": 0.05, "slow": 0.07, "careless": 0.09}[habit]
        results, cases = [], []
        for item in checklist["items"]:
            if item.get("veto_below") is None and self.rng.random() < 0.04:
                results.append({"item_code": item["code"], "outcome": "na"})
                continue
            if self.rng.random() < fail_share and len(cases) < 3:
                grade = self.rng.randint(2, 6)
                results.append({"item_code": item["code"], "outcome": "fail", "grade": grade})
                severity = self.rng.choices(("urgent", "normal", "complex"), (12, 73, 15))[0]
                note = self.rng.choice(DEFECT_NOTES).format(text=item["text"])
                cases.append(
                    {
                        "id": str(self._uuid()),
                        "item_code": item["code"],
                        "description": note,
                        "severity": severity,
                    }
                )
            else:
                grade = self.rng.choices((10, 9, 8, 7), (30, 40, 22, 8))[0]
                results.append({"item_code": item["code"], "outcome": "pass", "grade": grade})
        off = 0.004 if self.rng.random() < 0.02 else 0.0002  # now and then logged off-site
        body = InspectionCreate.model_validate(
            {
                "id": str(self._uuid()),
                "sample_point_id": str(point.id),
                "checklist_version": checklist["version"],
                "source": "woodpecker",
                "started_at": started.isoformat(),
                "finished_at": finished.isoformat(),
                "location": {
                    "lat": round(point.lat + self.rng.uniform(-off, off), 6),
                    "lon": round(point.lon + self.rng.uniform(-off, off), 6),
                    "accuracy_m": self.rng.randint(5, 30),
                },
                "results": results,
                "cases": cases,
                "epidemic": {
                    "health_code_checked": self.rng.random() < 0.93,
                    "temperature_checked": self.rng.random() < 0.9,
                    "masks_worn": self.rng.random() < 0.85,
                },
            }
        )
        outcome = await submit(self.session, self.app, principal=inspector, body=body)
        if outcome.status != 201:
            raise RuntimeError(f"the demo visit {body.id} was answered {outcome.status}")
        self.summary.inspections += 1
        for case in body.cases:
            stored = await self._case(case.id)
            self.summary.cases += 1
            self._plan_fate(stored, inspector, habit)

    # -- the cases ---------------------------------------------------------------

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    async def _case(self, case_id: uuid.UUID) -> Case:
        case = await case_repository.get_case(self.session, self.cast.region_id, case_id)
        assert case is not None
        return case

    def _plan_fate(self, case: Case, inspector: Principal, habit: str) -> None:
        fate = self.rng.choices(FATES, HABITS[habit])[0]
        if self.summary.cases % EVERY_NTH_CASE == EVERY_NTH_CASE // 2:
            # Whatever the unit's habits: a wrong dispatch, a duplicate report, a job that
            # waits for demolition happen to everybody now and then.
            fate = ROTATION[(self.summary.cases // EVERY_NTH_CASE) % len(ROTATION)]
        assert case.dispatched_at is not None and case.due_at is not None
        unit = self.cast.liaisons.get(case.unit_id) if case.unit_id else None
        if unit is None:
            fate = "ignored"
        self.summary.fates[fate] = self.summary.fates.get(fate, 0) + 1
        if fate == "ignored":
            return
        assert unit is not None
        span = case.due_at - case.dispatched_at
        early = self._within(case.dispatched_at, span, 0.15, 0.35)
        if fate in ("on_time", "late", "rework"):
            if fate == "late":
                when = self.office_time(case.due_at + timedelta(hours=self.rng.uniform(3, 96)))
            else:
                when = self.in_time(self._within(case.dispatched_at, span, 0.2, 0.75), case.due_at)
            self.at(
                when,
                self._rectify_step(case.id, unit, inspector, rework=fate == "rework"),
            )
        elif fate == "extended":
            self.at(self.office_time(early), self._extension_step(case.id, unit, inspector))
        elif fate in ("returned", "cancelled"):
            self.at(self.office_time(early), self._return_step(case.id, unit, inspector, fate))
        elif fate == "parked":
            self.at(
                self.office_time(early), self._act_step(case.id, self.cast.admin, "park", PARK_NOTE)
            )

    def _within(self, start: datetime, span: timedelta, low: float, high: float) -> datetime:
        return start + span * self.rng.uniform(low, high)

    async def _act(self, case_id: uuid.UUID, who: Principal, action: str, **fields: Any) -> Case:
        case = await self._case(case_id)
        body = CaseAction(action=action, **fields)  # type: ignore[arg-type]
        case = await apply_action(
            self.session,
            principal=who,
            case=case,
            body=body,
            registry=RegistryLookup(self.app),
        )
        self.summary.actions += 1
        return case

    def _act_step(self, case_id: uuid.UUID, who: Principal, action: str, note: str) -> Step:
        async def step() -> None:
            await self._act(case_id, who, action, note=note)

        return step

    def _rectify_step(
        self, case_id: uuid.UUID, unit: Principal, inspector: Principal, *, rework: bool
    ) -> Step:
        async def step() -> None:
            photo = await self._after_photo(unit)
            case = await self._act(
                case_id, unit, "rectify", note=self.rng.choice(RECTIFY_NOTES), photo_ids=[photo]
            )
            check = clock.now() + timedelta(hours=self.rng.uniform(2, 40))
            if rework:
                self.at(self.office_time(check), self._reject_step(case.id, unit, inspector))
            else:
                self.at(
                    self.office_time(check),
                    self._act_step(case.id, inspector, "verify", self.rng.choice(VERIFY_NOTES)),
                )

        return step

    def _reject_step(self, case_id: uuid.UUID, unit: Principal, inspector: Principal) -> Step:
        async def step() -> None:
            await self._act(case_id, inspector, "reject", note=self.rng.choice(REJECT_NOTES))
            # The unit redoes the work at once when it still can; the deadline stays (返工).
            case = await self._case(case_id)
            assert case.due_at is not None
            again = clock.now() + timedelta(hours=self.rng.uniform(2, 30))
            self.at(
                self.in_time(again, case.due_at)
                if again < case.due_at
                else self.office_time(again),
                self._rectify_step(case_id, unit, inspector, rework=False),
            )

        return step

    def _extension_step(self, case_id: uuid.UUID, unit: Principal, inspector: Principal) -> Step:
        async def step() -> None:
            assert self.rules is not None
            case = await self._case(case_id)
            assert case.due_at is not None
            local_due = case.due_at.astimezone(self.cast.tz)
            new_day = self.rules.add_workdays(local_due.date(), 3)
            new_due = datetime.combine(new_day, local_due.timetz()).astimezone(UTC)
            await self._act(case_id, unit, "request_extension", note=EXTENSION_NOTE, due_at=new_due)
            granted = self.office_time(clock.now() + timedelta(hours=self.rng.uniform(1, 20)))
            self.at(granted, self._extend_step(case_id, unit, inspector, new_due))

        return step

    def _extend_step(
        self, case_id: uuid.UUID, unit: Principal, inspector: Principal, new_due: datetime
    ) -> Step:
        async def step() -> None:
            case = await self._act(
                case_id, self.cast.admin, "extend", note="同意延期。", due_at=new_due
            )
            assert case.due_at is not None
            span = case.due_at - clock.now()
            self.at(
                self.in_time(self._within(clock.now(), span, 0.2, 0.75), case.due_at),
                self._rectify_step(case_id, unit, inspector, rework=False),
            )

        return step

    def _return_step(
        self, case_id: uuid.UUID, unit: Principal, inspector: Principal, fate: str
    ) -> Step:
        async def step() -> None:
            await self._act(case_id, unit, "return", note=self.rng.choice(RETURN_NOTES))
            later = self.office_time(clock.now() + timedelta(hours=self.rng.uniform(1, 24)))
            if fate == "cancelled":
                self.at(later, self._act_step(case_id, self.cast.admin, "cancel", CANCEL_NOTE))
            else:
                self.at(later, self._redispatch_step(case_id, unit, inspector))

        return step

    def _redispatch_step(self, case_id: uuid.UUID, former: Principal, inspector: Principal) -> Step:
        async def step() -> None:
            others = [u for u in self.cast.units if u != former.unit_id and u in self.cast.liaisons]
            target = self.rng.choice(others)
            case = await self._act(
                case_id, self.cast.admin, "dispatch", note="重新派遣至责任单位。", unit_id=target
            )
            assert case.dispatched_at is not None and case.due_at is not None
            span = case.due_at - case.dispatched_at
            self.at(
                self.in_time(self._within(case.dispatched_at, span, 0.2, 0.75), case.due_at),
                self._rectify_step(case_id, self.cast.liaisons[target], inspector, rework=False),
            )

        return step

    async def _after_photo(self, unit: Principal) -> uuid.UUID:
        """An after-photo (整改后照片) uploaded by the unit, as its phone would."""
        photo_id = self._uuid()
        image = Image.new("RGB", (96, 72), self._colour())
        ImageDraw.Draw(image).text((6, 28), photo_id.hex[:10], fill=(255, 255, 255))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=70)
        data = buffer.getvalue()
        upload = await receive_upload(_chunks(data), max_bytes=len(data), declared_length=None)
        try:
            await store_photo(
                self.session,
                self.app.state.blob_store,
                principal=unit,
                photo_id=photo_id,
                upload=upload,
            )
        finally:
            upload.close()
        return photo_id

    def _colour(self) -> tuple[int, int, int]:
        return (self.rng.randint(40, 200), self.rng.randint(60, 180), self.rng.randint(40, 160))


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def generate_history(
    session: AsyncSession,
    app: FastAPI,
    *,
    region_code: str = DEMO_REGION_CODE,
    username_prefix: str = DEMO_USERNAME_PREFIX,
    days: int = HISTORY_DAYS,
    now: datetime | None = None,
) -> Summary | None:
    """Record the demo region's history unless it has some; flushes, never commits.

    Takes the history lock for the caller's transaction. None when there is no such
    region, its demo accounts are missing, or it already has inspections.
    """
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": HISTORY_LOCK_KEY})
    region_id = await demo_region_id(session, region_code)
    if region_id is None or await has_history(session, region_id):
        return None
    cast = await load_cast(session, region_id, username_prefix)
    if cast is None or not cast.points:
        return None
    history = History(session, app, cast, now=now or clock.now(), days=days)
    return await history.run()


async def wait_for_registry(app: FastAPI, *, wait_seconds: float) -> uuid.UUID | None:
    """The demo region's id once the registry has loaded it and answers, or None."""
    sessionmaker = app.state.sessionmaker
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while asyncio.get_running_loop().time() < deadline:
        try:
            async with sessionmaker() as session:
                regions = await session.scalar(select(Region.id).limit(1))
                region_id = await demo_region_id(session, DEMO_REGION_CODE)
                point_id = (
                    await session.scalar(
                        select(SamplePoint.id).where(SamplePoint.region_id == region_id).limit(1)
                    )
                    if region_id
                    else None
                )
            if regions is not None and region_id is None:
                return None  # the registry bootstrapped without the demo
            if region_id is not None and point_id is not None:
                ctx = await fetch_context(
                    app, region_id=region_id, sample_point_id=point_id, checklist_version=None
                )
                if ctx is not None:
                    return region_id
        except Exception as exc:  # the registry or the database is still starting
            log.debug("waiting for the demo region: %s", exc)
        await asyncio.sleep(0.5)
    return None


async def ensure_demo_history(app: FastAPI, *, wait_seconds: float = 120.0) -> Summary | None:
    """First start with ``CW_DEMO``: wait for the registry's demo region, then record its
    history in one transaction (a replica that finds it recorded does nothing)."""
    if await wait_for_registry(app, wait_seconds=wait_seconds) is None:
        log.info("no demo region to give a history")
        return None
    started = asyncio.get_running_loop().time()
    async with app.state.sessionmaker() as session, session.begin():
        summary = await generate_history(session, app)
    if summary is not None:
        log.info(
            "demo history recorded: %d inspections, %d cases, %d case actions in %.1f s; fates %s",
            summary.inspections,
            summary.cases,
            summary.actions,
            asyncio.get_running_loop().time() - started,
            summary.fates,
        )
    return summary
