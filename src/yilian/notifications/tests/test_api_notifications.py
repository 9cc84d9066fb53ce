"""Notifications API: only one's own messages, the unread badge, marking read."""

from __future__ import annotations

import uuid

import pytest
from django.utils import translation
from django.utils.translation import gettext_noop

from yilian.core.api.testing import api_client, error_of
from yilian.core.messages import message
from yilian.notifications.models import Notification
from yilian.notifications.services import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(db):
    return api_client


def _results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _send(user, count=1, topic="referral.new"):
    for n in range(count):
        notify(
            recipients=[user], topic=topic, title=f"新转诊：ZZ{n:05d}", link="/referrals/x/", object_id="x"
        )


def test_list_shows_only_my_notifications_newest_first(world, api):
    _send(world.hospital_doctor, 2)
    _send(world.office, 1, topic="referral.overdue")
    rows = _results(api(world.hospital_doctor).get("/api/v1/notifications"))
    assert [row["title"] for row in rows] == ["新转诊：ZZ00001", "新转诊：ZZ00000"]
    assert rows[0]["is_read"] is False and rows[0]["topic"] == "referral.new"
    assert rows[0]["link"] == "/referrals/x/"
    assert [row["topic"] for row in _results(api(world.office).get("/api/v1/notifications"))] == [
        "referral.overdue"
    ]
    assert _results(api(world.stranger).get("/api/v1/notifications")) == []
    assert api(None).get("/api/v1/notifications").status_code == 401
    bad = api(world.office).get("/api/v1/notifications", {"unread": "perhaps"})
    assert bad.status_code == 400 and "unread" in error_of(bad)["fields"]


def test_titles_read_in_the_requests_language_not_the_senders(world, api):
    Notification.objects.create(
        recipient=world.office, topic="referral.answered", title="Referral accepted: ZZ0"
    )
    for sender_language, number in (("zh-hans", "ZZ1"), ("en", "ZZ2")):
        with translation.override(sender_language):
            notify(
                recipients=[world.office],
                topic="referral.answered",
                title=message(gettext_noop("转诊已接收：{number}"), number=number),
                body="霍邱县城关镇卫生院",
            )
    english = _results(api_client(world.office, language="en").get("/api/v1/notifications"))
    assert [(row["title"], row["body"]) for row in english] == [
        ("Referral accepted: ZZ2", "霍邱县城关镇卫生院"),
        ("Referral accepted: ZZ1", "霍邱县城关镇卫生院"),
        ("Referral accepted: ZZ0", ""),
    ]
    chinese = _results(api(world.office).get("/api/v1/notifications"))
    assert [row["title"] for row in chinese] == [
        "转诊已接收：ZZ2",
        "转诊已接收：ZZ1",
        "Referral accepted: ZZ0",
    ]


def test_unread_count_and_mark_read(world, api):
    _send(world.hospital_doctor, 3)
    _send(world.office, 2)
    client = api(world.hospital_doctor)
    count = client.get("/api/v1/notifications/unread-count")
    assert count.status_code == 200 and count.json() == {"count": 3}
    assert count["Cache-Control"] == "no-store"
    first = Notification.objects.filter(recipient=world.hospital_doctor).order_by("id").first()
    theirs = Notification.objects.filter(recipient=world.office).first()
    marked = client.post(
        "/api/v1/notifications/mark-read",
        {"ids": [str(first.public_id), str(theirs.public_id), str(uuid.uuid4())]},
        format="json",
    )
    assert marked.status_code == 200, marked.content
    assert marked.json() == {"marked": 1, "unread": 2}
    assert Notification.objects.get(pk=theirs.pk).read_at is None  # another user's message is untouched
    unread = _results(client.get("/api/v1/notifications", {"unread": "1"}))
    assert len(unread) == 2 and str(first.public_id) not in {row["public_id"] for row in unread}
    again = client.post("/api/v1/notifications/mark-read", {"ids": [str(first.public_id)]}, format="json")
    assert again.json() == {"marked": 0, "unread": 2}
    everything = client.post("/api/v1/notifications/mark-read", {}, format="json")
    assert everything.json() == {"marked": 2, "unread": 0}
    assert api(world.office).get("/api/v1/notifications/unread-count").json() == {"count": 2}
    bad = client.post("/api/v1/notifications/mark-read", {"ids": ["not-an-id"]}, format="json")
    assert bad.status_code == 400
    assert api(None).post("/api/v1/notifications/mark-read", {}, format="json").status_code == 401


def test_query_counts_do_not_grow(world, api, django_assert_num_queries):
    _send(world.hospital_doctor, 2)
    client = api(world.hospital_doctor)
    # token, count, page
    with django_assert_num_queries(3):
        assert len(_results(client.get("/api/v1/notifications"))) == 2
    # token, count
    with django_assert_num_queries(2):
        client.get("/api/v1/notifications/unread-count")
    _send(world.hospital_doctor, 20)
    with django_assert_num_queries(3):
        assert len(_results(client.get("/api/v1/notifications"))) == 22
    with django_assert_num_queries(2):
        assert client.get("/api/v1/notifications/unread-count").json() == {"count": 22}
