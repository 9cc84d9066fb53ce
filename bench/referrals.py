"""Referral API under load, served as in production (gunicorn), on PostgreSQL or SQLite.

Creates a bench database (and drops it afterwards), migrates it, seeds a small
county consortium (a lead hospital, a township health centre, one pair of
doctors per client, patients) with API tokens, then:

(a) counts the SQL queries of ``GET /api/v1/referrals`` at 10, 1 000 and
    100 000 referrals (bulk-created background rows), in process, and says
    whether the count stays constant; also the queries each loop step makes;
(b) starts gunicorn on a free port and drives N concurrent clients through
    full loops over HTTP — create+submit → accept → schedule → arrive →
    complete — beside a trivial authenticated endpoint
    (``GET /api/v1/notifications/unread-count``) at the same concurrency,
    half measured before the loops and half after;
(c) prints loops/s, requests/s, p50/p95/p99 per step, each step's
    throughput relative to the trivial endpoint and p99/p50;
(d) runs each step alone at the same concurrency (requests ÷ the phase's wall time), answering
    the full detail, and (e) again with ``Prefer: return=minimal`` (the state alone);
(f) in process, the floor of a step: the trivial request, then create+submit and an accept through
    the API and their own statements replayed raw (what a step would cost if only its SQL cost anything).

Figures only; nothing is asserted. Clients are threads with ``http.client``
(keep-alive); they share the machine's cores with the server.

    .venv/bin/python bench/referrals.py [--concurrency 8] [--loops 200] [--sqlite]
        [--database-url postgres://postgres@127.0.0.1:5432/yilian_bench_referrals]
        [--workers N] [--list-sizes 10,1000,100000] [--keep]
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
BIN = Path(sys.executable).parent
MARKER = "BENCH-JSON "
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/yilian_bench_referrals"
STEPS = ("create+submit", "accept", "schedule", "arrive", "complete")
TRIVIAL = "GET unread-count"
TRIVIAL_PATH = "/api/v1/notifications/unread-count"
PATIENTS = 50


# --- the bench database -------------------------------------------------------------------------


def _pg_admin(url: str) -> tuple[Any, str]:
    """A connection to the server's ``postgres`` database (autocommit) and the bench database's name."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(
            f"refusing to create and drop {name!r}: the bench database name must contain 'bench'"
        )
    admin = parsed._replace(path="/postgres").geturl()
    return psycopg.connect(admin, autocommit=True), name


def create_database(url: str) -> None:
    """A fresh, empty bench database (SQLite: the file is removed)."""
    if url.startswith("sqlite"):
        path = ROOT / url[len("sqlite:///") :]
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    connection, name = _pg_admin(url)
    with connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    """Remove the bench database."""
    if url.startswith("sqlite"):
        create_database(url)
        return
    connection, name = _pg_admin(url)
    with connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(url: str) -> dict[str, str]:
    """Production settings against the bench database (no TLS redirect: the bench talks plain HTTP)."""
    VAR.mkdir(exist_ok=True)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yilian.config.settings",
        "YILIAN_ENV": "production",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 60,
        "PERSON_IDENTIFIER_KEY": "bench-only-person-identifier-key-0000",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": url,
        "MEDIA_ROOT": str(VAR / "bench-referrals-media"),
        "LOG_LEVEL": "WARNING",
        "TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
    }


# --- the seeding worker (runs in its own process: Django reads the database at start) --------------


