"""Every SQL statement the test session sends, read back from the server's own log.

The embedded PostgreSQL has no ``pg_stat_statements``, and hooks in the client
would miss the e2e service processes, raw asyncpg calls and anything a script
sends. So the server itself writes each statement down: every database the
session creates is given ``log_statement = 'all'`` (``ALTER DATABASE … SET``,
as the superuser the harness already is), and the server's log line prefix
names the database and the ``application_name`` of the sender. At the end the
log is read from where it stood when the session began
(``tests/citus_routing.py`` checks what it holds).

The server's log is the file ``pg_ctl -l`` writes in the embedded server's data
folder (``.data/postgres/log``). PostgreSQL writes a message's further lines
with a leading tab, so a statement spanning lines reads back exactly.
With ``DATABASE_URL`` pointing at another server there is no log file this
process can read, and nothing is recorded (:data:`RECORDER` stays inactive).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from shared.db import asyncpg_connect_kwargs

# A whole session logs some hundreds of MB; a log past this is cut when a session starts.
LOG_KEPT_BYTES = 512 * 2**20
# What each log line starts with: time, [pid], then database and sender.
LOG_LINE_PREFIX = "%m [%p] db=%d app=%a: "
_ENTRY = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] db=(?P<db>\S*) app=(?P<app>.*?): "
    r"(?P<level>[A-Z]+\d?):  (?P<message>.*)$"
)
# log_statement's two forms: the simple protocol, and an execute of the extended one
# ("execute <unnamed>: …", "execute __asyncpg_stmt_3__: …", "execute fetch from a/b: …").
_STATEMENT = re.compile(r"^(?:statement|execute [^:]*): (?P<sql>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Recorded:
    """One statement as the server received it, with who sent it where."""

    sql: str
    application_name: str
    database: str


@dataclass
class StatementLog:
    """The server log of this session's databases; inactive until :meth:`begin`."""

    path: Path | None = None
    start_offset: int = 0
    databases: set[str] = field(default_factory=set)

    @property
    def active(self) -> bool:
        return self.path is not None

    def begin(self, admin_url: str, log_path: Path) -> None:
        """Name database and sender in every log line, and start reading at today's end."""
        _run(
            admin_url,
            f"ALTER SYSTEM SET log_line_prefix = '{LOG_LINE_PREFIX}'",
            "SELECT pg_reload_conf()",
        )
        # The reload reaches new backends once the postmaster has read it: wait for that.
        for _ in range(100):
            if _fetch_setting(admin_url, "log_line_prefix") == LOG_LINE_PREFIX:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the server did not take the new log_line_prefix")
        self.path = log_path
        if log_path.exists() and log_path.stat().st_size > LOG_KEPT_BYTES:
            # The server appends (O_APPEND), so cutting the file under it is safe.
            os.truncate(log_path, 0)
        self.start_offset = log_path.stat().st_size if log_path.exists() else 0

    def watch(self, admin_url: str, database: str) -> None:
        """Log every statement sent to ``database`` from now on (new connections)."""
        if not self.active:
            return
        _run(
            admin_url,
            f"ALTER DATABASE \"{database}\" SET log_statement = 'all'",
            # Values of bound parameters are not needed, and would swell the log.
            f'ALTER DATABASE "{database}" SET log_parameter_max_length = 0',
        )
        self.databases.add(database)

    def statements(self) -> list[Recorded]:
        """Every statement logged for the watched databases since :meth:`begin`."""
        if self.path is None or not self.path.exists():
            return []
        with self.path.open("rb") as log:
            size = log.seek(0, 2)
            log.seek(self.start_offset if size >= self.start_offset else 0)
            text = log.read().decode("utf-8", errors="replace")
        # A line still being written has no newline yet; it belongs to the next reading.
        text = text[: text.rfind("\n") + 1]
        return list(parse_log(text, self.databases))


def parse_log(text: str, databases: set[str]) -> list[Recorded]:
    """The statements in a stretch of server log that were sent to ``databases``."""
    found: list[Recorded] = []
    entry: re.Match[str] | None = None
    lines: list[str] = []

    def flush() -> None:
        if entry is None or entry["level"] != "LOG" or entry["db"] not in databases:
            return
        statement = _STATEMENT.match("\n".join([entry["message"], *lines]))
        if statement:
            found.append(Recorded(statement["sql"], entry["app"], entry["db"]))

    for line in text.split("\n"):
        if line.startswith("\t") and entry is not None:
            lines.append(line[1:])
            continue
        flush()
        entry, lines = _ENTRY.match(line), []
    flush()
    return found


def _run(url: str, *statements: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(**asyncpg_connect_kwargs(url))
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


def _fetch_setting(url: str, name: str) -> str:
    async def run() -> str:
        conn = await asyncpg.connect(**asyncpg_connect_kwargs(url))
        try:
            return await conn.fetchval("SELECT current_setting($1)", name)
        finally:
            await conn.close()

    return asyncio.run(run())


# The session's one recorder (the harness in tests/conftest.py starts it).
RECORDER = StatementLog()
