"""URLs of the people UI (mounted at /people/). Persons are addressed by public id, never by ID number."""

from __future__ import annotations

from django.urls import URLPattern, path

from yilian.people import views

app_name = "people"
urlpatterns: list[URLPattern] = [
    path("", views.person_list, name="list"),
    path("new/", views.person_register, name="register"),
    path("check/id-number/", views.check_id_number, name="check-id-number"),
    path("options/", views.person_options, name="options"),
    path("<uuid:public_id>/", views.person_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.person_edit, name="edit"),
    path("<uuid:public_id>/reveal/", views.person_reveal, name="reveal"),
]
