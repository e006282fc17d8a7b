"""Benchmark harness: run the same work through transfer-cli and spaCy, collect rows, write results.

    python benchmarks/harness.py --data-dir ../shared/data \
        --ours-python .venv/bin/python --spacy-python .venv-bench/bin/python [--only TASK ...]

`make bench` calls this through benchmarks/run.sh. Standard library only, so it runs under any
Python; the work itself runs in measurement scripts (benchmarks/measure/), one fresh subprocess
per system and measurement, under that system's interpreter (spaCy lives only in .venv-bench).
Each subprocess times its work with time.perf_counter and reports its peak RSS
(getrusage ru_maxrss). The environment (OPENBLAS_*, OMP_* and the rest) is passed on unchanged.

A task is a module in benchmarks/tasks/ with TITLE, DESCRIPTION and `run(ctx) -> List[Row]`;
list it in TASKS. A task that raises gets an error row and the others still run; a system whose
code is not importable yet reports "not available" instead of a figure.

Results go to benchmarks/results.json (rows of every task; `--only` replaces just those tasks)
and are rendered to benchmarks/RESULTS.md: one table per task with both systems' figures and
their ratio, plus the machine, date and command.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib
import json
import os
import platform
import signal
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
MEASURE_DIR = BENCH_DIR / "measure"
RESULTS_JSON = BENCH_DIR / "results.json"
RESULTS_MD = BENCH_DIR / "RESULTS.md"
MARKER = "BENCH_RESULT "
OURS, SPACY = "transfer-cli", "spacy"
# Task modules under benchmarks/tasks/, in report order.
TASKS = ["startup", "tokenizer", "tokenizer_long_inputs", "docbin_read", "tagger_ewt", "apply_processes",
         "train_parallel", "ner_conll", "vectors", "textcat_sst2", "senter_ewt", "pretrain_tagger", "transformer_ewt",
         "transformer_ewt_full", "transformer_ner", "transformer_optimes", "memory_convert_apply"]
SIDES = (("transfer_cli", "transfer-cli"), ("spacy", "spaCy"))
ENV_KEYS = ("OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

Value = Union[float, int, str, None]


class MeasurementError(RuntimeError):
    """A measurement subprocess failed (its stderr tail is in the message)."""


@dataclasses.dataclass
class NotAvailable:
    """A system could not run a measurement because its code is not there yet."""

    reason: str

    def __str__(self) -> str:
        return "not available"


class Failed(NotAvailable):
    """A system's measurement crashed; the other system's figures are still reported."""

    def __str__(self) -> str:
        return "error"


@dataclasses.dataclass
class Row:
    """One line of a task's table. A value is a number, NotAvailable, a string or None (n/a).

    higher_is_better decides nothing numeric; it is shown so a reader knows which way a ratio
    is good. ratio is transfer-cli / spaCy when both values are numbers (or given explicitly)."""

    metric: str
    ours: Any
    spacy: Any
    fmt: str = "{:,.0f}"
    higher_is_better: Optional[bool] = True
    notes: str = ""
    ratio: Optional[float] = None
    error: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        ratio = self.ratio
        if ratio is None and _is_number(self.ours) and _is_number(self.spacy) and self.spacy:
            ratio = self.ours / self.spacy
        return {
            "metric": self.metric,
            "transfer_cli": _json_value(self.ours),
            "spacy": _json_value(self.spacy),
            "ratio": ratio,
            "display": {"transfer_cli": _show(self.ours, self.fmt), "spacy": _show(self.spacy, self.fmt),
                        "ratio": "" if ratio is None else f"{ratio:.2f}x"},
            "higher_is_better": self.higher_is_better,
            "notes": self.notes,
            "error": self.error,
        }


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _json_value(value: Any) -> Value:
    if isinstance(value, Failed):
        return f"error: {value.reason}"
    if isinstance(value, NotAvailable):
        return f"not available: {value.reason}"
    return value


def _show(value: Any, fmt: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, NotAvailable):
        return str(value)
    if _is_number(value):
        return fmt.format(value)
    return str(value)


class Context:
    """What a task needs: data, a scratch folder, and a way to measure each system."""

    def __init__(self, data_dir: Path, work_dir: Path, pythons: Dict[str, str], repeats: int,
                 timeout: float = 1800.0) -> None:
        self.data_dir = data_dir
        self.work_dir = work_dir
        self.pythons = pythons
        self.repeats = repeats
        self.timeout = timeout
        work_dir.mkdir(parents=True, exist_ok=True)

    def measure(self, system: str, script: str, args: Sequence[str]) -> Union[Dict[str, Any], NotAvailable]:
        """Run benchmarks/measure/<script> under the system's Python in a fresh process.

        A crash is returned as Failed (not raised) so the other system's figures still count."""
        cmd = [self.pythons[system], str(MEASURE_DIR / script), "--system", system, *map(str, args)]
        try:
            return run_measurement(cmd, timeout=self.timeout)
        except MeasurementError as e:
            print(f"[bench] {system}: {e}", file=sys.stderr)
            return Failed(str(e))

    def compare(self, script: str, args_for: Callable[[str], Sequence[Any]], maximize: Sequence[str],
                rounds: int = 2) -> Dict[str, Union[Dict[str, Any], NotAvailable]]:
        """Measure both systems, alternating spaCy and transfer-cli for `rounds` rounds (the load of
        a shared machine drifts; alternating keeps the drift from favouring either system). Each
        system keeps its run with the highest maximize[0]; every key in maximize takes its best
        value over the rounds."""
        runs: Dict[str, List[Dict[str, Any]]] = {SPACY: [], OURS: []}
        missing: Dict[str, NotAvailable] = {}
        for _ in range(rounds):
            for system in (SPACY, OURS):
                if system in missing:
                    continue
                result = self.measure(system, script, args_for(system))
                if isinstance(result, NotAvailable):
                    missing[system] = result
                else:
                    runs[system].append(result)
        best: Dict[str, Union[Dict[str, Any], NotAvailable]] = dict(missing)
        for system, results in runs.items():
            if system in missing or not results:
                continue
            chosen = dict(max(results, key=lambda r: r[maximize[0]]))
            for key in maximize[1:]:
                chosen[key] = max(r[key] for r in results)
            best[system] = chosen
        return best

    def spacy_cli(self, args: Sequence[str]) -> None:
        """Run `python -m spacy ...` in the benchmark venv (e.g. to convert a corpus)."""
        cmd = [self.pythons[SPACY], "-m", "spacy", *map(str, args)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout)
        if proc.returncode != 0:
            raise MeasurementError(f"{' '.join(cmd)} failed ({proc.returncode}): {_tail(proc.stderr + proc.stdout)}")


