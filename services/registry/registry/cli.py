"""``chuangwei``: the operator's command line (run as ``uv run chuangwei …``)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from sqlalchemy.exc import ProgrammingError

from registry.regions.service import parse_credentials, provision_region
from registry.regions.templates import apply_template, national_calendar_years
from shared.db import create_engine, create_sessionmaker
from shared.errors import AppError
from shared.settings import CommonSettings


async def _create_region(args: argparse.Namespace) -> int:
    database_url = CommonSettings().database_url
    if not database_url:
        # Like `make run`: the embedded development database under .data/.
        from shared.embedded_db import dev_database_url, start_embedded_postgres

        database_url = dev_database_url(start_embedded_postgres())
    username, password = parse_credentials(args.admin)
    engine = create_engine(database_url, application_name="chuangwei.cli")
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            region = await provision_region(
                session,
                code=args.code,
                name=args.name,
                timezone=args.timezone,
                admin_username=username,
                admin_password=password,
            )
            summary = ""
            if args.template:
                applied = await apply_template(session, region, args.template)
                first, last = national_calendar_years()
                summary = (
                    f"; from template {args.template}: {len(applied.point_types)} point types, "
                    f"{applied.checklists} checklists, {applied.archive_items} archive items, "
                    f"{applied.calendar_days} holiday and make-up days ({first}–{last})"
                )
            print(f"region {region.code} created (id {region.id}); admin {username}{summary}")
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    except ProgrammingError as exc:  # e.g. the schema is not migrated yet
        print(f"error: {exc.orig} (start the services once with `make run`)", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chuangwei", description="Chuangwei operator commands")
    sub = parser.add_subparsers(dest="command", required=True)
    region = sub.add_parser("region", help="manage regions").add_subparsers(
        dest="action", required=True
    )
    create = region.add_parser("create", help="provision a region with its first admin")
    create.add_argument("--code", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--timezone", default="Asia/Shanghai")
    create.add_argument("--admin", required=True, metavar="USERNAME:PASSWORD")
    create.add_argument(
        "--template",
        metavar="national|REGION_CODE",
        help="copy point types, checklists, deadline policies and archive requirements from "
        "the national catalogue or an existing region, with the national holiday calendar",
    )
    args = parser.parse_args(argv)
    try:
        parse_credentials(args.admin)
    except ValueError:
        parser.error("--admin must be USERNAME:PASSWORD")
    return asyncio.run(_create_region(args))


if __name__ == "__main__":
    sys.exit(main())
