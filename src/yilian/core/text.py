"""Text helpers: pinyin keys for search by pinyin or pinyin initials."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def pinyin_initials(text: str) -> str:
    """Return lower-case pinyin initials: "县人民医院" → "xrmyy". Non-Chinese characters pass through."""
    letters = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")
    return "".join(letters).lower().replace(" ", "")


def pinyin_full(text: str) -> str:
    """Return the full pinyin without tones or spaces: "县人民医院" → "xianrenminyiyuan"."""
    return "".join(lazy_pinyin(text, errors="default")).lower().replace(" ", "")
