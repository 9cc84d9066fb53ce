"""Family-doctor API: care teams and members, service packages, contracts, panels and coverage.

Renewals and terminations carry the version the client saw
(``expected_version``); a stale version answers 409, as does a second
contract in force for the same resident. The views parse, call one service
or selector, and render.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.api.views import ServiceViewSet, parse_public_id, pick
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.family_doctors import policies, selectors, services
from yilian.family_doctors.api import serializers as s
from yilian.family_doctors.models import CareTeam, FamilyDoctorContract
from yilian.institutions.api.serializers import consortium_by_id


class FamilyDoctorsViewSet(ServiceViewSet):
    """Base: only users with some view of family-doctor contracting get past the door (403)."""

    error_statuses = (400, 401, 403, 404, 409)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Authenticate, then refuse users with no role that reads family-doctor contracting."""
        super().initial(request, *args, **kwargs)
        if not policies.can_use_family_doctors(self.actor):
            raise NotAllowed("family doctors")

    def team(self) -> CareTeam:
        """The team in the URL, if visible."""
        return selectors.team_get_for(self.actor, self.object_id())

    def render_team(self, team: CareTeam, status: int = 200) -> Response:
        """A team with its members."""
        team = pick(selectors.team_list(self.actor, include_inactive=True), pk=team.pk)
        return self.rendered(
            team,
            s.CareTeamDetailSerializer,
            status=status,
            members=list(selectors.team_members(team, include_past=True)),
            sees_residents=selectors.sees_residents(self.actor, team),
        )

    def render_contract(self, contract: FamilyDoctorContract, status: int = 200) -> Response:
        """A contract with its terms."""
        contract = selectors.contract_get_for(self.actor, contract.public_id)
        return self.rendered(
            contract,
            s.ContractDetailSerializer,
            status=status,
            terms=list(selectors.contract_terms(contract)),
        )


def _member_user(team: CareTeam, public_id: Any, *, current: bool) -> Any:
    """A user among the team's candidates (adding) or current members (removing, leader)."""
    if current:
        for member in selectors.team_members(team):
            if member.user.public_id == public_id:
                return member.user
        raise Invalid({"user": [_("该人员不是本团队的当前成员。")]})
    for membership in selectors.member_candidates(team, limit=10_000):
        if membership.user.public_id == public_id:
            return membership.user
    raise Invalid(
        {"user": [_("该人员不能加入本团队（须为本机构、所辖村卫生室或本医联体医院的在职医生、护士）。")]}
    )


