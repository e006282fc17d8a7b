"""`.spacy` read speed: EWT train converted by spaCy, read back into Docs by each DocBin."""
from __future__ import annotations

import json
import shutil
from typing import Any, List

from harness import OURS, SPACY, Context, NotAvailable, Row

TITLE = "Reading a .spacy corpus (EWT train, converted by spaCy)"
DESCRIPTION = (
    "`spacy convert en_ewt-ud-train.conllu --converter conllu -n 10` writes the file once; each "
    "system then times `DocBin().from_disk(path)` + `list(get_docs(vocab))` (spaCy's DocBin vs "
    "`transfer_cli.tokens.docbin.DocBin`), fresh vocab per pass, best pass reported."
)


def convert(ctx: Context) -> Any:
    source = ctx.data_dir / "en_ewt" / "en_ewt-ud-train.conllu"
    target = ctx.work_dir / "en_ewt-ud-train.spacy"
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    tmp = ctx.work_dir / "convert_tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    ctx.spacy_cli(["convert", source, tmp, "--converter", "conllu", "-n", "10"])
    (tmp / "en_ewt-ud-train.spacy").replace(target)
    shutil.rmtree(tmp)
    return target


def run(ctx: Context) -> List[Row]:
    path = convert(ctx)
    repeats = min(ctx.repeats, 3)

    def args_for(system: str) -> List[Any]:
        return ["--path", path, "--digest-out", ctx.work_dir / f"docbin_digest_{system}.json", "--repeats", repeats]

    results = ctx.compare("read_docbin.py", args_for, maximize=["tokens_per_second"])
    digests = {system: json.loads((ctx.work_dir / f"docbin_digest_{system}.json").read_text(encoding="utf8"))
               for system, r in results.items() if not isinstance(r, NotAvailable)}

    def field(system: str, key: str) -> Any:
        r = results[system]
        return r if isinstance(r, NotAvailable) else r[key]

    spacy_result = results[SPACY]
    size_note = (f"{path.stat().st_size / 1e6:.1f} MB file, {spacy_result['n_docs']:,} docs, "
                 f"{spacy_result['n_tokens']:,} tokens")
    if OURS in digests:
        same = sum(a == b for a, b in zip(digests[OURS], digests[SPACY]))
        identical: Any = f"{same:,} / {len(digests[SPACY]):,}"
        if len(digests[OURS]) != len(digests[SPACY]):
            identical += f" (we read {len(digests[OURS]):,} docs)"
    else:
        identical = results[OURS]
    return [
        Row(f"tokens/s read, best of {2 * repeats} passes", field(OURS, "tokens_per_second"),
            field(SPACY, "tokens_per_second"), notes=size_note),
        Row("peak RSS, MB", field(OURS, "peak_rss_mb"), field(SPACY, "peak_rss_mb"), fmt="{:,.1f}",
            higher_is_better=False, notes="whole process, library import included"),
        Row("docs read identically (words, tags, POS, entities, sentence starts)", identical, "reference",
            higher_is_better=None),
    ]
