"""Serializers of the outreach API: shape and rendering only; the services check the rules.

Objects are addressed by public id. Booked residents are rendered in full only
for those who may see them (``policies.sees_patients_of``); everyone else reads
a masked name.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yilian.core.api.fields import EnumField, ReferenceField
from yilian.core.audit import action_label
from yilian.institutions.api.serializers import (
    ConsortiumSummarySerializer,
    InstitutionSummarySerializer,
    consortium_by_id,
    department_by_id,
    institution_by_id,
)
from yilian.outreach import policies
from yilian.outreach.choices import BatchStatus, BookingStatus, OutreachKind, PostingStatus, SessionStatus
from yilian.people.identifiers import mask_name
from yilian.people.selectors import person_get_for


def person_by_id(actor: Any, public_id: Any) -> Any:
    """A resident the actor may see."""
    return person_get_for(actor, public_id)


class OutreachUserSerializer(serializers.Serializer):
    """A user by public id, name and title."""

    public_id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    professional_title = serializers.CharField(read_only=True)


class OutreachDepartmentSerializer(serializers.Serializer):
    """A department by public id and name."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


# Batches ------------------------------------------------------------------------------------


class OutreachVisitSerializer(serializers.Serializer):
    """One expert's work of one kind in a batch."""

    public_id = serializers.UUIDField(read_only=True)
    expert = OutreachUserSerializer(read_only=True)
    home_department = OutreachDepartmentSerializer(read_only=True, allow_null=True)
    title_at_visit = serializers.CharField(read_only=True)
    kind = EnumField(OutreachKind, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    visit_on = serializers.DateField(read_only=True)
    sessions = serializers.IntegerField(read_only=True)
    patients_seen = serializers.IntegerField(read_only=True)
    attendees = serializers.IntegerField(read_only=True)
    surgeries = serializers.IntegerField(read_only=True)
    records_reviewed = serializers.IntegerField(read_only=True)
    hazards_found = serializers.IntegerField(read_only=True)
    hazards_fixed = serializers.IntegerField(read_only=True)
    findings = serializers.CharField(read_only=True)


class OutreachBatchSerializer(serializers.Serializer):
    """A dispatch batch in lists."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True)
    status = EnumField(BatchStatus, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    version = serializers.IntegerField(read_only=True)
    consortium = ConsortiumSummarySerializer(read_only=True)
    sending_institution = InstitutionSummarySerializer(read_only=True)
    host_institution = InstitutionSummarySerializer(read_only=True)
    starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(read_only=True)
    purpose = serializers.CharField(read_only=True)
    experts = serializers.SerializerMethodField()

    def get_experts(self, batch: Any) -> list[str]:
        """Names of the experts on the batch (from the prefetched visits)."""
        seen: dict[int, str] = {}
        for visit in batch.visits.all():
            seen.setdefault(visit.expert_id, visit.expert.full_name or visit.expert.username)
        return list(seen.values())


class OutreachEventSerializer(serializers.Serializer):
    """One step of a batch's timeline."""

    action = serializers.CharField(read_only=True)
    label = serializers.SerializerMethodField()
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)
    side = serializers.CharField(read_only=True)
    actor_label = serializers.CharField(read_only=True)
    note = serializers.CharField(source="display_note", read_only=True)
    occurred_at = serializers.DateTimeField(read_only=True)

    def get_label(self, event: Any) -> str:
        """The readable name of the action."""
        return action_label(f"outreach_batch.{event.action}")


class OutreachBatchDetailSerializer(OutreachBatchSerializer):
    """A batch with its visits, summary, confirmation, timeline and the requester's actions."""

    summary = serializers.CharField(read_only=True)
    cancel_reason = serializers.CharField(read_only=True)
    confirmed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    visits = OutreachVisitSerializer(many=True, read_only=True)
    timeline = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()
    may_edit_visits = serializers.SerializerMethodField()

    @extend_schema_field(OutreachEventSerializer(many=True))
    def get_timeline(self, batch: Any) -> list[dict[str, Any]]:
        """Steps, oldest first."""
        return OutreachEventSerializer(self.context.get("timeline", []), many=True).data  # type: ignore[return-value]

    def get_actions(self, batch: Any) -> list[str]:
        """Workflow actions the requester may take now."""
        return list(self.context.get("actions", []))

    def get_may_edit_visits(self, batch: Any) -> bool:
        """Whether the requester may add, change or remove visits now."""
        return bool(self.context.get("may_edit_visits"))


