"""The last test of every session: was each statement it sent routable to one Citus shard?

``tests/statement_log.py`` has the server write down every statement sent to
the session's databases (the e2e service processes and scripts included);
this plugin appends one test, ``citus-routing``, after everything else that was
selected, so a subset (``pytest tests/registry``, ``-k``) checks exactly what it
sent. It runs only when some selected test used the database. Under ``-x`` a
failure before it stops the session first; that run is red anyway.

What it judges, and how, is in ``tests/citus_routing.py``. Not judged:
statements of Alembic (application ``chuangwei.migrations``: DDL and data
migrations run once, on the coordinator) and of the test harness itself
(applications ``chuangwei.tests…``: factories, set-up, assertions). Product code
run by a test on a harness connection is a gap the recorder cannot see apart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pytest
from pglast.parser import ParseError, fingerprint

from tests.citus_routing import CROSS_REGION, problems
from tests.statement_log import RECORDER, Recorded

NOT_JUDGED_APPLICATIONS = ("chuangwei.migrations", "chuangwei.tests")

HOW_TO_FIX = """\
Each statement above reads or writes a tenant table without pinning it to one
region, so on Citus it would go to every shard (or be refused). To fix one:
  - filter every tenant table on one value:  WHERE c.region_id = :region_id
  - join tenant tables on region_id too:      JOIN cases c ON c.region_id = i.region_id
                                                          AND c.inspection_id = i.id
  - an INSERT names region_id; ON CONFLICT names it in its key.
If a statement must cross regions on purpose (a background job finding which
regions have work, without locks), make it a module-level text()/select() in the
product, add it to CROSS_REGION in tests/citus_routing.py with the reason, and say
in the README what it costs on Citus. Tables every region reads (the region list,
accounts) are reference tables there: REFERENCE_TABLES, and deploy/citus.sql.
Rules and the reference tables: tests/citus_routing.py; README "Tenancy and the
scale-out plan"."""


@dataclass
class Offence:
    sql: str
    applications: set[str]
    times: int
    reasons: list[str]


def offences(recorded: list[Recorded]) -> list[Offence]:
    """Each distinct statement that is not routable and not allowed, with who sent it."""
    allowed = {fingerprint(entry.sql) for entry in CROSS_REGION}
    by_text: dict[str, list[Recorded]] = defaultdict(list)
    for statement in recorded:
        if not statement.application_name.startswith(NOT_JUDGED_APPLICATIONS):
            by_text[statement.sql].append(statement)
    found: dict[str, Offence] = {}
    for sql, sent in by_text.items():
        try:
            if fingerprint(sql) in allowed:
                continue
            reasons = [str(problem) for problem in problems(sql)]
            key = fingerprint(sql)
        except ParseError as error:
            reasons, key = [f"PostgreSQL's parser does not read it: {error}"], sql
        if not reasons:
            continue
        offence = found.setdefault(key, Offence(sql, set(), 0, reasons))
        offence.applications.update(s.application_name or "(no application_name)" for s in sent)
        offence.times += len(sent)
    return list(found.values())


def describe(found: list[Offence], judged: int) -> str:
    lines = [
        f"{len(found)} statement(s) of the {judged} this session sent would not reach "
        "one Citus shard:",
        "",
    ]
    for number, offence in enumerate(found, 1):
        sent_by = ", ".join(sorted(offence.applications))
        lines.append(f"{number}. sent {offence.times}x by {sent_by}")
        lines.extend(f"   - {reason}" for reason in offence.reasons)
        lines.extend(f"     | {line}" for line in offence.sql.strip().splitlines())
        lines.append("")
    lines.append(HOW_TO_FIX)
    return "\n".join(lines)


class RoutingFailed(Exception):
    pass


class CitusRoutingCheck(pytest.Item):
    """Every statement the session sent so far reaches one shard, or is allowed to cross."""

    def runtest(self) -> None:
        if not RECORDER.active:
            pytest.skip("statements are recorded on the embedded server only (DATABASE_URL is set)")
        recorded = RECORDER.statements()
        if not recorded:
            raise RoutingFailed(
                f"no statement was recorded in {RECORDER.path}: the recorder is broken"
            )
        found = offences(recorded)
        if found:
            raise RoutingFailed(describe(found, len(recorded)))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, RoutingFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, "citus-routing: every statement the session sent"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, items: list[pytest.Item]) -> None:
    # trylast: after -k / -m have deselected, so the check follows what will really run.
    if any("database_url" in getattr(item, "fixturenames", ()) for item in items):
        items.append(CitusRoutingCheck.from_parent(session, name="citus-routing"))
