"""Interleaved A/B of the tokenizer against spaCy's, for a shared, noisy machine.

    python benchmarks/ab_tokenizer.py --texts texts.json [--rounds 15] [--spacy-python PY] [--ours-python PY]

One worker process per system stays up for the whole run (so imports and first construction
are outside the timings). Each round asks both workers, in alternating order, for one cold
pass each and then `--warm-passes` warm passes each, alternating pass by pass: "cold" builds a fresh blank English pipeline (untimed) and times one `make_doc` pass
over every text; "warm" times one more pass on the pipeline the cold pass warmed (the best
warm pass of each system in a round counts). The
clock is the workers' CPU time by default (time.process_time: time spent waiting for a core on
a shared machine does not count; --clock seconds for wall time). The report is the median (and spread) of the per-round ratios ours/spaCy in tokens per second:
the two systems of a round run back to back, so load drifting on the machine cancels out of
the ratio far better than out of single timings taken minutes apart.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import List

WORKER = r"""
import json, sys, time
system, texts_path = sys.argv[1], sys.argv[2]
texts = json.load(open(texts_path, encoding="utf8"))
if system == "spacy":
    import spacy
    blank = lambda: spacy.blank("en").make_doc
else:
    if system != "ours":  # "ours:ROOT": the transfer_cli under ROOT (an earlier checkout)
        sys.path.insert(0, system.split(":", 1)[1])
    import transfer_cli
    blank = lambda: transfer_cli.blank("en").make_doc
make_doc = blank()
for line in sys.stdin:
    command = line.strip()
    if command == "cold":
        make_doc = blank()
    start, cpu_start = time.perf_counter(), time.process_time()
    docs = [make_doc(text) for text in texts]
    cpu, seconds = time.process_time() - cpu_start, time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "cpu": cpu, "tokens": sum(len(d) for d in docs)}), flush=True)
"""


class Worker:
    def __init__(self, python: str, system: str, texts: str, cwd: str) -> None:
        self.proc = subprocess.Popen([python, "-c", WORKER, system, texts], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, cwd=cwd)

    def tokens_per_second(self, command: str, clock: str) -> float:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        return reply["tokens"] / reply[clock]

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait()


def main() -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", required=True)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warm-passes", type=int, default=3, help="warm passes per round (best kept)")
    parser.add_argument("--clock", choices=["seconds", "cpu"], default="cpu",
                        help="wall time (seconds) or the process's CPU time (cpu: less sensitive to other load)")
    parser.add_argument("--ours-python", default=sys.executable)
    parser.add_argument("--spacy-python", default="/work/main/.venv-bench/bin/python")
    parser.add_argument("--baseline-root", help="compare with the transfer_cli under this folder (e.g. an "
                        "earlier commit's `git archive`) instead of spaCy")
    args = parser.parse_args()
    ours = Worker(args.ours_python, "ours", os.path.abspath(args.texts), root)
    if args.baseline_root:
        spacy = Worker(args.ours_python, "ours:" + os.path.abspath(args.baseline_root), os.path.abspath(args.texts),
                       root)
    else:
        spacy = Worker(args.spacy_python, "spacy", os.path.abspath(args.texts), root)
    ratios = {"cold": [], "warm": []}  # type: dict
    try:
        for r in range(args.rounds):
            pair = (ours, spacy) if r % 2 == 0 else (spacy, ours)
            cold = {w: w.tokens_per_second("cold", args.clock) for w in pair}
            warm = {w: 0.0 for w in pair}
            for _ in range(args.warm_passes):  # one pass each, back to back, best kept
                for w in pair:
                    warm[w] = max(warm[w], w.tokens_per_second("warm", args.clock))
            speeds = {w: (cold[w], warm[w]) for w in pair}
            ratios["cold"].append(speeds[ours][0] / speeds[spacy][0])
            ratios["warm"].append(speeds[ours][1] / speeds[spacy][1])
            print(f"round {r + 1}: cold {ratios['cold'][-1]:.3f}x  warm {ratios['warm'][-1]:.3f}x "
                  f"(ours warm {speeds[ours][1]:,.0f} tok/s)", flush=True)
    finally:
        ours.close()
        spacy.close()
    for kind, values in ratios.items():
        q = sorted(values)
        print(f"{kind}: median {statistics.median(values):.3f}x  (min {q[0]:.3f}, max {q[-1]:.3f}, "
              f"n={len(values)})")


if __name__ == "__main__":
    main()