@extend_schema(tags=["family-doctors"])
class TeamViewSet(FamilyDoctorsViewSet):
    """Care teams the requester manages, belongs to or oversees."""

    serializer_class = s.CareTeamSerializer

    @extend_schema(parameters=[s.CareTeamQuerySerializer], responses={200: s.CareTeamSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Visible teams with member counts and contracts in force."""
        params = self.query(s.CareTeamQuerySerializer)
        teams = selectors.team_list(
            self.actor, query=params.get("q", ""), include_inactive=params["include_inactive"]
        )
        return self.paginated(teams, s.CareTeamSerializer)

    @extend_schema(request=s.CareTeamCreateSerializer, responses={201: s.CareTeamDetailSerializer})
    def create(self, request: Request) -> Response:
        """Form a team with its leader (an institution admin of a primary institution)."""
        data = self.payload(s.CareTeamCreateSerializer)
        institution = data["institution"]
        if not policies.can_manage_teams_of(self.actor, institution):
            raise NotAllowed(_("只有基层医疗卫生机构的管理员可以组建签约团队。"))
        probe = CareTeam(institution=institution)
        leader = _member_user(probe, data["leader"], current=False)
        team = services.team_create(
            actor=self.actor,
            institution=institution,
            name=data["name"],
            grid=data.get("grid"),
            description=data.get("description", ""),
            leader=leader,
            leader_role=data.get("leader_role") or "general_practitioner",
        )
        return self.render_team(team, status=201)

    @extend_schema(responses={200: s.CareTeamDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """A team with its members."""
        return self.render_team(self.team())

    @extend_schema(request=s.CareTeamUpdateSerializer, responses={200: s.CareTeamDetailSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change a team's name, grid, description or whether it is active."""
        team = self.team()
        data = self.payload(s.CareTeamUpdateSerializer, partial=True)
        services.team_update(actor=self.actor, team=team, **data)
        return self.render_team(team)

    @extend_schema(request=s.CareTeamMemberAddSerializer, responses={201: s.CareTeamDetailSerializer})
    def add_member(self, request: Request, public_id: str) -> Response:
        """Add a member; ``is_leader`` hands the leadership over."""
        team = self.team()
        if not policies.can_manage_teams_of(self.actor, team.institution):
            raise NotAllowed(_("您没有管理该签约团队的权限。"))
        data = self.payload(s.CareTeamMemberAddSerializer)
        services.team_member_add(
            actor=self.actor,
            team=team,
            user=_member_user(team, data["user"], current=False),
            role=data["role"],
            is_leader=data["is_leader"],
            joined_on=data.get("joined_on"),
        )
        return self.render_team(team, status=201)

    @extend_schema(request=s.CareTeamMemberRemoveSerializer, responses={200: s.CareTeamDetailSerializer})
    def remove_member(self, request: Request, public_id: str, user_id: str) -> Response:
        """End a membership (kept as history)."""
        team = self.team()
        if not policies.can_manage_teams_of(self.actor, team.institution):
            raise NotAllowed(_("您没有管理该签约团队的权限。"))
        data = self.payload(s.CareTeamMemberRemoveSerializer)
        user = _member_user(team, parse_public_id(user_id), current=True)
        services.team_member_remove(actor=self.actor, team=team, user=user, left_on=data.get("left_on"))
        return self.render_team(team)

    @extend_schema(request=None, responses={200: s.CareTeamDetailSerializer})
    def set_leader(self, request: Request, public_id: str, user_id: str) -> Response:
        """Make a current member the leader."""
        team = self.team()
        if not policies.can_manage_teams_of(self.actor, team.institution):
            raise NotAllowed(_("您没有管理该签约团队的权限。"))
        user = _member_user(team, parse_public_id(user_id), current=True)
        services.team_set_leader(actor=self.actor, team=team, user=user)
        return self.render_team(team)

    @extend_schema(parameters=[s.ContractQuerySerializer], responses={200: s.ContractSerializer(many=True)})
    def panel(self, request: Request, public_id: str) -> Response:
        """The team's panel: its residents' contracts (in force by default), filtered and searched."""
        team = self.team()
        if not selectors.sees_residents(self.actor, team):
            raise NotAllowed(_("只有团队成员和机构管理员可以查看签约居民名单。"))
        params = self.query(s.ContractQuerySerializer)
        filters = selectors.ContractFilters(
            team_id=team.pk,
            status=params["status"],
            group=params.get("group", ""),
            expiring=params["expiring"],
            query=params.get("q", ""),
        )
        return self.paginated(selectors.contract_list(self.actor, filters), s.ContractSerializer)


@extend_schema(tags=["family-doctors"])
class PackageViewSet(FamilyDoctorsViewSet):
    """Service packages of the consortia the requester belongs to or oversees."""

    serializer_class = s.ServicePackageSerializer

    @extend_schema(responses={200: s.ServicePackageSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Visible packages."""
        return self.paginated(selectors.package_list(self.actor), s.ServicePackageSerializer)

    @extend_schema(request=s.ServicePackageWriteSerializer, responses={201: s.ServicePackageSerializer})
    def create(self, request: Request) -> Response:
        """Add a package (the consortium office)."""
        data = self.payload(s.ServicePackageWriteSerializer)
        if "consortium" not in data:
            raise Invalid({"consortium": [_("请选择医联体。")]})
        try:
            consortium = consortium_by_id(self.actor, data.pop("consortium"))
        except NotFound as error:
            raise Invalid({"consortium": [_("医联体不存在，或您无权使用。")]}) from error
        if "contents" in data:
            data["contents"] = "\n".join(data["contents"])
        package = services.package_create(actor=self.actor, consortium=consortium, **data)
        return self.rendered(package, s.ServicePackageSerializer, status=201)

    @extend_schema(responses={200: s.ServicePackageSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One package."""
        return self.rendered(
            selectors.package_get_for(self.actor, self.object_id()), s.ServicePackageSerializer
        )

    @extend_schema(request=s.ServicePackageWriteSerializer, responses={200: s.ServicePackageSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change a package (the consortium office)."""
        package = selectors.package_get_for(self.actor, self.object_id())
        data = self.payload(s.ServicePackageWriteSerializer, partial=True)
        data.pop("consortium", None)
        if "contents" in data:
            data["contents"] = "\n".join(data["contents"])
        services.package_update(actor=self.actor, package=package, **data)
        return self.rendered(package, s.ServicePackageSerializer)


@extend_schema(tags=["family-doctors"])
class ContractViewSet(FamilyDoctorsViewSet):
    """Contracts of the teams the requester belongs to or whose institution they administer."""

    serializer_class = s.ContractSerializer

    @extend_schema(parameters=[s.ContractQuerySerializer], responses={200: s.ContractSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Visible contracts (in force by default), by team, status, group, expiring soon, search."""
        params = self.query(s.ContractQuerySerializer)
        team_id = None
        if params.get("team"):
            team_id = selectors.team_get_for(self.actor, params["team"]).pk
        filters = selectors.ContractFilters(
            team_id=team_id,
            status=params["status"],
            group=params.get("group", ""),
            expiring=params["expiring"],
            query=params.get("q", ""),
        )
        return self.paginated(selectors.contract_list(self.actor, filters), s.ContractSerializer)

    @extend_schema(request=s.ContractSignSerializer, responses={201: s.ContractDetailSerializer})
    def create(self, request: Request) -> Response:
        """Sign a resident of the team's grid (``person``), or register and sign a new one (``resident``).
        409 when the resident already has a contract in force."""
        data = self.payload(s.ContractSignSerializer)
        try:
            team = selectors.team_get_for(self.actor, data["team"])
        except NotFound as error:
            raise Invalid({"team": [_("签约团队不存在，或您无权使用。")]}) from error
        sign = {
            "package": data["package"],
            "starts_on": data.get("starts_on"),
            "ends_on": data.get("ends_on"),
            "priority_groups": data.get("priority_groups") or [],
            "notes": data.get("notes", ""),
        }
        if data.get("person"):
            try:
                person = selectors.grid_resident_get(self.actor, team, data["person"])
            except NotFound as error:
                if not selectors.may_sign_for(self.actor, team):
                    raise NotAllowed(
                        _("只有本团队的全科医生、护士、公卫人员或机构管理员可以办理签约。")
                    ) from error
                raise Invalid({"person": [_("该居民不属于本团队服务的网格，或尚未登记。")]}) from error
            contract = services.contract_sign(actor=self.actor, team=team, person=person, **sign)
        elif data.get("resident"):
            contract = services.contract_sign_new_resident(
                actor=self.actor, team=team, resident=dict(data["resident"]), **sign
            )
        else:
            raise Invalid({"person": [_("请选择签约居民，或填写新居民信息。")]})
        return self.render_contract(contract, status=201)

    @extend_schema(responses={200: s.ContractDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One contract with its terms."""
        return self.render_contract(selectors.contract_get_for(self.actor, self.object_id()))

    @extend_schema(request=s.ContractRenewSerializer, responses={200: s.ContractDetailSerializer})
    def renew(self, request: Request, public_id: str) -> Response:
        """Continue the contract for a new term (within 90 days of its end, or after it expired)."""
        contract = selectors.contract_get_for(self.actor, self.object_id())
        data = self.payload(s.ContractRenewSerializer)
        services.contract_renew(
            actor=self.actor,
            contract=contract,
            package=data.get("package"),
            ends_on=data.get("ends_on"),
            priority_groups=data.get("priority_groups"),
            expected_version=data.get("expected_version"),
        )
        return self.render_contract(contract)

    @extend_schema(request=s.ContractTerminateSerializer, responses={200: s.ContractDetailSerializer})
    def terminate(self, request: Request, public_id: str) -> Response:
        """End the contract early with a reason."""
        contract = selectors.contract_get_for(self.actor, self.object_id())
        data = self.payload(s.ContractTerminateSerializer)
        services.contract_terminate(
            actor=self.actor,
            contract=contract,
            reason=data["reason"],
            note=data.get("note", ""),
            on=data.get("on"),
            expected_version=data.get("expected_version"),
        )
        return self.render_contract(contract)


@extend_schema(tags=["family-doctors"])
class CoverageViewSet(FamilyDoctorsViewSet):
    """Coverage of priority groups (aggregates; the office and regulators read it too)."""

    serializer_class = s.FamilyDoctorCoverageSerializer

    @extend_schema(
        parameters=[s.FamilyDoctorCoverageQuerySerializer],
        responses={200: s.FamilyDoctorCoverageSerializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        """Per team, institution or consortium: signed residents, rates, per priority group."""
        params = self.query(s.FamilyDoctorCoverageQuerySerializer)
        rows = selectors.coverage(self.actor, by=params["by"])
        return Response(s.FamilyDoctorCoverageSerializer(rows, many=True).data)
