"""Notification pages under /notifications/."""

from __future__ import annotations

from django.urls import URLPattern, path

from yilian.notifications import views

app_name = "notifications"
urlpatterns: list[URLPattern] = [
    path("", views.notification_list, name="list"),
    path("read-all/", views.notification_read_all, name="read-all"),
    path("<uuid:public_id>/open/", views.notification_open, name="open"),
]
