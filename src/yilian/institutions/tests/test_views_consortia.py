"""Consortium pages: list, detail tabs, create, members (incl. concurrency), agreements, bodies."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yilian.institutions import services
from yilian.institutions.choices import ConsortiumType, MemberRole
from yilian.institutions.models import Agreement, Consortium, ConsortiumMember, ManagementBody
from yilian.institutions.tests.factories import (
    ConsortiumFactory,
    ConsortiumMemberFactory,
    HospitalFactory,
    InstitutionFactory,
)

pytestmark = pytest.mark.django_db

LIST = reverse("institutions:consortium-list")
CREATE = reverse("institutions:consortium-create")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def detail_url(consortium, tab=""):
    url = reverse("institutions:consortium-detail", args=[consortium.public_id])
    return f"{url}?tab={tab}" if tab else url


def add_url(consortium):
    return reverse("institutions:member-add", args=[consortium.public_id])


def rows(response, testid="consortium-row"):
    return response.content.decode().count(f'data-testid="{testid}"')


def active_members(consortium):
    return set(consortium.members.filter(is_active=True).values_list("institution__name", flat=True))


# List and detail -----------------------------------------------------------


def test_list_shows_form_leads_and_member_count(world, client_for):
    response = client_for(world.hospital_doctor).get(LIST)
    body = response.content.decode()
    assert response.status_code == 200
    assert rows(response) == 1
    assert "县域医共体" in body and "紧密型" in body and "霍邱县人民医院" in body
    assert '<td class="num">2</td>' in body
    assert 'data-testid="consortium-create"' not in body


def test_list_search_by_pinyin_and_filters(world, client_for):
    ConsortiumFactory(
        name="六安市心血管专科联盟", type=ConsortiumType.SPECIALTY_ALLIANCE, region=world.regions["city"]
    )
    client = client_for(world.office)
    assert rows(client.get(LIST, {"q": "hqxrmyyygt"})) == 1
    assert "六安市心血管专科联盟" in client.get(LIST, {"q": "xxg"}).content.decode()
    assert rows(client.get(LIST, {"type": "specialty_alliance"})) == 1
    assert rows(client.get(LIST, {"region": "341522"})) == 1
    assert rows(client.get(LIST, {"region": "341500"})) == 2
    assert rows(client.get(LIST, {"status": "dissolved"})) == 0


def test_list_query_count_does_not_grow(world, client_for, django_assert_num_queries):
    client = client_for(world.hospital_doctor)
    client.get(LIST)
    # session, user, scope, region choices, count, page, leads, badge, the centre menu check
    with django_assert_num_queries(9):
        assert rows(client.get(LIST)) == 1
    for number in range(6):
        consortium = ConsortiumFactory(
            name=f"第{number}专科联盟", type=ConsortiumType.SPECIALTY_ALLIANCE, region=world.regions["county"]
        )
        ConsortiumMemberFactory.create_batch(3, consortium=consortium)
    with django_assert_num_queries(9):
        assert rows(client.get(LIST)) == 7


def test_detail_tabs_render(world, grid, client_for):
    services.management_body_save(
        actor=world.admin,
        consortium=world.consortium,
        kind="committee",
        name="医共体管理委员会",
        head_name="王主任",
    )
    client = client_for(world.outsider_doctor)
    members = client.get(detail_url(world.consortium)).content.decode()
    assert 'data-testid="member-tree"' in members and members.count('data-testid="member-row"') == 2
    assert "医共体管理委员会" in members
    assert 'data-testid="member-add"' not in members and 'data-testid="member-edit"' not in members
    assert "成员变更记录" in members
    assert (
        client.get(detail_url(world.consortium, "history"))
        .content.decode()
        .count('data-testid="history-row"')
        == 2
    )
    assert "王主任" in client.get(detail_url(world.consortium, "bodies")).content.decode()
    assert "城关网格" in client.get(detail_url(world.consortium, "grids")).content.decode()
    assert client.get(detail_url(world.consortium, "agreements")).status_code == 200
    assert client_for(world.stranger).get(detail_url(world.consortium)).status_code == 403


def test_member_tree_nests_sub_leads(world, client_for):
    lead = world.consortium.members.get(role=MemberRole.LEAD)
    tcm = InstitutionFactory(name="霍邱县中医院", region=world.regions["county"], category="A210")
    sub = ConsortiumMemberFactory(
        consortium=world.consortium, institution=tcm, role=MemberRole.SUB_LEAD, parent=lead
    )
    ConsortiumMemberFactory(consortium=world.consortium, institution=world.outsider, parent=sub)
    body = client_for(world.office).get(detail_url(world.consortium)).content.decode()
    tree = body[body.index('data-testid="member-tree"') :]
    # the sub-lead's own member is nested inside the sub-lead's list item, inside the lead's
    assert tree.index("霍邱县人民医院") < tree.index("霍邱县中医院") < tree.index("霍邱县河口镇卫生院")
    assert tree.count('<ul class="tree">') == 3
    assert 'data-testid="member-edit"' in body


# Create and edit -----------------------------------------------------------


def _create_data(world, lead, **overrides):
    data = {
        "name": "裕安区医共体",
        "type": "county_community",
        "integration": "tight",
        "region": "341503",
        "lead_institution": str(lead.public_id),
        "established_on": "2024-01-01",
        "description": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("anonymous", None),
        ("stranger", False),
        ("admin", True),
        ("office", True),
        ("hospital_admin", False),
        ("hospital_doctor", False),
    ],
)
def test_create_consortium_authorization(world, client_for, who, allowed):
    lead = HospitalFactory(name="裕安区人民医院", region=world.regions["district"])
    client = client_for(world.users()[who])
    get = client.get(CREATE)
    post = client.post(CREATE, _create_data(world, lead))
    created = Consortium.objects.filter(name="裕安区医共体").first()
    if allowed is None:
        assert post.status_code == 302 and reverse("accounts:login") in post["Location"]
    elif allowed:
        assert get.status_code == 200
        assert post.status_code == 302 and post["Location"] == detail_url(created)
        assert active_members(created) == {"裕安区人民医院"}
    else:
        assert get.status_code == post.status_code == 403
    if not allowed:
        assert created is None


def test_create_errors_inline(world, client_for):
    client = client_for(world.admin)
    response = client.post(CREATE, _create_data(world, world.township, name="霍邱县人民医院医共体"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "已有同名医联体。" in body
    response = client.post(CREATE, _create_data(world, world.township))
    assert 'data-testid="error-lead_institution"' in response.content.decode()
    assert "一个机构同一时间只能加入一个城市医疗集团或县域医共体。" in response.content.decode()
    assert Consortium.objects.count() == 1


def test_create_form_picker_search(world, client_for):
    body = client_for(world.admin).get(CREATE, {"q": "xrmyy"}).content.decode()
    select = body[body.index('name="lead_institution"') :].split("</select>")[0]
    assert str(world.hospital.public_id) in select
    assert str(world.township.public_id) not in select


def test_edit_consortium(world, client_for):
    url = reverse("institutions:consortium-edit", args=[world.consortium.public_id])
    data = {
        "name": "霍邱县紧密型医共体",
        "integration": "tight",
        "region": "341522",
        "established_on": "2020-07-01",
        "status": "active",
        "description": "县乡村一体化",
        "expected_version": str(world.consortium.version),
    }
    assert client_for(world.hospital_admin).post(url, data).status_code == 403
    response = client_for(world.office).post(url, data)
    assert response.status_code == 302
    world.consortium.refresh_from_db()
    assert world.consortium.name == "霍邱县紧密型医共体"
    stale = client_for(world.regulator).post(url, {**data, "name": "另一个名字"})
    assert stale.status_code == 409
    assert "该医联体已被他人修改，请刷新后重试。" in stale.content.decode()
    world.consortium.refresh_from_db()
    assert world.consortium.name == "霍邱县紧密型医共体"


# Members -------------------------------------------------------------------


def _add_data(consortium, institution, **overrides):
    data = {
        "institution": str(institution.public_id),
        "role": "member",
        "parent": "",
        "joined_on": "2024-03-01",
        "notes": "",
        "expected_version": str(consortium.version),
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("anonymous", None),
        ("stranger", False),
        ("admin", True),
        ("regulator", True),
        ("office", True),
        ("hospital_admin", False),
        ("township_admin", False),
        ("hospital_doctor", False),
        ("outsider_doctor", False),
    ],
)
def test_member_add_authorization(world, client_for, who, allowed):
    client = client_for(world.users()[who])
    url = add_url(world.consortium)
    get = client.get(url)
    post = client.post(url, _add_data(world.consortium, world.outsider))
    joined = ConsortiumMember.objects.filter(institution=world.outsider, is_active=True).exists()
    if allowed is None:
        assert post.status_code == 302 and reverse("accounts:login") in post["Location"]
    elif allowed:
        assert get.status_code == 200 and 'data-testid="member-add-form"' in get.content.decode()
        assert post.status_code == 302
        assert joined
    else:
        assert get.status_code == post.status_code == 403
    if not allowed:
        assert not joined


def test_member_add_with_parent_and_picker(world, client_for):
    client = client_for(world.office)
    page = client.get(add_url(world.consortium)).content.decode()
    assert f'name="expected_version" value="{world.consortium.version}"' in page
    assert str(world.outsider.public_id) in page  # default options: the consortium's region
    lead = world.consortium.members.get(role=MemberRole.LEAD)
    response = client.post(
        add_url(world.consortium),
        _add_data(world.consortium, world.outsider, role="sub_lead", parent=str(lead.public_id)),
    )
    assert response.status_code == 302
    member = ConsortiumMember.objects.get(institution=world.outsider, is_active=True)
    assert member.role == MemberRole.SUB_LEAD and member.parent == lead
    assert member.joined_on == datetime.date(2024, 3, 1)


def test_duplicate_member_is_a_field_error(world, client_for):
    response = client_for(world.office).post(
        add_url(world.consortium), _add_data(world.consortium, world.township)
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-institution"' in body and "该机构已是本医联体的成员。" in body
    assert world.consortium.members.filter(institution=world.township).count() == 1


def test_second_grid_consortium_is_a_field_error(world, client_for):
    other = ConsortiumFactory(name="霍邱县第二医共体", region=world.regions["county"])
    response = client_for(world.admin).post(add_url(other), _add_data(other, world.township))
    body = response.content.decode()
    assert 'data-testid="error-institution"' in body
    assert "该机构已加入霍邱县人民医院医共体" in body
    assert not other.members.filter(institution=world.township).exists()


def test_sub_lead_without_parent_is_a_field_error(world, client_for):
    response = client_for(world.office).post(
        add_url(world.consortium), _add_data(world.consortium, world.outsider, role="sub_lead")
    )
    assert 'data-testid="error-parent"' in response.content.decode()
    assert not ConsortiumMember.objects.filter(institution=world.outsider).exists()


def test_two_administrators_adding_at_once_one_wins_one_gets_a_conflict(world, client_for):
    office, regulator = client_for(world.office), client_for(world.regulator)
    version = world.consortium.version
    other = InstitutionFactory(name="霍邱县石店镇卫生院", region=world.regions["town_b"])
    # both opened the form at the same version
    first = office.post(add_url(world.consortium), _add_data(world.consortium, world.outsider))
    second = regulator.post(add_url(world.consortium), _add_data(world.consortium, other))
    assert first.status_code == 302
    assert second.status_code == 409
    body = second.content.decode()
    assert 'data-testid="form-errors"' in body and "该医联体已被他人修改，请刷新后重试。" in body
    world.consortium.refresh_from_db()
    assert world.consortium.version == version + 1
    # the re-rendered form carries the new version, so a deliberate retry succeeds
    assert f'name="expected_version" value="{version + 1}"' in body
    assert active_members(world.consortium) == {"霍邱县人民医院", "霍邱县城关镇卫生院", "霍邱县河口镇卫生院"}
    retry = regulator.post(add_url(world.consortium), _add_data(world.consortium, other))
    assert retry.status_code == 302
    assert "霍邱县石店镇卫生院" in active_members(world.consortium)


def test_member_edit_refuses_a_cycle(world, client_for):
    lead = world.consortium.members.get(role=MemberRole.LEAD)
    tcm = InstitutionFactory(name="霍邱县中医院", region=world.regions["county"], category="A210")
    upper = ConsortiumMemberFactory(
        consortium=world.consortium, institution=tcm, role=MemberRole.SUB_LEAD, parent=lead
    )
    lower = ConsortiumMemberFactory(
        consortium=world.consortium, institution=world.outsider, role=MemberRole.SUB_LEAD, parent=upper
    )
    url = reverse("institutions:member-edit", args=[upper.public_id])
    client = client_for(world.office)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "role": "sub_lead",
            "parent": str(lower.public_id),
            "notes": "",
            "expected_version": world.consortium.version,
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-parent"' in body and "会形成循环" in body
    upper.refresh_from_db()
    assert upper.parent == lead


def test_member_edit_promotes_and_is_forbidden_to_others(world, client_for):
    member = world.consortium.members.get(institution=world.township)
    lead = world.consortium.members.get(role=MemberRole.LEAD)
    url = reverse("institutions:member-edit", args=[member.public_id])
    data = {
        "role": "sub_lead",
        "parent": str(lead.public_id),
        "notes": "中心卫生院",
        "expected_version": world.consortium.version,
    }
    assert client_for(world.township_admin).post(url, data).status_code == 403
    member.refresh_from_db()
    assert member.role == MemberRole.MEMBER
    assert client_for(world.regulator).post(url, data).status_code == 302
    member.refresh_from_db()
    assert member.role == MemberRole.SUB_LEAD and member.parent == lead


def test_member_remove_records_history(world, client_for):
    member = world.consortium.members.get(institution=world.township)
    url = reverse("institutions:member-remove", args=[member.public_id])
    data = {"left_on": "2025-06-30", "reason": "并入城关分院", "expected_version": world.consortium.version}
    assert client_for(world.hospital_admin).post(url, data).status_code == 403
    client = client_for(world.office)
    assert client.get(url).status_code == 200
    response = client.post(url, data)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_active is False and member.left_on == datetime.date(2025, 6, 30)
    history = client.get(detail_url(world.consortium, "history")).content.decode()
    assert "并入城关分院" in history and "2025-06-30" in history
    assert client.get(url).status_code == 404  # already left


def test_removing_the_last_lead_is_refused(world, client_for):
    lead = world.consortium.members.get(role=MemberRole.LEAD)
    url = reverse("institutions:member-remove", args=[lead.public_id])
    response = client_for(world.office).post(
        url, {"reason": "", "expected_version": world.consortium.version}
    )
    assert response.status_code == 200
    assert "医联体至少要保留一个牵头单位。" in response.content.decode()
    lead.refresh_from_db()
    assert lead.is_active


# Agreements ----------------------------------------------------------------


def _upload_data(world, **overrides):
    data = {
        "kind": "charter",
        "title": "霍邱县医共体章程",
        "file": SimpleUploadedFile("章程.pdf", PDF, content_type="application/pdf"),
        "signed_on": "2020-06-20",
        "effective_from": "2020-07-01",
        "effective_to": "",
        "parties": [str(world.hospital.public_id), str(world.township.public_id)],
        "notes": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("anonymous", None),
        ("stranger", False),
        ("admin", True),
        ("regulator", True),
        ("office", True),
        ("hospital_admin", False),
        ("hospital_doctor", False),
    ],
)
def test_agreement_upload_authorization(world, client_for, media_root, who, allowed):
    url = reverse("institutions:agreement-upload", args=[world.consortium.public_id])
    client = client_for(world.users()[who])
    get = client.get(url)
    post = client.post(url, _upload_data(world))
    agreement = Agreement.objects.filter(title="霍邱县医共体章程").first()
    if allowed is None:
        assert post.status_code == 302 and reverse("accounts:login") in post["Location"]
    elif allowed:
        assert get.status_code == 200
        assert post.status_code == 302
        assert set(agreement.parties.values_list("name", flat=True)) == {
            "霍邱县人民医院",
            "霍邱县城关镇卫生院",
        }
        assert agreement.original_filename == "章程.pdf"
    else:
        assert get.status_code == post.status_code == 403
    if not allowed:
        assert agreement is None


def test_agreement_upload_rejects_bad_files_inline(world, client_for, media_root):
    url = reverse("institutions:agreement-upload", args=[world.consortium.public_id])
    client = client_for(world.office)
    response = client.post(url, _upload_data(world, file=SimpleUploadedFile("run.exe", b"MZ\x90\x00")))
    assert "只接受 PDF、OFD、Word、Excel 或图片文件。" in response.content.decode()
    response = client.post(url, _upload_data(world, file=SimpleUploadedFile("fake.pdf", b"MZ\x90\x00")))
    assert "文件内容与扩展名不符。" in response.content.decode()
    response = client.post(url, _upload_data(world, effective_to="2019-01-01"))
    assert 'data-testid="error-effective_to"' in response.content.decode()
    response = client.post(url, _upload_data(world, parties=[str(world.outsider.public_id)]))
    assert 'data-testid="error-parties"' in response.content.decode()
    assert not Agreement.objects.exists()


@pytest.fixture
def agreement(world, media_root):
    return services.agreement_create(
        actor=world.office,
        consortium=world.consortium,
        kind="charter",
        title="霍邱县医共体章程",
        file=SimpleUploadedFile("章程.pdf", PDF),
        effective_from=datetime.date(2020, 7, 1),
        parties=[world.hospital],
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("stranger", 403),
        ("admin", 200),
        ("regulator", 200),
        ("office", 200),
        ("hospital_doctor", 200),  # staff of a member institution
        ("township_admin", 200),
        ("outsider_doctor", 404),  # staff of an institution outside the consortium
    ],
)
def test_agreement_download_authorization(world, agreement, client_for, who, status):
    client = client_for(world.users()[who])
    response = client.get(reverse("institutions:agreement-download", args=[agreement.public_id]))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Disposition"].startswith("attachment")
    page = client.get(detail_url(world.consortium, "agreements"))
    if page.status_code == 200:
        assert ('data-testid="agreement-download"' in page.content.decode()) is (status == 200)
        assert "霍邱县医共体章程" in page.content.decode()


# Management bodies ---------------------------------------------------------


def test_management_bodies_add_edit_delete(world, client_for):
    create = reverse("institutions:body-create", args=[world.consortium.public_id])
    data = {
        "kind": "office",
        "name": "医共体管理办公室",
        "head_name": "李主任",
        "host_institution": str(world.hospital.public_id),
        "phone": "",
        "duties": "日常运行",
    }
    assert client_for(world.hospital_admin).post(create, data).status_code == 403
    client = client_for(world.office)
    response = client.post(create, {**data, "name": ""})
    assert 'data-testid="error-name"' in response.content.decode()
    assert client.post(create, data).status_code == 302
    body = ManagementBody.objects.get(name="医共体管理办公室")
    assert body.host_institution == world.hospital

    edit = reverse("institutions:body-edit", args=[world.consortium.public_id, body.public_id])
    assert client.get(edit).status_code == 200
    assert client.post(edit, {**data, "head_name": "赵主任"}).status_code == 302
    body.refresh_from_db()
    assert body.head_name == "赵主任"

    delete = reverse("institutions:body-delete", args=[world.consortium.public_id, body.public_id])
    assert client_for(world.hospital_doctor).post(delete).status_code == 403
    assert client.get(delete).status_code == 200
    assert client.post(delete).status_code == 302
    assert not ManagementBody.objects.exists()


def test_detail_query_count_does_not_grow_with_members(world, client_for, django_assert_num_queries):
    client = client_for(world.office)
    url = detail_url(world.consortium)
    client.get(url)
    history = detail_url(world.consortium, "history")
    # session, user, scope, consortium, member tree, management bodies, notification badge
    with django_assert_num_queries(7):
        assert rows(client.get(url), "member-row") == 2
    with django_assert_num_queries(6):
        assert rows(client.get(history), "history-row") == 2
    lead = world.consortium.members.get(role=MemberRole.LEAD)
    for number in range(8):
        village = InstitutionFactory(
            name=f"霍邱县第{number}村卫生室", region=world.regions["town_b"], category="D600"
        )
        ConsortiumMemberFactory(consortium=world.consortium, institution=village, parent=lead)
    with django_assert_num_queries(7):
        assert rows(client.get(url), "member-row") == 10
    with django_assert_num_queries(6):
        assert rows(client.get(history), "history-row") == 10


def test_edit_form_keeps_the_established_date_in_chinese(client, world):
    """The date picker needs ISO dates; the zh-hans display format would blank it and lose the date."""
    client.force_login(world.office)
    html = client.get(
        f"/registry/consortia/{world.consortium.public_id}/edit/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert 'type="date"' in html
    assert 'value="2020-07-01"' in html