def run_measurement(cmd: Sequence[str], timeout: float) -> Union[Dict[str, Any], NotAvailable]:
    try:
        # its own session, so a timeout stops the commands a measurement started as well
        child = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 cwd=str(MEASURE_DIR), env=dict(os.environ), start_new_session=True)
    except OSError as e:
        raise MeasurementError(f"cannot run {cmd[0]}: {e}") from None
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise MeasurementError(f"timed out after {timeout:.0f}s (BENCH_TIMEOUT_S): {' '.join(cmd)}") from None
    proc = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        raise MeasurementError(f"{Path(cmd[1]).name} --system {cmd[3]} exited {proc.returncode}: "
                               f"{_tail(proc.stderr or proc.stdout)}")
    result = json.loads(lines[-1][len(MARKER):])
    if result.get("status") == "not_available":
        return NotAvailable(result.get("reason", ""))
    return result


def _tail(text: str, n: int = 400) -> str:
    text = " ".join(text.strip().splitlines()[-5:])
    return text[-n:]


# --------------------------------------------------------------------------- machine and rendering


def machine_info() -> Dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "arch": platform.machine(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "env": {k: os.environ[k] for k in ENV_KEYS if k in os.environ},
    }


def system_versions(pythons: Dict[str, str]) -> Dict[str, str]:
    probes = {
        OURS: "import sys, transfer_cli; print(transfer_cli.__version__, sys.version.split()[0])",
        SPACY: "import sys, spacy; print(spacy.__version__, sys.version.split()[0])",
    }
    versions = {}
    for system, code in probes.items():
        try:
            out = subprocess.run([pythons[system], "-c", code], capture_output=True, text=True, timeout=300)
            version, py = out.stdout.split()
            versions[system] = f"{version} (Python {py})"
        except (OSError, ValueError, subprocess.TimeoutExpired):
            versions[system] = "unknown"
    return versions


