"""`transfer-cli convert`: CoNLL-U, CoNLL-2003/IOB and JSONL corpora → `.spacy` files."""
from pathlib import Path

import typer
from wasabi import msg

from ._util import app, handle_errors

MAX_WARNINGS_SHOWN = 5


@app.command("convert")
@handle_errors
def convert(
    input_path: Path = typer.Argument(..., help="Input file, or a directory of input files."),
    output_dir: Path = typer.Argument(..., help="Directory for the .spacy files (created if missing)."),
    converter: str = typer.Option("auto", "--converter", "-c",
                                  help="Input format: auto, conllu, iob, jsonl or spacy "
                                       "(auto: from extension/content)."),
    n_sents: int = typer.Option(1, "--n-sents", "-n",
                                help="Sentences per doc for CoNLL-U and IOB input (0: no limit)."),
    lang: str = typer.Option("en", "--lang", "-l", help="Language of the tokenizer for raw-text JSONL."),
    force: bool = typer.Option(False, "--force", "-F", help="Replace .spacy files that already exist in OUTPUT_DIR."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Convert CoNLL-U, CoNLL-2003/IOB or JSONL corpora into .spacy (DocBin) files: one
    OUTPUT_DIR/<input stem>.spacy per input file. An existing .spacy file is replaced only with --force."""
    from ..training.convert import run_convert  # the engine loads numpy and the readers: not for --help

    results = run_convert(input_path, output_dir, converter=converter, n_sents=n_sents, lang=lang, force=force)
    for out_path, stats, warnings in results:
        if warnings:
            msg.warn(f"{len(warnings)} entit{'y' if len(warnings) == 1 else 'ies'} in {stats['input']} could not "
                     f"be aligned to tokens and were dropped:")
            for line in warnings[:MAX_WARNINGS_SHOWN]:
                print(f"  {line}")
            if len(warnings) > MAX_WARNINGS_SHOWN:
                print(f"  ... and {len(warnings) - MAX_WARNINGS_SHOWN} more")
        msg.good(f"{out_path}: {stats['docs']} docs, {stats['sentences']} sentences, {stats['tokens']} tokens, "
                 f"{stats['entities']} entities")
