"""The console's pages, one router per area."""

from console.pages import accountability, auth, cases, dashboard, imports, map

ROUTERS = [
    auth.router,
    dashboard.router,
    map.router,
    cases.router,
    imports.router,
    accountability.router,
]
