"""Prepared reads: the same rows and instances as Django's own evaluation of the queryset, one query,
compiled once per thread; refused where the variable cannot be swapped in safely."""

from __future__ import annotations

import datetime
import threading
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.db.transaction import TransactionManagementError

from yilian.core.models import AuditEvent
from yilian.core.prepared import PreparedRead

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    actor = get_user_model().objects.create(username="prepared-reader", full_name="王医生")
    institution = uuid.uuid4()
    rows = [
        AuditEvent.objects.create(
            actor=actor if n % 2 == 0 else None,
            actor_label="王医生",
            action="test.prepared",
            object_type="test",
            object_id=f"object-{n}",
            institution_public_id=institution,
            before={"状态": "草稿", "n": n},
            after=None,
            details={"list": [1, 2.5, "三"], "nested": {"ok": True}},
        )
        for n in range(3)
    ]
    return actor, institution, rows


def _by_pk(pk):
    return AuditEvent.objects.select_related("actor").filter(pk=pk)


def _concrete(instance):
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_an_instance_is_what_django_builds_with_its_related_row_in_one_query(
    events, django_assert_num_queries
):
    actor, _institution, rows = events
    read = PreparedRead(_by_pk)
    for row in rows:
        expected = _by_pk(row.pk).get()
        with django_assert_num_queries(1):
            found = read.get(row.pk)
            assert _concrete(found) == _concrete(expected)
            assert isinstance(found.occurred_at, datetime.datetime) and found.occurred_at.tzinfo is not None
            assert found.details == {"list": [1, 2.5, "三"], "nested": {"ok": True}}
            if found.actor_id:
                assert found.actor == actor and found.actor.full_name == "王医生"
            else:
                assert found.actor is None
        assert found._state.adding is False and found._state.db == "default"


def test_deferred_fields_load_on_access_as_with_only(events):
    _actor, _institution, rows = events
    read = PreparedRead(lambda pk: AuditEvent.objects.only("id", "action").filter(pk=pk))
    found = read.get(rows[1].pk)
    assert (
        found.get_deferred_fields()
        == AuditEvent.objects.only("id", "action").get(pk=rows[1].pk).get_deferred_fields()
    )
    assert found.object_id == "object-1"


def test_values_list_rows_by_uuid_and_by_text(events):
    _actor, institution, _rows = events
    by_institution = PreparedRead(
        lambda public_id: (
            AuditEvent.objects.filter(institution_public_id=public_id)
            .order_by("object_id")
            .values_list("object_id", "before", "institution_public_id")
        ),
        kind=uuid.UUID,
    )
    expected = list(
        AuditEvent.objects.filter(institution_public_id=institution)
        .order_by("object_id")
        .values_list("object_id", "before", "institution_public_id")
    )
    assert by_institution.rows(institution) == expected
    assert by_institution.rows(str(institution)) == expected
    assert by_institution.rows(uuid.uuid4()) == []
    by_object = PreparedRead(lambda object_id: AuditEvent.objects.filter(object_id=object_id), kind=str)
    assert [event.object_id for event in by_object.rows("object-2")] == ["object-2"]


@pytest.mark.django_db(transaction=True)  # the other thread's connection sees only committed rows
def test_compiled_once_per_thread(events):
    _actor, _institution, rows = events
    built = []

    def build(pk):
        built.append(pk)
        return _by_pk(pk)

    read = PreparedRead(build)
    for row in rows:
        read.get(row.pk)
    assert len(built) == 1
    if connection.vendor == "postgresql":
        # Another thread has its own connection and compiles its own copy.
        found = []

        def other():
            try:
                found.append(read.get(rows[0].pk).object_id)
            finally:
                connection.close()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert len(built) == 2


def test_missing_rows_and_bad_values(events):
    read = PreparedRead(_by_pk)
    with pytest.raises(AuditEvent.DoesNotExist):
        read.get(10**9)
    with pytest.raises(ValueError):
        read.get("not a number")
    by_uuid = PreparedRead(
        lambda value: AuditEvent.objects.filter(institution_public_id=value), kind=uuid.UUID
    )
    with pytest.raises(ValueError):
        by_uuid.rows("ZZ2026")


@pytest.mark.parametrize(
    "build",
    [
        lambda value: AuditEvent.objects.filter(object_id__startswith=value),  # the value is transformed
        lambda value: AuditEvent.objects.filter(
            Q(object_id=value) | Q(actor_label=value)
        ),  # it appears twice
        lambda value: AuditEvent.objects.filter(action="test.prepared"),  # it never appears
        lambda value: AuditEvent.objects.filter(object_id=value).values("object_id"),  # dictionaries
    ],
)
def test_reads_that_cannot_be_prepared_are_refused(events, build):
    with pytest.raises(ValueError):
        PreparedRead(build, kind=str).rows("object-1")


def test_unsupported_kinds_are_refused():
    with pytest.raises(ValueError):
        PreparedRead(_by_pk, kind=float)


@pytest.mark.django_db(transaction=True)  # outside the test's own transaction, autocommit is on
def test_a_locking_read_needs_a_transaction(events):
    _actor, _institution, rows = events
    read = PreparedRead(lambda pk: AuditEvent.objects.select_for_update().filter(pk=pk))
    with transaction.atomic():
        assert read.get(rows[0].pk).pk == rows[0].pk
    if connection.features.has_select_for_update:
        with pytest.raises(TransactionManagementError):
            read.get(rows[0].pk)
