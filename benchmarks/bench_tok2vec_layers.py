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

runs ours+thinc in one process and spacy in .venv-bench/bin/python (--impl spacy),
alternating the two processes for --rounds rounds, then prints one table. Figures are
tokens/second over the whole batch (forward+backward, and forward only): best and
median of all passes; CPU, default BLAS threading unless --blas-threads is given.
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
    """A closure that times one forward+backward ("train") and one forward-only
    ("predict") pass, in wall-clock and in process CPU seconds. CPU time is the figure
    to compare on a busy machine with --blas-threads 1: waiting for a core does not
    count, and no thread spins."""
    import numpy

    def run() -> Dict[str, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        outputs, backprop = model.begin_update(docs)
        backprop([numpy.ones_like(y) for y in outputs])
        train_wall, train_cpu = time.perf_counter() - wall, time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        model.predict(docs)
        predict_wall, predict_cpu = time.perf_counter() - wall, time.process_time() - cpu
        return {"train": n_tokens / train_wall, "predict": n_tokens / predict_wall,
                "train_cpu": n_tokens / train_cpu, "predict_cpu": n_tokens / predict_cpu}

    return run


def summarize(name: str, runs: List[Dict[str, float]], n_tokens: int) -> Dict:
    result = {"impl": name, "tokens": n_tokens, "runs": len(runs)}
    for key in ("train", "predict", "train_cpu", "predict_cpu"):
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


def run_package_venv(sentences: List[List[str]], repeats: int) -> Dict[str, List[Dict[str, float]]]:
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
    return {name: [dict(run, tokens=n_tokens) for run in runs[name]] for name in models}


# -- spaCy (the benchmark venv) ----------------------------------------------------------------
def run_spacy(sentences: List[List[str]], repeats: int) -> Dict[str, List[Dict[str, float]]]:
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
    return {f"spacy {spacy.__version__}": [dict(runner(), tokens=n_tokens) for _ in range(repeats)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir = Path(os.environ.get("DATA_DIR", REPO.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=data_dir / "en_ewt" / "en_ewt-ud-dev.conllu")
    parser.add_argument("--tokens", type=int, default=25000)
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per model and round")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds alternating the package and spaCy processes (load elsewhere hits both)")
    parser.add_argument("--impl", choices=["all", "package", "spacy"], default="all")
    parser.add_argument("--bench-python", default=str(REPO / ".venv-bench" / "bin" / "python"))
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="cap the BLAS thread pools (set before numpy loads; the worker processes inherit it)")
    args = parser.parse_args()
    if args.blas_threads is not None:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
            os.environ[var] = str(args.blas_threads)
    if args.impl != "all":  # a worker: print the raw runs as one JSON line
        sentences = read_sentences(args.data, args.tokens)
        worker = run_spacy if args.impl == "spacy" else run_package_venv
        print(json.dumps(worker(sentences, args.repeats)))
        return
    runs: Dict[str, List[Dict[str, float]]] = {}
    for _ in range(args.rounds):
        for impl, python in (("package", sys.executable), ("spacy", args.bench_python)):
            command = [python, str(Path(__file__).resolve()), "--impl", impl, "--data", str(args.data),
                       "--tokens", str(args.tokens), "--repeats", str(args.repeats)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            for name, impl_runs in json.loads(output.strip().splitlines()[-1]).items():
                runs.setdefault(name, []).extend(impl_runs)
    results = [summarize(name, impl_runs, impl_runs[0]["tokens"]) for name, impl_runs in runs.items()]
    threads = args.blas_threads if args.blas_threads is not None else "default"
    print(f"Tok2Vec on {results[0]['tokens']} tokens ({args.data.name}), tokens/s, best and median of "
          f"{results[0]['runs']} passes; BLAS threads: {threads}")
    print(f"{'':14s} {'wall clock':^35s}   {'per CPU second':^35s}")
    print(f"{'impl':14s} {'fwd+bwd best':>13s} {'median':>7s} {'fwd best':>8s} {'median':>7s}   "
          f"{'fwd+bwd best':>13s} {'median':>7s} {'fwd best':>8s} {'median':>7s}")
    for row in results:
        print(f"{row['impl']:14s} " + " ".join(f"{row[key]:{width},.0f}" for key, width in (
            ("train_best", 13), ("train_median", 7), ("predict_best", 8), ("predict_median", 7))) + "   "
            + " ".join(f"{row[key]:{width},.0f}" for key, width in (
                ("train_cpu_best", 13), ("train_cpu_median", 7), ("predict_cpu_best", 8),
                ("predict_cpu_median", 7))))


if __name__ == "__main__":
    main()
