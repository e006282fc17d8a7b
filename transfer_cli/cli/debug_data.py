"""`transfer-cli debug-data CONFIG` (spaCy's `debug data`): what the training and dev
corpora of a config hold and what the components would learn from them, ending with a
verdict; exit 1 only when training could not work (an empty corpus, a component with
nothing to learn, data the readers refuse)."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ._util import COMMAND_SETTINGS, app, handle_errors, import_code, parse_overrides


@app.command("debug-data", context_settings=COMMAND_SETTINGS)
@handle_errors
def debug_data_cli(
    ctx: typer.Context,
    config_path: str = typer.Argument(..., help="Config whose [corpora] to check (- reads stdin)."),
    code: Optional[Path] = typer.Option(None, "--code", "-c",
                                        help="Python file with registered functions to import first."),
    verbose: bool = typer.Option(False, "--verbose", help="List examples for each finding (and show tracebacks)."),
) -> None:
    """Report on the training and dev data a config names: sizes, labels per component,
    missing annotation, misaligned and overlapping entities, labels new in dev, unseen
    dev words and vectors coverage. Overrides: --paths.train PATH --paths.dev PATH ..."""
    from ..config import load_config
    from ..training.debug_data import analyze_data

    overrides = parse_overrides(ctx.args)
    import_code(code)
    report = analyze_data(load_config(config_path, overrides), config_path=config_path)
    render_report(report, verbose)
    if report.fatal:
        raise typer.Exit(1)


def render_report(report, verbose: bool) -> None:
    """The report as spaCy's debug data shows one: sections of ✔ / ⚠ / ✘ / ℹ lines."""
    show = {"good": msg.good, "warn": msg.warn, "fail": msg.fail, "info": msg.info}

    def emit(finding) -> None:
        show[finding.level](finding.text)
        if verbose:
            for example in finding.examples:
                typer.echo(f"  - {example}")

    msg.divider("Data file validation")
    for corpus in report.corpora.values():
        typer.echo(f"{corpus.name}: {corpus.path}")
    for finding in report.findings:
        emit(finding)
    for component in report.components:
        msg.divider(f"{component.name} ({component.factory})")
        train = component.labels.get("train", {})
        dev = component.labels.get("dev", {})
        if train or dev:
            labels = sorted(set(train) | set(dev), key=lambda label: (-train.get(label, 0), label))
            shown = labels if verbose else labels[:20]
            msg.table([(label, train.get(label, 0), dev.get(label, 0)) for label in shown],
                      header=("label", "train", "dev"), aligns=("l", "r", "r"))
            if len(shown) < len(labels):
                msg.text(f"... and {len(labels) - len(shown)} more labels (--verbose lists all)")
        for finding in component.findings:
            emit(finding)
    msg.divider("Summary")
    findings = report.all_findings
    counts = {level: sum(f.level == level for f in findings) for level in ("good", "warn", "fail")}
    summary = f"{counts['good']} checks passed, {counts['warn']} warnings, {counts['fail']} errors"
    if report.fatal:
        msg.fail(summary)
    elif counts["warn"]:
        msg.warn(summary)
    else:
        msg.good(summary)
