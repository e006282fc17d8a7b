"""Scores computed from Examples: token attribute accuracy, span P/R/F, sentence
boundaries, text categories. Every score a component reports comes from here."""
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy

from .config.registry import registry
from .tokens import attrs as A
from .tokens.columns import COL


class PRFScore:
    """Precision/recall/F from true positives, false positives and false negatives."""

    def __init__(self, tp: int = 0, fp: int = 0, fn: int = 0) -> None:
        self.tp, self.fp, self.fn = tp, fp, fn

    def score_set(self, cand: Set, gold: Set) -> None:
        self.tp += len(cand & gold)
        self.fp += len(cand - gold)
        self.fn += len(gold - cand)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def fscore(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> Dict[str, float]:
        return {"p": self.precision, "r": self.recall, "f": self.fscore}


def score_token_attr(examples: Iterable, attr: str, *, key: Optional[str] = None) -> Dict[str, Optional[float]]:
    """Accuracy of a token attribute ("tag", "pos", "morph", "lemma") over predicted tokens
    aligned one-to-one with a reference token that has the attribute annotated."""
    key = key or attr
    correct = total = 0
    for eg in examples:
        gold = eg.get_aligned(attr.upper(), as_string=True)
        pred_doc = eg.predicted
        for token, gold_value in zip(pred_doc, gold):
            if gold_value is None or gold_value == "":
                continue
            total += 1
            if getattr(token, attr + "_" if attr != "morph" else attr) == gold_value:
                correct += 1
    return {f"{key}_acc": correct / total if total else None}


def score_examples(nlp, examples: List) -> Dict[str, Any]:
    """Every enabled component's scores over the examples, merged into one dict."""
    scores: Dict[str, Any] = {}
    for name, component in nlp.pipeline:
        if hasattr(component, "score"):
            scores.update(component.score(examples))
    return scores


def weighted_score(scores: Dict[str, Any], weights: Dict[str, Optional[float]]) -> float:
    """The single number used to pick the best model: a weighted sum of scores
    (weights of None are reported but not counted)."""
    total = 0.0
    for key, weight in weights.items():
        if weight is None or weight == 0:
            continue
        value = scores.get(key)
        if value is None:
            continue
        total += float(weight) * float(value)
    return total


def tagger_score(examples: Iterable, *, attr: str = "tag", **kwargs) -> Dict[str, Optional[float]]:
    return score_token_attr(examples, attr)


@registry.scorers("spacy.tagger_scorer.v1")
def make_tagger_scorer() -> Callable[..., Dict[str, Optional[float]]]:
    """spacy.tagger_scorer.v1"""
    return tagger_score


# -- text categories (textcat, textcat_multilabel) ---------------------------------------------------
def roc_auc(golds: Sequence[float], scores: Sequence[float]) -> Optional[float]:
    """Area under the ROC curve of scores against binary golds (ties count half), or None
    unless both classes occur."""
    golds_arr = numpy.asarray(golds, dtype="float64") > 0
    n_pos = int(golds_arr.sum())
    n_neg = len(golds_arr) - n_pos
    if not n_pos or not n_neg:
        return None
    scores_arr = numpy.asarray(scores, dtype="float64")
    order = numpy.argsort(scores_arr, kind="mergesort")
    sorted_scores = scores_arr[order]
    ranks = numpy.empty(len(scores_arr), dtype="float64")
    # average rank of each run of tied scores
    starts = numpy.flatnonzero(numpy.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = numpy.r_[starts[1:], len(sorted_scores)]
    run_ranks = (starts + ends + 1) / 2.0
    ranks[order] = numpy.repeat(run_ranks, ends - starts)
    return float((ranks[golds_arr].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def score_cats(examples: Iterable, attr: str = "cats", *, labels: Iterable[str] = (), multi_label: bool = True,
               positive_label: Optional[str] = None, threshold: Optional[float] = None,
               legacy: bool = False, **cfg: Any) -> Dict[str, Any]:
    """P/R/F per label, micro and macro, and ROC AUC per label, for doc.cats.

    `cats_score` is the macro F for exclusive classes (the positive label's F for a
    binary task with `positive_label`), the macro AUC for multilabel. Exclusive classes
    compare the top-scoring predicted label with the gold label; multilabel counts a
    label as predicted when its score >= threshold (default 0.5). Only the component's
    `labels` are scored: gold labels it does not know are left out. An example without
    any gold cats is missing annotation and is skipped. `legacy` gives the v1 scorers'
    behaviour: every label seen in the data is scored and the threshold also applies
    to exclusive classes."""
    examples = list(examples)
    labels = list(labels)
    if threshold is None:
        threshold = 0.5 if multi_label else 0.0
    if legacy:
        if labels:
            seen = dict.fromkeys(labels)
            for eg in examples:
                seen.update(dict.fromkeys(getattr(eg.predicted, attr)))
                seen.update(dict.fromkeys(getattr(eg.reference, attr)))
            labels = list(seen)
    elif not multi_label:
        threshold = 0.0
    label_set = set(labels)
    f_per_type = {label: PRFScore() for label in labels}
    auc_golds: Dict[str, List[float]] = {label: [] for label in labels}
    auc_scores: Dict[str, List[float]] = {label: [] for label in labels}
    for eg in examples:
        all_gold = getattr(eg.reference, attr)
        if not all_gold:
            continue  # no annotation
        pred_cats = {k: v for k, v in getattr(eg.predicted, attr).items() if k in label_set}
        gold_cats = {k: v for k, v in all_gold.items() if k in label_set}
        for label in labels:
            gold = gold_cats.get(label)
            if gold is None and not multi_label:
                gold = 0.0
            if gold is not None:
                auc_golds[label].append(gold)
                auc_scores[label].append(pred_cats.get(label, 0.0))
        if multi_label:
            for label in labels:
                gold = gold_cats.get(label)
                if gold is None:
                    continue
                predicted = pred_cats.get(label, 0.0) >= threshold
                if predicted and gold > 0:
                    f_per_type[label].tp += 1
                elif predicted:
                    f_per_type[label].fp += 1
                elif gold > 0:
                    f_per_type[label].fn += 1
            continue
        gold_positive = [k for k, v in gold_cats.items() if v > 0]
        pred_label, pred_score = max(pred_cats.items(), key=lambda it: it[1]) if pred_cats else (None, 0.0)
        pred_counts = pred_label is not None and pred_score >= threshold
        if gold_positive:
            gold_label = max(gold_positive, key=lambda k: gold_cats[k])
            if pred_counts and pred_label == gold_label:
                f_per_type[gold_label].tp += 1
            else:
                f_per_type[gold_label].fn += 1
                if pred_counts:
                    f_per_type[pred_label].fp += 1
        elif pred_counts:  # the gold label is one the component does not know
            f_per_type[pred_label].fp += 1
    micro = PRFScore()
    for prf in f_per_type.values():
        micro.tp += prf.tp
        micro.fp += prf.fp
        micro.fn += prf.fn
    auc_per_type = {label: roc_auc(auc_golds[label], auc_scores[label]) for label in labels}
    n_cats = len(f_per_type) + 1e-100
    results: Dict[str, Any] = {
        f"{attr}_score": None,
        f"{attr}_score_desc": None,
        f"{attr}_micro_p": micro.precision,
        f"{attr}_micro_r": micro.recall,
        f"{attr}_micro_f": micro.fscore,
        f"{attr}_macro_p": sum(prf.precision for prf in f_per_type.values()) / n_cats,
        f"{attr}_macro_r": sum(prf.recall for prf in f_per_type.values()) / n_cats,
        f"{attr}_macro_f": sum(prf.fscore for prf in f_per_type.values()) / n_cats,
        # labels without both classes in the gold count as 0 but still divide
        f"{attr}_macro_auc": sum(v for v in auc_per_type.values() if v is not None) / n_cats,
        f"{attr}_f_per_type": {k: v.to_dict() for k, v in f_per_type.items()},
        f"{attr}_auc_per_type": auc_per_type,
    }
    if len(labels) == 2 and not multi_label and positive_label:
        results[f"{attr}_score"] = results[f"{attr}_f_per_type"][positive_label]["f"]
        results[f"{attr}_score_desc"] = f"F ({positive_label})"
    elif not multi_label:
        results[f"{attr}_score"] = results[f"{attr}_macro_f"]
        results[f"{attr}_score_desc"] = "macro F"
    else:
        results[f"{attr}_score"] = results[f"{attr}_macro_auc"]
        results[f"{attr}_score_desc"] = "macro AUC"
    return results


def textcat_score(examples: Iterable, **kwargs: Any) -> Dict[str, Any]:
    return score_cats(examples, "cats", **{**kwargs, "multi_label": False})


def textcat_multilabel_score(examples: Iterable, **kwargs: Any) -> Dict[str, Any]:
    return score_cats(examples, "cats", **{**kwargs, "multi_label": True})


def textcat_score_v1(examples: Iterable, **kwargs: Any) -> Dict[str, Any]:
    return score_cats(examples, "cats", **{**kwargs, "multi_label": False, "legacy": True})


def textcat_multilabel_score_v1(examples: Iterable, **kwargs: Any) -> Dict[str, Any]:
    return score_cats(examples, "cats", **{**kwargs, "multi_label": True, "legacy": True})


@registry.scorers("spacy.textcat_scorer.v2")
def make_textcat_scorer() -> Callable[..., Dict[str, Any]]:
    """spacy.textcat_scorer.v2"""
    return textcat_score


@registry.scorers("spacy.textcat_multilabel_scorer.v2")
def make_textcat_multilabel_scorer() -> Callable[..., Dict[str, Any]]:
    """spacy.textcat_multilabel_scorer.v2"""
    return textcat_multilabel_score


@registry.scorers("spacy.textcat_scorer.v1")
def make_textcat_scorer_v1() -> Callable[..., Dict[str, Any]]:
    """spacy.textcat_scorer.v1"""
    return textcat_score_v1


@registry.scorers("spacy.textcat_multilabel_scorer.v1")
def make_textcat_multilabel_scorer_v1() -> Callable[..., Dict[str, Any]]:
    """spacy.textcat_multilabel_scorer.v1"""
    return textcat_multilabel_score_v1


# -- sentence boundaries (senter, sentencizer) -------------------------------------------------------
def _has_sent_starts(doc) -> bool:
    return len(doc) > 0 and doc.has_annotation(A.SENT_START)


def _sentence_spans(doc) -> List[Tuple[int, int]]:
    """(first, last) token index of each sentence."""
    bounds = numpy.flatnonzero(doc.sentence_starts()).tolist() + [len(doc)]
    return [(start, end - 1) for start, end in zip(bounds, bounds[1:])]


def score_sents(examples: Iterable, **kwargs: Any) -> Dict[str, Optional[float]]:
    """P/R/F of sentences as token spans. Examples whose gold has no sentence starts are
    skipped; predicted sentences are mapped onto the gold tokens through the alignment
    (a sentence whose tokens have no gold counterpart is dropped)."""
    score = PRFScore()
    for eg in examples:
        gold_doc, pred_doc = eg.reference, eg.predicted
        if not _has_sent_starts(gold_doc):
            continue
        gold = set(_sentence_spans(gold_doc))
        pred: Set[Tuple[int, int]] = set()
        if _has_sent_starts(pred_doc):
            spans = _sentence_spans(pred_doc)
            alignment = eg.alignment
            if alignment.is_one_to_one():
                pred = set(spans)
            else:
                x2y = alignment.x2y
                for first, last in spans:
                    ys = [y for i in range(first, last + 1) for y in x2y[i].tolist()]
                    if ys:
                        pred.add((min(ys), max(ys)))
        score.score_set(pred, gold)
    if not score.tp + score.fp + score.fn:
        return {"sents_p": None, "sents_r": None, "sents_f": None}
    return {"sents_p": score.precision, "sents_r": score.recall, "sents_f": score.fscore}


@registry.scorers("spacy.senter_scorer.v1")
def make_senter_scorer() -> Callable[..., Dict[str, Optional[float]]]:
    """spacy.senter_scorer.v1"""
    return score_sents


def get_ner_prf(examples: Iterable, **kwargs) -> Dict[str, Any]:
    """Entity scores: micro P/R/F over exact (start, end, label) matches, and per label.
    Predicted entities are compared on the reference's tokens; one that covers gold tokens
    whose entity annotation is missing is neither right nor wrong (ignored). Examples whose
    reference has no entity annotation at all are skipped. None where nothing is scored."""
    per_type: Dict[str, PRFScore] = {}
    for eg in examples:
        ref = eg.reference
        if not len(ref) or not ref.has_annotation(A.ENT_IOB):
            continue
        golds = {(e.label_, e.start, e.end) for e in ref.ents}
        iob = ref.cols[:, COL[A.ENT_IOB]]
        one_to_one = eg.predicted.words == ref.words
        x2y = None if one_to_one else eg.alignment.x2y
        for ent in eg.predicted.ents:
            score = per_type.setdefault(ent.label_, PRFScore())
            if one_to_one:
                start, end = ent.start, ent.end
            else:
                ys = [int(j) for i in range(ent.start, ent.end) for j in x2y[i]]
                if not ys:
                    continue
                start, end = min(ys), max(ys) + 1
            if (iob[start:end] == 0).any():
                continue  # unannotated gold tokens: cannot tell
            key = (ent.label_, start, end)
            if key in golds:
                score.tp += 1
                golds.discard(key)
            else:
                score.fp += 1
        for label, _, _ in golds:
            per_type.setdefault(label, PRFScore()).fn += 1
    totals = PRFScore()
    for score in per_type.values():
        totals.tp += score.tp
        totals.fp += score.fp
        totals.fn += score.fn
    if not (totals.tp + totals.fp + totals.fn):
        return {"ents_p": None, "ents_r": None, "ents_f": None, "ents_per_type": None}
    return {"ents_p": totals.precision, "ents_r": totals.recall, "ents_f": totals.fscore,
            "ents_per_type": {label: score.to_dict() for label, score in sorted(per_type.items())}}


def ner_score(examples: Iterable, **kwargs) -> Dict[str, Any]:
    return get_ner_prf(examples, **kwargs)


@registry.scorers("spacy.ner_scorer.v1")
def make_ner_scorer() -> Callable[..., Dict[str, Any]]:
    """spacy.ner_scorer.v1"""
    return ner_score
