"""Encounter ingestion at size: rows/s of the real importer beside a raw baseline, and peak memory.

1. Writes a CSV of ``--rows`` encounter rows (default 1 000 000) of one county
   hospital (outpatient, emergency and inpatient rows, departments, valid
   resident ID numbers of a pool of persons, ICD-10 codes, amounts that add up).
2. For SQLite (a temporary database file) and PostgreSQL (``--postgres`` or
   ``DATABASE_URL`` when it is a PostgreSQL URL and reachable; the database
   name must contain ``bench``): creates and migrates a fresh database, seeds
   the hospital, then in one process
   (a) imports the file through the real importer (``import_job_create`` +
       ``import_job_run``: the file staged in a TEMP table, every row checked
       in SQL or by the Python rules (ADR 0017), persons resolved and created,
       batches of 20 000 committed with the job's counters), and
   (b) the raw baseline on the same database: SQLite ``executemany`` of the
       CSV's rows into a bare table of text columns; PostgreSQL ``COPY`` of
       the same file into a bare table,
   and prints rows/s of each and the ratio (goal ≥ 50 %), and
   (c) the ceiling of any importer: the rows the import stored, already typed,
       loaded the same way into a copy of the encounter table with its indexes,
       unique constraints and foreign keys (no reading, checking or resolving),
       printed beside the import with its share of the bare baseline, and the
       same load into the table's keys alone (primary key, public id, institution
       + source record id; no secondary index, no foreign key): the floor under
       any table an importer that keeps identities and idempotent re-imports
       could write into.
3. Peak RSS (``resource.getrusage``) of the import at each ``--memory-rows``
   size (default 1 000 000 and 5 000 000), each in its own process on SQLite
   so the peaks are separate: memory stays flat when it does not grow with
   the file. ``--memory-rows ""`` skips it.

Figures only; nothing is asserted. A quick run:

    .venv/bin/python bench/ingest.py --rows 20000 --memory-rows 20000,100000
    .venv/bin/python bench/ingest.py [--rows 1000000] [--memory-rows 1000000,5000000]
        [--postgres postgres://postgres@127.0.0.1:5432/yilian_bench_ingest | --no-postgres] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import pickle
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MARKER = "BENCH-JSON "
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/yilian_bench_ingest"
CREDIT_CODE = "12341522MB0000001X"
DEPARTMENTS = [("内科", "NK"), ("外科", "WK"), ("妇产科", "FCK"), ("儿科", "EK"), ("中医科", "ZYK")]
DIAGNOSES = [
    ("I10", "原发性高血压"),
    ("E11.900", "2型糖尿病"),
    ("J06.900", "急性上呼吸道感染"),
    ("I63.900", "脑梗死"),
    ("K35.800", "急性阑尾炎"),
    ("O80.000", "单胎顺产"),
    ("J18.900", "肺炎"),
    ("M54.500", "腰痛"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂"


# --- the file --------------------------------------------------------------------------------------


def _check_digit(body17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body17, weights, strict=True))
    return "10X98765432"[total % 11]


def write_csv(path: Path, rows: int, *, seed: int = 6) -> None:
    """A CSV of ``rows`` encounter rows, streamed (the file can be far larger than memory)."""
    from yilian.encounters.importing import COLUMNS

    rng = random.Random(seed)
    persons = max(1000, min(rows // 5, 200_000))
    start = datetime.date(2023, 1, 1)
    pool: list[tuple[str, str]] = []
    for n in range(persons):
        birth = datetime.date(1930, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 68))
        body = f"342423{birth:%Y%m%d}{n % 1000:03d}"
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if n % 3 else "")
        pool.append((body + _check_digit(body), name))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.header for c in COLUMNS])
        for n in range(rows):
            number, name = pool[rng.randrange(persons)]
            department = DEPARTMENTS[n % len(DEPARTMENTS)][0]
            code, diagnosis = DIAGNOSES[n % len(DIAGNOSES)]
            day = start + datetime.timedelta(days=n % 540)
            inpatient = n % 10 == 0
            started = f"{day:%Y-%m-%d} {8 + n % 9:02d}:{n % 60:02d}"
            ended = f"{day + datetime.timedelta(days=3 + n % 7):%Y-%m-%d} 10:00" if inpatient else ""
            total = rng.randrange(5000, 900_000) if inpatient else rng.randrange(2000, 60_000)
            fund = total * 65 // 100
            writer.writerow(
                [
                    CREDIT_CODE,
                    department,
                    f"{'ZY' if inpatient else 'MZ'}{n:010d}",
                    number,
                    name,
                    "住院" if inpatient else ("急诊" if n % 10 == 1 else "门诊"),
                    started,
                    ended,
                    code,
                    diagnosis,
                    "是" if department == "中医科" else "否",
                    str(1 + n % 4) if inpatient and n % 3 == 0 else "",
                    f"{total / 100:.2f}",
                    f"{fund / 100:.2f}",
                    f"{(total - fund) / 100:.2f}",
                ]
            )


# --- the worker (inside Django, one database) ------------------------------------------------------


def _seed() -> Any:
    from yilian.institutions.models import Department
    from yilian.institutions.tests.factories import HospitalFactory, region_tree

    regions = region_tree()
    hospital = HospitalFactory(name="霍邱县人民医院", region=regions["county"], credit_code=CREDIT_CODE)
    for name, code in DEPARTMENTS:
        Department.objects.create(institution=hospital, name=name, code=code)
    return hospital


def _peak_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _import(path: Path, hospital: Any) -> dict[str, Any]:
    from django.core.files import File

    from yilian.ingestion import services

    began = time.perf_counter()
    with path.open("rb") as handle:
        job = services.import_job_create(
            actor=None,
            kind="encounters",
            upload=File(handle, name=path.name),
            institution=hospital,
            operator=True,
        )
    job = services.import_job_run(job)
    seconds = time.perf_counter() - began
    return {
        "status": job.status,
        "accepted": job.accepted_rows,
        "duplicates": job.duplicate_rows,
        "rejected": job.rejected_rows,
        "seconds": seconds,
        "rows_per_s": (job.rows_read or 1) / seconds,
    }


def _copy_in(cursor: Any, statement: str, path: Path) -> None:
    """Stream ``path``'s bytes through a PostgreSQL ``COPY … FROM STDIN`` on Django's ``cursor``."""
    with path.open("rb") as handle, cursor.cursor.copy(statement) as copy:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            copy.write(chunk)


def _baseline(path: Path) -> dict[str, Any]:
    """The raw load of the same file into a bare table of text columns on the same database."""
    from django.db import connection

    columns = 15
    began = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE bench_bare (" + ", ".join(f"c{i} text" for i in range(columns)) + ")"
            )
            _copy_in(cursor, "COPY bench_bare FROM STDIN WITH (FORMAT csv, HEADER true)", path)
            cursor.execute("SELECT count(*) FROM bench_bare")
            rows = cursor.fetchone()[0]
        connection.commit() if not connection.get_autocommit() else None
        method = "COPY"
    else:
        import sqlite3

        database = connection.settings_dict["NAME"]
        raw_connection = sqlite3.connect(database)
        raw_connection.execute(
            "CREATE TABLE bench_bare (" + ", ".join(f"c{i} text" for i in range(columns)) + ")"
        )
        placeholders = ", ".join("?" * columns)
        rows = 0
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            batch: list[list[str]] = []
            for record in reader:
                batch.append(record)
                if len(batch) == 2000:
                    raw_connection.executemany(f"INSERT INTO bench_bare VALUES ({placeholders})", batch)
                    raw_connection.commit()
                    rows += len(batch)
                    batch = []
            raw_connection.executemany(f"INSERT INTO bench_bare VALUES ({placeholders})", batch)
            raw_connection.commit()
            rows += len(batch)
        raw_connection.close()
        method = "executemany"
    seconds = time.perf_counter() - began
    return {"method": method, "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


def _table_ceiling(work: Path, *, keys_only: bool = False) -> dict[str, Any]:
    """The same rows loaded, already typed and checked, into a copy of the encounter table.

    The copy has the table's indexes, unique constraints and foreign keys; the rows are the ones the
    import stored, written out first (untimed) and loaded as the raw baseline loads: PostgreSQL
    ``COPY``, SQLite ``executemany`` in batches of 2 000. No importer that writes into the encounter
    table can beat this: it is the table's own cost of taking the rows, without reading, checking or
    resolving anything.

    With ``keys_only`` the copy keeps only what identifies a row and makes a re-import idempotent —
    the primary key and the unique keys (``public_id``; institution + source record id) — with no
    secondary index and no foreign key: a floor under any table an importer could write into.
    """
    from django.db import connection

    table = "encounters_encounter"
    shape = "bench_keys" if keys_only else "bench_shape"
    if connection.vendor == "postgresql":
        dump = work / "ceiling.copy"
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with dump.open("wb") as handle, raw.copy(f"COPY {table} TO STDOUT") as copy:
                for data in copy:
                    handle.write(data)
            if keys_only:
                cursor.execute(f"CREATE TABLE {shape} (LIKE {table} INCLUDING DEFAULTS)")
                cursor.execute(f"ALTER TABLE {shape} ADD PRIMARY KEY (id)")
                cursor.execute(
                    "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
                    "WHERE indrelid = %s::regclass AND indisunique AND NOT indisprimary",
                    [table],
                )
                for (definition,) in cursor.fetchall():
                    # "CREATE UNIQUE INDEX name ON public.table USING …": a new name, on the copy.
                    _create, _unique, _index, _name, rest = definition.split(" ", 4)
                    on_table = rest.replace(f"public.{table}", shape, 1)
                    cursor.execute(f"CREATE UNIQUE INDEX {shape}_{_name[-20:]} {on_table}")
            else:
                cursor.execute(
                    f"CREATE TABLE {shape} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                    "INCLUDING INDEXES)"
                )
                cursor.execute(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f'",
                    [table],
                )
                for (definition,) in cursor.fetchall():
                    cursor.execute(f"ALTER TABLE {shape} ADD {definition}")
        connection.commit() if not connection.get_autocommit() else None
        began = time.perf_counter()
        with connection.cursor() as cursor:
            _copy_in(cursor, f"COPY {shape} FROM STDIN", dump)
            cursor.execute(f"SELECT count(*) FROM {shape}")
            rows = cursor.fetchone()[0]
        connection.commit() if not connection.get_autocommit() else None
        seconds = time.perf_counter() - began
        dump.unlink()
        return {"method": "COPY", "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}
    import re
    import sqlite3

    raw_connection = sqlite3.connect(connection.settings_dict["NAME"])
    raw_connection.execute("PRAGMA foreign_keys = ON")  # as Django's own connections do
    statements = raw_connection.execute(
        "SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type DESC",
        [table],
    ).fetchall()
    for kind, statement in statements:  # the table first ("table" sorts after "index" descending)
        if keys_only and kind == "index" and not statement.startswith("CREATE UNIQUE"):
            continue
        if keys_only and kind == "table":
            # Column definitions keep PRIMARY KEY and UNIQUE; the foreign keys' REFERENCES go.
            statement = re.sub(
                r' REFERENCES "[^"]+" \("[^"]+"\)( DEFERRABLE INITIALLY DEFERRED)?', "", statement
            )
        raw_connection.execute(
            statement.replace(f'"{table}"', f'"{shape}"').replace('INDEX "', f'INDEX "{shape}_')
        )
    raw_connection.commit()
    columns = len(raw_connection.execute(f'SELECT * FROM "{table}" LIMIT 1').description)
    placeholders = ", ".join("?" * columns)
    dump = work / "ceiling.pickle"
    with dump.open("wb") as handle:
        reader = raw_connection.execute(f'SELECT * FROM "{table}"')
        while batch := reader.fetchmany(2000):
            pickle.dump(batch, handle)
    rows = 0
    began = time.perf_counter()
    with dump.open("rb") as handle:
        while True:
            try:
                batch = pickle.load(handle)
            except EOFError:
                break
            raw_connection.executemany(f'INSERT INTO "{shape}" VALUES ({placeholders})', batch)
            raw_connection.commit()
            rows += len(batch)
    seconds = time.perf_counter() - began
    raw_connection.close()
    dump.unlink()
    return {"method": "executemany", "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


def worker(mode: str, path: Path) -> None:
    """Inside Django on a migrated, empty database: seed, then import (and the baseline unless ``memory``)."""
    import django

    django.setup()
    from django.db import connection

    hospital = _seed()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        imported = _import(path, hospital)
        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats(
            os.environ.get("BENCH_PROFILE_SORT", "tottime")
        ).print_stats(30)
    else:
        imported = _import(path, hospital)
    result: dict[str, Any] = {"vendor": connection.vendor, "import": imported}
    result["peak_rss_mb"] = _peak_rss_mb()
    if mode == "full":
        result["baseline"] = _baseline(path)
        result["ceiling"] = _table_ceiling(path.parent)
        result["keys"] = _table_ceiling(path.parent, keys_only=True)
    print(MARKER + json.dumps(result), flush=True)


# --- the driver ------------------------------------------------------------------------------------


def _env(url: str, media: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yilian.config.settings",
        "YILIAN_ENV": "production",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 60,
        "PERSON_IDENTIFIER_KEY": "bench-only-person-identifier-key-0000",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": url,
        "MEDIA_ROOT": str(media),
        "LOG_LEVEL": "WARNING",
        # Production's queue: the indicator refresh an import enqueues when it commits runs in the
        # worker, not inside the import's time (bench/assessment.py (3) times that refresh).
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT / "bench"),
    }


def _pg_reachable(url: str) -> bool:
    try:
        import psycopg

        from referrals import _pg_admin  # type: ignore[import-not-found]

        connection, _name = _pg_admin(url)
        connection.close()
        return True
    except (ImportError, OSError, psycopg.Error) as error:
        print(f"PostgreSQL not reachable ({error.__class__.__name__}); skipping it")
        return False


def run_one(url: str, mode: str, path: Path, work: Path) -> dict[str, Any]:
    """Create and migrate a fresh database at ``url``, run the worker there, drop it; return its figures."""
    sys.path.insert(0, str(ROOT / "bench"))
    from referrals import create_database, drop_database  # type: ignore[import-not-found]

    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(url[len("sqlite:///") :] + suffix).unlink(missing_ok=True)
    else:
        create_database(url)
    env = _env(url, work / "media")
    try:
        began = time.perf_counter()
        subprocess.run(
            [str(BIN / "yilian"), "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT
        )
        migrated = time.perf_counter() - began
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", mode, "--file", str(path)]
        completed = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        lines = [line for line in completed.stdout.splitlines() if line.startswith(MARKER)]
        if os.environ.get("BENCH_PROFILE"):
            sys.stderr.write(completed.stderr)
        if completed.returncode != 0 or not lines:
            sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-4000:])
            raise SystemExit(f"worker failed on {url}")
        result = json.loads(lines[-1][len(MARKER) :])
        result["migrate_seconds"] = migrated
        return result
    finally:
        if not url.startswith("sqlite"):
            drop_database(url)


def main() -> None:
    """Parse the arguments and run the bench (or, with ``--worker``, one worker)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-rows", default="1000000,5000000")
    parser.add_argument("--postgres", default="")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV files")
    parser.add_argument("--worker", choices=["full", "memory"], help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, Path(args.file))
        return
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yilian.config.settings")
    import django

    django.setup()  # the generator reads the template's columns

    postgres = args.postgres or (
        os.environ.get("DATABASE_URL", "")
        if os.environ.get("DATABASE_URL", "").startswith("postgres")
        else ""
    )
    postgres = "" if args.no_postgres else (postgres or DEFAULT_PG)
    work = Path(tempfile.mkdtemp(prefix="yilian-bench-ingest-"))
    print(
        f"yilian ingest bench — {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print(f"work directory {work}")
    try:
        path = work / f"encounters-{args.rows}.csv"
        began = time.perf_counter()
        write_csv(path, args.rows)
        print(
            f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - began:.1f} s"
        )
        targets = [("SQLite", f"sqlite:///{work / 'bench.sqlite3'}")]
        if postgres and _pg_reachable(postgres):
            targets.append(("PostgreSQL", postgres))
        print()
        print(
            f"{'database':<11} {'importer rows/s':>16} {'baseline rows/s':>16} {'ratio':>7}  baseline   import s  peak RSS"
        )
        for label, url in targets:
            figures = run_one(url, "full", path, work)
            imported, baseline = figures["import"], figures["baseline"]
            ratio = imported["rows_per_s"] / baseline["rows_per_s"]
            print(
                f"{label:<11} {imported['rows_per_s']:>16,.0f} {baseline['rows_per_s']:>16,.0f} {ratio:>6.1%}  "
                f"{baseline['method']:<10} {imported['seconds']:>7.1f}  {figures['peak_rss_mb']:.0f} MB"
                f"   (accepted {imported['accepted']:,}, duplicates {imported['duplicates']:,}, "
                f"rejected {imported['rejected']:,})"
            )
            ceiling = figures["ceiling"]
            print(
                f"{'':<11} {'':>16} {ceiling['rows_per_s']:>16,.0f} {imported['rows_per_s'] / ceiling['rows_per_s']:>6.1%}  "
                f"{ceiling['method']:<10} {ceiling['seconds']:>7.1f}  ← the stored rows, typed, into a copy of "
                f"the encounter table (its indexes and keys, no checks) = {ceiling['rows_per_s'] / baseline['rows_per_s']:.0%} of the bare baseline"
            )
            keys = figures["keys"]
            print(
                f"{'':<11} {'':>16} {keys['rows_per_s']:>16,.0f} {imported['rows_per_s'] / keys['rows_per_s']:>6.1%}  "
                f"{keys['method']:<10} {keys['seconds']:>7.1f}  ← the same rows into the table's keys alone (primary "
                f"key, public id, source record; no other index, no foreign key) = {keys['rows_per_s'] / baseline['rows_per_s']:.0%} of the bare baseline"
            )
        sizes = [int(s) for s in args.memory_rows.split(",") if s.strip()]
        if sizes:
            print()
            print("peak RSS of the import (SQLite, one process per size):")
            peaks: list[float] = []
            for size in sizes:
                sized = work / f"encounters-{size}.csv"
                if sized != path:
                    write_csv(sized, size)
                figures = run_one(f"sqlite:///{work / f'memory-{size}.sqlite3'}", "memory", sized, work)
                peaks.append(figures["peak_rss_mb"])
                print(
                    f"  {size:>10,} rows: peak RSS {figures['peak_rss_mb']:.0f} MB, "
                    f"{figures['import']['rows_per_s']:,.0f} rows/s"
                )
                if sized != path and not args.keep:
                    sized.unlink(missing_ok=True)
                Path(work / f"memory-{size}.sqlite3").unlink(missing_ok=True)
            if len(peaks) > 1:
                print(f"  largest / smallest peak: {peaks[-1] / peaks[0]:.2f}× (flat ≈ 1×)")
    finally:
        if not args.keep:
            for child in work.glob("**/*"):
                if child.is_file():
                    child.unlink()
            for child in sorted(work.glob("**/*"), reverse=True):
                child.rmdir()
            work.rmdir()


if __name__ == "__main__":
    main()
