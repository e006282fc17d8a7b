"""Data augmentation for training corpora: `[corpora.train.augmenter]`.

An augmenter is a callable `augmenter(nlp, example) -> Iterator[Example]`; the corpus
reader yields what it returns in place of each example. The two registered here vary
the surface form of the text while keeping every annotation on the same tokens:

- `spacy.lower_case.v1`: with probability `level`, the example lowercased.
- `spacy.orth_variants.v1`: with probability `level`, punctuation replaced by other
  spellings (`orth_variants` data, as spacy-lookups-data's `*_orth_variants.json`
  tables hold them); then, with probability `lower`, lowercased.

They draw from Python's global `random`, which training seeds and whose state the
training batches record when each epoch's corpus is read (batch_stream.py): runs are
deterministic per seed, resume exactly, and every data-parallel rank reads the same
augmented examples. Token boundaries never change, so the reference keeps its tags,
entities, heads, lemmas, spans and cats token for token."""
import random
from typing import Annotated, Any, Callable, Dict, Iterator, List, Optional, Sequence

from ..config.registry import registry
from ..config.schemas import PROBABILITY, ValueCheck
from ..tokens import Doc
from ..tokens.columns import FIRST_ANNOTATION_COL
from ..tokens.example import Example
from ..tokens.span import Span

Augmenter = Callable[[Any, Example], Iterator[Example]]


def orth_variants_problem(data: Dict[str, List[Dict]]) -> Optional[str]:
    """None when `data` has the orth_variants layout, else what is wrong with it."""
    unknown = sorted(set(data) - {"single", "paired"})
    if unknown:
        return f"has unknown key(s) {unknown}: expected \"single\" and/or \"paired\""
    for kind in ("single", "paired"):
        for i, entry in enumerate(data.get(kind, [])):
            where = f"{kind}[{i}]"
            if set(entry) != {"tags", "variants"}:
                return f"{where} must have exactly the keys \"tags\" and \"variants\", got {sorted(entry)}"
            tags, variants = entry["tags"], entry["variants"]
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                return f"{where}.tags must be a list of strings"
            if not isinstance(variants, list) or not variants:
                return f"{where}.variants must be a non-empty list"
            if kind == "single" and not all(isinstance(v, str) and v for v in variants):
                return f"{where}.variants must be non-empty strings"
            if kind == "paired" and not all(isinstance(v, list) and len(v) == 2
                                            and all(isinstance(s, str) and s for s in v) for v in variants):
                return f"{where}.variants must be [open, close] pairs of non-empty strings"
    return None


ORTH_VARIANTS = ValueCheck(orth_variants_problem)


@registry.augmenters("spacy.lower_case.v1")
def create_lower_casing_augmenter(level: Annotated[float, PROBABILITY]) -> Augmenter:
    """spacy.lower_case.v1: each example, with probability `level`, lowercased (text and
    token texts; annotations kept)."""

    def augment(nlp: Any, example: Example) -> Iterator[Example]:
        if random.random() >= level:
            yield example
        else:
            yield rewrite_example(nlp, example, [word.lower() for word in example.reference.words])

    return augment


@registry.augmenters("spacy.orth_variants.v1")
def create_orth_variants_augmenter(level: Annotated[float, PROBABILITY], lower: Annotated[float, PROBABILITY],
                                   orth_variants: Annotated[Dict[str, List[Dict]], ORTH_VARIANTS]) -> Augmenter:
    """spacy.orth_variants.v1: each example, with probability `level`, gets one spelling
    drawn for each `single` entry, which replaces every token whose gold tag is in the
    entry's `tags` and whose text is one of its `variants`; and one [open, close] pair
    drawn for each `paired` entry, which replaces the tokens that spell an opening or a
    closing mark of the entry's pairs (a mark that spells both, like '"', opens when no
    mark of that entry is open, else closes). The drawn spelling may be the token's own.
    Independently, with probability `lower`, the example is lowercased. Tokens without a
    gold tag are never replaced."""
    single = [(frozenset(e["tags"]), list(e["variants"])) for e in orth_variants.get("single", [])]
    paired = [(frozenset(e["tags"]), [tuple(pair) for pair in e["variants"]]) for e in orth_variants.get("paired", [])]

    def augment(nlp: Any, example: Example) -> Iterator[Example]:
        if random.random() >= level:
            yield example
            return
        words = vary_punctuation(example.reference, single, paired)
        if random.random() < lower:
            words = [word.lower() for word in words]
        yield rewrite_example(nlp, example, words)

    return augment


def vary_punctuation(doc: Doc, single: Sequence, paired: Sequence) -> List[str]:
    """The doc's words with the variants drawn for this doc put in (see orth_variants)."""
    words = list(doc.words)
    tags = [token.tag_ for token in doc]
    for entry_tags, variants in single:
        choice = random.choice(variants)
        known = set(variants)
        for i, (word, tag) in enumerate(zip(words, tags)):
            if tag in entry_tags and word in known:
                words[i] = choice
    for entry_tags, pairs in paired:
        opening, closing = random.choice(pairs)
        openers = {pair[0] for pair in pairs}
        closers = {pair[1] for pair in pairs}
        is_open = False
        for i, (word, tag) in enumerate(zip(words, tags)):
            if tag not in entry_tags or (word not in openers and word not in closers):
                continue
            opens = word in openers and (word not in closers or not is_open)
            words[i] = opening if opens else closing
            is_open = opens
    return words


def rewrite_example(nlp: Any, example: Example, words: List[str]) -> Example:
    """`example` with the reference's token texts replaced by `words` (one per token,
    spaces and annotation kept); the predicted side is the new text tokenized by the
    pipeline, or the new words themselves when the predicted side had the gold tokens."""
    reference = rewrite_doc(example.reference, words)
    if example.predicted.words == example.reference.words:
        predicted = Doc(example.predicted.vocab, words, reference.spaces)
    else:
        predicted = nlp.make_doc(reference.text)
    return Example(predicted, reference)


def rewrite_doc(doc: Doc, words: List[str]) -> Doc:
    """A copy of `doc` whose tokens spell `words` (same count), with all annotation kept."""
    if len(words) != len(doc):
        raise ValueError(f"rewrite_doc: {len(words)} words for a doc of {len(doc)} tokens")
    new = Doc(doc.vocab, words, doc.spaces)
    new.cols[:, FIRST_ANNOTATION_COL:] = doc.cols[:, FIRST_ANNOTATION_COL:]
    new.cats = dict(doc.cats)
    new.user_data = dict(doc.user_data)
    new.spans = {key: [Span(new, s.start, s.end, label=s.label, kb_id=s.kb_id) for s in group]
                 for key, group in doc.spans.items()}
    return new
