"""What `debug-data` reports about a config's training and dev corpora: sizes, the labels
each trainable component would learn (with counts), annotation it would miss, entities
that do not line up with tokens, labels new in dev, dev words unseen in train and the
vectors' coverage. The corpora are read through the readers the config names, exactly
as `train` reads them; nothing is printed here: `analyze_data` returns a DataReport
whose findings (good / warn / fail / info) the CLI renders."""
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional

from ..config.filling import ConfigCheck, check_config
from ..config.resolving import resolve_path, resolve_section
from ..errors import DataError, DataWarning
from ..pipeline.build import blank
from ..pipeline.pipeline import Pipeline
from ..pipeline.vectors import load_vectors
from ..tokens import attrs as A
from ..tokens.columns import COL
from ..tokens.example import Example

GOOD, WARN, FAIL, INFO = "good", "warn", "fail", "info"
MAX_EXAMPLES = 10  # kept per finding (shown with --verbose)
LOW_DATA = 50      # fewer training examples of a label than this is worth a warning
NO_LABELS = ("tok2vec", "transformer", "sentencizer")  # factories that learn no labels from the data


@dataclass
class Finding:
    level: str                   # GOOD, WARN, FAIL (fatal: training would fail or learn nothing) or INFO
    text: str
    examples: List[str] = field(default_factory=list)


@dataclass
class CorpusStats:
    """What one corpus holds, as training reads it (one doc per Example)."""
    name: str                    # "train" / "dev"
    path: Optional[str]
    n_docs: int = 0
    n_words: int = 0
    n_sents: int = 0             # sentences in docs that mark boundaries
    n_docs_with_sents: int = 0
    words: Counter = field(default_factory=Counter)
    dropped: List[str] = field(default_factory=list)   # what the reader could not use (misaligned offsets)
    read_error: Optional[str] = None                   # the reader stopped here (e.g. overlapping entities)


@dataclass
class ComponentStats:
    """One component's view of the data: label counts in train and dev, and what it misses."""
    name: str
    factory: str
    labels: Dict[str, Counter] = field(default_factory=dict)        # corpus name -> label -> count
    missing_docs: Dict[str, int] = field(default_factory=dict)      # docs without this annotation at all
    missing_tokens: Dict[str, int] = field(default_factory=dict)    # tokens without it (token-level components)
    findings: List[Finding] = field(default_factory=list)
    supported: bool = True


@dataclass
class DataReport:
    config_path: Optional[str]
    corpora: Dict[str, CorpusStats]
    components: List[ComponentStats]
    findings: List[Finding]                                          # about the corpora as a whole
    vectors: Optional[Dict[str, Any]] = None                         # {"path", "n_words", "n_with_vector", ...}

    @property
    def all_findings(self) -> List[Finding]:
        return self.findings + [f for c in self.components for f in c.findings]

    @property
    def fatal(self) -> bool:
        return any(f.level == FAIL for f in self.all_findings)

    @property
    def unseen_dev_words(self) -> int:
        train, dev = self.corpora["train"].words, self.corpora["dev"].words
        return sum(n for word, n in dev.items() if word not in train)