class OutreachBatchCreateSerializer(serializers.Serializer):
    """Record a planned batch."""

    sending_institution = ReferenceField(institution_by_id)
    host_institution = ReferenceField(institution_by_id)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    purpose = serializers.CharField(max_length=200)


class OutreachVisitWriteSerializer(serializers.Serializer):
    """Add or change a visit. ``expert`` is the public id of a user of the sending institution."""

    expected_version = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    expert = serializers.UUIDField(required=False)
    home_department = ReferenceField(department_by_id, required=False, allow_null=True)
    kind = EnumField(OutreachKind, required=False)
    visit_on = serializers.DateField(required=False)
    sessions = serializers.IntegerField(required=False, min_value=0, max_value=50)
    patients_seen = serializers.IntegerField(required=False, min_value=0, max_value=2000)
    attendees = serializers.IntegerField(required=False, min_value=0, max_value=5000)
    surgeries = serializers.IntegerField(required=False, min_value=0, max_value=50)
    records_reviewed = serializers.IntegerField(required=False, min_value=0, max_value=5000)
    hazards_found = serializers.IntegerField(required=False, min_value=0, max_value=500)
    hazards_fixed = serializers.IntegerField(required=False, min_value=0, max_value=500)
    findings = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class OutreachBatchActionSerializer(serializers.Serializer):
    """A workflow action: the version seen, a note (the reason of return / cancel), a summary (complete)."""

    expected_version = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class OutreachBatchQuerySerializer(serializers.Serializer):
    """Filters of the batch list."""

    box = serializers.ChoiceField(choices=["all", "sent", "received", "mine"], required=False, default="all")
    status = EnumField(BatchStatus, required=False)
    kind = EnumField(OutreachKind, required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    q = serializers.CharField(required=False, max_length=100)


# Postings -----------------------------------------------------------------------------------


class OutreachPostingSerializer(serializers.Serializer):
    """A long-term posting."""

    public_id = serializers.UUIDField(read_only=True)
    status = EnumField(PostingStatus, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    version = serializers.IntegerField(read_only=True)
    consortium = ConsortiumSummarySerializer(read_only=True)
    expert = OutreachUserSerializer(read_only=True)
    home_institution = InstitutionSummarySerializer(read_only=True)
    home_department = OutreachDepartmentSerializer(read_only=True, allow_null=True)
    host_institution = InstitutionSummarySerializer(read_only=True)
    title_at_posting = serializers.CharField(read_only=True)
    planned_start = serializers.DateField(read_only=True)
    planned_end = serializers.DateField(read_only=True)
    actual_start = serializers.DateField(read_only=True, allow_null=True)
    actual_end = serializers.DateField(read_only=True, allow_null=True)
    early_end_reason = serializers.CharField(read_only=True)
    duties = serializers.CharField(read_only=True)


class OutreachPostingCreateSerializer(serializers.Serializer):
    """Record a planned posting; ``expert`` is the public id of a staff member of the sending institution."""

    expert = serializers.UUIDField()
    home_institution = ReferenceField(institution_by_id)
    home_department = ReferenceField(department_by_id, required=False, allow_null=True)
    host_institution = ReferenceField(institution_by_id)
    planned_start = serializers.DateField()
    planned_end = serializers.DateField()
    duties = serializers.CharField(required=False, allow_blank=True, max_length=300)


class OutreachPostingActionSerializer(serializers.Serializer):
    """Start (``date`` = actual start), end (``date`` = actual end, ``reason`` when early) or cancel (``reason``)."""

    expected_version = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    date = serializers.DateField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class OutreachPostingQuerySerializer(serializers.Serializer):
    """Filters of the posting list."""

    status = EnumField(PostingStatus, required=False)
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    q = serializers.CharField(required=False, max_length=100)


class PostingIndicatorQuerySerializer(serializers.Serializer):
    """The year and the scope (a consortium's public id, or a region code) of the posting indicator."""

    year = serializers.IntegerField(min_value=2000, max_value=2100)
    consortium = ReferenceField(consortium_by_id, required=False)
    region = serializers.CharField(required=False, max_length=12)


class PostingIndicatorRowSerializer(OutreachPostingSerializer):
    """A posting behind the indicator: its days inside the year, whether it counts and why not."""

    days_in_year = serializers.IntegerField(read_only=True)
    total_days = serializers.IntegerField(read_only=True)
    counted = serializers.BooleanField(read_only=True)
    excluded_because = serializers.CharField(
        read_only=True, help_text="title / home / host / short; empty when counted"
    )


class PostingIndicatorSerializer(serializers.Serializer):
    """The posting indicator (working definition, see the user guide) with the postings behind it."""

    year = serializers.IntegerField(read_only=True)
    scope_label = serializers.CharField(read_only=True)
    population = serializers.IntegerField(read_only=True, allow_null=True)
    cutoff = serializers.DateField(read_only=True)
    days = serializers.IntegerField(read_only=True)
    postings_counted = serializers.IntegerField(read_only=True)
    persons_counted = serializers.IntegerField(read_only=True)
    person_days = serializers.IntegerField(read_only=True)
    equivalents = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    value = serializers.DecimalField(max_digits=10, decimal_places=3, read_only=True, allow_null=True)
    postings = PostingIndicatorRowSerializer(many=True, read_only=True)


# Clinic sessions ------------------------------------------------------------------------------


class ClinicSessionSerializer(serializers.Serializer):
    """An expert clinic session at a member."""

    public_id = serializers.UUIDField(read_only=True)
    status = EnumField(SessionStatus, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    expert = OutreachUserSerializer(read_only=True)
    home_institution = InstitutionSummarySerializer(read_only=True)
    host_institution = InstitutionSummarySerializer(read_only=True)
    host_department = OutreachDepartmentSerializer(read_only=True, allow_null=True)
    title_at_session = serializers.CharField(read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)
    slot_minutes = serializers.IntegerField(read_only=True)
    note = serializers.CharField(read_only=True)
    cancel_reason = serializers.CharField(read_only=True)
    slot_count = serializers.IntegerField(read_only=True, required=False)
    booked_count = serializers.IntegerField(read_only=True, required=False)


class ClinicBookingPersonSerializer(serializers.Serializer):
    """The booked resident: full for those who may see them, a masked name otherwise."""

    visible = serializers.BooleanField(read_only=True)
    public_id = serializers.UUIDField(read_only=True, allow_null=True)
    name = serializers.CharField(read_only=True)


def person_block(person: Any, visible: bool) -> dict[str, Any]:
    """The resident as the requester may see them."""
    if visible:
        return {"visible": True, "public_id": str(person.public_id), "name": person.name}
    return {"visible": False, "public_id": None, "name": mask_name(person.name)}


class ClinicBookingSerializer(serializers.Serializer):
    """A booking of a slot."""

    public_id = serializers.UUIDField(read_only=True)
    status = EnumField(BookingStatus, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    starts_at = serializers.DateTimeField(source="slot.starts_at", read_only=True)
    session = serializers.UUIDField(source="session.public_id", read_only=True)
    expert_name = serializers.CharField(source="session.expert.full_name", read_only=True)
    host_institution = serializers.CharField(source="session.host_institution.name", read_only=True)
    person = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField()

    def _sees(self, booking: Any) -> bool:
        return policies.sees_patients_of(self.context["request"].user, booking.session)

    @extend_schema_field(ClinicBookingPersonSerializer)
    def get_person(self, booking: Any) -> dict[str, Any]:
        """The resident, masked unless the requester may see them."""
        return person_block(booking.person, self._sees(booking))

    def get_note(self, booking: Any) -> str:
        """The note, for those who see the resident."""
        return booking.note if self._sees(booking) else ""


class ClinicSlotBookingSerializer(serializers.Serializer):
    """The live booking of a slot."""

    public_id = serializers.UUIDField(read_only=True)
    person = ClinicBookingPersonSerializer(read_only=True)
    note = serializers.CharField(read_only=True)


class ClinicSlotSerializer(serializers.Serializer):
    """A slot of a session with its live booking (masked for those who may not see the resident)."""

    public_id = serializers.UUIDField(read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)
    is_booked = serializers.BooleanField(read_only=True)
    booking = serializers.SerializerMethodField()

    @extend_schema_field(ClinicSlotBookingSerializer(allow_null=True))
    def get_booking(self, slot: Any) -> dict[str, Any] | None:
        """The live booking, or null."""
        booking = getattr(slot, "booking", None)
        if booking is None:
            return None
        return {
            "public_id": str(booking.public_id),
            "person": person_block(booking.person, bool(self.context.get("sees_patients"))),
            "note": booking.note if self.context.get("sees_patients") else "",
        }


class ClinicSessionDetailSerializer(ClinicSessionSerializer):
    """A session with its slots."""

    slots = serializers.SerializerMethodField()

    @extend_schema_field(ClinicSlotSerializer(many=True))
    def get_slots(self, session: Any) -> list[dict[str, Any]]:
        """The slots in time order."""
        return ClinicSlotSerializer(self.context.get("slots", []), many=True, context=self.context).data  # type: ignore[return-value]


class ClinicSessionCreateSerializer(serializers.Serializer):
    """Publish a session: ``expert`` is the public id of a staff member of a hospital of the host's consortium."""

    expert = serializers.UUIDField()
    host_institution = ReferenceField(institution_by_id)
    host_department = ReferenceField(department_by_id, required=False, allow_null=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    slot_minutes = serializers.IntegerField(required=False, default=15)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ClinicSessionQuerySerializer(serializers.Serializer):
    """Filters of the session list."""

    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    mine = serializers.BooleanField(required=False, default=False)
    open = serializers.BooleanField(required=False, default=False)


class OutreachReasonSerializer(serializers.Serializer):
    """A reason."""

    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ClinicBookingCreateSerializer(serializers.Serializer):
    """Book a resident (public id of a person the requester may see) into the slot."""

    person = ReferenceField(person_by_id)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ClinicBookingQuerySerializer(serializers.Serializer):
    """Filters of the booking list."""

    status = EnumField(BookingStatus, required=False)
    upcoming = serializers.BooleanField(required=False, default=False)
    mine = serializers.BooleanField(required=False, default=False)


# Reports ------------------------------------------------------------------------------------


class OutreachReportQuerySerializer(serializers.Serializer):
    """The year and, optionally, the consortium of the annual report."""

    year = serializers.IntegerField(min_value=2000, max_value=2100)
    consortium = ReferenceField(consortium_by_id, required=False)


class OutreachReportRowSerializer(serializers.Serializer):
    """One member's figures (``institution`` empty on the total row); keys as in ``columns``."""

    institution = serializers.CharField(source="institution_name", read_only=True)
    values = serializers.DictField(child=serializers.IntegerField(), read_only=True)


class OutreachReportColumnSerializer(serializers.Serializer):
    """One column of the report: its key and header."""

    key = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)


class OutreachReportSerializer(serializers.Serializer):
    """The annual outreach report per member."""

    year = serializers.IntegerField(read_only=True)
    columns = OutreachReportColumnSerializer(many=True, read_only=True)
    rows = OutreachReportRowSerializer(many=True, read_only=True)


class OutreachStatisticsQuerySerializer(serializers.Serializer):
    """Period and consortium of the statistics."""

    consortium = ReferenceField(consortium_by_id, required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class OutreachStatisticsSerializer(serializers.Serializer):
    """Person-times per member, month and kind."""

    batches = serializers.IntegerField(read_only=True)
    person_times = serializers.IntegerField(read_only=True)
    by_member = serializers.ListField(child=serializers.DictField(), read_only=True)
    by_month = serializers.ListField(child=serializers.DictField(), read_only=True)
    by_kind = serializers.ListField(child=serializers.DictField(), read_only=True)
