"""The `yilian` console command: Django's manage.py with the project's settings."""

import os
import sys


def command_argv(argv: list[str]) -> list[str]:
    """Accept hyphenated command names: ``yilian seed-demo`` runs the ``seed_demo`` command.

    Django command names are module names, so none contains a hyphen; the
    command word (and the one after ``help``) is rewritten, options are not.
    """
    argv = list(argv)
    argv[0] = "yilian"
    position = 2 if len(argv) > 2 and argv[1] == "help" else 1
    if len(argv) > position and not argv[position].startswith("-"):
        argv[position] = argv[position].replace("-", "_")
    return argv


def main() -> None:
    """Run a management command (``yilian migrate``, ``yilian seed-demo`` …)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yilian.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(command_argv(sys.argv))


if __name__ == "__main__":
    main()
