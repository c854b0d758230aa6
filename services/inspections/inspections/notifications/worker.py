"""A dispatcher on its own, without the HTTP service: ``python -m inspections.notifications.worker``.

For deployments that keep sending apart from serving (several of these run side by
side safely, like replicas of the service), and for the tests that run two
dispatcher processes against one database. ``--run-for SECONDS`` stops it after a
while; without it, it runs until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from inspections.notifications.dispatcher import Dispatcher
from inspections.settings import InspectionsSettings
from shared.db import create_sessionmaker, engine_from_settings
from shared.observability import configure_logging


async def run(run_for: float | None) -> None:
    settings = InspectionsSettings()
    configure_logging(
        "inspections.notifications", level=settings.log_level, json_logs=settings.log_json
    )
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set")
    engine = engine_from_settings(settings, application_name="chuangwei.inspections.notifications")
    dispatcher = Dispatcher(create_sessionmaker(engine), settings)
    try:
        task = asyncio.create_task(dispatcher.run())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), timeout=run_for)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await dispatcher.aclose()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-for", type=float, default=None, help="stop after SECONDS")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args.run_for))


if __name__ == "__main__":
    main()
