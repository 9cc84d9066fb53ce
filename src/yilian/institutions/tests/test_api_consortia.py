"""Consortium API: consortia, members (rules, concurrency), management bodies, agreements."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yilian.accounts.models import Membership
from yilian.core.api.testing import error_of
from yilian.core.models import AuditEvent
from yilian.institutions.choices import ConsortiumType, MemberRole
from yilian.institutions.models import (
    Agreement,
    Consortium,
    ConsortiumMember,
    ManagementBody,
)
from yilian.institutions.tests.factories import (
    ConsortiumFactory,
    ConsortiumMemberFactory,
    HospitalFactory,
    InstitutionFactory,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _url(consortium, suffix=""):
    return f"/api/v1/consortia/{consortium.public_id}{suffix}"


def _member_url(member, suffix=""):
    return f"/api/v1/consortium-members/{member.public_id}{suffix}"


def _lead_member(world):
    return ConsortiumMember.objects.get(consortium=world.consortium, role=MemberRole.LEAD)


# Consortia -------------------------------------------------------------------------


def test_consortium_list_and_filters(world, api):
    ConsortiumFactory(
        name="六安市眼科专科联盟", type=ConsortiumType.SPECIALTY_ALLIANCE, region=world.regions["city"]
    )
    client = api(world.hospital_doctor)
    rows = _results(client.get("/api/v1/consortia"))
    assert [row["name"] for row in rows] == ["六安市眼科专科联盟", "霍邱县人民医院医共体"]
    community = rows[1]
    assert community["member_count"] == 2
    assert community["version"] == 1
    assert community["leads"] == [
        {
            "member": str(_lead_member(world).public_id),
            "public_id": str(world.hospital.public_id),
            "name": "霍邱县人民医院",
        }
    ]
    assert [r["name"] for r in _results(client.get("/api/v1/consortia", {"type": "specialty_alliance"}))] == [
        "六安市眼科专科联盟"
    ]
    assert len(_results(client.get("/api/v1/consortia", {"within": "341522"}))) == 1
    assert len(_results(client.get("/api/v1/consortia", {"q": "hqxrmyyygt"}))) == 1
    assert _results(client.get("/api/v1/consortia", {"status": "dissolved"})) == []
    bad = client.get("/api/v1/consortia", {"type": "club"})
    assert bad.status_code == 400 and "type" in error_of(bad)["fields"]


def test_consortium_list_query_count(world, api, django_assert_num_queries):
    for n in range(5):
        consortium = ConsortiumFactory(
            type=ConsortiumType.SPECIALTY_ALLIANCE, region=world.regions["county"], name=f"专科联盟{n}"
        )
        ConsortiumMemberFactory(consortium=consortium)
    client = api(world.hospital_doctor)
    # token, scope, count, page (region joined, member count annotated), leads prefetch
    with django_assert_num_queries(5):
        rows = _results(client.get("/api/v1/consortia"))
    assert len(rows) == 6
    assert all(len(row["leads"]) == 1 for row in rows)


def test_consortium_detail_has_version_leads_member_count_and_etag(world, api, django_assert_num_queries):
    client = api(world.township_admin)
    with django_assert_num_queries(4):
        response = client.get(_url(world.consortium))
    body = response.json()
    assert body["version"] == 1 and body["member_count"] == 2
    assert body["leads"][0]["public_id"] == str(world.hospital.public_id)
    assert response["ETag"] == '"1"'
    assert api(world.stranger).get(_url(world.consortium)).status_code == 403


def test_consortium_office_creates_a_consortium_and_may_then_manage_it(world, api):
    lead = HospitalFactory(name="霍邱县中医医院", region=world.regions["county"])
    response = api(world.office).post(
        "/api/v1/consortia",
        {
            "name": "霍邱县中医医院专科联盟",
            "type": "specialty_alliance",
            "region": "341522",
            "lead_institution": str(lead.public_id),
            "established_on": "2024-03-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["member_count"] == 1
    assert body["leads"][0]["public_id"] == str(lead.public_id)
    assert body["integration"] == "loose"
    consortium = Consortium.objects.get(public_id=body["public_id"])
    assert Membership.objects.filter(
        user=world.office, consortium=consortium, role="consortium_office"
    ).exists()
    members = api(world.office).get(_url(consortium, "/members")).json()["results"]
    assert members[0]["joined_on"] == "2024-03-01"


def test_a_lead_already_in_a_county_community_cannot_lead_another(world, api):
    before = Consortium.objects.count()
    response = api(world.admin).post(
        "/api/v1/consortia",
        {
            "name": "第二个医共体",
            "type": "county_community",
            "region": "341522",
            "lead_institution": str(world.township.public_id),
        },
        format="json",
    )
    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "lead_institution": ["一个机构同一时间只能加入一个城市医疗集团或县域医共体。"]
    }
    assert Consortium.objects.count() == before


@pytest.mark.parametrize("who,status", [("hospital_admin", 403), ("hospital_doctor", 403), ("stranger", 403)])
def test_who_may_not_create_consortia(world, api, who, status):
    response = api(getattr(world, who)).post(
        "/api/v1/consortia",
        {
            "name": "越权联盟",
            "type": "specialty_alliance",
            "region": "341522",
            "lead_institution": str(world.outsider.public_id),
        },
        format="json",
    )
    assert response.status_code == status
    assert not Consortium.objects.filter(name="越权联盟").exists()


def test_consortium_patch_with_if_match(world, api):
    client = api(world.office)
    response = client.patch(
        _url(world.consortium), {"description": "县域紧密型医共体"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert response["ETag"] == '"2"'
    stale = client.patch(
        _url(world.consortium), {"description": "旧版本"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 409
    assert error_of(stale)["code"] == "conflict"
    world.consortium.refresh_from_db()
    assert world.consortium.description == "县域紧密型医共体"
    assert world.consortium.version == 2


def test_consortium_patch_rejects_a_malformed_if_match(world, api):
    response = api(world.office).patch(
        _url(world.consortium), {"description": "x"}, format="json", HTTP_IF_MATCH="yesterday"
    )
    assert response.status_code == 400
    assert "If-Match" in error_of(response)["fields"]


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("outsider_doctor", 403),
        ("hospital_admin", 403),  # admin of the lead institution, but not the office
        ("office", 200),
        ("regulator", 200),
        ("admin", 200),
    ],
)
def test_consortium_patch_matrix(world, api, who, status):
    response = api(world.users()[who]).patch(_url(world.consortium), {"description": "新简介"}, format="json")
    assert response.status_code == status
    world.consortium.refresh_from_db()
    assert (world.consortium.description == "新简介") is (status == 200)


# Members ---------------------------------------------------------------------------


def test_add_member_bumps_the_version_and_is_audited(world, api):
    client = api(world.office)
    response = client.post(
        _url(world.consortium, "/members"),
        {
            "institution": str(world.outsider.public_id),
            "parent": str(_lead_member(world).public_id),
            "joined_on": "2025-01-01",
            "notes": "河口镇",
            "expected_version": 1,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["role"] == "member"
    assert body["parent_institution"]["public_id"] == str(world.hospital.public_id)
    assert body["consortium"] == str(world.consortium.public_id)
    assert body["consortium_version"] == 2
    assert response["ETag"] == '"2"'
    event = AuditEvent.objects.get(action="consortium.member.add", actor=world.office)
    assert event.consortium_public_id == world.consortium.public_id


def test_duplicate_membership_is_a_field_error_and_saves_nothing(world, api):
    before = ConsortiumMember.objects.count()
    response = api(world.office).post(
        _url(world.consortium, "/members"), {"institution": str(world.township.public_id)}, format="json"
    )
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"institution": ["该机构已是本医联体的成员。"]}
    assert ConsortiumMember.objects.count() == before
    world.consortium.refresh_from_db()
    assert world.consortium.version == 1


def test_institution_in_another_county_community_cannot_join(world, api):
    other = ConsortiumFactory(name="裕安区医共体", region=world.regions["district"])
    response = api(world.admin).post(
        _url(other, "/members"), {"institution": str(world.township.public_id)}, format="json"
    )
    assert response.status_code == 400
    assert error_of(response)["fields"]["institution"] == [
        "该机构已加入霍邱县人民医院医共体；一个机构同一时间只能加入一个城市医疗集团或县域医共体。"
    ]
    assert not ConsortiumMember.objects.filter(consortium=other, institution=world.township).exists()


@pytest.mark.parametrize("how", ["body", "header"])
def test_stale_version_is_a_conflict_and_saves_nothing(world, api, how):
    client = api(world.office)
    url = _url(world.consortium, "/members")
    first = client.post(url, {"institution": str(world.outsider.public_id)}, format="json")
    assert first.status_code == 201
    late = InstitutionFactory(region=world.regions["town_b"])
    payload = {"institution": str(late.public_id)}
    extra = {}
    if how == "body":
        payload["expected_version"] = 1
    else:
        extra["HTTP_IF_MATCH"] = 'W/"1"'
    response = client.post(url, payload, format="json", **extra)
    assert response.status_code == 409
    assert error_of(response)["message"] == "该医联体已被他人修改，请刷新后重试。"
    assert not ConsortiumMember.objects.filter(institution=late).exists()
    world.consortium.refresh_from_db()
    assert world.consortium.version == 2


def test_sub_lead_cycle_is_a_field_error_and_saves_nothing(world, api):
    client = api(world.office)
    url = _url(world.consortium, "/members")
    lead = _lead_member(world)
    tcm = HospitalFactory(name="霍邱县中医医院", region=world.regions["county"])
    sub = client.post(
        url,
        {"institution": str(tcm.public_id), "role": "sub_lead", "parent": str(lead.public_id)},
        format="json",
    ).json()
    under = client.post(
        url,
        {"institution": str(world.outsider.public_id), "role": "sub_lead", "parent": sub["public_id"]},
        format="json",
    ).json()
    sub_member = ConsortiumMember.objects.get(public_id=sub["public_id"])
    version = Consortium.objects.get(pk=world.consortium.pk).version
    response = client.patch(_member_url(sub_member), {"parent": under["public_id"]}, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"parent": ["不能把成员挂到它自己或它的下级之下（会形成循环）。"]}
    sub_member.refresh_from_db()
    assert sub_member.parent_id == lead.pk
    assert Consortium.objects.get(pk=world.consortium.pk).version == version


def test_sub_lead_needs_a_parent(world, api):
    response = api(world.office).post(
        _url(world.consortium, "/members"),
        {"institution": str(world.outsider.public_id), "role": "sub_lead"},
        format="json",
    )
    assert error_of(response)["fields"] == {
        "parent": ["二级牵头单位必须挂在牵头单位或另一个二级牵头单位之下。"]
    }


def test_member_update_and_remove_keep_history(world, api):
    client = api(world.office)
    member = ConsortiumMember.objects.get(institution=world.township)
    response = client.patch(_member_url(member), {"notes": "中心卫生院", "parent": None}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["notes"] == "中心卫生院"
    assert response["ETag"] == '"2"'

    removed = client.post(
        _member_url(member, "/remove"),
        {"left_on": "2026-01-31", "reason": "调整网格", "expected_version": 2},
        format="json",
    )
    assert removed.status_code == 200, removed.content
    assert removed.json()["is_active"] is False
    assert removed.json()["left_on"] == "2026-01-31"
    assert removed.json()["consortium_version"] == 3

    current = _results(client.get(_url(world.consortium, "/members")))
    assert [row["institution"]["name"] for row in current] == ["霍邱县人民医院"]
    history = _results(client.get(_url(world.consortium, "/members"), {"history": "1"}))
    assert [(row["institution"]["name"], row["is_active"]) for row in history] == [
        ("霍邱县人民医院", True),
        ("霍邱县城关镇卫生院", False),
    ]
    again = client.post(_member_url(member, "/remove"), {}, format="json")
    assert again.status_code == 409


def test_the_last_lead_cannot_be_removed_or_demoted(world, api):
    client = api(world.office)
    lead = _lead_member(world)
    ConsortiumMember.objects.filter(institution=world.township).update(parent=None)
    removed = client.post(_member_url(lead, "/remove"), {}, format="json")
    assert error_of(removed)["fields"] == {"__all__": ["医联体至少要保留一个牵头单位。"]}
    demoted = client.patch(_member_url(lead), {"role": "member"}, format="json")
    assert error_of(demoted)["fields"]["role"] == ["医联体至少要保留一个牵头单位。"]
    lead.refresh_from_db()
    assert lead.is_active and lead.role == MemberRole.LEAD


def test_member_detail(world, api):
    member = ConsortiumMember.objects.get(institution=world.township)
    body = api(world.outsider_doctor).get(_member_url(member)).json()
    assert body["consortium"] == str(world.consortium.public_id)
    assert body["institution"]["name"] == "霍邱县城关镇卫生院"
    assert body["consortium_version"] == 1
    assert api(world.admin).get("/api/v1/consortium-members/nope").status_code == 404


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("outsider_doctor", 403),  # staff of the institution being added
        ("township_admin", 403),  # admin of a member institution
        ("hospital_admin", 403),  # admin of the lead institution
        ("office", 201),
        ("regulator", 201),
        ("admin", 201),
    ],
)
def test_add_member_matrix(world, api, who, status):
    response = api(world.users()[who]).post(
        _url(world.consortium, "/members"), {"institution": str(world.outsider.public_id)}, format="json"
    )
    assert response.status_code == status
    added = ConsortiumMember.objects.filter(consortium=world.consortium, institution=world.outsider).exists()
    assert added is (status == 201)


@pytest.mark.parametrize("who,status", [("township_admin", 403), ("hospital_doctor", 403), ("office", 200)])
def test_remove_member_matrix(world, api, who, status):
    member = ConsortiumMember.objects.get(institution=world.township)
    response = api(getattr(world, who)).post(_member_url(member, "/remove"), {}, format="json")
    assert response.status_code == status
    member.refresh_from_db()
    assert member.is_active is (status != 200)


def test_member_list_query_count(world, api, django_assert_num_queries):
    lead = _lead_member(world)
    for _ in range(6):
        ConsortiumMemberFactory(
            consortium=world.consortium,
            institution=InstitutionFactory(region=world.regions["town_a"]),
            parent=lead,
        )
    client = api(world.hospital_doctor)
    # token, scope, consortium, count, page (institution, region and parent institution joined)
    with django_assert_num_queries(5):
        rows = _results(client.get(_url(world.consortium, "/members"), {"history": "true"}))
    assert len(rows) == 8
    assert sum(1 for row in rows if row["parent_institution"]) == 6


# Management bodies ------------------------------------------------------------------


def test_management_bodies_lifecycle(world, api):
    client = api(world.office)
    url = _url(world.consortium, "/management-bodies")
    created = client.post(
        url,
        {
            "kind": "committee",
            "name": "医共体管理委员会",
            "head_name": "张主任",
            "host_institution": str(world.hospital.public_id),
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["host_institution"] == str(world.hospital.public_id)
    detail = f"{url}/{body['public_id']}"
    changed = client.patch(detail, {"head_name": "李主任", "host_institution": None}, format="json")
    assert changed.status_code == 200
    assert changed.json()["host_institution"] is None
    assert [row["head_name"] for row in _results(api(world.hospital_doctor).get(url))] == ["李主任"]
    invalid = client.post(url, {"kind": "parliament", "name": "x"}, format="json")
    assert "kind" in error_of(invalid)["fields"]
    assert client.delete(detail).status_code == 204
    assert not ManagementBody.objects.exists()
    assert client.delete(detail).status_code == 404


def test_management_bodies_are_changed_only_by_managers(world, api):
    body = ManagementBody.objects.create(consortium=world.consortium, kind="office", name="医共体办公室")
    url = _url(world.consortium, f"/management-bodies/{body.public_id}")
    assert api(world.hospital_admin).patch(url, {"name": "改名"}, format="json").status_code == 403
    assert api(world.hospital_doctor).delete(url).status_code == 403
    other = ConsortiumFactory(name="另一医共体", region=world.regions["district"])
    wrong_parent = _url(other, f"/management-bodies/{body.public_id}")
    assert api(world.admin).patch(wrong_parent, {"name": "改名"}, format="json").status_code == 404
    body.refresh_from_db()
    assert body.name == "医共体办公室"
    create = api(world.township_admin).post(
        _url(world.consortium, "/management-bodies"), {"kind": "office", "name": "x"}, format="json"
    )
    assert create.status_code == 403


def test_management_body_list_query_count(world, api, django_assert_num_queries):
    for kind in ("committee", "office", "finance", "quality"):
        ManagementBody.objects.create(
            consortium=world.consortium, kind=kind, name=kind, host_institution=world.hospital
        )
    client = api(world.hospital_doctor)
    # token, scope, consortium, count, page (host institution joined)
    with django_assert_num_queries(5):
        assert len(_results(client.get(_url(world.consortium, "/management-bodies")))) == 4


# Agreements -----------------------------------------------------------------------------


def _upload(client, consortium, **overrides):
    payload = {
        "kind": "charter",
        "title": "医共体章程",
        "file": SimpleUploadedFile("章程.pdf", PDF, content_type="application/pdf"),
        "effective_from": "2024-01-01",
        "parties": [str(consortium.members.get(role="lead").institution.public_id)],
    }
    payload.update(overrides)
    return client.post(_url(consortium, "/agreements"), payload, format="multipart")


def test_agreement_upload_list_and_download(world, api, media_root):
    client = api(world.office)
    response = _upload(
        client,
        world.consortium,
        parties=[str(world.hospital.public_id), str(world.township.public_id)],
        signed_on="2023-12-20",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["original_filename"] == "章程.pdf"
    assert {party["name"] for party in body["parties"]} == {world.hospital.name, world.township.name}
    assert body["download_url"] == f"/api/v1/agreements/{body['public_id']}/download"

    listed = _results(api(world.outsider_doctor).get(_url(world.consortium, "/agreements")))
    assert [row["title"] for row in listed] == ["医共体章程"]

    # Staff of a member institution download the file …
    download = api(world.hospital_doctor).get(body["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]
    binary = api(world.hospital_doctor).get(body["download_url"], HTTP_ACCEPT="application/octet-stream")
    assert binary.status_code == 200
    # … staff of other institutions do not learn it exists.
    refused = api(world.outsider_doctor).get(body["download_url"])
    assert refused.status_code == 404
    assert error_of(refused)["code"] == "not_found"


def test_agreement_upload_validation_saves_nothing(world, api, media_root):
    client = api(world.office)
    wrong_type = _upload(
        client,
        world.consortium,
        file=SimpleUploadedFile("x.exe", b"MZ\x90\x00", content_type="application/x"),
    )
    assert wrong_type.status_code == 400
    assert error_of(wrong_type)["fields"] == {"file": ["只接受 PDF、OFD、Word、Excel 或图片文件。"]}
    fake_pdf = _upload(client, world.consortium, file=SimpleUploadedFile("x.pdf", b"hello"))
    assert error_of(fake_pdf)["fields"] == {"file": ["文件内容与扩展名不符。"]}
    stranger_party = _upload(client, world.consortium, parties=[str(world.outsider.public_id)])
    assert error_of(stranger_party)["fields"] == {"parties": ["以下机构不是本医联体成员：霍邱县河口镇卫生院"]}
    bad_dates = _upload(client, world.consortium, effective_to="2023-01-01")
    assert error_of(bad_dates)["fields"] == {"effective_to": ["失效日期不能早于生效日期。"]}
    missing = client.post(_url(world.consortium, "/agreements"), {"kind": "charter"}, format="multipart")
    assert {"title", "file", "effective_from"} <= set(error_of(missing)["fields"])
    assert not Agreement.objects.exists()
    assert not media_root.exists() or not any(path.is_file() for path in media_root.rglob("*"))


def test_agreement_upload_and_change_are_for_managers(world, api, media_root):
    response = _upload(api(world.hospital_admin), world.consortium)
    assert response.status_code == 403
    assert not Agreement.objects.exists()
    body = _upload(api(world.office), world.consortium).json()
    url = f"/api/v1/agreements/{body['public_id']}"
    assert api(world.hospital_doctor).patch(url, {"notes": "x"}, format="json").status_code == 403
    assert api(world.outsider_doctor).patch(url, {"notes": "x"}, format="json").status_code == 404
    ended = api(world.office).patch(url, {"effective_to": "2030-12-31"}, format="json")
    assert ended.status_code == 200
    assert ended.json()["effective_to"] == "2030-12-31"
    noted = api(world.office).patch(url, {"notes": "已备案"}, format="json").json()
    assert noted["effective_to"] == "2030-12-31" and noted["notes"] == "已备案"


def test_agreement_list_query_count(world, api, media_root, django_assert_num_queries):
    office = api(world.office)
    for n in range(4):
        _upload(
            office,
            world.consortium,
            title=f"协议{n}",
            kind="cooperation",
            parties=[str(world.hospital.public_id), str(world.township.public_id)],
            effective_from=str(datetime.date(2024, 1, 1) + datetime.timedelta(days=n)),
        )
    client = api(world.outsider_doctor)
    # token, scope, consortium, count, page, parties prefetch
    with django_assert_num_queries(6):
        rows = _results(client.get(_url(world.consortium, "/agreements")))
    assert len(rows) == 4 and all(len(row["parties"]) == 2 for row in rows)


def test_patch_cannot_change_the_form_or_smuggle_fields(world, api):
    client = api(world.office)
    url = f"/api/v1/consortia/{world.consortium.public_id}"
    response = client.patch(url, {"type": "specialty_alliance"}, format="json")
    assert response.status_code == 400
    assert "type" in response.json()["error"]["fields"]
    response = client.patch(url, {"name": "新名字", "version": 99}, format="json")
    assert response.status_code == 400
    assert "version" in response.json()["error"]["fields"]
    world.consortium.refresh_from_db()
    assert world.consortium.type == "county_community" and world.consortium.name != "新名字"
