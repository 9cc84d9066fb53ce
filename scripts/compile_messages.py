"""Extract and compile the translation catalogues.

Chinese is the source language (msgids are Simplified Chinese); the English
catalogue lives in src/yilian/locale/en/LC_MESSAGES/django.po. Extraction
needs GNU gettext (``apt-get install gettext``) and runs only where it is
installed; compiling uses polib, so the committed ``.mo`` can be rebuilt on
any machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "yilian"
LOCALE = PACKAGE / "locale"


def extract(package: Path = PACKAGE) -> None:
    """Refresh the .po files of ``package`` from its source (needs xgettext)."""
    if shutil.which("xgettext") is None:
        print("xgettext not found: skipping extraction (apt-get install gettext)")
        return
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="yilian.config.settings")
    subprocess.run(
        # --no-location and --no-wrap keep diffs of the .po small; tests and
        # migrations hold no UI text.
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "en",
            "--no-obsolete",
            "--no-location",
            "--no-wrap",
            "-i",
            "tests/*",
            "-i",
            "*/tests/*",
            "-i",
            "*/migrations/*",
        ],
        cwd=package,
        env=env,
        check=True,
    )


def compile_all() -> None:
    """Compile every django.po under the locale folder to django.mo."""
    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/django.po")):
        catalogue = polib.pofile(str(po_path))
        catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
        done = catalogue.percent_translated()
        print(
            f"{po_path.relative_to(ROOT)}: {done}% translated, {len(catalogue.untranslated_entries())} untranslated"
        )


def check() -> int:
    """Fail (exit 1) when a catalogue has untranslated or fuzzy entries, or its .mo is stale.

    Where xgettext is installed, also fail when the source holds strings the
    .po lacks (extraction runs on a copy; the committed files are not touched).
    """
    problems: list[str] = []
    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/django.po")):
        catalogue = polib.pofile(str(po_path))
        missing = catalogue.untranslated_entries() + catalogue.fuzzy_entries()
        problems += [
            f"{po_path.parent.parent.name}: untranslated or fuzzy: {e.msgid[:60]!r}" for e in missing
        ]
        with tempfile.TemporaryDirectory() as folder:
            fresh = Path(folder) / "django.mo"
            catalogue.save_as_mofile(str(fresh))
            mo_path = po_path.with_suffix(".mo")
            if not mo_path.exists() or polib.mofile(str(mo_path)) != polib.mofile(str(fresh)):
                problems.append(f"{mo_path.relative_to(ROOT)} is stale: run `make messages`")
        if shutil.which("xgettext") is not None:
            with tempfile.TemporaryDirectory() as folder:
                copy = Path(folder) / "yilian"
                shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
                extract(copy)
                extracted = polib.pofile(str(copy / po_path.relative_to(PACKAGE)))
                known = {(e.msgctxt, e.msgid) for e in catalogue}
                new = [e.msgid for e in extracted if (e.msgctxt, e.msgid) not in known]
                problems += [f"not in the catalogue yet: {msgid[:60]!r}" for msgid in new]
    for problem in problems:
        print(problem)
    print(
        "translations: OK"
        if not problems
        else f"translations: {len(problems)} problem(s); run `make messages`"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    if "--check" in sys.argv:
        sys.exit(check())
    if "--compile-only" not in sys.argv:
        extract()
    compile_all()
