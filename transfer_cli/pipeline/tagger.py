"""The tagger component: one label per token, for the TAG (default) or POS attribute."""
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import numpy
from thinc.api import Model, SequenceCategoricalCrossentropy

from ..config.factories import register_factory
from ..errors import ConfigError, DataError, PipelineError
from ..ml.listeners import listeners_inferring_shapes
from ..ml.tagger import set_n_labels
from ..ml.windowed import predict_in_windows, token_context
from ..scoring import score_token_attr
from ..tokens import Doc
from ..tokens import attrs as A
from .component import TrainableComponent
from .default_models import default_model

TAGGABLE = {"tag": A.TAG, "pos": A.POS}


class Tagger(TrainableComponent):
    def __init__(self, vocab, model: Model, name: str = "tagger", *, overwrite: bool = False,
                 scorer: Optional[Callable] = None, neg_prefix: str = "!", label_smoothing: float = 0.0,
                 attr: str = "tag") -> None:
        super().__init__(vocab, model, name, scorer=scorer)
        if attr not in TAGGABLE:
            raise PipelineError(f"Component '{name}': attr must be one of {sorted(TAGGABLE)}, not '{attr}'")
        self.attr = attr
        self.overwrite = overwrite
        self.neg_prefix = neg_prefix
        self.label_smoothing = label_smoothing
        self.labels: Tuple[str, ...] = ()
        self._label_hashes = numpy.zeros((0,), dtype="uint64")

    def add_label(self, label: str) -> int:
        if label in self.labels:
            return 0
        self.labels = tuple(sorted(self.labels + (label,)))
        self._sync_label_hashes()
        return 1

    def _sync_label_hashes(self) -> None:
        self._label_hashes = numpy.array([self.vocab.strings.add(l) for l in self.labels], dtype="uint64")

    # -- prediction ---------------------------------------------------------------------------
    def predict(self, docs: List[Doc]) -> List[numpy.ndarray]:
        if not any(len(doc) for doc in docs):
            return [numpy.zeros((0,), dtype="int64") for _ in docs]
        scores = predict_in_windows(self.model, docs, token_context(self.model))  # bounded memory on long docs
        return [self.model.ops.to_numpy(self.model.ops.xp.argmax(s, axis=1)) if len(s) else
                numpy.zeros((0,), dtype="int64") for s in scores]

    def set_annotations(self, docs: List[Doc], tag_ids: List[numpy.ndarray]) -> None:
        attr = TAGGABLE[self.attr]
        for doc, ids in zip(docs, tag_ids):
            if len(doc):
                doc.set_column(attr, self._label_hashes[numpy.asarray(ids, dtype="int64")], overwrite=self.overwrite)

    # -- training -------------------------------------------------------------------------------
    def get_loss(self, examples: List, scores: List) -> Tuple[float, List]:
        loss_func = SequenceCategoricalCrossentropy(names=list(self.labels), normalize=False,
                                                    neg_prefix=self.neg_prefix,
                                                    label_smoothing=self.label_smoothing)
        # gold labels unseen in training, or missing, count as missing: not punished
        known = set(self.labels)
        truths = [[t if t in known else None for t in eg.get_aligned(self.attr.upper(), as_string=True)]
                  for eg in examples]
        d_scores, loss = loss_func(scores, truths)
        if self.model.ops.xp.isnan(loss):
            raise PipelineError(f"Component '{self.name}': the loss is NaN; lower the learning rate")
        return float(loss), d_scores

    def initialize(self, get_examples: Callable[[], Iterable], *, nlp=None, labels: Optional[List[str]] = None,
                   **kwargs) -> None:
        """Labels come from the training data (read once) unless given."""
        sample_docs: List[Doc] = []
        sample_labels: List[List[str]] = []
        found = set(labels or [])
        for eg in get_examples():
            values = [v for v in eg.get_aligned(self.attr.upper(), as_string=True)]
            if labels is None:
                found.update(v for v in values if v)
            if len(sample_docs) < 10 and len(eg.predicted):
                sample_docs.append(eg.predicted)
                sample_labels.append(values)
        if not found:
            raise DataError(f"Component '{self.name}' found no {self.attr.upper()} annotation in the training "
                            f"data: check that the corpus has {'tags' if self.attr == 'tag' else 'POS'} "
                            f"(e.g. the XPOS/UPOS columns of CoNLL-U)")
        self._check_label_smoothing(len(found))
        self.labels = tuple(sorted(found))
        self._sync_label_hashes()
        self.model.get_ref("output_layer").set_dim("nO", len(self.labels))
        with listeners_inferring_shapes(self.model):
            self.model.initialize(X=sample_docs or None)

    def _check_label_smoothing(self, n_labels: int) -> None:
        """thinc's loss needs 0 <= label_smoothing < (n - 1) / n: say so now, not mid-training."""
        smoothing = self.label_smoothing
        if not smoothing:
            return
        key = f"components.{self.name}.label_smoothing"
        if n_labels < 2:
            raise ConfigError(f"label smoothing needs at least two labels, but the training data has one "
                              f"{self.attr.upper()} value: set label_smoothing = 0.0", key=key)
        limit = (n_labels - 1) / n_labels
        if not 0.0 <= smoothing < limit:
            raise ConfigError(f"must be at least 0.0 and below {limit:.3f} for {n_labels} labels, got {smoothing}",
                              key=key)

    def score(self, examples: Iterable, **kwargs) -> Dict[str, Any]:
        if self.scorer is not None:
            return self.scorer(examples, attr=self.attr, **kwargs)
        return score_token_attr(examples, self.attr)

    def get_cfg(self) -> Dict[str, Any]:
        return {"labels": list(self.labels), "attr": self.attr, "overwrite": self.overwrite}

    def set_cfg(self, cfg: Dict[str, Any]) -> None:
        self.labels = tuple(cfg.get("labels", ()))
        self._sync_label_hashes()

    def prepare_for_load(self) -> None:
        set_n_labels(self.model, len(self.labels))


@register_factory(
    "tagger",
    default_config={"model": default_model("tagger"), "overwrite": False,
                    "scorer": {"@scorers": "spacy.tagger_scorer.v1"}, "neg_prefix": "!",
                    "label_smoothing": 0.0},
    default_score_weights={"tag_acc": 1.0, "pos_acc": 0.0, "tag_micro_p": None, "tag_micro_r": None,
                           "tag_micro_f": None},
    assigns=["token.tag"],
)
def make_tagger(nlp, name: str, model: Model, overwrite: bool, scorer: Optional[Callable], neg_prefix: str,
                label_smoothing: float, attr: str = "tag") -> Tagger:
    """`attr = "pos"` predicts universal POS (e.g. CoNLL-U UPOS) instead of fine-grained tags."""
    return Tagger(nlp.vocab, model, name, overwrite=overwrite, scorer=scorer, neg_prefix=neg_prefix,
                  label_smoothing=label_smoothing, attr=attr)
