"""Applying a pipeline to files (the engine of `apply`): read texts or docs lazily,
annotate in batches (in one process or several, in input order either way), write
.spacy or JSONL atomically."""
import json
from pathlib import Path
from typing import Any, Dict, Iterator, List, Union

import tqdm

from .errors import DataError, PathError
from .fileio import atomic_file, check_output_file
from .pipeline.build import load
from .textfiles import iter_lines, parse_json_line
from .tokens import Doc
from .tokens.docbin import DocBin
from .tokens.docbin_writer import DocBinWriter

INPUT_SUFFIXES = (".txt", ".jsonl", ".spacy")


def input_files(path: Path) -> List[Path]:
    if not path.exists():
        raise PathError("input path does not exist", path=str(path))
    if path.is_file():
        if path.suffix not in INPUT_SUFFIXES:  # e.g. a .conllu corpus would be read as raw text, line by line
            raise DataError(f"cannot apply a pipeline to a '{path.suffix}' file: expected raw text (.txt), JSONL "
                            f"(.jsonl) or docs (.spacy; `transfer-cli convert` makes one of a corpus)",
                            path=str(path))
        return [path]
    files = sorted(p for p in path.rglob("*") if p.suffix in INPUT_SUFFIXES and p.is_file())
    if not files:
        raise DataError(f"no input files ({', '.join(INPUT_SUFFIXES)}) in this directory", path=str(path))
    return files


def read_inputs(nlp, path: Path, text_key: str) -> Iterator[Union[str, Doc]]:
    for file_path in input_files(path):
        if file_path.suffix == ".spacy":
            for doc in DocBin().from_disk(file_path).get_docs(nlp.vocab):
                yield doc.blank_copy()
        elif file_path.suffix == ".jsonl":
            for line_no, line in iter_lines(file_path):
                if not line.strip():
                    continue
                record = parse_json_line(line, path=file_path, line_no=line_no)
                if not isinstance(record, dict) or not isinstance(record.get(text_key), str):
                    raise DataError(f'expected a JSON object with a "{text_key}" string',
                                    path=str(file_path), line=line_no)
                yield _within_max_length(nlp, record[text_key], file_path, line_no)
        else:
            for line_no, line in iter_lines(file_path):
                if line.strip():
                    yield _within_max_length(nlp, line, file_path, line_no)


def _within_max_length(nlp, text: str, path: Path, line_no: int) -> str:
    """The text, or a DataError naming its line when it is longer than nlp.max_length
    (the pipeline would refuse it too, without saying where it came from)."""
    max_length = getattr(nlp, "max_length", None)
    if max_length is not None and len(text) > max_length:
        raise DataError(f"a text of {len(text):,} characters is longer than nlp.max_length ({max_length:,}): "
                        "split it into smaller texts (one per line)", path=str(path), line=line_no)
    return text


def doc_to_json(doc: Doc) -> Dict[str, Any]:
    """A JSON-friendly view of the annotation a pipeline sets."""
    tokens = []
    for token in doc:
        entry: Dict[str, Any] = {"text": token.text, "start": token.idx, "end": token.idx + len(token.text)}
        for attr in ("tag_", "pos_", "lemma_", "dep_"):
            value = getattr(token, attr)
            if value:
                entry[attr.rstrip("_")] = value
        if token.morph:
            entry["morph"] = token.morph
        tokens.append(entry)
    record: Dict[str, Any] = {"text": doc.text, "tokens": tokens}
    if doc.has_annotation("ENT_IOB"):
        record["ents"] = [{"start": e.start_char, "end": e.end_char, "label": e.label_} for e in doc.ents]
    if doc.has_sentence_boundaries:
        record["sents"] = [{"start": s.start_char, "end": s.end_char} for s in doc.sents]
    if doc.cats:
        record["cats"] = doc.cats
    return record


def annotate_files(model_path: Union[str, Path], input_path: Union[str, Path], output_path: Union[str, Path], *,
                   text_key: str = "text", batch_size: int = 64, n_process: int = 1, progress: bool = True,
                   force: bool = False) -> int:
    """Annotate every input text into `output_path` (.spacy or .jsonl), written atomically.
    The output may not be the model or an input, nor lie inside an input directory (a
    later run would read it back); an existing output is replaced only with `force`.
    `n_process` > 1 annotates in that many processes (nlp.pipe's n_process): the output
    is the same, byte for byte."""
    output_path = Path(output_path)
    if output_path.suffix not in (".spacy", ".jsonl"):
        raise PathError("the output file must end in .spacy or .jsonl", path=str(output_path))
    check_output_file(output_path, inputs=[input_path, model_path], force=force)
    nlp = load(model_path)
    inputs = read_inputs(nlp, Path(input_path), text_key)
    docs = nlp.pipe(inputs, batch_size=batch_size, n_process=n_process)
    docs = tqdm.tqdm(docs, disable=None if progress else True, desc="annotating", unit="doc", leave=False)
    count = 0
    with atomic_file(output_path, binary=output_path.suffix == ".spacy") as f:
        if output_path.suffix == ".spacy":
            # spilled beside the output (not in a RAM-backed /tmp) and streamed: memory stays flat
            with DocBinWriter(store_user_data=False, spill_dir=output_path.parent) as writer:
                for doc in docs:
                    writer.add(doc)
                    count += 1
                if count:
                    writer.write(f)
        else:
            for doc in docs:
                f.write(json.dumps(doc_to_json(doc), ensure_ascii=False) + "\n")
                count += 1
        if count == 0:
            raise DataError("the input holds no texts to annotate", path=str(input_path))
    return count
