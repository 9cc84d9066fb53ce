"""The base of every API viewset: a thin adapter over one service or selector.

A view parses the query string or body with a serializer, calls the app's
selector (reads) or service (writes) with ``actor=request.user``, and
renders the result. Domain exceptions become the error envelope in
``core.api.errors``; there is no permission or validation logic here.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from rest_framework import renderers, serializers, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.schema import YilianAutoSchema
from yilian.core.client import client_address
from yilian.core.exceptions import Invalid, NotFound

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def parse_public_id(value: Any) -> uuid.UUID:
    """A public id from a URL; anything that is not a UUID reads as "not found"."""
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError) as error:
        raise NotFound("malformed id") from error


def pick(queryset: QuerySet[Any], **lookup: Any) -> Any:
    """Take one row out of a queryset a selector already scoped to the actor; NotFound if absent."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, DjangoValidationError) as error:
        raise NotFound(queryset.model._meta.model_name) from error


class PassthroughRenderer(renderers.BaseRenderer):
    """Lets a file download negotiate ``application/octet-stream``; errors still render as JSON."""

    media_type = "application/octet-stream"
    format = "bin"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        """Error bodies (dicts) as JSON bytes; a download never reaches a renderer."""
        if isinstance(data, bytes):
            return data
        return json.dumps(data, ensure_ascii=False).encode()


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """The browsable API without DRF's filter form: views have no queryset, filters are
    validated query serializers documented in the OpenAPI schema."""

    def get_filter_form(self, data: Any, view: Any, request: Any) -> None:
        """No filter form."""
        return None


class ServiceViewSet(viewsets.GenericViewSet):
    """Base viewset: objects by ``public_id``, validated query strings, pagination, one envelope.

    Subclasses implement each action by calling exactly one selector (reads)
    or service (writes) with ``actor=self.actor``; ``get_queryset`` is never
    used, so the ORM stays behind the selectors. Bodies are JSON; upload
    routes pass ``parser_classes=[MultiPartParser]`` to ``as_view``.
    """

    schema = YilianAutoSchema()
    filter_backends = ()
    parser_classes = (JSONParser,)
    renderer_classes = (renderers.JSONRenderer, BrowsableAPIRenderer)
    error_statuses: tuple[int, ...] = (400, 401, 403, 404)

    @property
    def actor(self) -> Any:
        """The requesting user, passed to every service and selector."""
        return self.request.user

    def get_serializer_context(self) -> dict[str, Any]:
        """The request (for the actor) and the view."""
        return {"request": self.request, "view": self, "format": self.format_kwarg}

    def object_id(self, kwarg: str = "public_id") -> uuid.UUID:
        """The UUID in the URL (NotFound when it is not one)."""
        return parse_public_id(self.kwargs.get(kwarg))

    def query(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        """Validate the query string; a bad value is a 400 with field messages."""
        serializer = serializer_class(data=self.request.query_params, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def payload(
        self, serializer_class: type[serializers.Serializer], *, partial: bool = False, **context: Any
    ) -> dict[str, Any]:
        """Validate the request body (shape only; the service checks the rules)."""
        serializer = serializer_class(
            data=self.request.data,
            partial=partial,
            context={**self.get_serializer_context(), **context},
        )
        # A field the endpoint does not take is a mistake to report, not to ignore silently.
        writable = {name for name, field in serializer.fields.items() if not field.read_only}
        unknown = (
            sorted(set(self.request.data.keys()) - writable) if hasattr(self.request.data, "keys") else []
        )
        if unknown:
            raise Invalid({name: [_("此接口不接受该字段。")] for name in unknown})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def paginated(
        self, queryset: QuerySet[Any], serializer_class: type[serializers.Serializer], **context: Any
    ) -> Response:
        """One page of a selector's queryset, rendered."""
        page = self.paginate_queryset(queryset)
        assert page is not None, "every list is paginated"
        data = serializer_class(page, many=True, context={**self.get_serializer_context(), **context}).data
        return self.get_paginated_response(data)

    def rendered(
        self,
        obj: Model | Any,
        serializer_class: type[serializers.Serializer],
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> Response:
        """One object, rendered."""
        data = serializer_class(obj, context={**self.get_serializer_context(), **context}).data
        return Response(data, status=status, headers=headers)

    def expected_version(self, body_value: int | None) -> int | None:
        """The version the client saw: ``expected_version`` in the body, else the ``If-Match`` header."""
        if body_value is not None:
            return body_value
        header = self.request.headers.get("If-Match", "")
        if not header or header.strip() == "*":
            return None
        match = _IF_MATCH.match(header)
        if match is None:
            raise Invalid({"If-Match": [_('If-Match 应为所修改记录的版本号（上次答复的 ETag），例如 "3"。')]})
        return int(match.group(1))


def version_etag(version: int) -> dict[str, str]:
    """The ``ETag`` header carrying a record's version (send it back as ``If-Match``)."""
    return {"ETag": f'"{version}"'}


def request_address(request: Request) -> str:
    """The client address, trusting ``TRUSTED_PROXY_COUNT`` proxies (see ``core.client``)."""
    return client_address(request)
