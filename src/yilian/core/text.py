"""Text helpers: pinyin keys for search by pinyin or pinyin initials; lists joined and sentences ended for display."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import pgettext
from pypinyin import Style, lazy_pinyin


def pinyin_initials(text: str) -> str:
    """Return lower-case pinyin initials: "县人民医院" → "xrmyy". Non-Chinese characters pass through."""
    letters = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")
    return "".join(letters).lower().replace(" ", "")


def pinyin_full(text: str) -> str:
    """Return the full pinyin without tones or spaces: "县人民医院" → "xianrenminyiyuan"."""
    return "".join(lazy_pinyin(text, errors="default")).lower().replace(" ", "")


def list_separator() -> str:
    """The separator between the items of a list in the active language: 、 in Chinese, ", " in English
    (the catalogue's punctuation entry, as templates write ``{% translate "、" context "punctuation" %}``)."""
    return pgettext("punctuation", "、")


def join_list(items: Iterable[object]) -> str:
    """Join items for display in the active language: "内科、外科" in Chinese, "Medicine, Surgery" in
    English. The Chinese enumeration comma 、 reads as a stray character between English words."""
    return list_separator().join(str(item) for item in items)


# What already ends a sentence (Chinese and Western), and what may close one after its stop ("好。" or (ok.)).
SENTENCE_END = "。．.!！?？…;；"
SENTENCE_CLOSERS = "\"'”’）)」』】]"


def sentence(text: str) -> str:
    """``text`` ended as a sentence: a full stop in the active language (。 in Chinese, "." otherwise) unless
    it already ends with sentence punctuation — so a reason typed with its own 。, ！ or ? is not shown
    with a second one ("原因：数据有误。。")."""
    text = text.rstrip()
    last = text.rstrip(SENTENCE_CLOSERS)[-1:]
    if not text or (last and last in SENTENCE_END):
        return text
    return text + pgettext("punctuation", "。")
