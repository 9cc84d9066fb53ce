"""Encounters API: record visits and admissions, discharge, flag inpatients ready to go down,
report monthly service volumes."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.schema import ErrorSerializer
from yilian.core.api.views import ServiceViewSet
from yilian.encounters import services
from yilian.encounters.api import serializers as s
from yilian.encounters.api.serializers import EncounterSerializer, encounter_by_id
from yilian.encounters.selectors import encounter_list

ENCOUNTERS = ["encounters"]
CONFLICT = {409: ErrorSerializer}


@extend_schema(tags=ENCOUNTERS)
class EncounterViewSet(ServiceViewSet):
    """Visits and inpatient stays at the requester's institutions."""

    serializer_class = EncounterSerializer
    error_statuses = (400, 401, 403, 404, 409)

    @extend_schema(parameters=[s.EncounterQuerySerializer], responses={200: EncounterSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Encounters of the institutions where the requester sees patients, newest first;
        ``?current=1`` keeps the inpatients still in hospital."""
        params = self.query(s.EncounterQuerySerializer)
        encounters = encounter_list(
            self.actor,
            institution=params.get("institution"),
            kind=params.get("kind", ""),
            current=params["current"],
        )
        return self.paginated(encounters, EncounterSerializer)

    @extend_schema(responses={200: EncounterSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One encounter."""
        return self.rendered(encounter_by_id(self.actor, self.object_id()), EncounterSerializer)

    @extend_schema(request=s.EncounterRecordSerializer, responses={201: EncounterSerializer})
    def create(self, request: Request) -> Response:
        """Record a visit or an admission (the institution's clinicians and administrators)."""
        data = self.payload(s.EncounterRecordSerializer)
        encounter = services.encounter_record(actor=self.actor, **data)
        return self.rendered(
            encounter_by_id(self.actor, encounter.public_id), EncounterSerializer, status=201
        )

    @extend_schema(request=s.DischargeSerializer, responses={200: EncounterSerializer, **CONFLICT})
    def discharge(self, request: Request, public_id: str) -> Response:
        """Record the end of an inpatient stay (409 when it already ended)."""
        encounter = encounter_by_id(self.actor, self.object_id())
        data = self.payload(s.DischargeSerializer)
        services.encounter_discharge(actor=self.actor, encounter=encounter, ended_at=data.get("ended_at"))
        return self.rendered(encounter_by_id(self.actor, encounter.public_id), EncounterSerializer)

    @extend_schema(request=s.FlagRecoverySerializer, responses={200: EncounterSerializer, **CONFLICT})
    def flag_recovery(self, request: Request, public_id: str) -> Response:
        """A doctor marks a current inpatient ready to go down (``""`` clears the mark); the stay then
        shows on the down-referral worklist."""
        encounter = encounter_by_id(self.actor, self.object_id())
        data = self.payload(s.FlagRecoverySerializer)
        services.encounter_flag_recovery(
            actor=self.actor, encounter=encounter, recovery_phase=data["recovery_phase"]
        )
        return self.rendered(encounter_by_id(self.actor, encounter.public_id), EncounterSerializer)


@extend_schema(tags=ENCOUNTERS)
class ServiceVolumeViewSet(ServiceViewSet):
    """Monthly service volumes: the denominators of the referral rates."""

    serializer_class = s.ServiceVolumeResultSerializer

    @extend_schema(request=s.ServiceVolumeSerializer, responses={200: s.ServiceVolumeResultSerializer})
    def create(self, request: Request) -> Response:
        """Report (or correct) one month of an institution or one of its departments (institution
        administrators). Reporting the same month again replaces the figures."""
        data = self.payload(s.ServiceVolumeSerializer)
        row = services.service_volume_record(actor=self.actor, **data)
        return self.rendered(row, s.ServiceVolumeResultSerializer)
