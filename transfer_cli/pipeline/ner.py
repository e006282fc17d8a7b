"""The entity recognizer (`ner`): a greedy BILUO transition system driven by
spacy.TransitionBasedParser.

Prediction: the model precomputes every token's contribution to the hidden layer once
per batch; then all docs advance one token per step together (ml/ner_transitions.py),
each step a gather-and-sum, a small matrix product and a masked argmax. Invalid actions
are masked, so every output is a well-formed entity sequence.

Training: one state per token. With the dynamic oracle (the default) the batch is first
decoded greedily by the current model, recording the state before every token; every
action of every recorded state gets a cost from the gold entities (how many it makes
unreachable, how many it makes certainly wrong), and all states are scored again in
one batched pass with gradient, pushing probability towards the zero-cost actions.
With the static oracle the states are the gold ones (teacher forcing). Tokens whose
gold annotation is missing ("-") cost nothing either way: they are never punished."""
import warnings
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import numpy
from thinc.api import Model, Optimizer, set_dropout_rate

from ..config.factories import register_factory
from ..errors import ConfigError, DataError, DataWarning, PipelineError
from ..ml.listeners import listeners_inferring_shapes
from ..ml.ner_transitions import MISSING, BiluoMoves, feature_ids, greedy_decode
from ..ml.parser import set_n_actions
from ..scoring import get_ner_prf
from ..tokens import Doc
from ..tokens import attrs as A
from ..tokens.columns import COL
from .component import ListenedComponent, TrainableComponent
from .default_models import default_model

ORACLES = ("dynamic", "static")
_CHECK_ENTITIES = ("check that the corpus has entities (JSONL \"entities\", IOB/BILUO tags, or doc.ents in "
                   ".spacy files)")
MAX_EXAMPLES_SHOWN = 5


class EntityRecognizerWarning(DataWarning):
    """Annotation the entity recognizer had to ignore (misaligned or unknown entities);
    a DataWarning, so the CLI shows it as one line."""


