"""Tokenizer on long bad input: time against length, to show how it grows (linear or not)."""
from __future__ import annotations

from typing import Any, List

from harness import OURS, SPACY, Context, NotAvailable, Row

LENGTHS = (1_000, 10_000, 50_000)
BUDGET_SECONDS = 30.0
TITLE = "Tokenizer: long bad input (runs of punctuation, emoji, URL-like strings)"
DESCRIPTION = (
    "`make_doc(text)` of a fresh `blank(\"en\")` pipeline on one text of 1,000, 10,000 and 50,000 "
    "characters of each kind (`benchmarks/measure/tokenize_long_inputs.py`), best of 3. Time that grows "
    "in step with the length is linear (×5 from 10,000 to 50,000); quadratic time grows ×25. Once a "
    f"length takes over {BUDGET_SECONDS:.0f} s, the longer ones are skipped (—)."
)


def run(ctx: Context) -> List[Row]:
    def args_for(system: str) -> List[Any]:
        return ["--lengths", ",".join(map(str, LENGTHS)), "--repeats", min(ctx.repeats, 3),
                "--budget", BUDGET_SECONDS]

    # the measurement script owns the texts; ask it for its kinds first (a cheap run)
    probe = ctx.measure(OURS, "tokenize_long_inputs.py", ["--lengths", "10", "--repeats", 1])
    if isinstance(probe, NotAvailable):
        return [Row("seconds", probe, None, higher_is_better=False)]
    kinds: List[str] = probe["kinds"]
    keys = [f"chars_per_second:{kind}:{n}" for kind in kinds for n in LENGTHS]
    results = ctx.compare("tokenize_long_inputs.py", args_for, maximize=keys)

    def seconds(system: str, kind: str, n: int) -> Any:
        r = results[system]
        if isinstance(r, NotAvailable):
            return r
        speed = r[f"chars_per_second:{kind}:{n}"]
        return n / speed if speed else None

    rows: List[Row] = []
    for kind in kinds:
        for n in LENGTHS:
            ours = seconds(OURS, kind, n)
            growth = ""
            before = seconds(OURS, kind, LENGTHS[-2])
            if n == LENGTHS[-1] and isinstance(ours, float) and isinstance(before, float):
                growth = f"transfer-cli ×{ours / before:.1f} from {LENGTHS[-2]:,} characters"
            rows.append(Row(f"{kind}, {n:,} characters: seconds", ours, seconds(SPACY, kind, n), fmt="{:.3f}",
                            higher_is_better=False, notes=growth))
    return rows
