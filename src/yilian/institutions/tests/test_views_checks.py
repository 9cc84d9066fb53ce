"""Live checks of credit codes and region codes."""

from __future__ import annotations

import pytest

from yilian.institutions.tests.factories import credit_code

pytestmark = pytest.mark.django_db


def test_credit_code_check(client, world):
    client.force_login(world.regulator)
    url = "/registry/check/credit-code/"
    good = client.get(url, {"credit_code": credit_code("341522")}).content.decode()
    assert 'data-ok="1"' in good and "霍邱县" in good
    bad = client.get(url, {"credit_code": "91350100M000100Y44"}).content.decode()
    assert 'data-ok="0"' in bad and "校验位" in bad
    assert client.get(url, {"credit_code": ""}).content.decode().strip() == ""


def test_region_code_check(client, world):
    client.force_login(world.hospital_doctor)
    url = "/registry/check/region-code/"
    known = client.get(url, {"region": "341522"}).content.decode()
    assert 'data-ok="1"' in known and "县级" in known and "霍邱县" in known
    unknown = client.get(url, {"code": "341523"}).content.decode()
    assert 'data-ok="1"' in unknown and "尚无此代码" in unknown
    bad = client.get(url, {"region": "341599"}).content.decode()
    assert 'data-ok="0"' in bad


def test_checks_need_a_login_and_a_role(client, world):
    assert client.get("/registry/check/credit-code/", {"credit_code": "x"}).status_code == 302
    client.force_login(world.stranger)
    assert client.get("/registry/check/region-code/", {"region": "341522"}).status_code == 403


def test_institution_form_wires_the_live_checks(client, world):
    client.force_login(world.regulator)
    html = client.get("/registry/institutions/new/").content.decode()
    assert 'hx-get="/registry/check/credit-code/"' in html
    assert 'id="live-id_credit_code"' in html
    assert 'hx-get="/registry/check/region-code/"' in html
