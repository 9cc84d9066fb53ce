"""``make bench``: seed the demo at two scales into fresh SQLite files and print figures.

Prints (a) institution search by pinyin initials vs by plain name, (b) the
consortium and institution list selectors' time and query counts at scale 1
and scale 5, (c) seed-demo duration per scale. Figures only; nothing is
asserted. Each scale runs in its own process (``--worker N``) because the
database is chosen when Django starts.

    .venv/bin/python bench/run.py [--scales 1,5] [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
MARKER = "BENCH-JSON "


def _fresh_files(scale: int) -> tuple[str, Path]:
    """Remove the scale's previous database and media; return the DATABASE_URL and media dir."""
    VAR.mkdir(exist_ok=True)
    database = VAR / f"bench-scale{scale}.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    media = VAR / f"bench-media-scale{scale}"
    shutil.rmtree(media, ignore_errors=True)
    return f"sqlite:///var/{database.name}", media


def _run_scale(scale: int, repeat: int) -> dict[str, Any]:
    url, media = _fresh_files(scale)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MEDIA_ROOT": str(media),
        "DJANGO_SETTINGS_MODULE": "yilian.config.settings",
    }
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", str(scale), "--repeat", str(repeat)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        print(completed.stdout, completed.stderr, sep="\n")
        raise SystemExit(f"bench worker for scale {scale} failed")
    line = next(line for line in completed.stdout.splitlines() if line.startswith(MARKER))
    figures = json.loads(line[len(MARKER) :])
    figures["process_s"] = time.perf_counter() - started
    return figures


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "—"


def _print_report(results: list[dict[str, Any]]) -> None:
    first, last = results[0], results[-1]
    scales = [r["scale"] for r in results]
    print(
        f"yilian bench — Python {platform.python_version()}, SQLite {first['sqlite']}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    print()
    print("(c) seed-demo duration per scale (fresh database; the re-run is the idempotent no-op)")
    print(
        f"  {'scale':>5} {'institutions':>12} {'members':>8} {'persons':>8} {'audit':>7} {'seed s':>8} {'re-run s':>9} {'migrate s':>10}"
    )
    for r in results:
        counts = r["counts"]
        print(
            f"  {r['scale']:>5} {counts['医疗卫生机构 institutions']:>12} {counts['医联体成员 members']:>8} "
            f"{counts['居民 persons']:>8} {counts['审计事件 audit events']:>7} {r['seed_s']:>8.2f} "
            f"{r['reseed_s']:>9.2f} {r['migrate_s']:>10.2f}"
        )
    if len(results) > 1:
        print(
            f"  ratio scale {last['scale']}/{first['scale']}: seed {_ratio(last['seed_s'], first['seed_s'])}, "
            f"institutions {_ratio(last['counts']['医疗卫生机构 institutions'], first['counts']['医疗卫生机构 institutions'])}"
            f", persons {_ratio(last['counts']['居民 persons'], first['counts']['居民 persons'])}"
        )
    print()
    print(
        "(a) institution search via institution_list(query=…): pinyin initials vs plain name, ms per query (best of --repeat runs)"
    )
    header = "".join(f" {'rows@' + str(s):>8} {'ms@' + str(s):>8}" for s in scales)
    print(f"  {'query':<14} {'kind':<9}{header}")
    for index, search in enumerate(first["searches"]):
        cells = "".join(
            f" {r['searches'][index]['rows']:>8} {r['searches'][index]['best_ms']:>8.3f}" for r in results
        )
        print(f"  {search['label']:<{14 - _wide(search['label'])}} {search['kind']:<9}{cells}")
    for pair in range(0, len(first["searches"]), 2):
        a, b = first["searches"][pair], first["searches"][pair + 1]
        ratios = ", ".join(
            f"scale {r['scale']}: {_ratio(r['searches'][pair]['best_ms'], r['searches'][pair + 1]['best_ms'])}"
            for r in results
        )
        print(f"  initials/name  {a['label']} vs {b['label']}: {ratios}")
    print()
    print(
        "(b) list selectors, fully evaluated with the related data a list page shows (best-of-N ms, SQL queries)"
    )
    header = "".join(f" {'rows@' + str(s):>7} {'q@' + str(s):>4} {'ms@' + str(s):>8}" for s in scales)
    ratio_header = (
        f" {'ms ' + str(last['scale']) + '/' + str(first['scale']):>9} {'q ' + str(last['scale']) + '/' + str(first['scale']):>7}"
        if len(results) > 1
        else ""
    )
    print(f"  {'selector':<24}{header}{ratio_header}")
    for index, item in enumerate(first["lists"]):
        cells = "".join(
            f" {r['lists'][index]['rows']:>7} {r['lists'][index]['queries']:>4} {r['lists'][index]['best_ms']:>8.2f}"
            for r in results
        )
        ratios = ""
        if len(results) > 1:
            a, b = last["lists"][index], first["lists"][index]
            ratios = f" {_ratio(a['best_ms'], b['best_ms']):>9} {_ratio(a['queries'], b['queries']):>7}"
        print(f"  {item['label']:<{24 - _wide(item['label'])}}{cells}{ratios}")
    print()
    total = sum(r["process_s"] for r in results)
    print(f"total bench time {total:.1f} s (databases: var/bench-scale*.sqlite3)")


def _wide(text: str) -> int:
    """How many extra columns CJK characters take beyond one each."""
    return sum(1 for char in text if ord(char) > 0x2E80)


def main() -> None:
    """Run the workers (or, with ``--worker N``, be one) and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="1,5", help="comma-separated scales (default 1,5)")
    parser.add_argument("--repeat", type=int, default=30, help="repetitions per timed query (default 30)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from registry_bench import measure

        print(MARKER + json.dumps(measure(args.worker, args.repeat), ensure_ascii=False))
        return
    scales = [int(part) for part in args.scales.split(",") if part.strip()]
    results = []
    for scale in scales:
        print(f"… scale {scale}", file=sys.stderr, flush=True)
        results.append(_run_scale(scale, args.repeat))
    _print_report(results)


if __name__ == "__main__":
    main()
