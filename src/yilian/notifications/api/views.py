"""Notifications API: the requester's own in-app messages and the unread badge."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.views import ServiceViewSet
from yilian.notifications import selectors, services
from yilian.notifications.api import serializers as s
from yilian.notifications.api.serializers import NotificationSerializer

NOTIFICATIONS = ["notifications"]


@extend_schema(tags=NOTIFICATIONS)
class NotificationViewSet(ServiceViewSet):
    """Messages to the requester: new, answered and overdue referrals…"""

    serializer_class = NotificationSerializer
    error_statuses = (400, 401)

    @extend_schema(
        parameters=[s.NotificationQuerySerializer], responses={200: NotificationSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """My notifications, newest first; ``?unread=1`` for the unread ones only."""
        params = self.query(s.NotificationQuerySerializer)
        rows = selectors.notification_list(self.actor, unread_only=params["unread"])
        return self.paginated(rows, NotificationSerializer)

    @extend_schema(responses={200: s.UnreadCountSerializer})
    def unread_count(self, request: Request) -> Response:
        """How many of my notifications are unread (one query; for polling the badge)."""
        return Response({"count": selectors.unread_count(self.actor)}, headers={"Cache-Control": "no-store"})

    @extend_schema(request=s.MarkReadSerializer, responses={200: s.MarkReadResultSerializer})
    def mark_read(self, request: Request) -> Response:
        """Mark some of my notifications read (``ids``), or all of them when ``ids`` is omitted.
        Ids that are not mine or already read are skipped."""
        data = self.payload(s.MarkReadSerializer)
        marked = services.notification_mark_read(actor=self.actor, public_ids=data.get("ids"))
        return Response({"marked": marked, "unread": selectors.unread_count(self.actor)})
