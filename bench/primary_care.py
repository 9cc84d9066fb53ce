"""Primary care at size: a family-doctor team's panel and the chronic-care overdue list, in process.

Creates a bench database (and drops it afterwards), migrates it, seeds a small
county consortium (a lead hospital and a township health centre, a grid, a
contract team with its GP and a hospital specialist, a basic package) through
the services, then:

(a) the team panel — the page (``/family-doctors/teams/<id>/panel/``) and the
    endpoint (``GET /api/v1/care-teams/<id>/panel``) — at 50 and 5 000
    residents with contracts in force (1 % and the full panel; bulk-created
    residents, contracts and priority groups): SQL queries per request and the
    median time of each, and the large figure as a ratio to the small one (the
    goal: constant queries, within 2×); also the panel searched by pinyin and
    filtered by a priority group;
(b) the chronic-care overdue list — the page (``/chronic-care/overdue/``) and
    the endpoint (``GET /api/v1/chronic-cases/overdue``) — with 1 000 and
    100 000 follow-ups recorded (bulk-created cases and visits), when the
    chronic-care app provides it.

Figures only; nothing is asserted. Runs on PostgreSQL by default (the
database name must contain ``bench``), ``--sqlite`` for the embedded file.

    .venv/bin/python bench/primary_care.py [--sqlite] [--database-url postgres://…/yilian_bench_primary_care]
        [--panel-sizes 50,5000] [--follow-ups 1000,100000] [--repeat 15] [--keep]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The bench database helpers are the referral bench's.
from referrals import create_database, drop_database, server_env

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MARKER = "BENCH-JSON "
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/yilian_bench_primary_care"


def measure(panel_sizes: list[int], follow_up_sizes: list[int], repeat: int) -> dict[str, Any]:
    """Seed, grow the panel and the follow-ups, and time the reads; return the figures (inside Django)."""
    import django

    django.setup()
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.test import APIClient

    from yilian.accounts.services import api_token_issue
    from yilian.accounts.tests.factories import user_with_role
    from yilian.core.permissions import Role
    from yilian.core.text import pinyin_full, pinyin_initials
    from yilian.family_doctors import services as fd
    from yilian.family_doctors.choices import PriorityGroup
    from yilian.family_doctors.models import (
        ContractPriorityGroup,
        ContractTerm,
        FamilyDoctorContract,
        ServicePackage,
    )
    from yilian.institutions.choices import ConsortiumType
    from yilian.institutions.tests.factories import (
        ConsortiumFactory,
        ConsortiumMemberFactory,
        GridFactory,
        HospitalFactory,
        InstitutionFactory,
        assign,
        cover,
        region_tree,
    )
    from yilian.people.models import Person

    figures: dict[str, Any] = {"database": connection.vendor}
    regions = region_tree()
    hospital = HospitalFactory(name="霍邱县人民医院", region=regions["county"], grade="3", grade_class="b")
    township = InstitutionFactory(name="霍邱县城关镇卫生院", region=regions["town_a"], category="C210")
    consortium = ConsortiumFactory(
        name="霍邱县人民医院医共体",
        region=regions["county"],
        type=ConsortiumType.COUNTY_COMMUNITY,
        lead=hospital,
    )
    ConsortiumMemberFactory(consortium=consortium, institution=township)
    grid = GridFactory(region=regions["county"], name="城关网格", code="341522-BENCH")
    cover(grid, regions["town_a"])
    assign(grid, consortium)
    admin = user_with_role(Role.INSTITUTION_ADMIN, username="township_admin", institution=township)
    gp = user_with_role(Role.DOCTOR, username="gp", institution=township)
    specialist = user_with_role(Role.DOCTOR, username="specialist", institution=hospital)
    office = user_with_role(Role.CONSORTIUM_OFFICE, username="office", consortium=consortium)
    basic = fd.package_create(
        actor=office, consortium=consortium, name="基础服务包", contents="健康档案\n慢病随访"
    )
    team = fd.team_create(actor=admin, institution=township, name="城关一队", grid=grid, leader=gp)
    fd.team_member_add(actor=admin, team=team, user=specialist, role="specialist")
    assert isinstance(basic, ServicePackage)

    gp_api = APIClient(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=gp)}")
    gp_page = Client()
    gp_page.force_login(gp)

    def timed(function: Callable[[], Any]) -> tuple[int, float]:
        """Queries of one call, then the median milliseconds of ``repeat`` more. A first call warms up and
        absorbs the API token's last-used touch (written at most once a minute, so it would otherwise land
        in the count of whichever size comes after a long bulk fill)."""
        function()
        reset_queries()
        with CaptureQueriesContext(connection) as context:
            response = function()
        queries = len(context.captured_queries)
        assert response.status_code == 200, (response.status_code, response.content[:300])
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            function()
            samples.append((time.perf_counter() - started) * 1000)
        return queries, statistics.median(samples)

    surnames = (
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    )
    given = "建国志强秀英海燕玉兰明华春梅国庆红霞文军德胜桂芳淑珍永强丽娟"
    groups = list(PriorityGroup.values)
    made = 0
    today = timezone.localdate()

    def grow(total: int) -> float:
        """Bulk-create residents of the grid with contracts in force up to ``total``."""
        nonlocal made
        started = time.perf_counter()
        missing = total - FamilyDoctorContract.objects.filter(team=team).count()
        people = []
        for n in range(max(missing, 0)):
            index = made + n
            name = surnames[index % len(surnames)] + given[index % 17] + given[(index // 17) % 19 + 1]
            people.append(
                Person(
                    name=name,
                    name_initials=pinyin_initials(name),
                    name_pinyin=pinyin_full(name),
                    gender="1" if index % 2 else "2",
                    birth_date=datetime.date(1940 + index % 80, 1 + index % 12, 1 + index % 28),
                    home_grid=grid,
                )
            )
        Person.objects.bulk_create(people, batch_size=2000)
        fresh = list(Person.objects.filter(home_grid=grid, fd_contracts__isnull=True).order_by("pk"))
        contracts = []
        for n, person in enumerate(fresh):
            index = made + n
            # Spread the starts over the year so every size has contracts ending within 30 days.
            start = today - datetime.timedelta(days=(index * 37) % 360)
            contracts.append(
                FamilyDoctorContract(
                    public_id=uuid.uuid4(),
                    number=f"QYB{index:012d}",
                    person=person,
                    team=team,
                    institution=township,
                    package=basic,
                    annual_price=0,
                    status="signed",
                    starts_on=start,
                    term_starts_on=start,
                    ends_on=start + datetime.timedelta(days=364),
                    signed_by=gp,
                )
            )
        FamilyDoctorContract.objects.bulk_create(contracts, batch_size=2000)
        ContractTerm.objects.bulk_create(
            [
                ContractTerm(
                    contract=c,
                    sequence=1,
                    package=basic,
                    annual_price=0,
                    starts_on=c.starts_on,
                    ends_on=c.ends_on,
                )
                for c in contracts
            ],
            batch_size=2000,
        )
        rows = []
        for n, contract in enumerate(contracts):
            index = made + n
            rows.append(ContractPriorityGroup(contract=contract, group=groups[index % len(groups)]))
            if index % 3 == 0:
                rows.append(ContractPriorityGroup(contract=contract, group=groups[(index + 2) % len(groups)]))
        ContractPriorityGroup.objects.bulk_create(rows, batch_size=5000)
        made += len(fresh)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        return time.perf_counter() - started

    panel_endpoint = f"/api/v1/care-teams/{team.public_id}/panel"
    panel_page = f"/family-doctors/teams/{team.public_id}/panel/"
    panel = []
    for size in panel_sizes:
        fill = grow(size)
        row = {
            "size": size,
            "fill_s": fill,
            "endpoint": timed(lambda: gp_api.get(panel_endpoint)),
            "page": timed(lambda: gp_page.get(panel_page)),
            "search": timed(lambda: gp_page.get(panel_page, {"q": "wjg"})),
            "group": timed(lambda: gp_page.get(panel_page, {"group": "elderly"})),
            "expiring": timed(lambda: gp_page.get(panel_page, {"expiring": "on"})),
        }
        panel.append(row)
    figures["panel"] = panel
    figures["overdue"] = measure_overdue(follow_up_sizes, repeat, timed, township, team, gp)
    return figures


def measure_overdue(
    sizes: list[int], repeat: int, timed: Callable[..., tuple[int, float]], township: Any, team: Any, gp: Any
) -> dict[str, Any]:
    """The chronic-care overdue list with ``sizes`` follow-ups recorded: ten visits per case, cases of the
    panel's residents (hypertension, then diabetes), a third of them past due; bulk-created."""
    try:
        from yilian.chronic_care.models import ChronicCase, ChronicRegistry, FollowUp
        from yilian.chronic_care.tests.factories import shipped_registries
    except ImportError as error:  # the chronic-care app is not there
        return {"skipped": f"chronic care not available ({error})"}
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from rest_framework.test import APIClient

    from yilian.accounts.services import api_token_issue
    from yilian.people.models import Person

    shipped_registries()
    registries = [
        ChronicRegistry.objects.get(code="hypertension"),
        ChronicRegistry.objects.get(code="diabetes_t2"),
    ]
    people = list(Person.objects.filter(home_grid=team.grid).order_by("pk").values_list("pk", flat=True))
    today = timezone.localdate()
    api = APIClient(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=gp)}")
    page = Client()
    page.force_login(gp)
    visits_per_case = 10
    rows = []
    made = 0
    for size in sizes:
        started = time.perf_counter()
        wanted = min(size // visits_per_case, len(people) * len(registries))
        cases = []
        for index in range(made, wanted):
            registry = registries[index // len(people)]
            due = today + datetime.timedelta(days=30 - (index * 7) % 90)
            cases.append(
                ChronicCase(
                    public_id=uuid.uuid4(),
                    person_id=people[index % len(people)],
                    registry=registry,
                    institution=township,
                    care_team=team,
                    diagnosis_code="I10" if registry.code == "hypertension" else "E11.9",
                    enrolled_on=today - datetime.timedelta(days=900),
                    enrolled_by=gp,
                    status="active",
                    last_follow_up_on=due - datetime.timedelta(days=90),
                    follow_up_count=visits_per_case,
                    next_due_on=due,
                )
            )
        ChronicCase.objects.bulk_create(cases, batch_size=2000)
        visits = []
        for case in cases:
            for visit in range(visits_per_case):
                visited = case.next_due_on - datetime.timedelta(days=90 * (visits_per_case - visit))
                visits.append(
                    FollowUp(
                        public_id=uuid.uuid4(),
                        case=case,
                        visited_on=visited,
                        method="clinic",
                        institution=township,
                        recorded_by=gp,
                        systolic=120 + visit * 3,
                        diastolic=80,
                        adherence="regular",
                        control="controlled",
                        next_due_on=visited + datetime.timedelta(days=90),
                    )
                )
            if len(visits) >= 10_000:
                FollowUp.objects.bulk_create(visits, batch_size=5000)
                visits = []
        FollowUp.objects.bulk_create(visits, batch_size=5000)
        made = wanted
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        rows.append(
            {
                "size": FollowUp.objects.count(),
                "cases": ChronicCase.objects.count(),
                "fill_s": time.perf_counter() - started,
                "endpoint": timed(lambda: api.get("/api/v1/chronic-cases/overdue")),
                "page": timed(lambda: page.get("/chronic-care/overdue/")),
            }
        )
    return {"rows": rows}


def _table(title: str, rows: list[dict[str, Any]], kinds: tuple[str, ...], unit: str) -> None:
    print(title)
    print(f"  {'':<10}" + "".join(f" {unit:>10} {'queries':>8} {'ms':>8}" for _ in rows))
    for kind in kinds:
        cells = "".join(f" {row['size']:>10} {row[kind][0]:>8} {row[kind][1]:>8.1f}" for row in rows)
        first, last = rows[0][kind], rows[-1][kind]
        print(
            f"  {kind:<10}{cells}   ratio {last[1] / first[1]:.2f}× (goal ≤ 2×), "
            f"queries {'constant' if first[0] == last[0] else 'NOT constant'}"
        )
    fills = ", ".join(f"{row['size']}: {row['fill_s']:.1f} s" for row in rows)
    print(f"  (bulk-creating the rows took {fills})")


def report(figures: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the figures."""
    print(
        f"yilian primary-care bench — Python {platform.python_version()}, {figures['database']}, "
        f"{os.cpu_count()} CPUs, in process (Django test client), median of {args.repeat}"
    )
    print()
    _table(
        "(a) a family-doctor team's panel (contracts in force), first page of 50",
        figures["panel"],
        ("endpoint", "page", "search", "group", "expiring"),
        "residents",
    )
    print(
        "  search = the page searched by pinyin initials; group = the elderly; "
        "expiring = contracts ending within 30 days"
    )
    print()
    overdue = figures["overdue"]
    if "skipped" in overdue:
        print(f"(b) chronic-care overdue list: skipped — {overdue['skipped']}")
    else:
        _table("(b) the chronic-care overdue list", overdue["rows"], ("endpoint", "page"), "follow-ups")


def main() -> None:
    """Run the bench (or, with ``--measure``, be the measuring worker)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--sqlite", action="store_true", help="use var/bench-primary-care.sqlite3 instead")
    parser.add_argument("--panel-sizes", default="50,5000", help="residents with contracts in the panel")
    parser.add_argument("--follow-ups", default="1000,100000", help="follow-ups behind the overdue list")
    parser.add_argument("--repeat", type=int, default=15, help="timed calls per figure (median)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    panel_sizes = sorted(int(part) for part in args.panel_sizes.split(",") if part.strip())
    follow_ups = sorted(int(part) for part in args.follow_ups.split(",") if part.strip())
    if args.measure:
        sys.path.insert(0, str(ROOT / "src"))
        result = measure(panel_sizes, follow_ups, args.repeat)
        print(MARKER + json.dumps(result, ensure_ascii=False, default=str))
        return
    url = "sqlite:///var/bench-primary-care.sqlite3" if args.sqlite else args.database_url
    env = server_env(url)
    env["MEDIA_ROOT"] = str(ROOT / "var" / "bench-primary-care-media")
    started = time.perf_counter()
    create_database(url)
    try:
        subprocess.run(
            [str(BIN / "yilian"), "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT
        )
        subprocess.run(
            [str(BIN / "yilian"), "collectstatic", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT
        )
        print("… seeding and measuring", file=sys.stderr, flush=True)
        command = [sys.executable, str(Path(__file__).resolve()), "--measure"]
        command += [
            "--panel-sizes",
            args.panel_sizes,
            "--follow-ups",
            args.follow_ups,
            "--repeat",
            str(args.repeat),
        ]
        completed = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            print(completed.stdout, completed.stderr, sep="\n")
            raise SystemExit("bench measuring failed")
        line = next(line for line in completed.stdout.splitlines() if line.startswith(MARKER))
        report(json.loads(line[len(MARKER) :]), args)
    finally:
        if not args.keep:
            drop_database(url)
    print()
    print(f"total bench time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
