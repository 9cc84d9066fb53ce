"""Demo step: install the shipped indicator catalogues and compute every figure of the demo's months.

Runs after the records are seeded. Installing is idempotent (a second run
changes no indicator); the refresh recomputes the months the records span,
so a second run gives the same tables.
"""

from __future__ import annotations

import time
from typing import Any

from yilian.indicators import evaluation
from yilian.indicators.catalogue import install_catalogues


def seed_indicators(admin_user: Any) -> dict[str, Any]:
    """Install the shipped catalogues as ``admin_user`` and run a full refresh of every data month.

    Returns what the install did, the rows each layer wrote and the seconds
    taken. Raises what the install raises (NotAllowed when ``admin_user`` is
    neither a platform administrator nor a regulator).
    """
    started = time.perf_counter()
    installed = install_catalogues(actor=admin_user)
    months = evaluation.data_months()
    result = evaluation.refresh(months)
    return {
        "installed": installed,
        "months": [month.isoformat() for month in result.months],
        "counts": result.counts,
        "steps": result.seconds,
        "seconds": round(time.perf_counter() - started, 2),
    }
