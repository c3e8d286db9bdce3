"""The words an administrator may type for a code colour or a risk level, in English and Chinese.

``/override 13800138000 红 14 …`` and ``/riskareas add 420100 high`` read their colour and level
through these; matching ignores case and surrounding spaces, nothing else.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from rules.model import Colour, TravelRisk

Named = TypeVar("Named")

COLOUR_WORDS: Mapping[Colour, frozenset[str]] = {
    Colour.GREEN: frozenset({"green", "绿", "绿码", "绿色"}),
    Colour.YELLOW: frozenset({"yellow", "黄", "黄码", "黄色"}),
    Colour.RED: frozenset({"red", "红", "红码", "红色"}),
}
# Only the levels an area can be listed at: "none" is not a listing.
RISK_LEVEL_WORDS: Mapping[TravelRisk, frozenset[str]] = {
    TravelRisk.MEDIUM: frozenset({"medium", "中", "中风险"}),
    TravelRisk.HIGH: frozenset({"high", "高", "高风险"}),
}


def colour_named(word: str) -> Colour | None:
    """The colour ``word`` names ("red", "RED", " 红码 "), or None."""
    return _named(COLOUR_WORDS, word)


def risk_level_named(word: str) -> TravelRisk | None:
    """The listable risk level ``word`` names ("high", "高风险"), or None."""
    return _named(RISK_LEVEL_WORDS, word)


def _named(words: Mapping[Named, frozenset[str]], word: str) -> Named | None:
    wanted = word.strip().lower()
    return next((named for named, names in words.items() if wanted in names), None)
