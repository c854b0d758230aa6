"""Request examples shown in the OpenAPI document (Swagger's "Try it out").

Each is valid as it stands (a result takes a grade **or** a deduction, never
both): tests/test_openapi_examples.py posts every one and expects success, or an
answer about the ids it names (they are placeholders), never a complaint about
the body's shape.
"""

from __future__ import annotations

SOME_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

_INSPECTION = {
    "id": "0b8e7d36-3f55-4a0e-9b89-5f1c2a7d9e10",
    "sample_point_id": SOME_ID,
    "checklist_version": 1,
    "source": "woodpecker",
    "started_at": "2026-11-20T09:10:00+08:00",
    "finished_at": "2026-11-20T09:35:00+08:00",
    "location": {"lat": 28.4401, "lon": 118.1932, "accuracy_m": 8},
    "results": [
        {"item_code": "M-01", "outcome": "pass", "grade": 10},
        {"item_code": "M-02", "outcome": "fail", "deduction": 6, "note": "活禽区未隔离"},
        {"item_code": "M-03", "outcome": "na"},
    ],
    "cases": [
        {
            "id": "6d1f9a52-2b7e-4c3d-8e4f-0a1b2c3d4e5f",
            "item_code": "M-02",
            "description": "活禽区与其他区域未隔离",
            "severity": "urgent",
        }
    ],
}

REQUEST_EXAMPLES: dict[str, dict] = {
    "InspectionCreate": _INSPECTION,
    "InspectionBatch": {"inspections": [_INSPECTION]},
    "CaseCreate": {
        "id": "9c2d4b6a-1e3f-4a5b-8c7d-6e5f4a3b2c1d",
        "source": "expert",
        "description": "后巷垃圾堆积, 无人清运",
        "severity": "normal",
        "address": "人民路 8 号后巷",
        "location": {"lat": 28.4472, "lon": 118.2153, "crs": "gcj02"},
    },
    "CaseAction": {"action": "rectify", "note": "已清运并设置垃圾桶", "photo_ids": [SOME_ID]},
    "WebhookCreate": {
        "url": "https://oa.example.gov.cn/hooks/chuangwei",
        "kind": "json",
        "event_types": ["case.assigned", "case.overdue"],
        "description": "区政务OA",
    },
    "WebhookUpdate": {"active": False},
    "MarkRead": {"all": True},
    "ApiKeyCreate": {"name": "微信小程序 (WeChat mini-program)"},
}
