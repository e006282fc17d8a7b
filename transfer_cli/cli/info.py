"""`transfer-cli info [MODEL]`: the installed versions; with MODEL, a trained pipeline's
components, labels, vectors and sizes."""
import json
from pathlib import Path
from typing import Any, Dict, Optional

import typer
from wasabi import msg

from ._util import app, handle_errors

SHOWN_LABELS = 12  # more are counted, not listed (--json lists them all)


@app.command("info")
@handle_errors
def info_cli(
    model: Optional[Path] = typer.Argument(None, help="A trained pipeline directory (e.g. output/model-best)."),
    as_json: bool = typer.Option(False, "--json", help="Print everything as JSON (every label)."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Print transfer-cli's and its libraries' versions; with MODEL, the pipeline's components,
    labels, vectors and sizes (as spaCy's `spacy info MODEL`)."""
    from ..environment import environment_info  # reads every installed distribution's metadata

    info: Dict[str, Any] = {"environment": environment_info()}
    if model is not None:
        from ..pipeline.info import pipeline_info  # loads the pipeline's engine: not for versions alone

        info["pipeline"] = pipeline_info(model)
    if as_json:
        typer.echo(json.dumps(info, indent=2, ensure_ascii=False))
        return
    env = info["environment"]
    msg.info("transfer-cli")
    rows = [("transfer-cli", env["transfer_cli"]), ("Python", env["python"]), ("Platform", env["platform"]),
            ("Location", env["location"])]
    rows += [(name, version or "-") for name, version in env["libraries"].items()]
    rows.append(("Pipelines", ", ".join(f"{name} {version}" for name, version in env["pipelines"].items()) or "-"))
    msg.table(rows)
    if model is not None:
        _print_pipeline(info["pipeline"])


def _print_pipeline(p: Dict[str, Any]) -> None:
    msg.info(f"Pipeline {p['path']}")
    rows = [("Name", f"{p['lang']}_{p['name']}"), ("Version", p["version"]),
            ("Trained with", f"transfer-cli {p['trained_with']}"), ("Pipeline", ", ".join(p["pipeline"])),
            ("Size", _mb(p["bytes"]))]
    vectors = p["vectors"]
    rows.append(("Vectors", "none" if vectors is None else
                 f"{vectors['vectors']:,} rows × {vectors['width']} ({vectors['keys']:,} keys, by "
                 f"{vectors['attr']}, {vectors['mode']})"))
    for key, value in sorted(p["performance"].items()):
        if isinstance(value, (int, float)):
            rows.append((f"Score {key}", f"{value:.4f}" if isinstance(value, float) else str(value)))
    msg.table(rows)
    component_rows = []
    for c in p["components"]:
        labels = c["labels"]
        shown = "-" if labels is None else (", ".join(labels[:SHOWN_LABELS])
                                            + (f" … ({len(labels)} labels)" if len(labels) > SHOWN_LABELS else ""))
        component_rows.append((c["name"] + (" (disabled)" if c["disabled"] else ""), c["factory"], _mb(c["bytes"]),
                               shown))
    msg.table(component_rows, header=("component", "factory", "size", "labels"), divider=True)


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:,.1f} kB"