def _percentile(samples: list[float], percent: float) -> float:
    """Nearest-rank percentile."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(percent / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def seed_and_count(clients: int, sizes: list[int]) -> dict[str, Any]:
    """Seed the county, issue tokens, count list queries at each size; return what the HTTP phase needs."""
    import django

    django.setup()
    import datetime

    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.test import APIClient

    from yilian.accounts.services import api_token_issue
    from yilian.accounts.tests.factories import platform_admin, user_with_role
    from yilian.core.permissions import Role
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
    from yilian.referrals.models import Referral

    figures: dict[str, Any] = {"database": f"{connection.vendor} {_server_version(connection)}"}
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
    cardiology = DepartmentFactory(institution=hospital, name="心血管内科", specialty="03")
    clinic = DepartmentFactory(institution=township, name="全科门诊", specialty="02")
    patients = [person(f"患者{n:03d}", institution=township) for n in range(PATIENTS)]
    pairs = []
    for n in range(clients):
        sender = user_with_role(Role.DOCTOR, username=f"township_doctor_{n}", institution=township)
        receiver = user_with_role(Role.DOCTOR, username=f"hospital_doctor_{n}", institution=hospital)
        pairs.append({"sender": api_token_issue(user=sender), "receiver": api_token_issue(user=receiver)})
    office = user_with_role(Role.CONSORTIUM_OFFICE, username="office", consortium=consortium)
    platform_admin()
    tomorrow = str(timezone.localdate() + datetime.timedelta(days=1))

    def client_for(token: str) -> APIClient:
        return APIClient(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE="zh-hans")

    def count(function: Callable[[], Any]) -> tuple[int, Any]:
        reset_queries()
        with CaptureQueriesContext(connection) as context:
            result = function()
        return len(context.captured_queries), result

    # One loop in process: the queries each step makes.
    sender, receiver = client_for(pairs[0]["sender"]), client_for(pairs[0]["receiver"])
    step_queries: dict[str, int] = {}
    body = _create_body(
        str(patients[0].public_id), str(township.public_id), str(clinic.public_id), cardiology
    )
    queries, response = count(
        lambda: sender.post("/api/v1/referrals", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    )
    assert response.status_code == 201, response.content
    step_queries["create+submit"] = queries
    url = f"/api/v1/referrals/{response.json()['public_id']}"
    for step, path, payload in _loop_steps(tomorrow):
        queries, response = count(
            lambda path=path, payload=payload: receiver.post(url + path, payload, format="json")
        )
        assert response.status_code == 200, (step, response.content)
        step_queries[step] = queries
    step_queries[TRIVIAL] = count(lambda: receiver.get(TRIVIAL_PATH))[0]
    figures["step_queries"] = step_queries
    figures["floor"] = step_floor(sender, receiver, body)

    # The list at growing sizes: background referrals copied from the first one.
    template = Referral.objects.order_by("id").first()
    assert template is not None
    lists = []
    readers = {
        "hospital doctor, all": (receiver, "/api/v1/referrals"),
        "hospital doctor, inbox": (receiver, "/api/v1/referrals?box=inbox"),
        "office, all (masked)": (client_for(api_token_issue(user=office)), "/api/v1/referrals"),
    }
    statuses = ["submitted", "accepted", "scheduled", "completed", "closed", "declined"]
    priorities = ["routine", "routine", "routine", "urgent", "stat"]
    made = 0
    for size in sizes:
        missing = size - Referral.objects.count()
        started = time.perf_counter()
        batch: list[Referral] = []
        for _ in range(max(missing, 0)):
            copy = _copy(template)
            copy.pk = None
            copy.public_id = uuid.uuid4()
            copy.number = f"BG{made:010d}"
            copy.idempotency_key = ""
            copy.status = statuses[made % len(statuses)]
            copy.priority = priorities[made % len(priorities)]
            copy.person = patients[made % len(patients)]
            copy.submitted_at = timezone.now() - datetime.timedelta(minutes=made % 100_000)
            batch.append(copy)
            made += 1
            if len(batch) == 5000:
                Referral.objects.bulk_create(batch)
                batch = []
        if batch:
            Referral.objects.bulk_create(batch)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        fill_s = time.perf_counter() - started
        row: dict[str, Any] = {"size": Referral.objects.count(), "fill_s": fill_s, "readers": {}}
        for label, (client, path) in readers.items():
            # A token records its last use at most once a minute (one UPDATE); the filling above may
            # have taken longer, so a first call absorbs that write before the counted one.
            client.get(TRIVIAL_PATH)
            queries, response = count(lambda client=client, path=path: client.get(path))
            assert response.status_code == 200, response.content
            samples = []
            for _ in range(3):
                started = time.perf_counter()
                client.get(path)
                samples.append((time.perf_counter() - started) * 1000)
            row["readers"][label] = {
                "queries": queries,
                "rows": response.json()["count"],
                "ms": statistics.median(samples),
            }
        lists.append(row)
    figures["lists"] = lists
    figures["pairs"] = pairs
    figures["patients"] = [str(p.public_id) for p in patients]
    figures["township"] = str(township.public_id)
    figures["clinic"] = str(clinic.public_id)
    figures["cardiology"] = str(cardiology.public_id)
    figures["tomorrow"] = tomorrow
    return figures


FLOOR_SAMPLES = 200
PROFILE_PATH = ROOT / "var" / "bench-referrals-accept-profile.txt"


def step_floor(sender: Any, receiver: Any, body: dict[str, Any]) -> dict[str, Any]:
    """In process, median ms of: the trivial request; then, for create+submit and for accept, the
    step through the API (``return=minimal``) and the step's own statements replayed as captured, raw,
    with no ORM, policy, service or serializer around them (fresh UUIDs, referral numbers and
    idempotency keys each time; the reads before the transaction are replayed inside it).

    The trivial request plus a step's raw statements is the floor of that step on this stack: what it
    would cost if everything but its SQL were free.
    """
    from django.db import connection, transaction

    from yilian.referrals.models import Referral

    minimal = {"HTTP_PREFER": "return=minimal"}
    keys: list[str] = []

    def create() -> Any:
        keys.append(str(uuid.uuid4()))
        return sender.post("/api/v1/referrals", body, format="json", HTTP_IDEMPOTENCY_KEY=keys[-1], **minimal)

    def submitted() -> str:
        answer = create()
        assert answer.status_code == 201, answer.content
        return str(answer.json()["public_id"])

    def captured(call: Callable[[], Any], status: int) -> list[tuple[str, Any]]:
        statements: list[tuple[str, Any]] = []

        def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            statements.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture):
            answer = call()
        assert answer.status_code == status, answer.content
        # The token and the reader's scope are what the trivial request reads too; the rest is the step's.
        return statements[2:]

    def replayer(statements: list[tuple[str, Any]], unique: set[str]) -> Callable[[], None]:
        def fresh(value: Any) -> Any:
            if isinstance(value, uuid.UUID):
                return uuid.uuid4()
            if isinstance(value, list | tuple):  # bulk inserts pass a column's values as an array
                return type(value)(fresh(item) for item in value)
            if isinstance(value, str) and value in unique:
                return value[:2] + uuid.uuid4().hex[: len(value) - 2]
            if isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value):
                return uuid.uuid4().hex  # a UUID passed as text
            return value

        def replay() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, tuple(fresh(value) for value in params or ()))

        return replay

    def median_ms(call: Callable[[], Any], samples: int = FLOOR_SAMPLES) -> float:
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    receiver.get(TRIVIAL_PATH)  # the token's last use, recorded at most once a minute, out of the way
    sender.get(TRIVIAL_PATH)
    created = captured(create, 201)
    newest = Referral.objects.order_by("-id").values_list("number", flat=True).first()
    target = submitted()
    accepted = captured(
        lambda: receiver.post(f"/api/v1/referrals/{target}/accept", {}, format="json", **minimal), 200
    )
    targets = [submitted() for _ in range(FLOOR_SAMPLES // 4)]
    if os.environ.get("BENCH_PROFILE"):
        # Where an accept's Python goes: a cProfile of accepts beyond the timed ones, in a file (this
        # process's output is the parent's to parse).
        import cProfile
        import pstats

        profiled = [submitted() for _ in range(FLOOR_SAMPLES // 4)]
        profile = cProfile.Profile()
        profile.enable()
        for target in profiled:
            receiver.post(f"/api/v1/referrals/{target}/accept", {}, format="json", **minimal)
        profile.disable()
        with PROFILE_PATH.open("w") as handle:
            pstats.Stats(profile, stream=handle).sort_stats(
                os.environ.get("BENCH_PROFILE_SORT", "cumulative")
            ).print_stats(80)
    accepts = iter(targets)
    return {
        "trivial_ms": median_ms(lambda: receiver.get(TRIVIAL_PATH)),
        "steps": {
            "create+submit": {
                "statements": len(created),
                "raw_ms": median_ms(replayer(created, {newest or "", keys[0]}), FLOOR_SAMPLES // 4),
                "api_ms": median_ms(create, FLOOR_SAMPLES // 4),
            },
            "accept": {
                "statements": len(accepted),
                "raw_ms": median_ms(replayer(accepted, set())),
                "api_ms": median_ms(
                    lambda: receiver.post(
                        f"/api/v1/referrals/{next(accepts)}/accept", {}, format="json", **minimal
                    ),
                    len(targets),
                ),
            },
        },
    }


def _copy(template: Any) -> Any:
    """A copy of a model instance (its own ``_state``; cheaper than reading it again)."""
    return copy.copy(template)


def _server_version(connection: Any) -> str:
    if connection.vendor == "postgresql":
        version = connection.cursor().connection.info.server_version
        return f"{version // 10000}.{version % 10000}"
    return connection.Database.sqlite_version


def _create_body(patient: str, township: str, clinic: str, cardiology: Any) -> dict[str, Any]:
    return {
        "person": patient,
        "from_institution": township,
        "from_department": clinic,
        "to_department": cardiology if isinstance(cardiology, str) else str(cardiology.public_id),
        "kind": "outpatient",
        "priority": "routine",
        "diagnosis_code": "I10",
        "diagnosis_name": "原发性高血压",
        "reason": "血压控制不佳",
        "history": "高血压病史 10 年",
        "exam_results": "血压 186/112 mmHg",
        "medications": "氨氯地平 5 mg qd",
        "treatment": "口服降压药，血压控制不佳",
        "plan": "建议上级医院调整方案",
        "patient_consented": True,
        "submit": True,
    }


def _loop_steps(tomorrow: str) -> list[tuple[str, str, dict[str, Any]]]:
    """The receiver's steps after create+submit: (name, path suffix, body)."""
    return [
        ("accept", "/accept", {}),
        ("schedule", "/schedule", {"scheduled_for": tomorrow}),
        ("arrive", "/arrive", {}),
        ("complete", "/complete", {"outcome_diagnosis_code": "I10", "outcome_summary": "调整方案后血压达标"}),
    ]