class EntityRecognizer(TrainableComponent):
    def __init__(self, vocab, model: Model, name: str = "ner", *, update_with_oracle_cut_size: int = 100,
                 scorer: Optional[Callable] = None, oracle: str = "dynamic") -> None:
        super().__init__(vocab, model, name, scorer=scorer)
        if oracle not in ORACLES:
            raise ConfigError(f"oracle must be one of {', '.join(ORACLES)}, not {oracle!r}")
        self.update_with_oracle_cut_size = update_with_oracle_cut_size
        self.oracle = oracle
        self.moves = BiluoMoves(())
        self._type_hashes = numpy.zeros((1,), dtype="uint64")
        self.init_report: Dict[str, Any] = {}

    # -- labels -------------------------------------------------------------------------------
    @property
    def labels(self) -> Tuple[str, ...]:
        return self.moves.labels

    @property
    def move_names(self) -> List[str]:
        return self.moves.move_names

    def _set_labels(self, labels: Iterable[str]) -> None:
        self.moves = BiluoMoves(tuple(sorted(set(labels))))
        hashes = [self.vocab.strings.add(label) for label in self.moves.labels]
        self._type_hashes = numpy.array([0] + [h for h in hashes for _ in range(4)], dtype="uint64")

    def add_label(self, label: str) -> int:
        """Add an entity label (also after training: the output layer grows, keeping its weights).
        Labels are kept sorted, so adding one after training re-orders the actions; add labels
        before training where possible."""
        if not isinstance(label, str) or not label or label == "O" or label[:2] in ("B-", "I-", "L-", "U-"):
            raise PipelineError(f"Component '{self.name}': invalid entity label {label!r} (give the label "
                                "itself, e.g. 'PERSON', without a BILUO prefix)")
        if label in self.labels:
            return 0
        trained = self._has_weights()
        if trained:
            raise PipelineError(f"Component '{self.name}': cannot add label '{label}' to a trained entity "
                                "recognizer; retrain it with the label in the training data or in "
                                "[initialize.components.ner] labels")
        self._set_labels(self.labels + (label,))
        return 1

    def _has_weights(self) -> bool:
        lower = self.model.get_ref("lower")
        return lower.has_param("W") and lower.get_param("W") is not None

    # -- prediction ---------------------------------------------------------------------------
    def predict(self, docs: List[Doc]) -> List[numpy.ndarray]:
        lengths = [len(doc) for doc in docs]
        if not sum(lengths):
            return [numpy.zeros((0,), dtype="int64") for _ in docs]
        self._require_labels()
        features = self.model.predict(docs)
        actions = greedy_decode(self.moves, numpy.array(lengths), features.score, features.nF, features.pad)
        return numpy.split(actions, numpy.cumsum(lengths)[:-1])

    def set_annotations(self, docs: List[Doc], actions: List[numpy.ndarray]) -> None:
        iob_code, type_hashes = self.moves.iob_code, self._type_hashes
        for doc, acts in zip(docs, actions):
            if len(doc):
                doc.set_column(A.ENT_IOB, iob_code[acts])
                doc.set_column(A.ENT_TYPE, type_hashes[acts])

    def _require_labels(self) -> None:
        # initialized on data without entities, it has no labels but a model (one action, O)
        if not self.labels and not self._has_weights():
            raise PipelineError(f"Component '{self.name}' has no labels: initialize it on data with entities "
                                "(nlp.initialize / train) or load a trained pipeline")

    # -- training -------------------------------------------------------------------------------
    def gold_actions(self, examples: List) -> numpy.ndarray:
        """The gold action of every predicted token of the batch (concatenated); -1 where the
        annotation is missing, misaligned or has a label this component does not know."""
        parts: List[Optional[numpy.ndarray]] = []
        same: List[int] = []  # examples whose gold tokens are the predicted tokens
        for eg in examples:
            if not len(eg.predicted):
                continue
            if eg.predicted.words == eg.reference.words:
                same.append(len(parts))
                parts.append(None)
            else:
                parts.append(self.moves.tags_to_actions(eg.get_aligned_ner()))
        if same:  # read the columns of all of them at once: no strings, no per-doc loop
            kept = [eg for eg in examples if len(eg.predicted)]
            cols = [kept[i].reference.cols for i in same]
            lengths = numpy.array([len(c) for c in cols], dtype="int64")
            stacked = numpy.concatenate(cols)
            starts = numpy.concatenate([[0], numpy.cumsum(lengths)[:-1]])
            actions = self.moves.column_actions(stacked[:, COL[A.ENT_IOB]], stacked[:, COL[A.ENT_TYPE]], starts,
                                                self._type_hashes[1::4])
            for i, part in zip(same, numpy.split(actions, numpy.cumsum(lengths)[:-1])):
                parts[i] = part
        return numpy.concatenate(parts) if parts else numpy.zeros((0,), dtype="int64")

    def update(self, examples: List, *, drop: float = 0.0, sgd: Optional[Optimizer] = None,
               losses: Optional[Dict[str, float]] = None) -> Dict[str, float]:
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        docs = [eg.predicted for eg in examples]
        lengths = numpy.array([len(doc) for doc in docs], dtype="int64")
        if not lengths.sum():
            return losses
        self._require_labels()
        set_dropout_rate(self.model, drop)
        features, backprop = self.model.begin_update(docs)
        loss, d_scores, backprop_scores = self._batch_loss(features, examples, lengths)
        if backprop_scores is not None:
            backprop(backprop_scores(d_scores))
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def _batch_loss(self, features, examples: List, lengths: numpy.ndarray):
        """(loss, d_scores, backprop from d_scores) for one batch: every token's state scored
        in one pass."""
        moves = self.moves
        n = int(lengths.sum())
        nonempty = lengths[lengths > 0]
        starts = numpy.concatenate([[0], numpy.cumsum(nonempty)[:-1]]).astype("int64")
        gold = moves.sanitize(self.gold_actions(examples), starts)
        if not (gold >= 0).any():
            return 0.0, None, None
        teacher = moves.teacher_states(gold, starts)
        if self.oracle == "dynamic":
            _, states = greedy_decode(moves, lengths, features.score, features.nF, features.pad, record=True)
        else:
            states = teacher
        is_open, start, label = states
        positions = numpy.arange(n, dtype="int64")
        ends = numpy.cumsum(nonempty) - 1
        is_last = numpy.zeros(n, dtype=bool)
        is_last[ends] = True
        next_gold = numpy.full(n, MISSING, dtype="int64")
        next_gold[:-1] = gold[1:]
        next_gold[ends] = MISSING
        rows = moves.state_rows(is_open, label, is_last)
        valid = moves.valid_table[rows]
        costs = moves.costs(states, gold, teacher, next_gold)
        costs[~valid] = numpy.inf
        zero_cost = costs <= costs.min(axis=1, keepdims=True)
        scored = gold >= 0
        scores, backprop_scores = features.begin_score(feature_ids(positions, is_open, start, features.nF,
                                                                   features.pad))
        loss, d_scores = marginal_log_loss(scores, moves.penalty_table[rows], zero_cost, scored)
        if numpy.isnan(loss):
            raise PipelineError(f"Component '{self.name}': the loss is NaN; lower the learning rate")
        return loss, d_scores, backprop_scores

    def get_loss(self, examples: List, scores: Any) -> Tuple[float, numpy.ndarray]:
        """Loss and gradient of a batch given its ParserFeatures (the model's output)."""
        lengths = numpy.array([len(eg.predicted) for eg in examples], dtype="int64")
        loss, d_scores, _ = self._batch_loss(scores, list(examples), lengths)
        return loss, d_scores

    def initialize(self, get_examples: Callable[[], Iterable], *, nlp=None, labels: Optional[Any] = None,
                   **kwargs) -> None:
        """Labels come from the training data (read once) unless given (a list of labels,
        or the {move: {label: count}} dict spaCy's `init labels` writes). Gold entities
        that do not line up with the pipeline's tokens are counted and reported as a
        EntityRecognizerWarning (they are trained as missing annotation)."""
        found = set(_labels_from_setting(labels, self.name)) if labels is not None else set()
        sample: List[Doc] = []
        n_examples = n_ents = n_dropped = n_with_dropped = 0
        shown: List[str] = []
        for eg in get_examples():
            n_examples += 1
            ref = eg.reference
            if len(sample) < 10 and len(eg.predicted):
                sample.append(eg.predicted)
            if labels is None:
                types = numpy.unique(ref.cols[:, COL[A.ENT_TYPE]])
                found.update(self.vocab.strings[int(h)] for h in types if h)
            if eg.predicted.words != ref.words and len(ref):
                ents = ref.ents
                aligned = eg.get_aligned_ner()
                kept = sum(1 for tag in aligned if tag[:2] in ("B-", "U-"))
                lost = len(ents) - kept
                n_ents += len(ents)
                if lost > 0:
                    n_dropped += lost
                    n_with_dropped += 1
                    if len(shown) < MAX_EXAMPLES_SHOWN:
                        starts = {i for i, tag in enumerate(aligned) if tag[:2] in ("B-", "U-")}
                        missing = [e for e in ents if not _projects(eg, e, starts)]
                        shown.extend(f"'{e.text}' [{e.label_}]" for e in missing[:MAX_EXAMPLES_SHOWN - len(shown)])
            else:
                n_ents += len(ref.ents) if ref.has_annotation(A.ENT_IOB) else 0
        if not found:
            learning = [name for name, proc in (nlp.pipeline if nlp is not None else [])
                        if proc is not self and isinstance(proc, TrainableComponent)
                        and not isinstance(proc, ListenedComponent)]
            if not learning:
                raise DataError(f"Component '{self.name}' found no entity annotation in the training data: "
                                f"{_CHECK_ENTITIES}")
            # The other components train on this corpus as in spaCy; this one learns no labels.
            warnings.warn(f"Component '{self.name}' found no entity annotation in the training data: it learns "
                          f"no entity labels and will predict no entities, while {', '.join(learning)} train as "
                          f"usual; {_CHECK_ENTITIES}", EntityRecognizerWarning, stacklevel=2)
        self._set_labels(found)
        set_n_actions(self.model, self.moves.n_actions)
        with listeners_inferring_shapes(self.model):
            self.model.initialize(X=sample or None)
        self.init_report = {"examples": n_examples, "entities": n_ents, "misaligned_entities": n_dropped,
                            "examples_with_misaligned": n_with_dropped, "shown": shown}
        if n_dropped:
            warnings.warn(
                f"Component '{self.name}': {n_dropped} of {n_ents} gold entities (in {n_with_dropped} of "
                f"{n_examples} examples) do not line up with the pipeline's tokenization and are trained as "
                f"missing annotation, e.g. {', '.join(shown)}. Train with gold tokens (gold_preproc) or fix the "
                f"entity offsets to keep them.", EntityRecognizerWarning, stacklevel=2)

    # -- scores and settings ---------------------------------------------------------------------
    def score(self, examples: Iterable, **kwargs) -> Dict[str, Any]:
        examples = list(examples)
        unknown: Dict[str, int] = {}
        known = set(self.labels)
        for eg in examples:
            for ent in eg.reference.ents:
                if ent.label_ not in known:
                    unknown[ent.label_] = unknown.get(ent.label_, 0) + 1
        if unknown and known:
            listed = ", ".join(f"{label} ({count})" for label, count in sorted(unknown.items()))
            warnings.warn(f"Component '{self.name}': the evaluation data has entity labels this model was not "
                          f"trained on: {listed}; it cannot predict them, so they count as missed "
                          f"(known labels: {', '.join(self.labels)})", EntityRecognizerWarning, stacklevel=2)
        if self.scorer is not None:
            return self.scorer(examples, **kwargs)
        return get_ner_prf(examples)

    def get_cfg(self) -> Dict[str, Any]:
        return {"labels": list(self.labels), "update_with_oracle_cut_size": self.update_with_oracle_cut_size,
                "oracle": self.oracle}

    def set_cfg(self, cfg: Dict[str, Any]) -> None:
        self._set_labels(cfg.get("labels", ()))
        self.oracle = cfg.get("oracle", self.oracle)

    def prepare_for_load(self) -> None:
        set_n_actions(self.model, self.moves.n_actions)


