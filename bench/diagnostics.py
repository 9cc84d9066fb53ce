"""Shared diagnostic centres at size: the reading list and the recognition lookup, in process.

Creates a bench database (and drops it afterwards), migrates it, seeds a small
county consortium (a lead hospital running a lab and an imaging centre for a
township health centre, their doctors, patients, a recognition rule) through
the services, then:

(a) the centre's reading list — the page (``/diagnostics/reading/…``) and the
    endpoint (``GET /api/v1/reading-list``) — at 100 and 100 000 pending
    studies (bulk-created background orders): SQL queries per request and the
    median time of each, and the 100 000 figure as a ratio to the 100 one
    (the goal: constant queries, within 2×);
(b) the recognition lookup on order entry
    (``GET /api/v1/diagnostic-orders/recognised``) for a patient with no prior
    result and for one with 1 000 prior final results of the item (the goal:
    within 2×), with its queries.

Figures only; nothing is asserted. Runs on PostgreSQL by default (the
database name must contain ``bench``), ``--sqlite`` for the embedded file.

    .venv/bin/python bench/diagnostics.py [--sqlite] [--database-url postgres://…/yilian_bench_diagnostics]
        [--sizes 100,100000] [--priors 1000] [--repeat 15] [--keep]
"""

from __future__ import annotations

import argparse
import copy
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
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/yilian_bench_diagnostics"


