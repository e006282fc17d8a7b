"""Start-up time of commands that need no trained pipeline: each run is a fresh process.

    python startup.py --system spacy|transfer-cli --work-dir DIR --repeats 5

Times (wall clock, time.perf_counter around the whole process) `<cli> --help`,
`<cli> init config OUT -p tagger`, `<cli> init fill-config OUT OUT2` and `<cli> debug config OUT3`
(OUT2 with the corpus paths set) in spaCy's spellings, which transfer-cli accepts too, run as `python -m spacy` / `python -m transfer_cli` with this
interpreter; the best of --repeats runs of each is reported. The CPU seconds (user + system)
of the same runs are reported too (`*_cpu_seconds`, best of the runs): on a loaded machine
they say more than the wall time.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Tuple

from _common import emit

MODULES = {"spacy": "spacy", "transfer-cli": "transfer_cli"}


def best_of(repeats: int, args: List[str]) -> Tuple[float, float]:
    """The best wall and the best CPU (user + system) seconds of `repeats` runs."""
    times, cpu = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr[-400:]}")
    return min(times), min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=sorted(MODULES), required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cli = [sys.executable, "-m", MODULES[args.system]]
    work = Path(args.work_dir) / f"startup_{args.system}"
    work.mkdir(parents=True, exist_ok=True)
    config, filled = work / "config.cfg", work / "filled.cfg"
    config.unlink(missing_ok=True)
    help_s = best_of(args.repeats, [*cli, "--help"])
    # init config refuses to replace its output (both systems): first run writes, then --force
    first = best_of(1, [*cli, "init", "config", str(config), "-p", "tagger"])
    rest = best_of(args.repeats - 1, [*cli, "init", "config", str(config), "-p", "tagger", "--force"])
    init_s = (min(first[0], rest[0]), min(first[1], rest[1]))
    fill_args = [*cli, "init", "fill-config", str(config), str(filled)]
    fill_s = best_of(args.repeats, fill_args + (["--force"] if args.system == "transfer-cli" else []))
    # spaCy's debug config needs the corpus paths set (not the files); set in the file, as
    # overrides would take transfer-cli's config commands off the registry snapshot
    checked = work / "checked.cfg"
    checked.write_text(filled.read_text(encoding="utf8").replace("\ntrain = null\n", '\ntrain = "train.spacy"\n', 1)
                       .replace("\ndev = null\n", '\ndev = "dev.spacy"\n', 1), encoding="utf8")
    debug_s = best_of(args.repeats, [*cli, "debug", "config", str(checked)])
    emit({"help_seconds": help_s[0], "init_config_seconds": init_s[0], "fill_config_seconds": fill_s[0],
          "debug_config_seconds": debug_s[0],
          "help_cpu_seconds": help_s[1], "init_config_cpu_seconds": init_s[1], "fill_config_cpu_seconds": fill_s[1],
          "debug_config_cpu_seconds": debug_s[1], "repeats": args.repeats})


if __name__ == "__main__":
    main()
