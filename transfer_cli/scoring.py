"""Scores computed from Examples: token attribute accuracy, span P/R/F, sentence
boundaries, text categories. Every score a component reports comes from here."""
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

import numpy


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


def make_tagger_scorer() -> Callable[..., Dict[str, Optional[float]]]:
    """spacy.tagger_scorer.v1"""
    return tagger_score


def _register() -> None:
    from .config.registry import registry

    registry.scorers.register("spacy.tagger_scorer.v1", func=make_tagger_scorer)


_register()
