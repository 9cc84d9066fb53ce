"""Notification API routes."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from yilian.notifications.api.views import NotificationViewSet

urlpatterns: list[URLPattern | URLResolver] = [
    path("notifications", NotificationViewSet.as_view({"get": "list"}), name="api-notification-list"),
    path(
        "notifications/unread-count",
        NotificationViewSet.as_view({"get": "unread_count"}, pagination_class=None),
        name="api-notification-unread-count",
    ),
    path(
        "notifications/mark-read",
        NotificationViewSet.as_view({"post": "mark_read"}, pagination_class=None),
        name="api-notification-mark-read",
    ),
]
