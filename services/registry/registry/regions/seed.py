"""What every new region starts with: the 2014 standard's eight sections and the
default deadline policies (SPEC §4–5)."""

from __future__ import annotations

STANDARD_2014 = {
    "code": "NHC",
    "name": "国家卫生城市标准",
    "version": "2014",
    "categories": [
        ("C1", "爱国卫生组织管理"),
        ("C2", "健康教育和健康促进"),
        ("C3", "市容环境卫生"),
        ("C4", "环境保护"),
        ("C5", "重点场所卫生"),
        ("C6", "食品和生活饮用水安全"),
        ("C7", "公共卫生和医疗服务"),
        ("C8", "病媒生物预防控制"),
    ],
}

DEFAULT_DEADLINE_POLICIES = [
    ("urgent", 24, "hours"),
    ("normal", 3, "workdays"),
    ("complex", 7, "workdays"),
]