def measure(sizes: list[int], priors: int, repeat: int) -> dict[str, Any]:
    """Seed, grow the reading list, and time the two reads; return the figures (runs inside Django)."""
    import django

    django.setup()
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.test import APIClient

    from yilian.accounts.services import api_token_issue
    from yilian.accounts.tests.factories import user_with_role
    from yilian.core.permissions import Role
    from yilian.diagnostics import services
    from yilian.diagnostics.choices import OrderStatus
    from yilian.diagnostics.models import DiagnosticOrder, DiagnosticReport
    from yilian.institutions.choices import ConsortiumType
    from yilian.institutions.tests.factories import (
        ConsortiumFactory,
        ConsortiumMemberFactory,
        DepartmentFactory,
        HospitalFactory,
        InstitutionFactory,
        region_tree,
    )
    from yilian.people.tests.factories import person

    figures: dict[str, Any] = {"database": f"{connection.vendor}"}
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
    office = user_with_role(Role.CONSORTIUM_OFFICE, username="office", consortium=consortium)
    radiology = DepartmentFactory(institution=hospital, name="放射科", specialty="30")
    imaging = services.centre_create(
        actor=office,
        consortium=consortium,
        kind="imaging",
        name="县域医学影像中心",
        hub_institution=hospital,
        department=radiology,
        served_institutions=[township],
    )
    lab = services.centre_create(
        actor=office,
        consortium=consortium,
        kind="lab",
        name="县域检验中心",
        hub_institution=hospital,
        served_institutions=[township],
    )
    ct = services.item_create(
        actor=office, centre=imaging, code="CT-HEAD", name="头颅CT平扫", price="180.00", turnaround_hours=24
    )
    glucose = services.item_create(
        actor=office, centre=lab, code="GLU", name="空腹血糖", price="8.00", turnaround_hours=4
    )
    services.rule_create(
        actor=office,
        consortium=consortium,
        item_code="GLU",
        name="空腹血糖",
        validity_days=30,
        scope="consortium",
    )
    reader = user_with_role(Role.DOCTOR, username="reader", institution=hospital)
    orderer = user_with_role(Role.DOCTOR, username="orderer", institution=township)
    patients = [person(f"患者{n:03d}", institution=township) for n in range(20)]
    fresh, seasoned = person("新患者", institution=township), person("老患者", institution=township)

    reader_api = APIClient(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=reader)}")
    orderer_api = APIClient(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=orderer)}")
    from django.test import Client

    reader_page = Client()
    reader_page.force_login(reader)

    def timed(function: Callable[[], Any]) -> tuple[int, float]:
        """Queries of one call, then the median milliseconds of ``repeat`` more."""
        reset_queries()
        with CaptureQueriesContext(connection) as context:
            response = function()
        # Read now: the next requests clear the connection's query log.
        queries = len(context.captured_queries)
        assert response.status_code == 200, (response.status_code, response.content[:300])
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            function()
            samples.append((time.perf_counter() - started) * 1000)
        return queries, statistics.median(samples)

    # One real order through the services: the template the background rows copy.
    template, _created = services.order_create(
        actor=orderer,
        person=patients[0],
        institution=township,
        item=ct,
        diagnosis_code="R51",
        clinical_info="头痛",
    )
    DiagnosticOrder.objects.filter(pk=template.pk).update(
        status=OrderStatus.RECEIVED, received_at=timezone.now()
    )
    template.refresh_from_db()

    pending = [OrderStatus.RECEIVED, OrderStatus.RECEIVED, OrderStatus.READING, OrderStatus.PRELIMINARY]
    priorities = [("routine", 2), ("routine", 2), ("routine", 2), ("urgent", 1), ("stat", 0)]
    made = 0

    def grow(total: int) -> float:
        nonlocal made
        started = time.perf_counter()
        missing = total - DiagnosticOrder.objects.filter(centre=imaging).count()
        batch = []
        for _ in range(max(missing, 0)):
            row = copy.copy(template)
            row.pk = None
            row.public_id = uuid.uuid4()
            row.number = f"BG{made:010d}"
            row.barcode = None
            row.idempotency_key = ""
            row.status = pending[made % len(pending)]
            row.priority, row.priority_rank = priorities[made % len(priorities)]
            row.person = patients[made % len(patients)]
            row.ordered_at = timezone.now() - datetime.timedelta(minutes=made % 200_000)
            batch.append(row)
            made += 1
            if len(batch) == 5000:
                DiagnosticOrder.objects.bulk_create(batch)
                batch = []
        if batch:
            DiagnosticOrder.objects.bulk_create(batch)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        return time.perf_counter() - started

    reading = []
    for size in sizes:
        fill = grow(size)
        endpoint = timed(lambda: reader_api.get(READING_LIST_ENDPOINT, {"centre": str(imaging.public_id)}))
        page = timed(lambda: reader_page.get(READING_LIST_PAGE.format(centre=imaging.public_id)))
        reading.append({"size": size, "fill_s": fill, "endpoint": endpoint, "page": page})
    figures["reading"] = reading

    # The recognition lookup: a patient with no result, and one with ``priors`` final results.
    started = time.perf_counter()
    prior_template = copy.copy(template)
    prior_rows = []
    for n in range(priors):
        row = copy.copy(prior_template)
        row.pk = None
        row.public_id = uuid.uuid4()
        row.number = f"PR{n:010d}"
        row.centre, row.item, row.item_code, row.item_name, row.price = (
            lab,
            glucose,
            "GLU",
            "空腹血糖",
            glucose.price,
        )
        row.person = seasoned
        row.status = OrderStatus.FINAL
        row.final_at = timezone.now() - datetime.timedelta(days=40 + n)  # all outside the 30-day window…
        row.ordered_at = row.final_at - datetime.timedelta(hours=3)
        prior_rows.append(row)
    prior_rows[0].final_at = timezone.now() - datetime.timedelta(days=3)  # …but the newest one
    DiagnosticOrder.objects.bulk_create(prior_rows)
    newest = DiagnosticOrder.objects.get(number="PR0000000000")
    DiagnosticReport.objects.create(order=newest, version=1, status="final", conclusion="正常", author=reader)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    figures["priors_fill_s"] = time.perf_counter() - started
    lookups = {}
    for label, patient in (("no prior result", fresh), (f"{priors} prior results", seasoned)):
        lookups[label] = timed(
            lambda patient=patient: orderer_api.get(
                RECOGNISED_ENDPOINT,
                {
                    "person": str(patient.public_id),
                    "item": str(glucose.public_id),
                    "institution": str(township.public_id),
                },
            )
        )
    figures["lookups"] = lookups
    figures["hit"] = orderer_api.get(
        RECOGNISED_ENDPOINT,
        {
            "person": str(seasoned.public_id),
            "item": str(glucose.public_id),
            "institution": str(township.public_id),
        },
    ).json()
    return figures