def render_markdown(results: Dict[str, Any]) -> str:
    m = results["machine"]
    versions = results.get("versions", {})
    env = ", ".join(f"{k}={v}" for k, v in m.get("env", {}).items()) or "none set"
    lines = [
        "# Benchmark results: transfer-cli vs spaCy",
        "",
        "Written by `benchmarks/harness.py` (run it with `make bench`); do not edit by hand.",
        "Each figure comes from a fresh process per system; speeds are the best of several passes",
        "(time.perf_counter), memory is the process's peak RSS (getrusage ru_maxrss), imports included.",
        "Ratio = transfer-cli / spaCy; the metric says whether higher or lower is better. The two",
        "systems' measurements alternate (spaCy, transfer-cli, spaCy, transfer-cli) so drifting machine",
        "load does not favour either; absolute figures still vary between runs, ratios less so.",
        "",
        f"- Date: {results['date']}",
        f"- Command: `{results['command']}`",
        f"- Machine: {m['arch']}, {m['cpu']}, {m['cores']} cores, {m['system']}",
        f"- Thread settings passed through: {env}",
        f"- transfer-cli {versions.get(OURS, 'unknown')}; spaCy {versions.get(SPACY, 'unknown')}",
        f"- Data: `{results['data_dir']}`",
        "",
    ]
    for name in results["task_order"]:
        task = results["tasks"].get(name)
        if not task:
            continue
        lines += [f"## {task['title']}", "", task["description"], ""]
        if task.get("run_at") and task["run_at"] != results["date"]:
            lines += [f"(rows from the run of {task['run_at']})", ""]
        if "env" in task:  # this task's own run: threads and settings may differ from the header's
            task_env = ", ".join(f"{k}={v}" for k, v in task["env"].items()) or "none set"
            lines += [f"Thread settings and BENCH_* variables of this task's run: {task_env}", ""]
        lines += ["| metric | transfer-cli | spaCy | ratio | notes |", "|---|---:|---:|---:|---|"]
        for row in task["rows"]:
            arrow = {True: " (higher is better)", False: " (lower is better)"}.get(row["higher_is_better"], "")
            notes = row["notes"]
            if row.get("error"):
                notes = f"**error**: {row['error']}"
            cells = [row["metric"] + arrow, row["display"]["transfer_cli"], row["display"]["spacy"],
                     row["display"]["ratio"], notes]
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
        reasons = sorted({f"{name}: {row[side]}" for row in task["rows"] for side, name in SIDES
                          if str(row[side]).startswith(("not available: ", "error: "))})
        if reasons:
            lines += [""] + [f"- {reason}" for reason in reasons]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- main


def task_env() -> Dict[str, str]:
    """The thread settings and BENCH_*/NER_BENCH_* overrides a task ran with."""
    return {k: v for k, v in sorted(os.environ.items())
            if k in ENV_KEYS or k.startswith(("BENCH_", "NER_BENCH_"))}


def run_task(name: str, ctx: Context) -> Dict[str, Any]:
    """Run one task; any failure becomes an error row so the other tasks still run."""
    sys.path.insert(0, str(BENCH_DIR))
    title, description = name, ""
    try:
        module = importlib.import_module(f"tasks.{name}")
        title, description = module.TITLE, module.DESCRIPTION
        rows: List[Row] = module.run(ctx)
    except Exception as e:  # noqa: BLE001 - one broken benchmark must not stop the rest
        detail = f"{type(e).__name__}: {e}"
        print(f"[bench] {name} failed: {detail}\n{traceback.format_exc()}", file=sys.stderr)
        rows = [Row(metric="(task failed)", ours=None, spacy=None, higher_is_better=None, error=detail)]
    return {"title": title, "description": description, "rows": [r.to_json() for r in rows]}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Run transfer-cli vs spaCy benchmarks and write RESULTS.md.")
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--ours-python", default=sys.executable)
    parser.add_argument("--spacy-python", default=str(REPO / ".venv-bench" / "bin" / "python"))
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work")
    parser.add_argument("--only", nargs="*", choices=TASKS, help="run these tasks, keep the others' rows")
    parser.add_argument("--repeats", type=int, default=5, help="passes per measurement (best is reported)")
    parser.add_argument("--command", default=None, help="the command line to record in RESULTS.md")
    args = parser.parse_args(argv)

    # Task modules `import harness`; make that this very module even when it runs as __main__.
    sys.modules.setdefault("harness", sys.modules[__name__])
    # Absolute (not resolved: a venv's python is a symlink that must stay one); measurements run
    # with their own working directory.
    pythons = {OURS: os.path.abspath(args.ours_python), SPACY: os.path.abspath(args.spacy_python)}
    ctx = Context(args.data_dir.resolve(), args.work_dir.resolve(), pythons, args.repeats,
                  timeout=float(os.environ.get("BENCH_TIMEOUT_S", "1800")))
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    previous: Dict[str, Any] = {}
    if args.only and RESULTS_JSON.exists():
        previous = json.loads(RESULTS_JSON.read_text(encoding="utf8")).get("tasks", {})
    tasks = dict(previous)
    for name in args.only or TASKS:
        print(f"[bench] {name} ...", file=sys.stderr)
        tasks[name] = {**run_task(name, ctx), "run_at": date, "env": task_env()}
    results = {
        "date": date,
        "command": args.command or " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "data_dir": str(args.data_dir),
        "machine": machine_info(),
        "versions": system_versions(pythons),
        "task_order": TASKS,
        "tasks": tasks,
    }
    RESULTS_JSON.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf8")
    RESULTS_MD.write_text(render_markdown(results), encoding="utf8")
    print(f"[bench] wrote {RESULTS_MD.relative_to(REPO)} and {RESULTS_JSON.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
