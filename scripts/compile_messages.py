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
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "yilian"
LOCALE = PACKAGE / "locale"


def extract() -> None:
    """Refresh the .po files from the source (needs xgettext)."""
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
        cwd=PACKAGE,
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


if __name__ == "__main__":
    if "--compile-only" not in sys.argv:
        extract()
    compile_all()
