"""Peak memory of one `convert` or `apply` command: run it as a child process and read the
child's own peak RSS (ru_maxrss from os.wait4, so nothing of this process counts).

    python memory_convert_apply.py --system spacy|transfer-cli --command convert --input texts.jsonl --output DIR
    python memory_convert_apply.py --system spacy|transfer-cli --command apply --model DIR --input texts.jsonl \
        --output out.spacy

convert: JSONL of raw texts → OUTPUT/<stem>.spacy (ours tokenizes with --lang en; spaCy's
`convert` has no JSONL reader, so it reports not available). apply: the model over the JSONL,
written to a .spacy file. Also reports the wall time and the size of what was written.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import emit, not_available


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["spacy", "transfer-cli"], required=True)
    parser.add_argument("--command", choices=["convert", "apply"], required=True)
    parser.add_argument("--input", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--model")
    args = parser.parse_args()
    module = "spacy" if args.system == "spacy" else "transfer_cli"
    if args.command == "convert":
        if args.system == "spacy":
            not_available("spacy convert has no reader for JSONL raw text")
        shutil.rmtree(args.output, ignore_errors=True)
        cmd = [sys.executable, "-m", module, "convert", str(args.input), str(args.output), "--lang", "en"]
        written = args.output / f"{args.input.stem}.spacy"
    else:
        if not args.model:
            parser.error("apply needs --model")
        if args.output.exists():
            args.output.unlink()
        cmd = [sys.executable, "-m", module, "apply", args.model, str(args.input), str(args.output)]
        if args.system == "transfer-cli":
            cmd.append("--quiet")
        written = args.output
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # wait4 returns this child's own rusage: its peak RSS alone
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    stderr = child.stderr.read().decode("utf8", errors="replace") if child.stderr else ""
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.stderr.write(stderr[-2000:])
        raise SystemExit(f"{' '.join(cmd)} exited with {child.returncode}")
    emit({
        "command_peak_rss_mb": round(usage.ru_maxrss / 1024.0, 1),
        "seconds": round(seconds, 2),
        "input_mb": round(args.input.stat().st_size / 1e6, 2),
        "output_mb": round(written.stat().st_size / 1e6, 2),
    })


if __name__ == "__main__":
    main()
