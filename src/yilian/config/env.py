"""The only module that reads the environment.

Every variable is listed in ``.env.example`` with its default. A ``.env`` file
in the repository root (if present) is read first; real environment variables
win over it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

BASE_DIR = Path(__file__).resolve().parents[3]
"""The repository root (where ``pyproject.toml`` and ``var/`` live)."""


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


_DOTENV = _read_dotenv(BASE_DIR / ".env")


def get(name: str, default: str = "") -> str:
    """Return a variable from the environment, then ``.env``, then ``default``."""
    return os.environ.get(name, _DOTENV.get(name, default))


def get_bool(name: str, default: bool = False) -> bool:
    """Return a boolean variable ("1", "true", "yes", "on" are true)."""
    value = get(name, "1" if default else "0")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def get_list(name: str, default: str = "") -> list[str]:
    """Return a comma-separated variable as a list of non-empty items."""
    return [item.strip() for item in get(name, default).split(",") if item.strip()]


def get_int(name: str, default: int) -> int:
    """Return an integer variable (``default`` when unset or empty, as in a copied ``.env.example``)."""
    value = get(name, "").strip()
    return int(value) if value else default


@dataclass(frozen=True)
class DatabaseConfig:
    """A parsed ``DATABASE_URL``."""

    engine: str
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: dict[str, str] | None = None

    def as_django(self) -> dict[str, object]:
        """Return the Django ``DATABASES['default']`` dictionary."""
        config: dict[str, object] = {
            "ENGINE": self.engine,
            "NAME": self.name,
            "USER": self.user,
            "PASSWORD": self.password,
            "HOST": self.host,
            "PORT": self.port,
            "ATOMIC_REQUESTS": False,
            # Persistent connections spare a server database the 5–8 ms connect of every request;
            # SQLite opens a file, so it keeps none. Health checks drop a connection the server closed.
            "CONN_MAX_AGE": get_int("DATABASE_CONN_MAX_AGE", 0 if self.engine.endswith("sqlite3") else 60),
            "CONN_HEALTH_CHECKS": True,
        }
        if self.engine.endswith("sqlite3"):
            # WAL lets the worker and the web server read while one writes;
            # a busy timeout turns short lock waits into waits, not errors.
            config["OPTIONS"] = {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            }
            # A file (not Django's in-memory default) so concurrency tests use real
            # connections; one per process so parallel runs never share it.
            config["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")}
        else:
            options: dict[str, object] = dict(self.options or {})
            # Django joins from the queried table outwards, the order PostgreSQL would pick anyway for
            # our look-ups by id; planning the 8-table select_related joins of a referral took ~9 ms
            # of a ~1 ms query (ADR 0012). Set DATABASE_JOIN_COLLAPSE_LIMIT=8 for PostgreSQL's default.
            limit = get_int("DATABASE_JOIN_COLLAPSE_LIMIT", 1)
            if self.engine.endswith("postgresql") and "options" not in options:
                options["options"] = f"-c join_collapse_limit={limit}"
            # Parameters travel apart from the SQL text, so a statement run five times on a connection
            # is prepared once and not planned again (ADR 0013). A pooler in transaction mode (PgBouncer
            # before 1.21) cannot keep prepared statements: set DATABASE_SERVER_SIDE_BINDING=0 there.
            if self.engine.endswith("postgresql") and get_int("DATABASE_SERVER_SIDE_BINDING", 1):
                options.setdefault("server_side_binding", True)
                options.setdefault("prepare_threshold", get_int("DATABASE_PREPARE_THRESHOLD", 5))
            if options:
                config["OPTIONS"] = options
        return config


def parse_database_url(url: str) -> DatabaseConfig:
    """Parse ``sqlite:///relative/path``, ``sqlite:////abs/path`` or ``postgres://…``.

    Raises ValueError for an unknown scheme.
    """
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        raw = unquote(url[len("sqlite://") :])
        if raw in {"", "/:memory:", ":memory:"}:
            return DatabaseConfig("django.db.backends.sqlite3", ":memory:")
        # sqlite:///var/x.sqlite3 is relative to the repository; sqlite:////x is absolute.
        path = Path(raw[1:]) if raw.startswith("/") else Path(raw)
        if not path.is_absolute():
            path = BASE_DIR / path
        return DatabaseConfig("django.db.backends.sqlite3", str(path))
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        return DatabaseConfig(
            "django.db.backends.postgresql",
            unquote(parsed.path.lstrip("/")),
            unquote(parsed.username or ""),
            unquote(parsed.password or ""),
            parsed.hostname or "",
            str(parsed.port or ""),
            options or None,
        )
    raise ValueError(f"Unsupported DATABASE_URL scheme: {parsed.scheme!r}")