# --- the HTTP phase ---------------------------------------------------------------------------------


class Client:
    """One keep-alive connection; ``call`` returns (status, body, headers, milliseconds)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(
        self, method: str, path: str, token: str, body: dict[str, Any] | None = None, **headers: str
    ) -> tuple[int, bytes, dict[str, str], float]:
        payload = json.dumps(body).encode() if body is not None else None
        sent = {"Authorization": f"Token {token}", "Accept": "application/json", **headers}
        if payload is not None:
            sent["Content-Type"] = "application/json"
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=payload, headers=sent)
                response = self.connection.getresponse()
                data = response.read()
                elapsed = (time.perf_counter() - started) * 1000
                return response.status, data, dict(response.getheaders()), elapsed
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(env: dict[str, str], workers: int, threads: int) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn on a free port, ready to answer."""
    port = _free_port()
    log = open(VAR / "bench-referrals-gunicorn.log", "wb")  # noqa: SIM115 — closed with the process
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "yilian.config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "--timeout",
            "120",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({process.returncode}); see var/bench-referrals-gunicorn.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start within 60 s")


def run_trivial(port: int, seed: dict[str, Any], concurrency: int, total: int) -> dict[str, Any]:
    """``total`` GETs of the trivial endpoint spread over ``concurrency`` clients; latencies and wall time."""
    samples: list[list[float]] = [[] for _ in range(concurrency)]
    errors: list[str] = []

    def work(index: int) -> None:
        client = Client(port)
        token = seed["pairs"][index]["receiver"]
        for _ in range(total // concurrency):
            status, body, _headers, elapsed = client.call("GET", TRIVIAL_PATH, token)
            if status != 200:
                errors.append(f"{status} {body[:200]!r}")
            samples[index].append(elapsed)

    wall = _threads(work, concurrency)
    flat = [value for chunk in samples for value in chunk]
    return {"samples": flat, "wall_s": wall, "errors": errors}


def run_loops(port: int, seed: dict[str, Any], concurrency: int, loops: int) -> dict[str, Any]:
    """``loops`` full referral loops over ``concurrency`` clients; latencies per step and wall time."""
    samples: dict[str, list[float]] = {step: [] for step in STEPS}
    errors: list[str] = []
    lock = threading.Lock()
    remaining = [loops]

    def take() -> bool:
        with lock:
            if remaining[0] <= 0:
                return False
            remaining[0] -= 1
            return True

    def work(index: int) -> None:
        client = Client(port)
        tokens = seed["pairs"][index]
        local: dict[str, list[float]] = {step: [] for step in STEPS}
        n = 0
        while take():
            patient = seed["patients"][(index * 7 + n) % len(seed["patients"])]
            n += 1
            body = _create_body(patient, seed["township"], seed["clinic"], seed["cardiology"])
            status, data, headers, elapsed = client.call(
                "POST", "/api/v1/referrals", tokens["sender"], body, **{"Idempotency-Key": str(uuid.uuid4())}
            )
            if status != 201:
                errors.append(f"create+submit {status} {data[:300]!r}")
                continue
            local["create+submit"].append(elapsed)
            url = f"/api/v1/referrals/{json.loads(data)['public_id']}"
            etag = headers.get("ETag", "")
            for step, path, payload in _loop_steps(seed["tomorrow"]):
                status, data, headers, elapsed = client.call(
                    "POST", url + path, tokens["receiver"], payload, **{"If-Match": etag}
                )
                if status != 200:
                    errors.append(f"{step} {status} {data[:300]!r}")
                    break
                etag = headers.get("ETag", "")
                local[step].append(elapsed)
        with lock:
            for step, values in local.items():
                samples[step].extend(values)

    wall = _threads(work, concurrency)
    return {"samples": samples, "wall_s": wall, "errors": errors}


def run_phases(
    port: int, seed: dict[str, Any], concurrency: int, loops: int, *, minimal: bool = False
) -> dict[str, Any]:
    """The loop's steps one at a time: all clients create, then all accept, … (each step alone at
    ``concurrency``), so a step's requests/s is its own: requests ÷ the phase's wall time. With
    ``minimal`` every write sends ``Prefer: return=minimal`` (the answer is the state alone)."""
    prefer = {"Prefer": "return=minimal"} if minimal else {}
    per_client = max(loops // concurrency, 1)
    referrals: list[list[tuple[str, str]]] = [[] for _ in range(concurrency)]
    phases: dict[str, dict[str, Any]] = {}
    errors: list[str] = []

    def create(index: int) -> None:
        client = Client(port)
        token = seed["pairs"][index]["sender"]
        for n in range(per_client):
            patient = seed["patients"][(index * 11 + n) % len(seed["patients"])]
            body = _create_body(patient, seed["township"], seed["clinic"], seed["cardiology"])
            status, data, headers, elapsed = client.call(
                "POST", "/api/v1/referrals", token, body, **{"Idempotency-Key": str(uuid.uuid4())}, **prefer
            )
            if status != 201:
                errors.append(f"create+submit {status} {data[:300]!r}")
                continue
            samples[index].append(elapsed)
            referrals[index].append(
                (f"/api/v1/referrals/{json.loads(data)['public_id']}", headers.get("ETag", ""))
            )

    samples: list[list[float]] = [[] for _ in range(concurrency)]
    wall = _threads(create, concurrency)
    phases["create+submit"] = {"samples": [v for chunk in samples for v in chunk], "wall_s": wall}
    for step, path, payload in _loop_steps(seed["tomorrow"]):
        samples = [[] for _ in range(concurrency)]

        def act(
            index: int,
            step: str = step,
            path: str = path,
            payload: dict[str, Any] = payload,
            samples: list[list[float]] = samples,
        ) -> None:
            client = Client(port)
            token = seed["pairs"][index]["receiver"]
            for position, (url, etag) in enumerate(referrals[index]):
                status, data, headers, elapsed = client.call(
                    "POST", url + path, token, payload, **{"If-Match": etag}, **prefer
                )
                if status != 200:
                    errors.append(f"{step} {status} {data[:300]!r}")
                    continue
                referrals[index][position] = (url, headers.get("ETag", ""))
                samples[index].append(elapsed)

        wall = _threads(act, concurrency)
        phases[step] = {"samples": [v for chunk in samples for v in chunk], "wall_s": wall}
    return {"phases": phases, "errors": errors}


def _threads(work: Callable[[int], None], count: int) -> float:
    threads = [threading.Thread(target=work, args=(index,)) for index in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


# --- the report ---------------------------------------------------------------------------------------


def _stats(samples: list[float], concurrency: int) -> dict[str, float]:
    mean = statistics.fmean(samples) if samples else float("nan")
    return {
        "n": len(samples),
        "p50": _percentile(samples, 50),
        "p95": _percentile(samples, 95),
        "p99": _percentile(samples, 99),
        "mean": mean,
        # Throughput the clients would reach doing only this request back to back.
        "rps": concurrency * 1000 / mean if samples else float("nan"),
    }


def report(
    args: argparse.Namespace,
    seed: dict[str, Any],
    trivial: dict[str, Any],
    loops: dict[str, Any],
    phases: dict[str, Any],
    minimal: dict[str, Any],
) -> None:
    """Print the figures."""
    c = args.concurrency
    print(
        f"yilian referral API bench — Python {platform.python_version()}, {seed['database']}, "
        f"{os.cpu_count()} CPUs, gunicorn {args.workers} workers × {args.threads} threads (gthread), "
        f"{c} concurrent clients on the same machine"
    )
    load = ", ".join(f"{value:.2f}" for value in seed["load_before"])
    print(f"load average before the HTTP phase: {load} (other work on the machine skews the figures)")
    print()
    print("(a) GET /api/v1/referrals: SQL queries per request (in process) as the referral table grows")
    labels = list(seed["lists"][0]["readers"])
    header = "".join(f" {'q@' + _short(r['size']):>9} {'ms@' + _short(r['size']):>9}" for r in seed["lists"])
    print(f"  {'reader':<24}{header}  constant?")
    for label in labels:
        counts = [r["readers"][label]["queries"] for r in seed["lists"]]
        cells = "".join(
            f" {r['readers'][label]['queries']:>9} {r['readers'][label]['ms']:>9.1f}" for r in seed["lists"]
        )
        print(f"  {label:<24}{cells}  {'yes' if len(set(counts)) == 1 else 'NO'}")
    fills = ", ".join(f"{_short(r['size'])}: {r['fill_s']:.1f} s" for r in seed["lists"])
    print(f"  (bulk-creating the background rows took {fills}; rows = visible referrals counted)")
    print()
    print("(b) queries per request of one loop (in process)")
    print("  " + ", ".join(f"{step} {count}" for step, count in seed["step_queries"].items()))
    print()
    base = _stats(trivial["samples"], c)
    requests = sum(len(v) for v in loops["samples"].values())
    completed = len(loops["samples"]["complete"])
    print(
        f"(c) HTTP at concurrency {c}: {completed} full loops in {loops['wall_s']:.1f} s = "
        f"{completed / loops['wall_s']:.1f} loops/s, {requests / loops['wall_s']:.1f} requests/s "
        f"({len(STEPS)} requests a loop)"
    )
    print(
        f"    trivial endpoint ({TRIVIAL_PATH}): {len(trivial['samples'])} requests, "
        f"{len(trivial['samples']) / trivial['wall_s']:.1f} requests/s measured"
    )
    print(
        f"  {'step':<17} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} "
        f"{'÷trivial':>9} {'p99/p50':>8}"
    )
    for step in (*STEPS, TRIVIAL):
        figures = base if step == TRIVIAL else _stats(loops["samples"][step], c)
        print(
            f"  {step:<17} {figures['n']:>5} {figures['p50']:>8.1f} {figures['p95']:>8.1f} "
            f"{figures['p99']:>8.1f} {figures['rps']:>8.1f} {figures['rps'] / base['rps']:>8.2f}× "
            f"{figures['p99'] / figures['p50']:>7.1f}×"
        )
    print(
        "  req/s per step = concurrency ÷ mean latency (the rate if the clients did only that step); "
        "÷trivial compares it with the trivial endpoint's, computed the same way."
    )
    print()
    trivial_rps = len(trivial["samples"]) / trivial["wall_s"]
    for letter, label, result in (
        ("d", "the full detail in every answer", phases),
        ("e", "Prefer: return=minimal (the answer is the state alone, RFC 7240)", minimal),
    ):
        print(
            f"({letter}) each step alone at concurrency {c} (all clients create, then all accept, …), "
            f"{label}: requests/s = requests ÷ phase wall time"
        )
        print(
            f"  {'step':<17} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'÷trivial':>9} {'p99/p50':>8}"
        )
        for step, phase in result["phases"].items():
            figures = _stats(phase["samples"], c)
            rps = figures["n"] / phase["wall_s"] if phase["wall_s"] else float("nan")
            print(
                f"  {step:<17} {figures['n']:>5} {figures['p50']:>8.1f} {figures['p99']:>8.1f} {rps:>8.1f} "
                f"{rps / trivial_rps:>8.2f}× {figures['p99'] / figures['p50']:>7.1f}×"
            )
        print(
            f"  {'GET unread-count':<17} {len(trivial['samples']):>5} {base['p50']:>8.1f} "
            f"{base['p99']:>8.1f} {trivial_rps:>8.1f}     1.00×"
        )
        print()
    floor = seed["floor"]
    trivial_ms = floor["trivial_ms"]
    print(
        f"(f) the floor of a step (in process, medians; the trivial request {trivial_ms:.2f} ms): each step "
        "through the API (return=minimal), and its own statements replayed raw — a step whose Python "
        "cost nothing would take the trivial request plus those"
    )
    print(
        f"  {'step':<15} {'statements':>10} {'API ms':>8} {'÷trivial':>9} {'raw ms':>8} {'floor ms':>9} {'÷trivial':>9}"
    )
    for name, step in floor["steps"].items():
        least = trivial_ms + step["raw_ms"]
        print(
            f"  {name:<15} {step['statements']:>10} {step['api_ms']:>8.2f} {trivial_ms / step['api_ms']:>8.2f}× "
            f"{step['raw_ms']:>8.2f} {least:>9.2f} {trivial_ms / least:>8.2f}×"
        )
    print()
    errors = trivial["errors"] + loops["errors"] + phases["errors"] + minimal["errors"]
    if errors:
        print()
        print(f"  {len(errors)} failed requests; first: {errors[0]}")


def _short(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


# --- main -----------------------------------------------------------------------------------------------


def main() -> None:
    """Run the bench (or, with ``--seed``, be the seeding worker)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--loops", type=int, default=200, help="full referral loops in all (default 200)")
    parser.add_argument("--trivial", type=int, default=0, help="trivial requests in all (default 5 × loops)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--sqlite", action="store_true", help="use var/bench-referrals.sqlite3 instead")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker (default 2)")
    parser.add_argument(
        "--list-sizes", default="10,1000,100000", help="referral counts for the list query check"
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = sorted(int(part) for part in args.list_sizes.split(",") if part.strip())
    if args.seed:
        sys.path.insert(0, str(ROOT / "src"))
        print(MARKER + json.dumps(seed_and_count(args.concurrency, sizes), ensure_ascii=False))
        return
    url = "sqlite:///var/bench-referrals.sqlite3" if args.sqlite else args.database_url
    env = server_env(url)
    started = time.perf_counter()
    print(f"… creating the bench database ({urlparse(url).path.lstrip('/')})", file=sys.stderr, flush=True)
    create_database(url)
    server = None
    try:
        subprocess.run(
            [str(BIN / "yilian"), "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT
        )
        print("… seeding and counting list queries", file=sys.stderr, flush=True)
        completed = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--seed",
                "--concurrency",
                str(args.concurrency),
                "--list-sizes",
                ",".join(map(str, sizes)),
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            print(completed.stdout, completed.stderr, sep="\n")
            raise SystemExit("bench seeding failed")
        line = next(line for line in completed.stdout.splitlines() if line.startswith(MARKER))
        seed = json.loads(line[len(MARKER) :])
        print("… starting gunicorn", file=sys.stderr, flush=True)
        server, port = start_server(env, args.workers, args.threads)
        # Warm every worker (imports, translations, first connections) before measuring.
        run_trivial(port, seed, args.concurrency, args.workers * args.threads * 4)
        run_loops(port, seed, args.concurrency, args.concurrency * 2)
        seed["load_before"] = os.getloadavg()
        trivial_total = args.trivial or args.loops * len(STEPS)
        print("… trivial endpoint, loops, steps one by one, trivial endpoint", file=sys.stderr, flush=True)
        before = run_trivial(port, seed, args.concurrency, trivial_total // 2)
        loops = run_loops(port, seed, args.concurrency, args.loops)
        phases = run_phases(port, seed, args.concurrency, args.loops)
        minimal = run_phases(port, seed, args.concurrency, args.loops, minimal=True)
        after = run_trivial(port, seed, args.concurrency, trivial_total - trivial_total // 2)
        trivial = {
            "samples": before["samples"] + after["samples"],
            "wall_s": before["wall_s"] + after["wall_s"],
            "errors": before["errors"] + after["errors"],
        }
        report(args, seed, trivial, loops, phases, minimal)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep:
            drop_database(url)
    print()
    print(f"total bench time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
