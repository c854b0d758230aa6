"""Names every service agrees on for the demo district (上饶市广丰区, ``CW_DEMO``).

The registry loads the district under this region code with accounts named
``<prefix>-…``; the inspections service then records its history and the reporting
service its past accountability runs (each through its own write paths), finding
the region and its people by these names.
"""

from __future__ import annotations

DEMO_REGION_CODE = "guangfeng"
DEMO_USERNAME_PREFIX = "demo"
