"""NER on CoNLL-2003 English: the efficiency config trained for the same number of steps by
both systems; dev F1, training and inference words/second."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, List

from harness import OURS, SPACY, Context, NotAvailable, Row

STEPS = int(os.environ.get("NER_BENCH_STEPS", "2000"))
ROUNDS = int(os.environ.get("NER_BENCH_ROUNDS", "2"))

TITLE = "NER: CoNLL-2003 English, efficiency config (tok2vec + ner)"
DESCRIPTION = (
    "`spacy convert eng.{train,testa}.iob2.tsv -c ner -n 1` writes the corpora once (14,041 / 3,250 "
    "sentences); `spacy init config -p ner -o efficiency` writes the config; both systems load that "
    f"same config and the same .spacy files and train {STEPS} steps with the same loop (shuffle per "
    "epoch, the configured batch_by_words batcher, `nlp.update` + `optimizer.step_schedules()`), no "
    "evaluation in between. Training words/s counts only the time inside those calls. Dev = testa, "
    "scored by each system's `nlp.evaluate`. Inference: `nlp.pipe` over the dev texts (tokenizer "
    "included) and over pre-tokenized dev docs (components only), best of 3 passes. The training runs "
    f"alternate spaCy, transfer-cli ({ROUNDS} rounds), each system's best-F1 run reported with its best "
    "speeds over the rounds; 2 shared CPU cores, so speeds are noisy."
)


def prepare(ctx: Context) -> List[Path]:
    """(train.spacy, dev.spacy, config.cfg) in the work folder, made by spaCy once."""
    source_dir = ctx.data_dir / "conll2003_en"
    out_dir = ctx.work_dir / "ner_conll"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ("eng.train.iob2", "eng.testa.iob2"):
        source = source_dir / f"{name}.tsv"
        target = out_dir / f"{name}.spacy"
        if not (target.exists() and target.stat().st_mtime >= source.stat().st_mtime):
            tmp = out_dir / "convert_tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            ctx.spacy_cli(["convert", source, tmp, "--converter", "ner", "--n-sents", "1"])
            (tmp / f"{name}.spacy").replace(target)
            shutil.rmtree(tmp)
        paths.append(target)
    config = out_dir / "ner_eff.cfg"
    if not config.exists():
        ctx.spacy_cli(["init", "config", config, "--lang", "en", "--pipeline", "ner", "--optimize", "efficiency",
                       "--force"])
    paths.append(config)
    return paths


def run(ctx: Context) -> List[Row]:
    train, dev, config = prepare(ctx)

    def args_for(system: str) -> List[Any]:
        return ["--config", config, "--train", train, "--dev", dev, "--max-steps", STEPS,
                "--repeats", min(ctx.repeats, 3)]

    results = ctx.compare("ner_conll.py", args_for, rounds=ROUNDS,
                          maximize=["ents_f", "train_words_per_second", "infer_words_per_second",
                                    "infer_docs_words_per_second"])

    def field(system: str, key: str) -> Any:
        r = results[system]
        return r if isinstance(r, NotAvailable) else r[key]

    def minutes(system: str) -> Any:
        r = results[system]
        return r if isinstance(r, NotAvailable) else r["train_words"] / r["train_words_per_second"] / 60

    def per_type(system: str) -> str:
        r = results[system]
        if isinstance(r, NotAvailable) or not r.get("ents_per_type"):
            return ""
        return ", ".join(f"{k} {v['f'] * 100:.1f}" for k, v in sorted(r["ents_per_type"].items()))

    steps_note = ""
    if not isinstance(results[SPACY], NotAvailable):
        r = results[SPACY]
        steps_note = f"{r['train_steps']:,} steps, {r['train_words']:,} words ({r['train_epochs']} epochs)"
    return [
        Row("dev F1 (ents_f)", _pct(field(OURS, "ents_f")), _pct(field(SPACY, "ents_f")), fmt="{:.2f}",
            notes=f"per type, transfer-cli: {per_type(OURS)}; spaCy: {per_type(SPACY)}"),
        Row("dev precision", _pct(field(OURS, "ents_p")), _pct(field(SPACY, "ents_p")), fmt="{:.2f}"),
        Row("dev recall", _pct(field(OURS, "ents_r")), _pct(field(SPACY, "ents_r")), fmt="{:.2f}"),
        Row("training words/s", field(OURS, "train_words_per_second"), field(SPACY, "train_words_per_second"),
            notes=steps_note),
        Row("training minutes (update calls only)", minutes(OURS), minutes(SPACY), fmt="{:.1f}",
            higher_is_better=False),
        Row("inference words/s, nlp.pipe(texts)", field(OURS, "infer_words_per_second"),
            field(SPACY, "infer_words_per_second"), notes="tokenizer included"),
        Row("inference words/s, nlp.pipe(docs)", field(OURS, "infer_docs_words_per_second"),
            field(SPACY, "infer_docs_words_per_second"), notes="pre-tokenized: tok2vec + ner only"),
        Row("peak RSS, MB", field(OURS, "peak_rss_mb"), field(SPACY, "peak_rss_mb"), fmt="{:,.0f}",
            higher_is_better=False),
    ]


def _pct(value: Any) -> Any:
    return value * 100 if isinstance(value, float) else value