class _ComponentCheck:
    """Counts one component's annotation over the examples of a corpus."""

    def __init__(self, stats: ComponentStats, attr: str = "tag") -> None:
        self.stats = stats
        self.attr = attr                               # a tagger may predict POS instead of tags
        self.misaligned: Dict[str, List[str]] = {}     # corpus -> docs with entities lost to the pipeline's tokens
        self.n_misaligned: Dict[str, int] = {}
        self.bad_cats: Dict[str, List[str]] = {}       # corpus -> examples with invalid cats

    def add(self, corpus: str, eg: Example) -> None:
        ref = eg.reference
        s = self.stats
        labels = s.labels.setdefault(corpus, Counter())
        s.missing_docs.setdefault(corpus, 0)
        s.missing_tokens.setdefault(corpus, 0)
        factory = s.factory
        if factory in ("tagger", "morphologizer"):
            attr = A.POS if self.attr == "pos" else A.TAG
            column = ref.cols[:, COL[attr]]
            missing = int((column == 0).sum())
            s.missing_tokens[corpus] += missing
            if len(ref) and missing == len(ref):
                s.missing_docs[corpus] += 1
            strings = ref.vocab.strings
            labels.update(strings[int(h)] for h in column if h)
        elif factory == "ner":
            iob = ref.cols[:, COL[A.ENT_IOB]]
            missing = int((iob == 0).sum())
            s.missing_tokens[corpus] += missing
            if len(ref) and missing == len(ref):
                s.missing_docs[corpus] += 1
            ents = ref.ents
            labels.update(e.label_ for e in ents)
            if ents and eg.predicted.words != ref.words:
                aligned = eg.get_aligned_ner()
                lost = len(ents) - sum(1 for tag in aligned if tag[:2] in ("B-", "U-"))
                if lost > 0:
                    self.n_misaligned[corpus] = self.n_misaligned.get(corpus, 0) + lost
                    self.misaligned.setdefault(corpus, []).append(
                        f"{lost} of {', '.join(f'{e.text!r} [{e.label_}]' for e in ents)} in {_excerpt(ref.text)}")
        elif factory in ("textcat", "textcat_multilabel"):
            if not ref.cats:
                s.missing_docs[corpus] += 1
                return
            positive = [label for label, value in ref.cats.items() if value == 1.0]
            labels.update(positive)
            for label in ref.cats:
                labels.setdefault(label, 0)
            odd = [f"{label}={value!r}" for label, value in ref.cats.items() if value not in (0.0, 1.0)]
            if odd:
                self.bad_cats.setdefault(corpus, []).append(f"{', '.join(odd)} in {_excerpt(ref.text)}")
            elif factory == "textcat" and len(positive) != 1:
                self.bad_cats.setdefault(corpus, []).append(
                    f"{len(positive)} positive labels ({', '.join(positive) or 'none'}) in {_excerpt(ref.text)}")
        elif factory in ("senter", "parser"):
            if len(ref) and not ref.has_sentence_boundaries:
                s.missing_docs[corpus] += 1
                s.missing_tokens[corpus] += len(ref)
                return
            if len(ref):
                labels["sentence starts"] += int(ref.sentence_starts().sum())

    def finish(self, n_docs: Dict[str, int], others_learn: bool = False) -> None:
        """others_learn: other components of the pipeline learn from these corpora."""
        s = self.stats
        train, dev = s.labels.get("train", Counter()), s.labels.get("dev", Counter())
        what = _ANNOTATION.get(s.factory, "annotation")
        if not any(train.values()) and s.factory == "ner" and others_learn:
            # as training does: the other components train, the ner learns no labels
            s.findings.append(Finding(WARN, f"'{s.name}' ({s.factory}): no {what} in the training data: it learns "
                                            f"no labels and predicts no entities (the other components train)"))
        elif not any(train.values()):
            s.findings.append(Finding(FAIL, f"'{s.name}' ({s.factory}): no {what} in the training data, so it "
                                            f"has nothing to learn"))
        else:
            s.findings.append(Finding(GOOD, f"'{s.name}' ({s.factory}): {len(train)} label"
                                            f"{'s' if len(train) != 1 else ''} in the training data"))
        for corpus in ("train", "dev"):
            missing_docs = s.missing_docs.get(corpus, 0)
            if missing_docs and any(train.values()):
                s.findings.append(Finding(WARN, f"'{s.name}': {missing_docs} of {n_docs[corpus]} {corpus} docs "
                                                f"have no {what} (trained as missing)"))
            missing_tokens = s.missing_tokens.get(corpus, 0)
            if s.factory in ("tagger", "ner") and missing_tokens and any(train.values()) and not missing_docs:
                s.findings.append(Finding(WARN, f"'{s.name}': {missing_tokens} {corpus} tokens have no {what}"))
            lost = self.n_misaligned.get(corpus, 0)
            if lost:
                s.findings.append(Finding(WARN, f"'{s.name}': {lost} {corpus} entit{'ies' if lost != 1 else 'y'} do "
                                                f"not line up with the pipeline's tokens (trained as missing)",
                                          self.misaligned[corpus][:MAX_EXAMPLES]))
            bad = self.bad_cats.get(corpus, [])
            if bad:
                need = "one positive label (1.0) each and values 0.0 or 1.0" if s.factory == "textcat" else \
                    "values 0.0 or 1.0"
                s.findings.append(Finding(FAIL, f"'{s.name}': {len(bad)} {corpus} docs have cats training "
                                                f"refuses: it needs {need}", bad[:MAX_EXAMPLES]))
        new = sorted(label for label, n in dev.items() if n and not train.get(label))
        if new and s.factory not in ("senter", "parser"):
            s.findings.append(Finding(WARN, f"'{s.name}': {len(new)} label{'s' if len(new) != 1 else ''} in dev "
                                            f"but not in train: {', '.join(new)}"))
        if s.factory not in ("senter", "parser"):
            rare = sorted(label for label, n in train.items() if 0 < n < LOW_DATA)
            if rare and len(rare) < len(train):
                s.findings.append(Finding(INFO, f"'{s.name}': {len(rare)} label{'s' if len(rare) != 1 else ''} "
                                                f"with fewer than {LOW_DATA} training examples",
                                          [f"{label} ({train[label]})" for label in rare][:MAX_EXAMPLES]))


_ANNOTATION = {"tagger": "tags", "morphologizer": "morphological features", "ner": "entity annotation",
               "textcat": "text categories (doc.cats)", "textcat_multilabel": "text categories (doc.cats)",
               "senter": "sentence boundaries", "parser": "dependency parse"}
SUPPORTED = tuple(_ANNOTATION)


def _excerpt(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[:width - 3] + "...")