def marginal_log_loss(scores: numpy.ndarray, penalty: numpy.ndarray, zero_cost: numpy.ndarray,
                      scored: numpy.ndarray) -> Tuple[float, numpy.ndarray]:
    """-log of the probability mass on the zero-cost actions, the softmax taken over the
    valid actions only (penalty is 0 for valid, a large negative number for invalid).
    Rows with scored=False get no gradient."""
    s = scores + penalty
    s -= s.max(axis=1, keepdims=True)
    e = numpy.exp(s)
    z = e.sum(axis=1, keepdims=True)
    e_gold = numpy.where(zero_cost, e, 0.0)
    z_gold = e_gold.sum(axis=1, keepdims=True)
    z_gold = numpy.maximum(z_gold, 1e-30)
    d_scores = (e / z - e_gold / z_gold).astype("float32")
    d_scores[~scored] = 0.0
    loss = float(-(numpy.log(z_gold[scored, 0]) - numpy.log(z[scored, 0])).sum())
    return loss, d_scores


def _projects(eg, ent, starts: set) -> bool:
    """Whether a gold entity starts a projected entity on the predicted tokens."""
    xs = eg.alignment.y2x[ent.start]
    return bool(len(xs)) and int(xs[0]) in starts


def _labels_from_setting(labels: Any, name: str) -> List[str]:
    """[initialize.components.ner] labels: a list of labels, or spaCy's move dict."""
    if isinstance(labels, dict):
        out = {str(label) for moves in labels.values() if isinstance(moves, dict) for label in moves if label}
    elif isinstance(labels, (list, tuple)):
        out = {str(label) for label in labels}
    else:
        raise ConfigError(f"labels for '{name}' must be a list of entity labels, got {type(labels).__name__}",
                          key=f"initialize.components.{name}.labels")
    bad = [label for label in out if not label or label == "O" or label[:2] in ("B-", "I-", "L-", "U-")]
    if bad:
        raise ConfigError(f"invalid entity labels {sorted(bad)} for '{name}': give the labels themselves, "
                          "e.g. [\"PER\", \"ORG\"]", key=f"initialize.components.{name}.labels")
    return sorted(out)


@register_factory(
    "ner",
    default_config={"moves": None, "update_with_oracle_cut_size": 100, "model": default_model("ner"),
                    "incorrect_spans_key": None, "scorer": {"@scorers": "spacy.ner_scorer.v1"}},
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
)
def make_ner(nlp, name: str, model: Model, moves: Optional[Any], update_with_oracle_cut_size: int,
             incorrect_spans_key: Optional[str], scorer: Optional[Callable]) -> EntityRecognizer:
    """The entity recognizer. `moves` (a custom transition system) and `incorrect_spans_key`
    (negative examples) are spaCy settings this package does not implement: leave them null."""
    if moves is not None:
        raise ConfigError("custom transition systems are not supported: leave moves = null (the BILUO "
                          "actions come from the labels)", key=f"components.{name}.moves")
    if incorrect_spans_key is not None:
        raise ConfigError("incorrect_spans_key (training on known-wrong spans) is not supported: set it to null",
                          key=f"components.{name}.incorrect_spans_key")
    return EntityRecognizer(nlp.vocab, model, name, update_with_oracle_cut_size=update_with_oracle_cut_size,
                            scorer=scorer)
