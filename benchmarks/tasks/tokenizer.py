"""Tokenizer: boundary agreement with spaCy's English tokenizer on EWT dev raw text, and speed."""
from __future__ import annotations

import json
from typing import Any, List, Sequence, Tuple

from harness import OURS, SPACY, Context, NotAvailable, Row

from ._ewt import texts_and_gold_spans

TITLE = "Tokenizer: English, EWT dev raw text"
DESCRIPTION = (
    "`transfer_cli.blank(\"en\").make_doc` vs `spacy.blank(\"en\").make_doc` on the `# text` of every "
    "EWT dev sentence. A token matches when its (start, end) character span is produced by both "
    "tokenizers; agreement = matched / spaCy's tokens. Gold = EWT's own tokens (syntactic words)."
)


def _matches(a: Sequence[Sequence[Tuple[int, int]]], b: Sequence[Sequence[Tuple[int, int]]]) -> int:
    return sum(len(set(map(tuple, x)) & set(map(tuple, y))) for x, y in zip(a, b))


def _count(spans: Sequence[Sequence[Any]]) -> int:
    return sum(len(x) for x in spans)


def run(ctx: Context) -> List[Row]:
    texts, gold = texts_and_gold_spans(ctx.data_dir / "en_ewt" / "en_ewt-ud-dev.conllu")
    texts_path = ctx.work_dir / "tokenizer_texts.json"
    texts_path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf8")

    def args_for(system: str) -> List[Any]:
        out = ctx.work_dir / f"tokenizer_spans_{system}.json"
        return ["--texts", texts_path, "--spans-out", out, "--repeats", ctx.repeats]

    results = ctx.compare("tokenize_texts.py", args_for, maximize=["tokens_per_second", "tokens_per_second_warm"])
    spans = {system: json.loads((ctx.work_dir / f"tokenizer_spans_{system}.json").read_text(encoding="utf8"))
             for system, r in results.items() if not isinstance(r, NotAvailable)}

    def field(system: str, key: str) -> Any:
        r = results[system]
        return r if isinstance(r, NotAvailable) else r[key]

    n_gold = _count(gold)
    gold_pct = {s: (100.0 * _matches(spans[s], gold) / n_gold if s in spans else results[s]) for s in (SPACY, OURS)}
    rows: List[Row] = []
    if OURS in spans:
        matched = _matches(spans[OURS], spans[SPACY])
        same = sum(sorted(map(tuple, a)) == sorted(map(tuple, b)) for a, b in zip(spans[OURS], spans[SPACY]))
        agreement: Any = 100.0 * matched / _count(spans[SPACY])
        notes = (f"{matched:,} of spaCy's {_count(spans[SPACY]):,} tokens matched; {100.0 * matched / _count(spans[OURS]):.2f}% "
                 f"of our {_count(spans[OURS]):,}; {same:,} of {len(texts):,} sentences tokenized identically")
    else:
        agreement, notes = results[OURS], f"spaCy: {_count(spans[SPACY]):,} tokens"
    rows.append(Row("token boundaries matching spaCy, %", agreement, "reference", fmt="{:.2f}", notes=notes))
    rows.append(Row("EWT gold tokens reproduced, %", gold_pct[OURS], gold_pct[SPACY], fmt="{:.2f}",
                    notes=f"{n_gold:,} gold tokens in {len(texts):,} sentences"))
    rows.append(Row(f"tokens/s, fresh tokenizer, best of {2 * ctx.repeats}", field(OURS, "tokens_per_second"),
                    field(SPACY, "tokens_per_second"),
                    notes="caches cold, as on unseen text; each system's own token count over all texts"))
    rows.append(Row(f"tokens/s, same texts again, best of {2 * ctx.repeats}", field(OURS, "tokens_per_second_warm"),
                    field(SPACY, "tokens_per_second_warm"), notes="second pass: tokenizer caches warm"))
    rows.append(Row("peak RSS, MB", field(OURS, "peak_rss_mb"), field(SPACY, "peak_rss_mb"), fmt="{:,.1f}",
                    higher_is_better=False, notes="whole process, library import included"))
    return rows
