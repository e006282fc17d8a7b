"""Shared by the measurement scripts. Standard library only: it runs under both interpreters
(the transfer-cli venv and the spaCy venv), one fresh process per measurement."""
from __future__ import annotations

import json
import resource
import sys
from typing import Any, Dict, NoReturn

# The harness reads the one stdout line that starts with this marker.
MARKER = "BENCH_RESULT "


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(result: Dict[str, Any]) -> None:
    """Report a finished measurement, with the process's peak RSS, to the harness."""
    result = {"status": "ok", "peak_rss_mb": round(peak_rss_mb(), 1), **result}
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


def not_available(reason: str) -> NoReturn:
    """This system cannot run the measurement yet (e.g. a module not written): not an error."""
    sys.stdout.write(MARKER + json.dumps({"status": "not_available", "reason": reason}) + "\n")
    sys.stdout.flush()
    sys.exit(0)
