"""System texts kept untranslated when written and rendered in the reader's language when shown.

Notification titles and timeline notes are written by one user (or a job) and
read later by others, who may use another language. Translating them when
written would bake the writer's language in, so they are stored as the
untranslated msgid (the Chinese source text, marked with ``gettext_noop`` so
extraction keeps it in the catalogue) plus a JSON dict of its parameters, and
rendered with ``render`` at display time::

    note = message(gettext_noop("由 {number} 改派"), number=referral.number)
    template, params = stored(note)          # what the row keeps
    render(template, params)                 # "Redirected from ZZ…" for an English reader

A parameter that is a choice (a member of a ``TextChoices``/``IntegerChoices``)
is stored as its class and value and shown as its label in the reader's
language; dates, decimals and UUIDs are stored as text; anything else must be
JSON as it is. Text a user typed is stored as typed, with no parameters.
Rows written before this (already translated text, no parameters) render as
``gettext(text)``, which is the text itself unless it is a msgid.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from django.db.models import Choices
from django.utils.module_loading import import_string
from django.utils.translation import gettext

CHOICE_KEY = "choice"
"""The key marking a stored choice parameter: ``{"choice": "<module>.<Class>", "value": <value>}``."""


class Message(NamedTuple):
    """A system text to store: its untranslated msgid and its (JSON-ready) parameters."""

    template: str
    params: dict[str, Any]

    def __str__(self) -> str:
        return render(self.template, self.params)


def message(template: str, **params: Any) -> Message:
    """A message of ``template`` (a msgid with ``{name}`` placeholders) and its parameters, made JSON-ready.

    Raises TypeError for a parameter that cannot be stored as JSON.
    """
    return Message(template, {name: _stored_value(value) for name, value in params.items()})


def stored(text: str | Message) -> tuple[str, dict[str, Any]]:
    """What a row keeps of ``text``: a message's template and parameters, or typed text with no parameters."""
    if isinstance(text, Message):
        return text.template, text.params
    return text, {}


def render(template: str, params: Mapping[str, Any] | None = None) -> str:
    """``template`` translated into the active language and filled with ``params``.

    With no parameters this is ``gettext(template)``: a parameterless msgid is
    translated and any other text (typed, or written translated by older code)
    comes back as it is. A translation whose placeholders do not match the
    parameters falls back to the source text, never to an error on a page.
    """
    translated = gettext(template)
    if not params:
        return translated
    values = {name: _shown_value(value) for name, value in params.items()}
    for text in (translated, template):
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            continue
    return template


def _stored_value(value: Any) -> Any:
    if isinstance(value, Choices):
        kind = type(value)
        return {CHOICE_KEY: f"{kind.__module__}.{kind.__qualname__}", "value": value.value}
    if isinstance(value, datetime.date | decimal.Decimal | uuid.UUID):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot store a message parameter of type {type(value).__name__}")


def _shown_value(value: Any) -> Any:
    if isinstance(value, dict) and CHOICE_KEY in value:
        return _choice_label(str(value[CHOICE_KEY]), value.get("value"))
    return value


def _choice_label(path: str, value: Any) -> str:
    """The label of ``value`` in the choices class at ``path``; the bare value when either is unknown
    (a renamed class or a retired value still shows something)."""
    kind = _choices_class(path)
    if kind is not None:
        try:
            return str(kind(value).label)
        except ValueError:
            pass
    return "" if value is None else str(value)


@lru_cache(maxsize=128)
def _choices_class(path: str) -> type[Choices] | None:
    # Only the platform's own choices classes: a stored path is data, not something to import blindly.
    if not path.startswith("yilian."):
        return None
    try:
        kind = import_string(path)
    except ImportError:
        return None
    return kind if isinstance(kind, type) and issubclass(kind, Choices) else None


class RenderedNote:
    """Mixin of timeline event models with ``note`` and ``note_params``: the note as the reader reads it."""

    note: str
    note_params: dict[str, Any]

    @property
    def display_note(self) -> str:
        """The note in the active language: a system note rendered from its msgid and ``note_params``,
        typed text (and notes written before parameters were kept) as stored."""
        return render(self.note, self.note_params)


class RenderedActor:
    """Mixin of timeline event models whose platform jobs act as "系统" (``actor_label`` without ``actor``)."""

    actor_id: Any
    actor_label: str

    @property
    def display_actor(self) -> str:
        """Who acted: the user's name as stored, or "系统" in the active language for the platform's jobs."""
        return self.actor_label if self.actor_id else render(self.actor_label)
