"""Interleaved A/B of the tokenizer against spaCy's, for a shared, noisy machine.

    python benchmarks/ab_tokenizer.py --conllu en_ewt-ud-dev.conllu [--rounds 15] [--baseline-root DIR]
    python benchmarks/ab_tokenizer.py --texts texts.json (a JSON list of strings) ...

The texts are the `# text` of every sentence of --conllu (as in `make bench`), or --texts.

One worker process per system stays up for the whole run (so imports and first construction
are outside the timings). Each round times `--passes` cold passes of each system, then as many
warm passes, alternating the systems pass by pass (which goes first alternates by round): a
cold pass builds a fresh blank English pipeline (untimed) and times `make_doc` over every
text; a warm pass times the same again on the pipeline the last cold pass warmed. A round
keeps each system's best cold and best warm pass. The clock is the workers' CPU time by
default (time.process_time: time spent waiting for a core on a shared machine does not
count; --clock seconds for wall time). The report is the median (and spread) of the
per-round ratios ours/other in tokens per second: the two systems of a round run back to
back, so load drifting on the machine cancels out of the ratio far better than out of
single timings taken minutes apart. --baseline-root compares with another checkout of
transfer_cli instead of spaCy (to see a change's own effect).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
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
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--texts", help="JSON list of texts")
    source.add_argument("--conllu", help="CoNLL-U file: the `# text` of every sentence")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--passes", type=int, default=3, help="cold and warm passes per round (best kept)")
    parser.add_argument("--clock", choices=["seconds", "cpu"], default="cpu",
                        help="wall time (seconds) or the process's CPU time (cpu: less sensitive to other load)")
    parser.add_argument("--ours-python", default=sys.executable)
    parser.add_argument("--spacy-python", default="/work/main/.venv-bench/bin/python")
    parser.add_argument("--baseline-root", help="compare with the transfer_cli under this folder (e.g. an "
                        "earlier commit's `git archive`) instead of spaCy")
    args = parser.parse_args()
    if args.conllu:
        with open(args.conllu, encoding="utf8") as f:
            texts = [line[len("# text = "):].rstrip("\n") for line in f if line.startswith("# text = ")]
        fd, args.texts = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w", encoding="utf8") as out:
            json.dump(texts, out, ensure_ascii=False)
    ours = Worker(args.ours_python, "ours", os.path.abspath(args.texts), root)
    if args.baseline_root:
        other = Worker(args.ours_python, "ours:" + os.path.abspath(args.baseline_root), os.path.abspath(args.texts),
                       root)
    else:
        other = Worker(args.spacy_python, "spacy", os.path.abspath(args.texts), root)
    ratios = {"cold": [], "warm": []}  # type: dict
    try:
        for r in range(args.rounds):
            pair = (ours, other) if r % 2 == 0 else (other, ours)
            cold = {w: 0.0 for w in pair}
            warm = {w: 0.0 for w in pair}
            for _ in range(args.passes):  # one pass each, back to back, best kept
                for w in pair:
                    cold[w] = max(cold[w], w.tokens_per_second("cold", args.clock))
            for _ in range(args.passes):
                for w in pair:
                    warm[w] = max(warm[w], w.tokens_per_second("warm", args.clock))
            speeds = {w: (cold[w], warm[w]) for w in pair}
            ratios["cold"].append(speeds[ours][0] / speeds[other][0])
            ratios["warm"].append(speeds[ours][1] / speeds[other][1])
            print(f"round {r + 1}: cold {ratios['cold'][-1]:.3f}x  warm {ratios['warm'][-1]:.3f}x "
                  f"(ours warm {speeds[ours][1]:,.0f} tok/s)", flush=True)
    finally:
        ours.close()
        other.close()
        if args.conllu:
            os.unlink(args.texts)
    for kind, values in ratios.items():
        q = sorted(values)
        print(f"{kind}: median {statistics.median(values):.3f}x  (min {q[0]:.3f}, max {q[-1]:.3f}, "
              f"n={len(values)})")


if __name__ == "__main__":
    main()
