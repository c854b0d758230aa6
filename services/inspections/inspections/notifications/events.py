"""The events of SPEC §9: their names, who reads them in the inbox, and how they read.

The outbox rows themselves are written by database triggers (case events, flagged
inspections; migration 0011), by reporting (``notice.raised``) and by the
scheduler (``case.due_soon``, ``case.overdue``, ``unit.digest``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

EventType = Literal[
    "case.reported",
    "case.assigned",
    "case.returned",
    "case.extension_requested",
    "case.extended",
    "case.rectified",
    "case.closed",
    "case.rejected",
    "case.parked",
    "case.cancelled",
    "case.due_soon",
    "case.overdue",
    "notice.raised",
    "inspection.flagged",
    "unit.digest",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)

# Who finds an event in their inbox (SPEC §9): a unit's staff hear of their unit's
# cases assigned, due soon, overdue or rejected, of the unit's notices and digest;
# the reporter of a case (the inspector) hears that it awaits verification; the
# office (admins) hears what waits for it (a return, an extension request).
UNIT_INBOX = frozenset(
    {"case.assigned", "case.due_soon", "case.overdue", "case.rejected", "unit.digest"}
)
REPORTER_INBOX = frozenset({"case.rectified"})
OFFICE_INBOX = frozenset({"case.returned", "case.extension_requested"})

TITLES = {
    "case.reported": "新问题上报",
    "case.assigned": "问题已派遣至本单位",
    "case.returned": "问题被回退",
    "case.extension_requested": "单位申请延期",
    "case.extended": "整改期限已延长",
    "case.rectified": "问题已整改，待核查",
    "case.closed": "问题已核查结案",
    "case.rejected": "整改未通过，请返工",
    "case.parked": "问题已挂账",
    "case.cancelled": "问题已作废",
    "case.due_soon": "整改期限将至",
    "case.overdue": "问题已超期",
    "notice.raised": "问责通报",
    "inspection.flagged": "检查记录存疑",
    "unit.digest": "今日待办",
}


def title(event_type: str, data: dict[str, Any]) -> str:
    """One line a person reads in the inbox or in a group chat."""
    base = TITLES.get(event_type, event_type)
    if event_type.startswith("case."):
        return f"{base}：{(data.get('description') or '')[:60]}"
    if event_type == "notice.raised":
        return f"{base}：{(data.get('reason') or '')[:60]}"
    if event_type == "unit.digest":
        return (
            f"{base}：今日到期 {data.get('due_today_count', 0)} 件，"
            f"超期 {data.get('overdue_count', 0)} 件，返工 {data.get('rework_count', 0)} 件"
        )
    return base


def webhook_body(event: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a ``json`` webhook (the Standard Webhooks payload shape)."""
    return {
        "id": str(event["id"]),
        "type": event["type"],
        "timestamp": event["occurred_at"].isoformat(),
        "region_id": str(event["region_id"]),
        "data": event["data"],
    }


def _local(value: Any, tz: ZoneInfo) -> str:
    if not value:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def chat_markdown(event: dict[str, Any], tz: ZoneInfo) -> tuple[str, str]:
    """``(title, markdown text)`` for a WeCom or DingTalk group robot."""
    data = event["data"]
    heading = title(event["type"], data)
    lines = [f"### {heading}"]
    if event["type"].startswith("case."):
        lines += [
            f"- 期限：{_local(data.get('due_at'), tz)}",
            f"- 地点：{data.get('address') or '—'}",
        ]
        if data.get("note"):
            lines.append(f"- 说明：{data['note']}")
        lines.append(f"- 案件：{data.get('case_id')}")
    elif event["type"] == "notice.raised":
        lines.append(f"- 级别：{data.get('level')}，期间：{data.get('period')}")
    elif event["type"] == "inspection.flagged":
        lines.append(
            f"- 偏离样本点：{'是' if data.get('off_site') else '否'}，"
            f"照片存疑：{'是' if data.get('suspect_photos') else '否'}"
        )
    lines.append(f"- 时间：{_local(event['occurred_at'], tz)}")
    return TITLES.get(event["type"], event["type"]), "\n".join(lines)
