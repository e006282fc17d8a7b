"""Start-up: commands that load no pipeline, each a fresh process."""
from __future__ import annotations

from typing import Any, Dict, List

from harness import OURS, SPACY, Context, NotAvailable, Row

TITLE = "Start-up of commands that need no pipeline"
DESCRIPTION = (
    "Wall time of a fresh `python -m spacy ...` / `python -m transfer_cli ...` process: `--help`, "
    "`init config OUT -p tagger`, `init fill-config OUT OUT2` and `debug config OUT2`; best of 6 runs of each (3 per round, the two "
    "systems alternating over 2 rounds). Mostly imports: what a command loads before it starts working."
)


KEYS = (("--help", "help_seconds"), ("init config -p tagger", "init_config_seconds"),
        ("init fill-config", "fill_config_seconds"), ("debug config", "debug_config_seconds"))


def run(ctx: Context) -> List[Row]:
    repeats = 3
    best: Dict[str, Any] = {}
    for _ in range(2):  # alternate the systems (a shared machine's load drifts); keep the fastest
        for system in (SPACY, OURS):
            result = ctx.measure(system, "startup.py", ["--work-dir", ctx.work_dir, "--repeats", repeats])
            if isinstance(result, NotAvailable):
                best.setdefault(system, result)
            elif not isinstance(best.get(system), NotAvailable):
                previous = best.get(system, {})
                best[system] = {key: min(result[key], previous.get(key, result[key])) for _, key in KEYS}

    def field(system: str, key: str) -> Any:
        r = best[system]
        return r if isinstance(r, NotAvailable) else r[key]

    return [Row(f"{label}, seconds", field(OURS, key), field(SPACY, key), fmt="{:.2f}", higher_is_better=False)
            for label, key in KEYS]