READING_LIST_ENDPOINT = "/api/v1/reading-list"
READING_LIST_PAGE = "/diagnostics/reading/{centre}/"
RECOGNISED_ENDPOINT = "/api/v1/diagnostic-orders/recognised"


def report(figures: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the figures."""
    print(
        f"yilian diagnostics bench — Python {platform.python_version()}, {figures['database']}, "
        f"{os.cpu_count()} CPUs, in process (Django test client), median of {args.repeat}"
    )
    print()
    print("(a) the imaging centre's reading list as its pending studies grow")
    print(f"  {'':<10}" + "".join(f" {'studies':>9} {'queries':>8} {'ms':>8}" for _ in figures["reading"]))
    for kind in ("endpoint", "page"):
        cells = "".join(
            f" {row['size']:>9} {row[kind][0]:>8} {row[kind][1]:>8.1f}" for row in figures["reading"]
        )
        first, last = figures["reading"][0][kind], figures["reading"][-1][kind]
        print(
            f"  {kind:<10}{cells}   ratio {last[1] / first[1]:.2f}× (goal ≤ 2×), "
            f"queries {'constant' if first[0] == last[0] else 'NOT constant'}"
        )
    fills = ", ".join(f"{row['size']}: {row['fill_s']:.1f} s" for row in figures["reading"])
    print(f"  (bulk-creating the pending studies took {fills})")
    print()
    print("(b) the recognition lookup on order entry (GET /api/v1/diagnostic-orders/recognised)")
    lookups = list(figures["lookups"].items())
    for label, (queries, ms) in lookups:
        print(f"  {label:<22} queries {queries:>3}   {ms:>7.2f} ms")
    ratio = lookups[-1][1][1] / lookups[0][1][1]
    print(f"  ratio {ratio:.2f}× (goal ≤ 2×); the newest of the prior results is in the window and is found:")
    hit = figures["hit"]
    print(f"  {json.dumps(hit, ensure_ascii=False)[:200]}")


def main() -> None:
    """Run the bench (or, with ``--measure``, be the measuring worker)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--sqlite", action="store_true", help="use var/bench-diagnostics.sqlite3 instead")
    parser.add_argument("--sizes", default="100,100000", help="pending studies of the reading list")
    parser.add_argument("--priors", type=int, default=1000, help="prior results of the seasoned patient")
    parser.add_argument("--repeat", type=int, default=15, help="timed calls per figure (median)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = sorted(int(part) for part in args.sizes.split(",") if part.strip())
    if args.measure:
        sys.path.insert(0, str(ROOT / "src"))
        print(MARKER + json.dumps(measure(sizes, args.priors, args.repeat), ensure_ascii=False, default=str))
        return
    url = "sqlite:///var/bench-diagnostics.sqlite3" if args.sqlite else args.database_url
    env = server_env(url)
    env["MEDIA_ROOT"] = str(ROOT / "var" / "bench-diagnostics-media")
    started = time.perf_counter()
    create_database(url)
    try:
        subprocess.run(
            [str(BIN / "yilian"), "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT
        )
        # Production settings serve hashed static names from the manifest the pages look up.
        subprocess.run(
            [str(BIN / "yilian"), "collectstatic", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT
        )
        print("… seeding and measuring", file=sys.stderr, flush=True)
        command = [sys.executable, str(Path(__file__).resolve()), "--measure", "--sizes", args.sizes]
        command += ["--priors", str(args.priors), "--repeat", str(args.repeat)]
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
