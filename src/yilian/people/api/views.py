"""People API: persons visible to the requester on a need-to-know basis."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.views import ServiceViewSet
from yilian.people import selectors, services
from yilian.people.api import serializers as s
from yilian.people.api.serializers import PersonSerializer

PEOPLE = ["people"]


@extend_schema(tags=PEOPLE)
class PersonViewSet(ServiceViewSet):
    """Residents and patients: an institution sees the persons it registered, treats or is involved with."""

    serializer_class = PersonSerializer

    @extend_schema(
        parameters=[s.PersonQuerySerializer],
        responses={200: PersonSerializer(many=True)},
        description="Search by name, pinyin initials or phone. A resident ID number is never "
        "accepted in the query string (`id_number` answers 400): use `POST /api/v1/persons/lookup`.",
    )
    def list(self, request: Request) -> Response:
        """Visible persons, by name / pinyin initials / phone."""
        params = self.query(s.PersonQuerySerializer)
        people = selectors.person_list(self.actor, query=params.get("q", ""))
        return self.paginated(people, PersonSerializer)

    @extend_schema(request=s.PersonLookupSerializer, responses={200: PersonSerializer(many=True)})
    def lookup(self, request: Request) -> Response:
        """Find a visible person by resident ID number sent in the body (at most one match)."""
        data = self.payload(s.PersonLookupSerializer)
        people = selectors.person_list(self.actor, id_number=data["id_number"])
        return Response(PersonSerializer(people, many=True, context=self.get_serializer_context()).data)

    @extend_schema(responses={200: PersonSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One person."""
        return self.rendered(selectors.person_get_for(self.actor, self.object_id()), PersonSerializer)

    @extend_schema(
        request=s.PersonRegisterSerializer, responses={201: PersonSerializer, 200: PersonSerializer}
    )
    def create(self, request: Request) -> Response:
        """Register a person at an institution: 201 when new, 200 when the ID number was already
        registered (the person is then linked to the institution)."""
        data = self.payload(s.PersonRegisterSerializer)
        person, created = services.person_register(actor=self.actor, **data)
        return self.rendered(person, PersonSerializer, status=201 if created else 200)

    @extend_schema(request=PersonSerializer, responses={200: PersonSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change contact and insurance details (birth date is fixed by the ID number)."""
        person = selectors.person_get_for(self.actor, self.object_id())
        data = self.payload(PersonSerializer, partial=True)
        person = services.person_update(actor=self.actor, person=person, **data)
        return self.rendered(person, PersonSerializer)

    @extend_schema(request=s.RevealPurposeSerializer, responses={200: s.RevealResultSerializer})
    def reveal_id_number(self, request: Request, public_id: str) -> Response:
        """The full resident ID number, for clinical staff; the reveal and its purpose are audited."""
        person = selectors.person_get_for(self.actor, self.object_id())
        data = self.payload(s.RevealPurposeSerializer)
        number = services.person_reveal_id_number(actor=self.actor, person=person, purpose=data["purpose"])
        return Response({"id_number": number}, headers={"Cache-Control": "no-store"})
