"""Request examples shown in the OpenAPI document (Swagger's "Try it out").

Each is valid as it stands: tests/test_openapi_examples.py posts every one and
expects success, or an answer about the ids it names (they are placeholders),
never a complaint about the body's shape.
"""

from __future__ import annotations

SOME_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

REQUEST_EXAMPLES: dict[str, dict] = {
    "DivisionCreate": {"level": "street", "code": "GF-YF", "name": "永丰街道"},
    "DivisionUpdate": {"name": "永丰街道办事处"},
    "UnitCreate": {
        "code": "GF-SCJ",
        "name": "广丰区市场监督管理局",
        "kind": "department",
        "contact_phone": "0793-2612345",
    },
    "UnitUpdate": {"contact_phone": "0793-2612346"},
    "PersonCreate": {
        "username": "wang.inspector",
        "password": "a-long-password",
        "display_name": "王检查员",
        "role": "inspector",
    },
    "PersonUpdate": {"display_name": "王检查员(组长)"},
    "PasswordSet": {"password": "another-long-password"},
    "ChiefCreate": {"person_id": SOME_ID, "kind": "road", "road_name": "解放路"},
    "ChiefUpdate": {"road_name": "人民路"},
    "StandardCreate": {
        "code": "GB-2014",
        "name": "国家卫生城市标准(2014版)",
        "version": "2014",
        "categories": [{"code": "C1", "name": "爱国卫生组织管理"}],
    },
    "PointTypeCreate": {
        "code": "MARKET",
        "name": "农贸市场",
        "category_id": SOME_ID,
        "pass_mark": 80,
        "visit_every_days": 7,
        "deadline_policy": {"urgent": {"amount": 12, "unit": "hours"}},
    },
    "PointTypeUpdate": {"visit_every_days": 14},
    "ChecklistCreate": {
        "items": [
            {"code": "M-01", "text": "市场内五公示齐全", "points": 10},
            {
                "code": "M-02",
                "text": "活禽区隔离",
                "points": 20,
                "veto_below": 0.7,
                "tags": ["epidemic"],
            },
        ]
    },
    "SamplePointCreate": {
        "code": "GF-SP-001",
        "name": "东街农贸市场",
        "point_type_id": SOME_ID,
        "division_id": SOME_ID,
        "address": "永丰街道东街 1 号",
        "lat": 28.4401,
        "lon": 118.1932,
        "unit_id": SOME_ID,
    },
    "SamplePointUpdate": {"status": "retired"},
    "CalendarDayWrite": {"kind": "holiday", "name": "国庆节"},
    "CalendarBulk": {
        "days": [
            {"date": "2026-10-01", "kind": "holiday", "name": "国庆节"},
            {"date": "2026-10-10", "kind": "workday", "name": "国庆调休"},
        ]
    },
    "DeadlinePolicyWrite": {"amount": 3, "unit": "workdays"},
    "ArchiveItemCreate": {
        "category_id": SOME_ID,
        "code": "A-01",
        "title": "创卫工作领导小组成立文件",
        "required": True,
    },
    "ArchiveItemUpdate": {"title": "创卫工作领导小组调整文件"},
}
