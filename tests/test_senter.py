"""Sentence segmentation: the rule-based sentencizer's rules and settings, the learned
senter on sample_data/en_ewt (10-sentence docs), save/load, and the sents_p/r/f scorer."""
import random

import numpy
import pytest

from conftest import SAMPLE, TEXTCAT_DEV, TEXTCAT_TRAIN, starter_config

import transfer_cli
from transfer_cli.errors import DataError
from transfer_cli.pipeline.sentencizer import DEFAULT_PUNCT_CHARS, Sentencizer
from transfer_cli.scoring import score_sents
from transfer_cli.tokens import Doc
from transfer_cli.tokens.docbin import DocBin
from transfer_cli.tokens.example import Example
from transfer_cli.training.corpus import Corpus
from transfer_cli.training.readers import read_docs
from transfer_cli.training.train import train_from_config



def sentences(doc):
    return [sent.text for sent in doc.sents]


# -- sentencizer ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nlp():
    nlp = transfer_cli.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


@pytest.mark.parametrize("text,expected", [
    ("Hello world. This is it.", ["Hello world.", "This is it."]),
    # closing quotes and brackets stay with the sentence they close
    ('Hello world. "This is it!" he said... (Really?) Yes 3.5 ok',
     ['Hello world. "', 'This is it!"', "he said... (Really?)", "Yes 3.5 ok"]),
    ("Wait!!! What?! No", ["Wait!!!", "What?!", "No"]),
    ("No final punctuation here", ["No final punctuation here"]),
    (". leading dot then words", [".", "leading dot then words"]),
    ("... an ellipsis is not sentence-final", ["... an ellipsis is not sentence-final"]),
    ("Ein Satz 。 Noch einer ！ Fertig", ["Ein Satz 。", "Noch einer ！", "Fertig"]),
])
def test_sentencizer_rules(nlp, text, expected):
    """Expected splits as spaCy 3.8's sentencizer makes them."""
    assert sentences(nlp(text)) == expected


def reference_starts(words, is_punct, punct_chars):
    """The rule written as a plain loop over tokens."""
    starts = [False] * len(words)
    starts[0] = True
    seen_final = False
    for i, word in enumerate(words):
        final = word in punct_chars
        if seen_final and not is_punct[i] and not final:
            starts[i] = True
            seen_final = False
        elif final:
            seen_final = True
    return starts


def test_sentencizer_matches_the_rule_on_random_token_sequences(nlp):
    vocab = nlp.vocab
    pieces = ["a", "word", ".", "!", "?", '"', ")", "(", ",", "3", "。", "..."]
    rng = random.Random(0)
    sentencizer = nlp.get_pipe("sentencizer")
    for _ in range(300):
        words = [rng.choice(pieces) for _ in range(rng.randint(1, 15))]
        doc = Doc(vocab, words)
        expected = reference_starts(words, [t.is_punct for t in doc], set(DEFAULT_PUNCT_CHARS))
        assert sentencizer.predict([doc])[0].tolist() == expected, words


def test_sentencizer_settings_and_serialization(tmp_path):
    nlp = transfer_cli.blank("en")
    custom = nlp.add_pipe("sentencizer", config={"punct_chars": [";"]})
    assert sentences(nlp("One; two. three")) == ["One;", "two. three"]
    custom.to_disk(tmp_path / "sentencizer")
    restored = Sentencizer().from_disk(tmp_path / "sentencizer")
    assert restored.punct_chars == {";"} and restored.overwrite is False
    # existing boundaries are kept unless overwrite = true
    doc = nlp.make_doc("One. Two")
    doc[1].is_sent_start = True
    restored(doc)
    assert [t.is_sent_start for t in doc] == [True, True, False]
    doc = nlp.make_doc("One. Two")
    doc[1].is_sent_start = True
    Sentencizer(overwrite=True)(doc)
    assert [t.is_sent_start for t in doc] == [True, False, True]


