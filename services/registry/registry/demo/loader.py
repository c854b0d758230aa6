"""Load the demo district (data.py) into a fresh region.

``bootstrap()`` calls :func:`load_demo_region` inside its transaction on an
empty database unless ``CW_DEMO=0``, so this only adds and flushes, never
commits. Everything is generated from a fixed seed: every load yields the same
divisions, units, 21 point types, 172 sample points and chiefs (only the UUIDs
differ). Rows are built as ORM objects and flushed in four batches, parents
before children, so the whole district loads well under a second.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.demo import data
from registry.demo.data import STREET_OFFICE, Community, PointTypeSpec, Street
from registry.regions.service import provision_region
from registry.regions.templates import NATIONAL, apply_template
from shared.auth import password_hash
from shared.demo import DEMO_REGION_CODE, DEMO_USERNAME_PREFIX
from shared.errors import Conflict
from shared.models import (
    Chief,
    Division,
    Person,
    PointType,
    Region,
    SamplePoint,
    Unit,
)

__all__ = ["DEMO_REGION_CODE", "DEMO_USERNAME_PREFIX", "load_demo_region"]


@dataclass
class _Grid:
    row: Division
    street: Street
    community: Community
    centre: tuple[float, float]


async def load_demo_region(
    session: AsyncSession,
    *,
    code: str = DEMO_REGION_CODE,
    username_prefix: str = DEMO_USERNAME_PREFIX,
) -> Region:
    """Provision the demo region and fill it; usernames are ``<username_prefix>-…``.

    ``code`` and ``username_prefix`` exist so tests can load a second copy next
    to the real one (region codes and usernames are globally unique).
    """
    usernames = [
        f"{username_prefix}-{suffix}" for suffix, *_ in (*data.ACCOUNTS, *data.unit_liaisons())
    ]
    taken = await session.scalar(select(Person.username).where(Person.username.in_(usernames)))
    if taken:
        raise Conflict(f"The username {taken!r} is taken; pick another username_prefix.")
    region = await provision_region(
        session, code=code, name=data.REGION_NAME, timezone=data.TIMEZONE
    )
    # Point types, checklists, archive requirements and the holiday calendar come from
    # the national template, exactly as for any region created with --template national.
    template = await apply_template(session, region, NATIONAL)
    await _Builder(session, region.id, template.point_types, username_prefix).load()
    return region


class _Builder:
    def __init__(
        self,
        session: AsyncSession,
        region_id: uuid.UUID,
        point_types: dict[str, PointType],
        username_prefix: str,
    ) -> None:
        self.session = session
        self.region_id = region_id
        self.types = point_types
        self.prefix = username_prefix
        self.rng = random.Random(data.SEED)
        # argon2 is deliberately slow: hash once, share it across every demo account.
        self.hash = password_hash.hash(data.DEMO_PASSWORD)
        self.units: dict[str, uuid.UUID] = {}
        self.streets: dict[str, Division] = {}
        self.grids: list[_Grid] = []

    async def load(self) -> None:
        self.session.add_all([*self._units(), *self._divisions()])
        await self.session.flush()
        self.session.add_all(self._accounts())
        chiefs, chief_people = self._chiefs()
        self.session.add_all(chief_people)
        await self.session.flush()
        self.session.add_all([*chiefs, *self._sample_points(self.types)])
        await self.session.flush()

    # -- organisation ---------------------------------------------------------

    def _units(self) -> list[Unit]:
        rows = []
        for code, name, kind, phone in data.UNITS:
            row = Unit(
                region_id=self.region_id,
                id=uuid.uuid4(),
                code=code,
                name=name,
                kind=kind,
                contact_phone=phone,
            )
            self.units[code] = row.id
            rows.append(row)
        return rows

    def _divisions(self) -> list[Division]:
        rows = []
        for street in data.STREETS:
            s = self._division(None, "street", data.division_code(street), street.name)
            self.streets[street.code] = s
            rows.append(s)
            for community in street.communities:
                c = self._division(
                    s, "community", data.division_code(street, community), community.name
                )
                rows.append(c)
                c_centre = (
                    street.centre[0] + self.rng.uniform(-0.006, 0.006),
                    street.centre[1] + self.rng.uniform(-0.007, 0.007),
                )
                for n in range(1, community.grids + 1):
                    g = self._division(
                        c,
                        "grid",
                        data.division_code(street, community, n),
                        f"{community.name}第{n}网格",
                    )
                    rows.append(g)
                    g_centre = (
                        c_centre[0] + self.rng.uniform(-0.002, 0.002),
                        c_centre[1] + self.rng.uniform(-0.002, 0.002),
                    )
                    self.grids.append(_Grid(g, street, community, g_centre))
        return rows

    def _division(self, parent: Division | None, level: str, code: str, name: str) -> Division:
        new_id = uuid.uuid4()
        return Division(
            region_id=self.region_id,
            id=new_id,
            parent_id=parent.id if parent else None,
            level=level,
            code=code,
            name=name,
            path=f"{parent.path if parent else '/'}{new_id}/",
        )

    def _person(self, username: str, display_name: str, role: str, unit: str | None) -> Person:
        return Person(
            region_id=self.region_id,
            id=uuid.uuid4(),
            username=username,
            password_hash=self.hash,
            display_name=display_name,
            phone=self._mobile(),
            role=role,
            unit_id=self.units[unit] if unit else None,
            active=True,
        )

    def _accounts(self) -> list[Person]:
        named = [
            self._person(f"{self.prefix}-{suffix}", display_name, role, unit)
            for suffix, display_name, role, unit in data.ACCOUNTS
        ]
        # The liaisons draw their phone numbers from a generator of their own, so adding
        # them left the rest of the fixed-seed district (names, places, chiefs) unchanged.
        main_rng, self.rng = self.rng, random.Random(data.SEED + 1)
        try:
            liaisons = [
                self._person(f"{self.prefix}-{suffix}", display_name, role, unit)
                for suffix, display_name, role, unit in data.unit_liaisons()
            ]
        finally:
            self.rng = main_rng
        return named + liaisons

    def _chiefs(self) -> tuple[list[Chief], list[Person]]:
        """A 网格长 for every grid, a 片长 for every street, a 路长 for every main road."""
        chiefs, people = [], []

        def add(username: str, kind: str, division: Division | None, road: str | None = None):
            person = self._person(username, self._person_name(), "leader", None)
            people.append(person)
            chiefs.append(
                Chief(
                    region_id=self.region_id,
                    id=uuid.uuid4(),
                    person_id=person.id,
                    kind=kind,
                    division_id=division.id if division else None,
                    road_name=road,
                )
            )

        for street in data.STREETS:
            division = self.streets[street.code]
            add(f"{self.prefix}-area-{division.code.lower()}", "area", division)
        for grid in self.grids:
            add(f"{self.prefix}-grid-{grid.row.code.lower()}", "grid", grid.row)
        for n, (road, street_code) in enumerate(data.ROAD_CHIEF_ROADS, start=1):
            add(f"{self.prefix}-road-{n:02d}", "road", self.streets[street_code], road)
        return chiefs, people

    def _person_name(self) -> str:
        return self.rng.choice(data.SURNAMES) + self.rng.choice(data.GIVEN_NAMES)

    def _mobile(self) -> str:
        # 0793 is Shangrao's area code; local mobile numbers commonly carry it too.
        return f"1{self.rng.choice(('38', '39', '58', '59', '87', '88'))}7930{self.rng.randrange(10_000):04d}"

    # -- sample points ---------------------------------------------------------------

    def _sample_points(self, types: dict[str, PointType]) -> list[SamplePoint]:
        rows: list[SamplePoint] = []
        used_names: set[str] = set()
        for spec in data.POINT_TYPES:
            words = _Cycle(spec.words, self.rng)
            for seq in range(1, spec.count + 1):
                grid = self._pick_grid(spec)
                name, address = self._name_and_address(spec, grid, words, used_names)
                lat, lon = self._near(grid.centre)
                unit = (
                    data.street_office_code(grid.street)
                    if spec.units == (STREET_OFFICE,)
                    else self.rng.choice(spec.units)
                )
                rows.append(
                    SamplePoint(
                        region_id=self.region_id,
                        id=uuid.uuid4(),
                        code=f"GF-{spec.code}-{seq:03d}",
                        name=name,
                        point_type_id=types[spec.code].id,
                        division_id=grid.row.id,
                        address=address,
                        lat=lat,
                        lon=lon,
                        unit_id=self.units[unit],
                        status="active",
                    )
                )
        return rows

    def _pick_grid(self, spec: PointTypeSpec) -> _Grid:
        streets = [s for s in data.STREETS if not spec.streets or s.code in spec.streets]
        street = self.rng.choices(streets, weights=[s.weight for s in streets])[0]
        return self.rng.choice([g for g in self.grids if g.street is street])

    def _name_and_address(
        self, spec: PointTypeSpec, grid: _Grid, words: _Cycle, used: set[str]
    ) -> tuple[str, str]:
        """A plausible name not used yet in the district, and the matching address."""
        name = address = ""
        for _attempt in range(30):
            fields = {
                "place": grid.community.name.removesuffix("社区").removesuffix("村"),
                "street": grid.street.name.removesuffix("街道").removesuffix("镇"),
                "road": self.rng.choice(grid.street.roads),
                "surname": self.rng.choice(data.SURNAMES),
                "word": words.next(),
                "n": self.rng.randint(1, 388),
                "k": self.rng.randint(1, 9),
            }
            name = self.rng.choice(spec.names).format(**fields)
            address = f"上饶市广丰区{grid.street.name}" + spec.address.format(**fields)
            if name not in used:
                break
        else:
            name = f"{name}（{len(used)}）"
        used.add(name)
        return name, address

    def _near(self, centre: tuple[float, float]) -> tuple[float, float]:
        lat_min, lat_max, lon_min, lon_max = data.BBOX
        lat = min(max(self.rng.gauss(centre[0], 0.0012), lat_min + 0.002), lat_max - 0.002)
        lon = min(max(self.rng.gauss(centre[1], 0.0012), lon_min + 0.002), lon_max - 0.002)
        return round(lat, 6), round(lon, 6)


class _Cycle:
    """Draw from a pool without repeats until it is exhausted, then reshuffle."""

    def __init__(self, pool: tuple[str, ...], rng: random.Random) -> None:
        self.pool = pool
        self.rng = rng
        self.queue: list[str] = []

    def next(self) -> str:
        if not self.pool:
            return ""
        if not self.queue:
            self.queue = list(self.pool)
            self.rng.shuffle(self.queue)
        return self.queue.pop()
