"""OpenAPI details shared by every endpoint: typed path parameters and the error envelope."""

from __future__ import annotations

from typing import Any

import uritemplate
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

ERROR_STATUSES: tuple[int, ...] = (400, 401, 403, 404)
"""Errors every authenticated endpoint may answer (409 and 429 are declared where they occur)."""

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: the envelope's ``fields`` maps each field to its messages.",
    "401": "Not authenticated.",
    "403": "Not allowed.",
    "404": "Not found, or not visible to the requester.",
    "409": "Conflict: someone else changed the object meanwhile (stale version).",
    "429": "Too many requests (login throttling).",
}


class ErrorBodySerializer(serializers.Serializer):
    """The body inside the envelope."""

    code = serializers.CharField(help_text="invalid, not_authenticated, not_allowed, not_found, conflict…")
    message = serializers.CharField(help_text="A readable message in the requester's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='Field name → messages; "__all__" for errors not tied to one field.',
    )
    request_id = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """Every error response: ``{"error": {"code", "message", "fields", "request_id"}}``."""

    error = ErrorBodySerializer()


class YilianAutoSchema(AutoSchema):
    """AutoSchema that types path parameters by name and documents the error envelope.

    ``{public_id}`` and ``{…_id}`` are UUIDs, ``{code}`` is a region code.
    Views list extra error statuses in ``error_statuses`` (e.g. 409).
    """

    def get_override_parameters(self) -> list[Any]:
        """Add typed path parameters that the URL patterns leave untyped."""
        parameters = list(super().get_override_parameters())
        declared = {(p.name, p.location) for p in parameters if isinstance(p, OpenApiParameter)}
        for variable in uritemplate.variables(self.path):
            if (variable, OpenApiParameter.PATH) in declared:
                continue
            if variable == "code":
                parameters.append(
                    OpenApiParameter(
                        variable,
                        {"type": "string", "pattern": r"^\d{6}(\d{3}){0,2}$"},
                        OpenApiParameter.PATH,
                        description="GB/T 2260 区划代码（6、9 或 12 位）",
                    )
                )
            elif variable == "public_id" or variable.endswith("_id"):
                parameters.append(OpenApiParameter(variable, OpenApiTypes.UUID, OpenApiParameter.PATH))
        return parameters

    def get_operation(self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any) -> Any:
        """The operation, with the error envelope for the statuses the view may answer."""
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if not operation:
            return operation
        statuses = [str(code) for code in getattr(self.view, "error_statuses", ERROR_STATUSES)]
        if self.method in ("GET", "HEAD"):
            # Reads change nothing, so they cannot conflict; without query parameters
            # there is nothing to be invalid either.
            has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
            statuses = [code for code in statuses if code != "409" and (code != "400" or has_query)]
        responses = operation.setdefault("responses", {})
        missing = [code for code in statuses if code not in responses]
        if missing:
            reference = self.resolve_serializer(ErrorSerializer, "response").ref
            content = {"application/json": {"schema": reference}}
            for code in missing:
                responses[code] = {"content": content, "description": ERROR_DESCRIPTIONS.get(code, "")}
        return operation
