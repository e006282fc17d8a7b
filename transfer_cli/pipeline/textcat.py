"""Text classification: `textcat` (mutually exclusive labels, one per doc) and
`textcat_multilabel` (any number of labels per doc). Both write one score per label
into `doc.cats`; the model is a registered architecture (spacy.TextCatBOW.v3,
spacy.TextCatCNN.v2, spacy.TextCatEnsemble.v2, ...).

Gold labels come from `reference.cats` ({label: 1.0 or 0.0}). An example without any
cats is unannotated: it is left out of the loss. For `textcat_multilabel` a label
missing from an example's cats is unknown for that example (not negative); for
`textcat` every label not marked 1.0 is negative and at most one may be 1.0."""
import warnings
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import numpy
from thinc.api import Model

from ..config.factories import register_factory
from ..errors import ConfigError, DataError, DataWarning, PipelineError
from ..ml.listeners import find_listeners, listeners_inferring_shapes
from ..scoring import textcat_multilabel_score, textcat_score
from ..tokens import Doc
from .component import TrainableComponent

DEFAULT_SCORE_WEIGHTS = {"cats_score": 1.0, "cats_score_desc": None, "cats_micro_p": None, "cats_micro_r": None,
                         "cats_micro_f": None, "cats_macro_p": None, "cats_macro_r": None, "cats_macro_f": None,
                         "cats_macro_auc": None, "cats_f_per_type": None}

_ENSEMBLE = """
[model]
@architectures = "spacy.TextCatEnsemble.v2"

[model.tok2vec]
@architectures = "spacy.Tok2Vec.v2"

[model.tok2vec.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = 64
rows = [2000, 2000, 500, 1000, 500]
attrs = ["NORM", "LOWER", "PREFIX", "SUFFIX", "SHAPE"]
include_static_vectors = false

[model.tok2vec.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = 64
window_size = 1
maxout_pieces = 3
depth = 2

[model.linear_model]
@architectures = "spacy.TextCatBOW.v3"
exclusive_classes = EXCLUSIVE
length = 262144
ngram_size = 1
no_output_layer = false
"""
DEFAULT_TEXTCAT_MODEL = _ENSEMBLE.replace("EXCLUSIVE", "true")
DEFAULT_TEXTCAT_MULTILABEL_MODEL = _ENSEMBLE.replace("EXCLUSIVE", "false")


def _describe(eg) -> str:
    text = eg.reference.text
    return repr(text[:50] + ("..." if len(text) > 50 else ""))


