"""Request examples shown in the OpenAPI document (Swagger's "Try it out").

Each is valid as it stands: tests/test_openapi_examples.py posts every one and
expects success or the documented error, never a complaint about the body's shape.
"""

from __future__ import annotations

REQUEST_EXAMPLES: dict[str, dict] = {
    "RunCreate": {"period": "2026-10"},
    "ScoreWeightsUpdate": {
        "closure": 30,
        "on_time": 40,
        "rework": 20,
        "volume": 10,
        "min_cases": 5,
    },
    "InspectorQuotaUpdate": {"facility": 20, "hygiene": 30},
    "AccountabilityRulesUpdate": {
        "black_on_time_rate_below": 0.6,
        "red_on_time_rate_at_least": 0.95,
        "red_grades": ["A"],
        "window_months": 3,
        "escalations": [
            {"times": 2, "level": "interview"},
            {"times": 3, "level": "accountability"},
        ],
    },
}
