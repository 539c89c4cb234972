"""Keyword lists as stored on a category: one text, items separated by 、 (commas, semicolons,
pipes and new lines are accepted on input)."""

import re

_SEPARATORS = re.compile(r"[、,，;；|\n\r]+")


def split_keywords(text: str) -> list[str]:
    """Distinct non-empty keywords in their first order."""
    seen: dict[str, None] = {}
    for item in _SEPARATORS.split(text or ""):
        item = item.strip()
        if item and item.casefold() not in {k.casefold() for k in seen}:
            seen[item] = None
    return list(seen)


def join_keywords(items) -> str:
    return "、".join(split_keywords("、".join(items)))


def merge_keywords(existing: str, extra: str) -> str:
    """``existing`` followed by the keywords of ``extra`` it lacks (an administrator's additions stay)."""
    return join_keywords([*split_keywords(existing), *split_keywords(extra)])