class TextCategorizer(TrainableComponent):
    """Mutually exclusive labels: the scores of a doc sum to 1 (with a softmax output)."""

    multi_label = False

    def __init__(self, vocab, model: Model, name: str = "textcat", *, threshold: float = 0.0,
                 scorer: Optional[Callable] = None) -> None:
        super().__init__(vocab, model, name, scorer=scorer)
        self.labels: Tuple[str, ...] = ()
        self.threshold = float(threshold)
        self.positive_label: Optional[str] = None
        self._initialized = False  # the output layer's size is fixed once the weights exist

    def add_label(self, label: str) -> int:
        if not isinstance(label, str) or not label:
            raise PipelineError(f"Component '{self.name}': a label must be a non-empty string, got {label!r}")
        if label in self.labels:
            return 0
        if self._initialized:
            raise PipelineError(f"Component '{self.name}' is already initialized with labels {list(self.labels)}: "
                                f"add '{label}' before initializing (or train a new component)")
        self.labels = self.labels + (label,)
        self.vocab.strings.add(label)
        return 1

    # -- prediction ---------------------------------------------------------------------------
    def predict(self, docs: List[Doc]) -> numpy.ndarray:
        if not any(len(doc) for doc in docs):
            return numpy.zeros((len(docs), len(self.labels)), dtype="float32")
        return self.model.ops.to_numpy(self.model.predict(docs))

    def set_annotations(self, docs: List[Doc], scores: numpy.ndarray) -> None:
        labels = self.labels
        for doc, row in zip(docs, numpy.asarray(scores).tolist()):
            doc.cats.update(zip(labels, row))

    # -- training -------------------------------------------------------------------------------
    def _truths(self, examples: List) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """(truths, mask) of shape (n_examples, n_labels); mask 0 where the gold is unknown."""
        n, k = len(examples), len(self.labels)
        truths = numpy.zeros((n, k), dtype="float32")
        mask = numpy.ones((n, k), dtype="float32")
        for i, eg in enumerate(examples):
            cats = eg.reference.cats
            if not cats:
                mask[i] = 0.0
                continue
            self._validate(eg)
            for j, label in enumerate(self.labels):
                value = cats.get(label)
                if value is None:
                    if self.multi_label:
                        mask[i, j] = 0.0
                else:
                    truths[i, j] = value
        return truths, mask

    def _validate(self, eg) -> None:
        cats = eg.reference.cats
        for label, value in cats.items():
            if value not in (0.0, 1.0):
                raise DataError(f"Component '{self.name}': the example {_describe(eg)} gives label '{label}' the "
                                f"value {value!r}; cats values must be 1.0 (positive) or 0.0 (negative)")
        if not self.multi_label:
            positive = [label for label, value in cats.items() if value == 1.0]
            if len(positive) > 1:
                raise DataError(f"Component '{self.name}' takes mutually exclusive labels, but the example "
                                f"{_describe(eg)} has {len(positive)} positive labels ({', '.join(positive)}): "
                                f"keep one positive label per example, or use the textcat_multilabel component")

    def get_loss(self, examples: List, scores) -> Tuple[float, Any]:
        truths, mask = self._truths(examples)
        ops = self.model.ops
        d_scores = (scores - ops.asarray(truths)) * ops.asarray(mask)
        loss = float((d_scores ** 2).mean()) if d_scores.size else 0.0
        if numpy.isnan(loss):
            raise PipelineError(f"Component '{self.name}': the loss is NaN; lower the learning rate")
        return loss, d_scores

    def update(self, examples: List, *, drop: float = 0.0, sgd=None,
               losses: Optional[Dict[str, float]] = None) -> Dict[str, float]:
        """Examples without cats are left out of the batch (they carry no gold labels)."""
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        labelled = [eg for eg in examples if eg.reference.cats]
        if not labelled:
            return losses
        for eg in labelled:
            self._validate(eg)
        if len(labelled) != len(examples) and self._listens():
            # a listener receives its upstream's output for the whole batch only
            return super().update(examples, drop=drop, sgd=sgd, losses=losses)
        return super().update(labelled, drop=drop, sgd=sgd, losses=losses)

    def _listens(self) -> bool:
        return bool(find_listeners(self.model))

    def initialize(self, get_examples: Callable[[], Iterable], *, nlp=None, labels: Optional[Iterable[str]] = None,
                   positive_label: Optional[str] = None, **kwargs) -> None:
        """Labels come from the training data's cats (read once, in order of appearance)
        unless given; the data is checked as it is read."""
        found: Dict[str, None] = {}
        sample: List = []
        n_examples = n_unlabelled = 0
        for eg in get_examples():
            n_examples += 1
            if not eg.reference.cats:
                n_unlabelled += 1
                continue
            self._validate(eg)
            found.update(dict.fromkeys(eg.reference.cats))
            if len(sample) < 10:
                sample.append(eg)
        if n_examples and n_unlabelled == n_examples and labels is None:
            raise DataError(f"Component '{self.name}': none of the {n_examples} training examples has text "
                            f"categories (doc.cats): give each example cats, e.g. JSONL lines "
                            f"{{\"text\": ..., \"label\": \"pos\"}} or {{\"text\": ..., \"cats\": {{\"pos\": 1.0}}}}")
        if not n_examples:
            raise DataError(f"Component '{self.name}': the training data holds no examples")
        self._initialized = False
        self.labels = ()
        for label in (labels if labels is not None else found):
            self.add_label(label)
        minimum = 1 if self.multi_label else 2
        if len(self.labels) < minimum:
            raise DataError(f"Component '{self.name}' needs at least {minimum} label{'s' if minimum > 1 else ''}, "
                            f"found {list(self.labels)} in the training data"
                            + ("" if self.multi_label else ": for a single yes/no label use textcat_multilabel"))
        if positive_label is not None:
            if positive_label not in self.labels:
                raise ConfigError(f"positive_label '{positive_label}' is not one of the labels {list(self.labels)}",
                                  key=f"initialize.components.{self.name}.positive_label")
            if len(self.labels) != 2:
                raise ConfigError(f"positive_label is for a binary task, but there are {len(self.labels)} labels",
                                  key=f"initialize.components.{self.name}.positive_label")
        self.positive_label = positive_label
        if self.model.has_dim("nO") and self.model.get_dim("nO") != len(self.labels):
            raise ConfigError(f"Component '{self.name}': the model's nO is {self.model.get_dim('nO')}, but the data "
                              f"has {len(self.labels)} labels: set nO = null", key=f"components.{self.name}.model.nO")
        truths, _ = self._truths(sample)
        with listeners_inferring_shapes(self.model):
            self.model.initialize(X=[eg.predicted for eg in sample], Y=self.model.ops.asarray(truths))
        self._initialized = True

    def score(self, examples: Iterable, **kwargs) -> Dict[str, Any]:
        """cats_score and the other cats_* scores over the component's labels. Gold labels
        the component was not trained on are left out, with a warning that names them."""
        examples = list(examples)
        unknown: Dict[str, int] = {}
        for eg in examples:
            for label, value in eg.reference.cats.items():
                if label not in self.labels and value:
                    unknown[label] = unknown.get(label, 0) + 1
        if unknown:
            listing = ", ".join(f"'{label}' ({count} examples)" for label, count in unknown.items())
            warnings.warn(f"Component '{self.name}': the gold data has labels it was not trained on: {listing}; "
                          f"they are left out of the cats_* scores (known labels: {list(self.labels)})",
                          DataWarning, stacklevel=2)
        settings = {"labels": self.labels, "threshold": self.threshold, "positive_label": self.positive_label,
                    **kwargs}
        scorer = self.scorer or (textcat_multilabel_score if self.multi_label else textcat_score)
        return scorer(examples, **settings)

    def get_cfg(self) -> Dict[str, Any]:
        return {"labels": list(self.labels), "threshold": self.threshold, "positive_label": self.positive_label}

    def set_cfg(self, cfg: Dict[str, Any]) -> None:
        self.labels = tuple(cfg.get("labels", ()))
        self.threshold = float(cfg.get("threshold", self.threshold))
        self.positive_label = cfg.get("positive_label")
        for label in self.labels:
            self.vocab.strings.add(label)
        self._initialized = bool(self.labels)


