"""Notification pages and the top-bar badge: only one's own messages, unread first, open marks read."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop

from yilian.core.messages import message
from yilian.notifications.channels import recipient_text
from yilian.notifications.models import Notification
from yilian.notifications.services import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(db):
    def make(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


def _send(user, title, link="/referrals/"):
    return notify(recipients=[user], topic="referral.new", title=title, body="霍邱县城关镇卫生院", link=link)[
        0
    ]


def _titles(html):
    return re.findall(r'<span class="title">(?:<span class="dot"[^>]*></span>)?([^<]+)</span>', html)


def _bodies(html):
    return re.findall(r'<span class="body muted small">([^<]+)</span>', html)


def _send_message(user, language):
    """A system message sent while ``language`` is active (the sender's), and a row stored translated by
    older code (no parameters)."""
    Notification.objects.create(recipient=user, topic="referral.answered", title="Referral accepted: ZZ0")
    with translation.override(language):
        return notify(
            recipients=[user],
            topic="outreach.session_cancelled",
            title=message(gettext_noop("新转诊：{number}"), number="ZZ1"),
            body=message(
                gettext_noop("{reason}；已取消 {count} 个预约，请通知居民。"), reason="专家临时出诊", count=2
            ),
        )[0]


def test_a_message_sent_in_chinese_reads_in_english_for_an_english_reader(client_for, world):
    sent = _send_message(world.hospital_doctor, "zh-hans")
    assert (sent.title, sent.title_params) == ("新转诊：{number}", {"number": "ZZ1"})
    client = client_for(world.hospital_doctor)
    html = client.get(reverse("notifications:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _titles(html) == ["New referral: ZZ1", "Referral accepted: ZZ0"]
    # The reason the user typed stays as typed inside the reader's sentence.
    assert _bodies(html) == ["专家临时出诊; 2 bookings cancelled, please tell the residents."]


def test_a_message_sent_in_english_reads_in_chinese_for_a_chinese_reader(client_for, world):
    _send_message(world.hospital_doctor, "en")
    client = client_for(world.hospital_doctor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("notifications:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _titles(html) == ["新转诊：ZZ1", "Referral accepted: ZZ0"]
    assert _bodies(html) == ["专家临时出诊；已取消 2 个预约，请通知居民。"]


def test_other_channels_get_the_text_in_the_recipients_language(world):
    world.hospital_doctor.preferred_language = "en"
    sent = _send_message(world.hospital_doctor, "zh-hans")
    assert recipient_text(sent) == (
        "New referral: ZZ1",
        "专家临时出诊; 2 bookings cancelled, please tell the residents.",
    )
    world.hospital_doctor.preferred_language = "fr"  # not offered: the site's language
    with translation.override("en"):
        assert recipient_text(sent)[0] == "新转诊：ZZ1"


def test_anonymous_is_sent_to_login(client, world):
    note = _send(world.hospital_doctor, "新转诊：ZZ1")
    for url, method in (
        (reverse("notifications:list"), "get"),
        (reverse("notifications:read-all"), "post"),
        (reverse("notifications:open", args=[note.public_id]), "post"),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == reverse("accounts:login") and parse_qs(location.query)["next"] == [url]
    note.refresh_from_db()
    assert note.read_at is None


def test_list_shows_only_ones_own_unread_first(client_for, world):
    old_unread = _send(world.hospital_doctor, "旧的未读")
    read = _send(world.hospital_doctor, "已读的")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    _send(world.hospital_doctor, "新的未读")
    _send(world.outsider_doctor, "别人的消息")
    html = client_for(world.hospital_doctor).get(reverse("notifications:list")).content.decode()
    assert _titles(html) == ["新的未读", "旧的未读", "已读的"]
    assert html.count('data-unread="1"') == 2 and "别人的消息" not in html
    assert old_unread.title in html


def test_opening_marks_read_and_follows_the_link(client_for, world):
    note = _send(world.hospital_doctor, "新转诊", link="/referrals/inbox/")
    other = _send(world.hospital_doctor, "另一条")
    client = client_for(world.hospital_doctor)
    response = client.post(reverse("notifications:open", args=[note.public_id]))
    assert response.status_code == 302 and response["Location"] == "/referrals/inbox/"
    note.refresh_from_db()
    other.refresh_from_db()
    assert note.read_at is not None and other.read_at is None
    assert client.get(reverse("notifications:open", args=[other.public_id])).status_code == 405


def test_someone_elses_notification_is_not_found_and_stays_unread(client_for, world):
    note = _send(world.hospital_doctor, "新转诊")
    response = client_for(world.outsider_doctor).post(reverse("notifications:open", args=[note.public_id]))
    assert response.status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_an_outside_link_is_not_followed(client_for, world):
    note = _send(world.hospital_doctor, "可疑链接", link="https://evil.example/phish")
    response = client_for(world.hospital_doctor).post(reverse("notifications:open", args=[note.public_id]))
    assert response.status_code == 302 and response["Location"] == reverse("notifications:list")


def test_read_all_marks_only_ones_own(client_for, world):
    for index in range(3):
        _send(world.hospital_doctor, f"消息{index}")
    theirs = _send(world.outsider_doctor, "别人的")
    client = client_for(world.hospital_doctor)
    assert (
        'data-testid="notifications-read-all"' in client.get(reverse("notifications:list")).content.decode()
    )
    assert client.post(reverse("notifications:read-all")).status_code == 302
    assert not Notification.objects.filter(recipient=world.hospital_doctor, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    html = client.get(reverse("notifications:list")).content.decode()
    assert (
        'data-testid="notifications-read-all"' not in html and 'data-testid="notification-count"' not in html
    )


def _badge_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    counted = [q for q in context.captured_queries if "notifications_notification" in q["sql"]]
    return response, len(counted)


def test_badge_shows_the_unread_count_for_one_query(client_for, world):
    client = client_for(world.hospital_doctor)
    response, queries = _badge_queries(client, "/")
    html = response.content.decode()
    assert queries == 1 and 'data-testid="notification-badge"' in html
    assert 'data-testid="notification-count"' not in html
    for index in range(3):
        _send(world.hospital_doctor, f"消息{index}")
    _send(world.outsider_doctor, "别人的")
    response, queries = _badge_queries(client, "/")
    assert queries == 1
    assert re.search(r'data-testid="notification-count">3<', response.content.decode())


def test_badge_costs_nothing_for_anonymous_users(client, world):
    response, queries = _badge_queries(client, reverse("accounts:login"))
    assert response.status_code == 200 and queries == 0
    assert 'data-testid="notification-badge"' not in response.content.decode()


def test_badge_is_capped(client_for, world):
    notify(recipients=[world.hospital_doctor] * 1, topic="t", title="x")
    Notification.objects.bulk_create(
        [Notification(recipient=world.hospital_doctor, topic="t", title=f"n{i}") for i in range(120)]
    )
    html = client_for(world.hospital_doctor).get("/").content.decode()
    assert 'data-testid="notification-count">99+<' in html
