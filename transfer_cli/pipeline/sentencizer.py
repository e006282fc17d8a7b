"""The rule-based `sentencizer`: a sentence ends after a run of sentence-final
punctuation (`punct_chars`); the next token that is neither punctuation nor one of
those characters starts the next sentence, so closing quotes and brackets stay with
the sentence they close."""
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

import numpy

from ..config.factories import register_factory
from ..errors import ConfigError
from ..scoring import score_sents
from ..tokens import Doc
from ..tokens import attrs as A
from ..tokens.columns import COL, FLAGS
from ..tokens.strings import hash_string
from .component import Component

# The sentence-final punctuation of many scripts (the same list spaCy's sentencizer uses).
DEFAULT_PUNCT_CHARS: List[str] = [
    "!", ".", "?", "։", "؟", "۔", "܀", "܁", "܂", "߹", "।", "॥", "၊", "။", "።", "፧", "፨", "᙮", "᜵", "᜶", "᠃", "᠉",
    "᥄", "᥅", "᪨", "᪩", "᪪", "᪫", "᭚", "᭛", "᭞", "᭟", "᰻", "᰼", "᱾", "᱿", "‼", "‽", "⁇", "⁈", "⁉", "⸮", "⸼", "꓿",
    "꘎", "꘏", "꛳", "꛷", "꡶", "꡷", "꣎", "꣏", "꤯", "꧈", "꧉", "꩝", "꩞", "꩟", "꫰", "꫱", "꯫", "﹒", "﹖", "﹗", "！",
    "．", "？", "𐩖", "𐩗", "𑁇", "𑁈", "𑂾", "𑂿", "𑃀", "𑃁", "𑅁", "𑅂", "𑅃", "𑇅", "𑇆", "𑇍", "𑇞", "𑇟", "𑈸", "𑈹",
    "𑈻", "𑈼", "𑊩", "𑑋", "𑑌", "𑗂", "𑗃", "𑗉", "𑗊", "𑗋", "𑗌", "𑗍", "𑗎", "𑗏", "𑗐", "𑗑", "𑗒", "𑗓", "𑗔", "𑗕",
    "𑗖", "𑗗", "𑙁", "𑙂", "𑜼", "𑜽", "𑜾", "𑩂", "𑩃", "𑪛", "𑪜", "𑱁", "𑱂", "𖩮", "𖩯", "𖫵", "𖬷", "𖬸", "𖭄", "𛲟",
    "𝪈", "｡", "。",
]

_PUNCT_BIT = numpy.uint64(A.IS_PUNCT)
_ONE = numpy.uint64(1)
_CODES = numpy.array([-1, 1], dtype="int64").view("uint64")


class Sentencizer(Component):
    def __init__(self, name: str = "sentencizer", *, punct_chars: Optional[Sequence[str]] = None,
                 overwrite: bool = False, scorer: Optional[Callable] = None) -> None:
        self.name = name
        self.overwrite = overwrite
        self.scorer = scorer
        self.punct_chars = set(punct_chars) if punct_chars else set(DEFAULT_PUNCT_CHARS)

    @property
    def punct_chars(self) -> set:
        return self._punct_chars

    @punct_chars.setter
    def punct_chars(self, chars: Iterable[str]) -> None:
        chars = set(chars)
        if not all(isinstance(c, str) and c for c in chars):
            raise ConfigError("sentencizer: punct_chars must be a list of non-empty strings", key="punct_chars")
        self._punct_chars = chars
        self._punct_hashes = numpy.array(sorted(hash_string(c) for c in chars), dtype="uint64")

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128):
        for doc in docs:
            yield self(doc)

    def predict(self, docs: List[Doc]) -> List[numpy.ndarray]:
        """Per doc, a boolean array: True where a sentence starts."""
        return [self._starts(doc) for doc in docs]

    def _starts(self, doc: Doc) -> numpy.ndarray:
        n = len(doc)
        if not n:
            return numpy.zeros((0,), dtype=bool)
        is_final = numpy.isin(doc.cols[:, COL[A.ORTH]], self._punct_hashes)
        is_punct = ((doc.cols[:, COL[FLAGS]] >> _PUNCT_BIT) & _ONE).astype(bool)
        is_word = ~(is_punct | is_final)
        index = numpy.arange(n)
        # the last word before each token (-1: none) and the sentence-final marks since it
        last_word = numpy.maximum.accumulate(numpy.where(is_word, index, -1))
        previous_word = numpy.empty(n, dtype="int64")
        previous_word[0] = -1
        previous_word[1:] = last_word[:-1]
        finals = numpy.cumsum(is_final)
        finals_before = numpy.zeros(n, dtype="int64")
        finals_before[1:] = finals[:-1]
        finals_at_word = numpy.where(previous_word >= 0, finals[numpy.maximum(previous_word, 0)], 0)
        starts = is_word & (finals_before - finals_at_word > 0)
        starts[0] = True
        return starts

    def set_annotations(self, docs: List[Doc], starts: List[numpy.ndarray]) -> None:
        for doc, doc_starts in zip(docs, starts):
            if len(doc):
                doc.set_column(A.SENT_START, _CODES[numpy.asarray(doc_starts, dtype="int64")], overwrite=self.overwrite)

    def score(self, examples: Iterable, **kwargs) -> Dict[str, Any]:
        if self.scorer is not None:
            return self.scorer(examples, **kwargs)
        return score_sents(examples)

    def get_cfg(self) -> Dict[str, Any]:
        return {"punct_chars": sorted(self.punct_chars), "overwrite": self.overwrite}

    def set_cfg(self, cfg: Dict[str, Any]) -> None:
        if cfg.get("punct_chars"):
            self.punct_chars = cfg["punct_chars"]
        self.overwrite = bool(cfg.get("overwrite", self.overwrite))


@register_factory(
    "sentencizer",
    default_config={"punct_chars": None, "overwrite": False, "scorer": {"@scorers": "spacy.senter_scorer.v1"}},
    default_score_weights={"sents_f": 1.0, "sents_p": 0.0, "sents_r": 0.0},
    assigns=["token.is_sent_start", "doc.sents"],
)
def make_sentencizer(nlp, name: str, punct_chars: Optional[List[str]], overwrite: bool,
                     scorer: Optional[Callable]) -> Sentencizer:
    """`punct_chars = null` uses DEFAULT_PUNCT_CHARS."""
    return Sentencizer(name, punct_chars=punct_chars, overwrite=overwrite, scorer=scorer)