# -- senter ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ewt_docs(tmp_path_factory):
    """EWT sample as .spacy files of 10-sentence docs."""
    out = tmp_path_factory.mktemp("ewt10")
    vocab = transfer_cli.blank("en").vocab
    for split in ("train", "dev"):
        docs = read_docs(SAMPLE / "en_ewt" / f"{split}.conllu", vocab=vocab, n_sents=10)
        DocBin(docs=list(docs)).to_disk(out / f"{split}.spacy")
    return out / "train.spacy", out / "dev.spacy"


def test_sentencizer_scores_ewt_as_spacy_does(nlp, ewt_docs):
    _, dev = ewt_docs
    scores = nlp.evaluate(list(Corpus(dev)(nlp)))
    # spaCy 3.8's sentencizer and senter scorer on the same 28 docs: P 0.73846, R 0.52174
    assert scores["sents_p"] == pytest.approx(0.7384615384615385)
    assert scores["sents_r"] == pytest.approx(0.5217391304347826)


@pytest.fixture(scope="module")
def trained_senter(ewt_docs, tmp_path_factory):
    train, dev = ewt_docs
    out = tmp_path_factory.mktemp("senter")
    config = starter_config(["senter"], train, dev, max_steps=300)
    return out, train_from_config(config, out, quiet=True), dev


def test_senter_learns_beyond_one_sentence_per_doc(trained_senter):
    out, summary, dev = trained_senter
    nlp = transfer_cli.blank("en")
    examples = list(Corpus(dev)(nlp))
    for eg in examples:  # baseline: every token inside the doc's one sentence
        eg.predicted.from_array(["SENT_START"], numpy.array([1] + [-1] * (len(eg.predicted) - 1), dtype="int64"))
    baseline = score_sents(examples)["sents_f"]
    scores = summary["best_scores"]
    assert scores["sents_f"] > baseline + 0.35, (scores, baseline)
    assert set(scores) >= {"sents_p", "sents_r", "sents_f"}


def test_saved_senter_reloads_to_identical_boundaries(trained_senter):
    out, _, dev = trained_senter
    nlp1, nlp2 = transfer_cli.load(out / "model-best"), transfer_cli.load(out / "model-best")
    texts = [eg.text for eg in Corpus(dev)(nlp1)]
    for d1, d2 in zip(nlp1.pipe(texts), nlp2.pipe(texts)):
        assert d1.to_array(["SENT_START"]).tolist() == d2.to_array(["SENT_START"]).tolist()
        assert d1.has_annotation("SENT_START") and len(list(d1.sents)) >= 1
    # overwrite = false: boundaries already set are kept
    senter = nlp1.get_pipe("senter")
    doc = nlp1.make_doc("I came home. then I slept and it was late and I was tired")
    doc[4].is_sent_start = True
    senter(doc)
    assert doc[4].is_sent_start is True


def test_senter_without_sentence_boundaries_in_the_data_is_a_clear_error(tmp_path):
    config = starter_config(["senter"], TEXTCAT_TRAIN, TEXTCAT_DEV)
    with pytest.raises(DataError, match="found no sentence boundaries in the training data"):
        train_from_config(config, None, quiet=True)


def test_sentence_scores_across_tokenizations_and_missing_annotation():
    vocab = transfer_cli.blank("en").vocab
    gold = Doc(vocab, ["Do", "n't", "go", ".", "Stay", "."], [False, True, False, True, True, False],
               sent_starts=[True, False, False, False, True, False])
    predicted = Doc(vocab, ["Don't", "go", ".", "Stay", "."], [True, False, True, True, False],
                    sent_starts=[True, False, False, True, False])
    eg = Example(predicted, gold)
    assert score_sents([eg]) == {"sents_p": 1.0, "sents_r": 1.0, "sents_f": 1.0}
    predicted.from_array(["SENT_START"], numpy.array([1, -1, -1, -1, -1], dtype="int64"))
    assert score_sents([eg]) == {"sents_p": 0.0, "sents_r": 0.0, "sents_f": 0.0}
    unannotated = Example(Doc(vocab, ["a", "b"]), Doc(vocab, ["a", "b"]))
    assert score_sents([unannotated]) == {"sents_p": None, "sents_r": None, "sents_f": None}
