"""Forward+backward speed of the efficiency Tok2Vec (spacy.Tok2Vec.v2 = MultiHashEmbed
width 96, NORM/PREFIX/SUFFIX/SHAPE with rows 5000/1000/2500/2500, MaxoutWindowEncoder
width 96, depth 4, window 1, 3 pieces) on one batch of ~25k EWT dev tokens (one doc
per sentence), three ways:

  ours    transfer_cli's registered architectures
  thinc   the same network composed from thinc's stock layers (HashEmbed, Maxout(nP=3,
          normalize=True), expand_window, residual, clone, with_array(pad=4)), as spaCy
          composes it, in the same process as `ours` with the runs interleaved
  spacy   spaCy 3.8's own Tok2Vec, in the benchmark venv (spaCy is imported only here)

    .venv/bin/python benchmarks/bench_tok2vec_layers.py [--data CONLLU] [--repeats 7]

runs ours+thinc here and spacy with .venv-bench/bin/python (--impl spacy), then prints
one table. Figures are tokens/second over the whole batch: best of the repeats and the
median; CPU, default BLAS threading.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

REPO = Path(__file__).resolve().parent.parent
WIDTH, ATTRS, ROWS = 96, ["NORM", "PREFIX", "SUFFIX", "SHAPE"], [5000, 1000, 2500, 2500]
DEPTH, WINDOW, PIECES = 4, 1, 3


def read_sentences(path: Path, max_tokens: int) -> List[List[str]]:
    sentences: List[List[str]] = []
    words: List[str] = []
    n_tokens = 0
    with path.open(encoding="utf8") as file_:
        for line in file_:
            if line.startswith("#"):
                continue
            if not line.strip():
                if words:
                    sentences.append(words)
                    n_tokens += len(words)
                    words = []
                    if n_tokens >= max_tokens:
                        break
                continue
            cols = line.split("\t")
            if "-" in cols[0] or "." in cols[0]:
                continue
            words.append(cols[1])
    if words and n_tokens < max_tokens:
        sentences.append(words)
    return sentences


def time_model(model, docs, n_tokens: int) -> Callable[[], Dict[str, float]]:
    """A closure that times one forward+backward and one forward-only pass."""
    import numpy

    def run() -> Dict[str, float]:
        start = time.perf_counter()
        outputs, backprop = model.begin_update(docs)
        backprop([numpy.ones_like(y) for y in outputs])
        train_s = time.perf_counter() - start
        start = time.perf_counter()
        model.predict(docs)
        predict_s = time.perf_counter() - start
        return {"train": n_tokens / train_s, "predict": n_tokens / predict_s}

    return run


def summarize(name: str, runs: List[Dict[str, float]], n_tokens: int) -> Dict:
    result = {"impl": name, "tokens": n_tokens}
    for key in ("train", "predict"):
        values = sorted(run[key] for run in runs)
        result[f"{key}_best"] = values[-1]
        result[f"{key}_median"] = values[len(values) // 2]
    return result


# -- ours and thinc's stock layers (the package venv) -------------------------------------------
def build_ours():
    from transfer_cli.config.registry import registry
    import transfer_cli.ml  # noqa: F401  (registers the architectures)

    arch = lambda name: registry.get("architectures", name)  # noqa: E731
    embed = arch("spacy.MultiHashEmbed.v2")(WIDTH, ATTRS, ROWS, False)
    encode = arch("spacy.MaxoutWindowEncoder.v2")(WIDTH, WINDOW, PIECES, DEPTH)
    return arch("spacy.Tok2Vec.v2")(embed, encode)


def build_thinc_stock():
    from thinc.api import (HashEmbed, Maxout, Model, chain, clone, concatenate, expand_window, list2ragged,
                           ragged2list, residual, with_array)
    from transfer_cli.tokens.attrs import intify_attrs

    columns = intify_attrs(ATTRS)

    def extract(model, docs, is_train):  # one to_array per doc, as spaCy's FeatureExtractor
        return [model.ops.asarray2i(doc.to_array(columns), dtype="uint64") for doc in docs], lambda d: []

    tables = [HashEmbed(WIDTH, rows, column=i, seed=8 + i, dropout=0.0) for i, rows in enumerate(ROWS)]
    embed = chain(Model("extract_features", extract), list2ragged(), with_array(concatenate(*tables)),
                  with_array(Maxout(WIDTH, WIDTH * len(tables), nP=3, dropout=0.0, normalize=True)), ragged2list())
    block = residual(chain(expand_window(window_size=WINDOW),
                           Maxout(nO=WIDTH, nI=WIDTH * (WINDOW * 2 + 1), nP=PIECES, dropout=0.0, normalize=True)))
    encode = with_array(clone(block, DEPTH), pad=WINDOW * DEPTH)
    return chain(embed, encode)


def run_package_venv(sentences: List[List[str]], repeats: int) -> List[Dict]:
    from thinc.api import fix_random_seed
    from transfer_cli.tokens import Doc, Vocab

    vocab = Vocab()
    docs = [Doc(vocab, words=words) for words in sentences]
    n_tokens = sum(len(doc) for doc in docs)
    fix_random_seed(0)
    models = {"ours": build_ours(), "thinc": build_thinc_stock()}
    runners = {}
    for name, model in models.items():
        model.initialize(X=docs[:20])
        runners[name] = time_model(model, docs, n_tokens)
        runners[name]()  # warm up
    runs: Dict[str, List[Dict[str, float]]] = {name: [] for name in models}
    for _ in range(repeats):  # interleaved, so load from elsewhere hits both alike
        for name, runner in runners.items():
            runs[name].append(runner())
    return [summarize(name, runs[name], n_tokens) for name in models]


# -- spaCy (the benchmark venv) ----------------------------------------------------------------
def run_spacy(sentences: List[List[str]], repeats: int) -> List[Dict]:
    import spacy
    from spacy.tokens import Doc
    from thinc.api import fix_random_seed

    nlp = spacy.blank("en")
    docs = [Doc(nlp.vocab, words=words) for words in sentences]
    n_tokens = sum(len(doc) for doc in docs)
    fix_random_seed(0)
    arch = spacy.registry.architectures.get
    embed = arch("spacy.MultiHashEmbed.v2")(width=WIDTH, attrs=ATTRS, rows=ROWS, include_static_vectors=False)
    encode = arch("spacy.MaxoutWindowEncoder.v2")(width=WIDTH, window_size=WINDOW, maxout_pieces=PIECES,
                                                   depth=DEPTH)
    model = arch("spacy.Tok2Vec.v2")(embed=embed, encode=encode)
    model.initialize(X=docs[:20])
    runner = time_model(model, docs, n_tokens)
    runner()
    return [summarize(f"spacy {spacy.__version__}", [runner() for _ in range(repeats)], n_tokens)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir = Path(os.environ.get("DATA_DIR", REPO.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=data_dir / "en_ewt" / "en_ewt-ud-dev.conllu")
    parser.add_argument("--tokens", type=int, default=25000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--impl", choices=["all", "package", "spacy"], default="all")
    parser.add_argument("--bench-python", default=str(REPO / ".venv-bench" / "bin" / "python"))
    args = parser.parse_args()
    sentences = read_sentences(args.data, args.tokens)
    if args.impl == "spacy":
        print(json.dumps(run_spacy(sentences, args.repeats)))
        return
    results = run_package_venv(sentences, args.repeats)
    if args.impl == "all":
        command = [args.bench_python, __file__, "--impl", "spacy", "--data", str(args.data),
                   "--tokens", str(args.tokens), "--repeats", str(args.repeats)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results += json.loads(output.strip().splitlines()[-1])
    if args.impl == "package":
        print(json.dumps(results))
        return
    n_tokens = results[0]["tokens"]
    print(f"Tok2Vec forward+backward on {n_tokens} tokens ({args.data.name}), tokens/s, best (median) of "
          f"{args.repeats}")
    print(f"{'impl':14s} {'train best':>11s} {'(median)':>9s} {'predict best':>13s} {'(median)':>9s}")
    for row in results:
        print(f"{row['impl']:14s} {row['train_best']:11,.0f} {row['train_median']:9,.0f} "
              f"{row['predict_best']:13,.0f} {row['predict_median']:9,.0f}")


if __name__ == "__main__":
    main()
