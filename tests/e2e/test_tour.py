"""The README's API tour is a script (scripts/tour.sh); it runs, step by step, on the demo.

The demo district is loaded under a fresh code and username prefix (the loader's test
hooks), the three services run as processes, and the tour finds every id it needs
through the API. Any step that does not answer as described stops it with an error.
"""

from __future__ import annotations

import asyncio
import os
import subprocess

from shared.embedded_db import REPO_ROOT
from tests.registry.test_demo import _load


async def test_the_tour_runs_on_the_demo_district(stack, engine):
    demo = await _load(engine)
    result = await asyncio.to_thread(
        subprocess.run,
        ["bash", "scripts/tour.sh"],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "R": stack.url("registry"),
            "I": stack.url("inspections"),
            "P": stack.url("reporting"),
            "DEMO": demo.prefix,
        },
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "Done: every step answered as described" in out
    # A few answers a reader of the README would check.
    assert "the same If-Match again: 412" in out
    assert "status closed, on time True" in out
    assert "report → dispatch → rectify → verify" in out or "dispatch → rectify → verify" in out
    # A citizen's report through Open311: retried once, one case, listed beside the open
    # expert-group cases at the same market.
    assert "the same Idempotency-Key again: 200" in out
    assert "the office sees a citizen case, reported" in out
    assert "the citizen sees: closed" in out
