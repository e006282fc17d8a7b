"""`.spacy` (DocBin) files → Docs."""
from pathlib import Path
from typing import Iterator, List, Optional, Union

from ...tokens.doc import Doc
from ...tokens.docbin import DocBin
from ...tokens.vocab import Vocab


def read_spacy(path: Union[str, Path], vocab: Vocab, *, n_sents: int = 1,
               warnings: Optional[List[str]] = None) -> Iterator[Doc]:
    """Yield the file's Docs as stored (n_sents does not regroup them)."""
    yield from DocBin().from_disk(path).get_docs(vocab)