class MultiLabelTextCategorizer(TextCategorizer):
    """Independent labels: each score is a probability on its own; a label counts as
    predicted (in the scores) when its score >= threshold."""

    multi_label = True

    def __init__(self, vocab, model: Model, name: str = "textcat_multilabel", *, threshold: float = 0.5,
                 scorer: Optional[Callable] = None) -> None:
        super().__init__(vocab, model, name, threshold=threshold, scorer=scorer)

    def predicted_labels(self, doc: Doc) -> List[str]:
        """The labels of `doc` whose score reaches the threshold."""
        return [label for label in self.labels if doc.cats.get(label, 0.0) >= self.threshold]


@register_factory(
    "textcat",
    default_config={"threshold": 0.0, "model": DEFAULT_TEXTCAT_MODEL,
                    "scorer": {"@scorers": "spacy.textcat_scorer.v2"}},
    default_score_weights=DEFAULT_SCORE_WEIGHTS,
    assigns=["doc.cats"],
)
def make_textcat(nlp, name: str, model: Model, threshold: float, scorer: Optional[Callable]) -> TextCategorizer:
    """`threshold` is unused for exclusive classes (the top label is the prediction); kept
    for spaCy config compatibility."""
    return TextCategorizer(nlp.vocab, model, name, threshold=threshold, scorer=scorer)


@register_factory(
    "textcat_multilabel",
    default_config={"threshold": 0.5, "model": DEFAULT_TEXTCAT_MULTILABEL_MODEL,
                    "scorer": {"@scorers": "spacy.textcat_multilabel_scorer.v2"}},
    default_score_weights=DEFAULT_SCORE_WEIGHTS,
    assigns=["doc.cats"],
)
def make_multilabel_textcat(nlp, name: str, model: Model, threshold: float,
                            scorer: Optional[Callable]) -> MultiLabelTextCategorizer:
    return MultiLabelTextCategorizer(nlp.vocab, model, name, threshold=threshold, scorer=scorer)
