"""The national deduction-style scoring of an inspection (SPEC §6.2, DOMAIN §1.5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from inspections.ingest.schemas import InspectionCreate
from inspections.ingest.validation import context_items, item_points

CENT = Decimal("0.01")


@dataclass
class Score:
    max_points: Decimal
    earned_points: Decimal
    score: Decimal | None
    passed: bool | None
    vetoed_items: list[str]
    earned: dict[str, Decimal | None] = field(default_factory=dict)


def score_inspection(body: InspectionCreate, ctx: dict[str, Any]) -> Score:
    """National deduction style (SPEC §6.2).

    ``grade`` g → points × g / 10; ``deduction`` d → points − d; neither →
    full points for ``pass``, 0 for ``fail``; ``na`` leaves the maximum. The
    score is the earned share of the applicable maximum in percent (2
    decimals); it passes at ``score ≥ pass_mark`` with no veto item below its
    ``veto_below`` share. With every item ``na`` there is nothing to judge:
    score and passed are null.
    """
    items = context_items(ctx)
    pass_mark = Decimal(str((ctx.get("point_type") or {}).get("pass_mark", 80)))
    max_points = Decimal(0)
    earned_points = Decimal(0)
    earned: dict[str, Decimal | None] = {}
    vetoed: list[str] = []
    for result in body.results:
        item = items[result.item_code]
        points = item_points(item)
        if result.outcome == "na":
            earned[result.item_code] = None
            continue
        if result.grade is not None:
            value = points * result.grade / 10
        elif result.deduction is not None:
            value = points - Decimal(str(result.deduction))
        else:
            value = points if result.outcome == "pass" else Decimal(0)
        value = value.quantize(CENT, ROUND_HALF_UP)
        earned[result.item_code] = value
        max_points += points
        earned_points += value
        veto_below = item.get("veto_below")
        if veto_below is not None and points > 0 and value / points < Decimal(str(veto_below)):
            vetoed.append(result.item_code)
    if max_points == 0:
        return Score(max_points, earned_points, None, None, vetoed, earned)
    score = (earned_points * 100 / max_points).quantize(CENT, ROUND_HALF_UP)
    passed = score >= pass_mark and not vetoed
    return Score(max_points, earned_points, score, passed, vetoed, earned)
