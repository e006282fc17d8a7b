"""Corpora (CoNLL-U, CoNLL-2003/IOB, JSONL) to `.spacy` files: the engine of
`transfer-cli convert`. Every output appears at the end, or none on error."""
import os
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from ..config.names import check_lang_code
from ..errors import DataError, PathError, UserError
from ..fileio import check_output_file, scratch_dir
from ..lang import create_tokenizer
from ..tokens.doc import Doc
from ..tokens.docbin_writer import DocBinWriter
from ..tokens.vocab import Vocab
from .readers import DocReader, input_files, resolve_converter


def run_convert(input_path: Path, output_dir: Path, *, converter: str = "auto", n_sents: int = 1,
                lang: str = "en", force: bool = False) -> List[Tuple[Path, Dict, List[str]]]:
    """Convert every input file; all outputs appear together at the end, or none on
    error (no file, and no new folder). An existing output file is an error unless `force`."""
    converter = resolve_converter(converter)
    check_lang_code(lang)  # even when no raw text needs the tokenizer: a typo is an error, not a fallback
    if n_sents < 0:
        raise UserError(f"-n must be 0 (no limit) or more, not {n_sents}")
    input_path, output_dir = Path(input_path), Path(output_dir)
    files = input_files(input_path)
    stems: Dict[str, Path] = {}
    for path in files:
        if path.stem in stems:
            raise UserError(f"{stems[path.stem]} and {path} would both be written to {path.stem}.spacy")
        stems[path.stem] = path
    if output_dir.exists() and not output_dir.is_dir():
        raise PathError(f"output path {output_dir} exists and is not a directory")
    if input_path.is_dir() and output_dir.resolve() == input_path.resolve():
        raise PathError("the output folder is the input folder, so the next run would read the .spacy files as "
                        "input: write them to another folder", path=str(output_dir))
    for path in files:
        check_output_file(output_dir / f"{path.stem}.spacy", inputs=[path], force=force)
    vocab = Vocab()
    make_doc = _lazy_tokenizer(lang, vocab)
    results = []
    # stage in a hidden folder beside the first output: it creates OUTPUT_DIR if needed,
    # and on error removes what it created, so a failed run leaves nothing
    with scratch_dir(output_dir / f"{files[0].stem}.spacy") as staging:
        for path in files:
            reader = DocReader(path, converter, vocab, n_sents=n_sents, make_doc=make_doc)
            stats = {"input": str(path), "docs": 0, "sentences": 0, "tokens": 0, "entities": 0}
            tmp_path = staging / f"{path.stem}.spacy"
            # docs stream through the writer's spill files: memory stays flat as the input grows
            with DocBinWriter(spill_dir=staging) as writer:
                for doc in reader:
                    writer.add(doc)
                    _count(doc, stats)
                if not stats["docs"]:
                    raise DataError("no documents found (the input is empty)", path=str(path))
                _write_docbin(writer, tmp_path)
            results.append((output_dir / tmp_path.name, stats, list(reader.warnings), tmp_path))
        for out_path, _, _, tmp_path in results:
            check_output_file(out_path, force=force)  # appeared while converting?
        for out_path, _, _, tmp_path in results:
            try:
                os.replace(tmp_path, out_path)
            except OSError as e:
                raise PathError(f"cannot write here: {e.strerror}", path=str(out_path)) from None
    return [(out_path, stats, warnings) for out_path, stats, warnings, _ in results]


def _write_docbin(writer: DocBinWriter, path: Path) -> None:
    try:
        with path.open("xb") as out:
            writer.write(out)
    except OSError as e:  # e.g. disk full
        raise PathError(f"cannot write here: {e.strerror}", path=str(path)) from None


def _count(doc: Doc, stats: Dict) -> None:
    stats["docs"] += 1
    stats["tokens"] += len(doc)
    stats["entities"] += len(doc.ents)
    if len(doc) and doc.has_sentence_boundaries:
        stats["sentences"] += int(doc.sentence_starts().sum())


def _lazy_tokenizer(lang: str, vocab: Vocab) -> Callable[[str], Doc]:
    """A make_doc that loads the language's tokenizer on first use (only raw text needs it)."""
    loaded: List[Optional[Callable[[str], Doc]]] = [None]

    def make_doc(text: str) -> Doc:
        if loaded[0] is None:
            loaded[0] = load_make_doc(lang, vocab)
        return loaded[0](text)

    return make_doc


def load_make_doc(lang: str, vocab: Vocab) -> Callable[[str], Doc]:
    """The rule-based tokenizer of `lang` (UserError for a code that is not a language)."""
    return create_tokenizer(lang, vocab)
