"""The `yilian` console command: Django's manage.py with the project's settings."""

import os
import sys


def main() -> None:
    """Run a management command (``yilian migrate``, ``yilian seed-demo`` …)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yilian.config.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    argv[0] = "yilian"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
