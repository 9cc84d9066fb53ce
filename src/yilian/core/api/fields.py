"""Serializer fields shared by every app's API: choices as named enums, references by public id or code.

A ``ReferenceField`` turns a public id (or a region code) in a payload into
the object through the owning app's selector, called with the requesting
user as ``actor``. An id the actor may not see reads exactly like one that
does not exist, so payloads cannot be used to probe for objects.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from yilian.core.exceptions import NotFound

Resolver = Callable[[Any, Any], Any]
"""``resolver(actor, value)`` returns the object or raises NotFound (or NotAllowed)."""


class EnumField(serializers.ChoiceField):
    """A choice field bound to a ``TextChoices`` class; the schema names the enum after that class."""

    def __init__(self, choices_class: type[models.TextChoices], **kwargs: Any) -> None:
        self.choices_class = choices_class
        super().__init__(choices=choices_class.choices, **kwargs)


class ReferenceField(serializers.Field):
    """A related object addressed by its public id (UUID) or, with ``kind="code"``, a region code.

    Renders ``getattr(obj, attribute)``; parses through ``resolver(actor, value)``.
    """

    default_error_messages = {
        "invalid": _("“{value}” 不是有效的编号。"),
        "does_not_exist": _("“{value}” 不存在，或您无权使用。"),
        "type": _("请填写编号（字符串）。"),
    }

    def __init__(
        self, resolver: Resolver | None = None, *, kind: str = "uuid", attribute: str = "", **kwargs: Any
    ) -> None:
        if kind not in ("uuid", "code"):
            raise ValueError("kind must be 'uuid' or 'code'")
        self.resolver = resolver
        self.kind = kind
        self.attribute = attribute or ("public_id" if kind == "uuid" else "code")
        if resolver is None:
            kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        """The object's public id or code."""
        return str(getattr(value, self.attribute))

    def to_internal_value(self, data: Any) -> Any:
        """Resolve the id through the selector, as the requesting user."""
        if isinstance(data, uuid.UUID):
            data = str(data)
        if not isinstance(data, str):
            self.fail("type")
        text = data.strip()
        value: Any = text
        if self.kind == "uuid":
            try:
                value = uuid.UUID(text)
            except ValueError:
                self.fail("invalid", value=text[:64])
        elif not text.isdigit() or len(text) > 12:
            self.fail("invalid", value=text[:64])
        request = self.context.get("request")
        actor = getattr(request, "user", None)
        assert self.resolver is not None
        try:
            return self.resolver(actor, value)
        except NotFound:
            # Invisible reads like absent. NotAllowed (no right to read this kind of
            # object at all) propagates and answers 403.
            self.fail("does_not_exist", value=text[:64])


class EnumFieldExtension(OpenApiSerializerFieldExtension):
    """Schema of ``EnumField``: a component named after the choices class (``InstitutionStatusEnum``).

    Naming each enum after its code list keeps fields that share a name
    (``status`` of an institution and of a consortium) apart without
    per-project enum overrides.
    """

    target_class = EnumField
    match_subclasses = True

    def get_name(self) -> str:
        """Component name of the enum."""
        return f"{self.target.choices_class.__name__}Enum"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        """A string enum listing every value with its label."""
        choices = self.target.choices_class.choices
        return {
            "type": "string",
            "enum": [value for value, _label in choices],
            "description": "\n".join(f"* `{value}` - {label}" for value, label in choices),
        }


class ReferenceFieldExtension(OpenApiSerializerFieldExtension):
    """Schema of ``ReferenceField``: a UUID string, or a region code of 6, 9 or 12 digits."""

    target_class = ReferenceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        """A UUID or a digit string."""
        if self.target.kind == "uuid":
            return build_basic_type(OpenApiTypes.UUID)  # type: ignore[return-value]
        return {"type": "string", "pattern": r"^\d{6}(\d{3}){0,2}$"}