def analyze_data(config: Any, *, config_path: Optional[str] = None) -> DataReport:
    """Read the train and dev corpora a loaded config names and collect what they hold.
    An empty training corpus is a DataError: there is nothing to report on."""
    checked: ConfigCheck = config if isinstance(config, ConfigCheck) else check_config(config).valid()
    nlp = _tokenizer_pipeline(checked)
    training = resolve_section(checked, "training")
    components = _component_checks(checked)
    report = DataReport(config_path, {}, [c.stats for c in components], [])
    for name, key in (("train", training["train_corpus"]), ("dev", training["dev_corpus"])):
        corpus = resolve_path(checked, key)
        report.corpora[name] = _read_corpus(name, corpus, nlp, components)
    train, dev = report.corpora["train"], report.corpora["dev"]
    if not train.n_docs and not train.read_error:
        raise DataError("the training corpus has no documents", path=train.path)
    n_docs = {name: stats.n_docs for name, stats in report.corpora.items()}
    for check in components:
        check.finish(n_docs, others_learn=len(components) > 1)
    _corpus_findings(report)
    vectors_path = resolve_section(checked, "initialize").get("vectors")
    if vectors_path:
        report.vectors = _vectors_coverage(nlp, vectors_path, train)
        v = report.vectors
        share = v["n_with_vector"] / v["n_words"] if v["n_words"] else 0.0
        level = GOOD if share >= 0.5 else WARN
        report.findings.append(Finding(level, f"vectors {vectors_path}: {v['n_rows']:,} rows; {share:.1%} of the "
                                              f"training words have a vector ({v['n_types_with_vector']:,} of "
                                              f"{v['n_types']:,} distinct words)"))
    if dev.n_docs:
        unseen = report.unseen_dev_words
        report.findings.append(Finding(INFO, f"{unseen:,} of {dev.n_words:,} dev words "
                                             f"({unseen / dev.n_words:.1%}) are not in the training data"))
    return report


def _tokenizer_pipeline(checked: ConfigCheck) -> Pipeline:
    """The config's language and tokenizer, without components: the corpus readers need
    only the vocab and make_doc, and building the networks would cost time for nothing."""
    section = resolve_section(checked, "nlp")
    nlp = blank(section["lang"])
    if callable(section["tokenizer"]):
        nlp.tokenizer = section["tokenizer"](nlp)
    return nlp


def _component_checks(checked: ConfigCheck) -> List[_ComponentCheck]:
    values = checked.values
    frozen = set(values.get("training", {}).get("frozen_components") or [])
    checks = []
    for name in values.get("nlp", {}).get("pipeline", []):
        block = values.get("components", {}).get(name, {})
        factory = block.get("factory")
        if factory is None or factory in NO_LABELS or name in frozen:
            continue
        stats = ComponentStats(name, factory, supported=factory in SUPPORTED)
        check = _ComponentCheck(stats, attr=block.get("attr", "tag"))
        if not stats.supported:
            stats.findings.append(Finding(INFO, f"'{name}' ({factory}): no data checks for this factory"))
            continue
        checks.append(check)
    return checks


def _read_corpus(name: str, corpus: Callable, nlp: Pipeline, components: Iterable[_ComponentCheck]) -> CorpusStats:
    path = getattr(corpus, "path", None)
    stats = CorpusStats(name, str(path) if path is not None else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # the reader's dropped annotation is in the report instead
        try:
            for eg in corpus(nlp):
                _count(stats, eg.reference)
                for check in components:
                    check.add(name, eg)
        except DataError as e:
            stats.read_error = str(e)
    stats.dropped = list(getattr(corpus, "dropped", []))
    return stats


def _count(stats: CorpusStats, ref) -> None:
    stats.n_docs += 1
    stats.n_words += len(ref)
    stats.words.update(ref.words)
    if len(ref) and ref.has_sentence_boundaries:
        stats.n_docs_with_sents += 1
        stats.n_sents += int(ref.sentence_starts().sum())


def _corpus_findings(report: DataReport) -> None:
    for name in ("train", "dev"):
        stats = report.corpora[name]
        if stats.read_error:
            report.findings.append(Finding(FAIL, f"{name} corpus could not be read to the end: {stats.read_error}"))
        if not stats.n_docs:
            if not stats.read_error:
                report.findings.append(Finding(FAIL, f"the {name} corpus has no documents ({stats.path})"))
            continue
        sents = f", {stats.n_sents:,} sentences" if stats.n_docs_with_sents else ""
        report.findings.append(Finding(GOOD, f"{name}: {stats.n_docs:,} docs, {stats.n_words:,} words{sents}"))
        if stats.dropped:
            report.findings.append(Finding(WARN, f"{name}: {len(stats.dropped)} entit"
                                                 f"{'ies' if len(stats.dropped) != 1 else 'y'} dropped by the "
                                                 f"reader: their offsets do not match token boundaries",
                                           stats.dropped[:MAX_EXAMPLES]))


def _vectors_coverage(nlp: Pipeline, path: Any, train: CorpusStats) -> Dict[str, Any]:
    table = load_vectors(nlp, path)
    vocab = nlp.vocab
    with_vector = {word for word in train.words if vocab[word].has_vector}
    return {"path": str(path), "n_rows": len(table),
            "n_words": train.n_words, "n_with_vector": sum(train.words[w] for w in with_vector),
            "n_types": len(train.words), "n_types_with_vector": len(with_vector)}
