"""The sentence recognizer (`senter`): a tagger over two labels, I (inside) and S
(sentence start), that writes the SENT_START column (1 for S, -1 for I)."""
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import numpy
from thinc.api import Model

from ..config.factories import register_factory
from ..errors import DataError, PipelineError
from ..ml.listeners import listeners_inferring_shapes
from ..ml.tagger import set_n_labels
from ..ml.windowed import predict_in_windows, token_context
from ..scoring import score_sents
from ..tokens import Doc
from ..tokens import attrs as A
from ..tokens.columns import COL
from .component import TrainableComponent
from .default_models import default_model

SENT_START_CODES = numpy.array([-1, 1], dtype="int64").view("uint64")  # label id → SENT_START value


def gold_sent_starts(eg) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """(target, known) per predicted token: 1 where the gold starts a sentence, and
    whether the gold says anything there. Read straight from the SENT_START column when
    the tokenizations agree one to one (the usual case)."""
    ref, n = eg.reference, len(eg.predicted)
    if not len(ref) or not ref.has_sentence_boundaries:
        return numpy.zeros(n, dtype="int64"), numpy.zeros(n, dtype=bool)
    if eg.alignment.is_one_to_one():
        if ref.has_annotation(A.SENT_START):
            values = ref.cols[:, COL[A.SENT_START]].view("int64")
            target, known = (values == 1), values != 0
            target[0] = known[0] = True
        else:  # boundaries from the parse
            target, known = ref.sentence_starts(), numpy.ones(n, dtype=bool)
        return target.astype("int64"), known
    gold = eg.get_aligned_sent_starts()
    known = numpy.fromiter((g is not None for g in gold), dtype=bool, count=n)
    target = numpy.fromiter((bool(g) for g in gold), dtype="int64", count=n)
    return target, known


class SentenceRecognizer(TrainableComponent):
    labels: Tuple[str, ...] = ("I", "S")

    def __init__(self, vocab, model: Model, name: str = "senter", *, overwrite: bool = False,
                 scorer: Optional[Callable] = None) -> None:
        super().__init__(vocab, model, name, scorer=scorer)
        self.overwrite = overwrite

    # -- prediction ---------------------------------------------------------------------------
    def predict(self, docs: List[Doc]) -> List[numpy.ndarray]:
        """Per doc, 1 where a sentence starts and 0 elsewhere (argmax over I/S)."""
        if not any(len(doc) for doc in docs):
            return [numpy.zeros((0,), dtype="int64") for _ in docs]
        scores = predict_in_windows(self.model, docs, token_context(self.model))  # bounded memory on long docs
        ops = self.model.ops
        lengths = [len(s) for s in scores]
        flat = ops.to_numpy(ops.xp.concatenate([s for s in scores if len(s)]))
        ids = flat[:, 1] > flat[:, 0]  # argmax of two columns (ties go to I, as argmax does)
        ends = numpy.cumsum(lengths)
        return [ids[end - n:end].astype("int64") for n, end in zip(lengths, ends.tolist())]

    def set_annotations(self, docs: List[Doc], tag_ids: List[numpy.ndarray]) -> None:
        for doc, ids in zip(docs, tag_ids):
            if len(doc):
                doc.set_column(A.SENT_START, SENT_START_CODES[numpy.asarray(ids, dtype="int64")],
                               overwrite=self.overwrite)

    # -- training -------------------------------------------------------------------------------
    def get_loss(self, examples: List, scores: List) -> Tuple[float, List]:
        """Cross-entropy gradient (probabilities minus one-hot gold), zero where the gold
        has no sentence annotation or the tokens do not align."""
        ops = self.model.ops
        d_scores = []
        loss = 0.0
        for eg, guesses in zip(examples, scores):
            target, known = gold_sent_starts(eg)
            n = len(target)
            guesses_np = ops.to_numpy(guesses)
            d = guesses_np.copy()
            d[numpy.arange(n), target] -= 1.0
            d[~known] = 0.0
            loss += float((d ** 2).sum())
            d_scores.append(ops.asarray(d))
        if numpy.isnan(loss):
            raise PipelineError(f"Component '{self.name}': the loss is NaN; lower the learning rate")
        return loss, d_scores

    def initialize(self, get_examples: Callable[[], Iterable], *, nlp=None, **kwargs) -> None:
        """Checks that the training data marks sentence boundaries (SENT_START or a parse)."""
        sample_docs: List[Doc] = []
        annotated = False
        for eg in get_examples():
            if len(eg.predicted) and len(sample_docs) < 10:
                sample_docs.append(eg.predicted)
            if not annotated and len(eg.reference) and eg.reference.has_sentence_boundaries:
                annotated = True
            if annotated and len(sample_docs) >= 10:
                break
        if not annotated:
            raise DataError(f"Component '{self.name}' found no sentence boundaries in the training data: use a "
                            f"corpus that marks them (CoNLL-U, a .spacy file with sentence starts, or Docs with "
                            f"token.is_sent_start set), ideally with several sentences per document")
        self.model.get_ref("output_layer").set_dim("nO", len(self.labels))
        with listeners_inferring_shapes(self.model):
            self.model.initialize(X=sample_docs or None)

    def score(self, examples: Iterable, **kwargs) -> Dict[str, Any]:
        if self.scorer is not None:
            return self.scorer(examples, **kwargs)
        return score_sents(examples)

    def get_cfg(self) -> Dict[str, Any]:
        return {"overwrite": self.overwrite}

    def set_cfg(self, cfg: Dict[str, Any]) -> None:
        self.overwrite = bool(cfg.get("overwrite", self.overwrite))

    def prepare_for_load(self) -> None:
        set_n_labels(self.model, len(self.labels))


@register_factory(
    "senter",
    default_config={"model": default_model("senter"), "overwrite": False,
                    "scorer": {"@scorers": "spacy.senter_scorer.v1"}},
    default_score_weights={"sents_f": 1.0, "sents_p": 0.0, "sents_r": 0.0},
    assigns=["token.is_sent_start"],
)
def make_senter(nlp, name: str, model: Model, overwrite: bool, scorer: Optional[Callable]) -> SentenceRecognizer:
    """`overwrite = false` keeps sentence starts that are already set."""
    return SentenceRecognizer(nlp.vocab, model, name, overwrite=overwrite, scorer=scorer)
