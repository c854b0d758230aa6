"""``chuangwei``: the operator's command line (run as ``uv run chuangwei …``)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from shared.db import create_engine, create_sessionmaker
from shared.errors import AppError
from shared.settings import CommonSettings

from registry.regions.service import parse_credentials, provision_region


async def _create_region(args: argparse.Namespace) -> int:
    settings = CommonSettings()
    if not settings.database_url:
        print("DATABASE_URL is not set.", file=sys.stderr)
        return 2
    username, password = parse_credentials(args.admin)
    engine = create_engine(settings.database_url, application_name="chuangwei.cli")
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
            print(f"region {region.code} created (id {region.id}); admin {username}")
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
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
    args = parser.parse_args(argv)
    try:
        parse_credentials(args.admin)
    except ValueError:
        parser.error("--admin must be USERNAME:PASSWORD")
    return asyncio.run(_create_region(args))


if __name__ == "__main__":
    sys.exit(main())
